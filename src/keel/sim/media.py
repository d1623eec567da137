"""The twin's advertising: ad accounts, campaigns, ad groups, ads and rules generated from the world, and their
loading into Keel's media context (``load_media``) and mirroring onto a local ad platforms simulator.

Deterministic from the world's seed (and the campaign count). The shape, as a retailer of this size runs it:

- **accounts**: an Amazon-Ads-style account per marketplace channel, a Google-Ads-style and a Meta-style
  account per web store (one per (platform, channel); each channel sells in one country, so this is also one
  per (platform, country) on the reference world), each in its channel's currency;
- **campaigns** (``campaigns``, default one per five SKUs, at least ``MIN_CAMPAIGNS``): spread over the
  accounts by country weight and platform share; most advertise one leaf category's best sellers in stock in
  their country (one or two ad groups of one to three single-SKU ads); ``GROUP_SHARE`` of them show a product
  group instead (a sub-category, or a brand), as shopping and catalogue campaigns do. The same SKU is often
  advertised on several platforms, so campaigns may outnumber the SKUs stocked in a country;
- **money** in the account's currency, minor units: daily budgets around EUR 40 and bids around EUR 0.45 a
  click, converted at the twin's rates and rounded to two significant digits (JPY: whole yen);
- **rules** (``RULES``), as documents: pause at ``sellable <= 0`` and resume at ``>= RESUME_AT`` units
  (hysteresis); a bid ladder by days of cover; budget moved from campaigns whose ads are all paused to
  same-category campaigns in stock, within the accounts' guardrails; a boost above 120 days of cover.

Only SKUs with at least ``MIN_STOCK`` units at the fulfilment nodes of a country are advertised there: an
advertiser does not launch ads for what it does not have.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from keel.bootstrap import Keel
from keel.media import AdState, Level, Platform, Saved, Status
from keel.platform.money import to_minor
from keel.sim.catalog import generate_catalog
from keel.sim.content import slug
from keel.sim.fx import START, twin_rate_table
from keel.sim.geography import WEIGHT
from keel.sim.world import World

MIN_CAMPAIGNS = 36
SKUS_PER_CAMPAIGN = 5
MIN_STOCK = 8
RESUME_AT = 3
GROUP_SHARE = 0.12
PLATFORM_SHARE = {Platform.AMAZON: 0.4, Platform.GOOGLE: 0.35, Platform.META: 0.25}
PREFIX = {Platform.AMAZON: "amz", Platform.GOOGLE: "ggl", Platform.META: "meta"}
TITLE = {Platform.AMAZON: "Sponsored products", Platform.GOOGLE: "Shopping", Platform.META: "Catalogue"}
# a product group by brand names a code: the brands whose names are codes (no spaces or ampersands)
GROUP_BRANDS = ("Northwind", "Kestrel", "Morrow", "Halden", "Vireo")

RULES: tuple[dict[str, Any], ...] = (
    {
        "name": "pause when out of stock",
        "trigger": "stock",
        "when": [{"metric": "sellable", "op": "<=", "value": 0}],
        "then": {"action": "pause", "resume_when": [{"metric": "sellable", "op": ">=", "value": RESUME_AT}]},
        "priority": 10,
    },
    {
        # runs before the ladder, so an overstocked ad's bid is the boost's; unknown cover (no sales yet) is
        # not overstock: an ad nobody buys from is not pushed harder
        "name": "boost overstock",
        "trigger": "schedule",
        "when": [{"metric": "cover_days", "op": "<=", "value": 3650}],
        "then": {"action": "boost", "cover_above": 120, "bid_factor": 1.25, "budget_pct": 15},
        "cooldown_minutes": 360,
        "priority": 20,
    },
    {
        "name": "bid by cover",
        "trigger": "schedule",
        "then": {
            "action": "bid_ladder",
            "steps": [{"cover_below": 7, "factor": 0.6}, {"cover_below": 14, "factor": 0.8}],
            "above_factor": 1.0,
        },
        "cooldown_minutes": 240,
        "priority": 30,
    },
    {
        "name": "shift budget to stocked substitutes",
        "trigger": "schedule",
        "then": {"action": "shift_budget", "to": "same_category", "share_pct": 50},
        "cooldown_minutes": 720,
        "priority": 40,
    },
)


@dataclass
class MediaSetup:
    """The twin's ad setup: the batch ``keel.media.setup.save`` takes (accounts with url and token when the
    setup was built for a simulator), the rules, the simulator's tokens, and what the twin itself needs to
    play the ads: each ad's country and SKUs (product groups resolved from the twin's catalogue)."""

    batch: dict[str, list[dict[str, Any]]]
    rules: list[dict[str, Any]]
    tokens: dict[str, tuple[Platform, str]]
    ad_country: dict[str, str] = field(default_factory=dict)
    ad_skus: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def campaigns(self) -> int:
        return len(self.batch["campaigns"])

    def platform_of(self) -> dict[str, Platform]:
        """Account code -> platform."""
        return {a["code"]: Platform(a["platform"]) for a in self.batch["accounts"]}


def _nice(minor: int) -> int:
    """Two significant digits, at least one minor unit (budgets and bids as people set them)."""
    if minor < 100:
        return max(1, minor)
    step: int = 10 ** (len(str(minor)) - 2)
    return round(minor / step) * step


def _money(rng: random.Random, eur_median: float, sigma: float, currency: str, rates: Any, day: date) -> int:
    eur = Decimal(str(round(eur_median * rng.lognormvariate(0, sigma), 2)))
    local = eur if currency == "EUR" else rates.convert(eur, "EUR", currency, day)
    return _nice(to_minor(local, currency))


def _stocked(world: World) -> dict[str, list[str]]:
    """Country -> SKUs with at least ``MIN_STOCK`` units at its fulfilment nodes, best sellers first (the
    twin's demand favours low SKU numbers)."""
    kind = {loc["code"]: (loc["kind"], loc["country"]) for loc in world.locations}
    units: dict[tuple[str, str], int] = {}
    for row in world.opening_stock:
        k, country = kind[row["location"]]
        if k != "store":
            units[(country, row["sku"])] = units.get((country, row["sku"]), 0) + row["quantity"]
    out: dict[str, list[str]] = {}
    for (country, sku), n in sorted(units.items()):
        if n >= MIN_STOCK:
            out.setdefault(country, []).append(sku)
    return out


def _accounts(world: World, seed: int, url_of: Callable[[Platform], str] | None) -> list[dict[str, Any]]:
    out = []
    for ch in world.channels:
        kinds = {"marketplace": (Platform.AMAZON,), "web_store": (Platform.GOOGLE, Platform.META)}
        for platform in kinds.get(ch["kind"], ()):
            code = f"{PREFIX[platform]}-{ch['code']}"
            doc: dict[str, Any] = {
                "code": code,
                "platform": platform.value,
                "channel": ch["code"],
                "currency": ch["currency"],
                "name": f"{TITLE[platform]} {ch['name']}",
                "guardrails": {"max_budget_change_pct": 30, "min_budget": _nice(_minor_of(5, ch["currency"]))},
            }
            if url_of is not None:
                doc |= {"url": url_of(platform), "token": token(seed, code)}
            out.append(doc)
    return out


def _minor_of(eur: float, currency: str) -> int:
    rates = twin_rate_table()
    amount = Decimal(str(eur)) if currency == "EUR" else rates.convert(Decimal(str(eur)), "EUR", currency, START.date())
    return to_minor(amount, currency)


def token(seed: int, account: str) -> str:
    """The simulator's bearer token of an account (deterministic: a restarted demo's simulator knows it)."""
    return f"twin-{seed}-{account}"


def default_campaigns(skus: int) -> int:
    return max(MIN_CAMPAIGNS, skus // SKUS_PER_CAMPAIGN)


def media_setup(
    world: World, campaigns: int | None = None, url_of: Callable[[Platform], str] | None = None
) -> MediaSetup:
    """The twin's ad setup for ``world`` (``campaigns``: default ``default_campaigns``); ``url_of`` gives each
    platform's API URL (a simulator's), which puts url and token on the accounts."""
    n = default_campaigns(len(world.skus)) if campaigns is None else max(1, campaigns)
    rng = random.Random(world.seed * 1_000_033 + 16)
    rates, day = twin_rate_table(), START.date()
    accounts = _accounts(world, world.seed, url_of)
    channel_country = {ch["code"]: ch["countries"][0] for ch in world.channels}
    stocked = _stocked(world)
    products = generate_catalog(world.skus, world.seed)
    leaf_of = {p.sku: p.category for p in products}
    sub_members: dict[str, list[str]] = {}
    brand_members: dict[str, list[str]] = {}
    for p in products:
        sub_members.setdefault(slug(*p.category[:2]), []).append(p.sku)
        if p.attributes.get("brand") in GROUP_BRANDS:
            brand_members.setdefault(str(p.attributes["brand"]), []).append(p.sku)
    usable = [a for a in accounts if stocked.get(channel_country[a["channel"]])]
    per_kind: dict[tuple[str, Platform], int] = {}
    for a in usable:
        k = (channel_country[a["channel"]], Platform(a["platform"]))
        per_kind[k] = per_kind.get(k, 0) + 1
    weights = [
        WEIGHT[channel_country[a["channel"]]] * PLATFORM_SHARE[Platform(a["platform"])]
        / per_kind[(channel_country[a["channel"]], Platform(a["platform"]))]
        for a in usable
    ]  # fmt: skip
    setup = MediaSetup({"accounts": accounts, "campaigns": [], "ad_groups": [], "ads": []}, list(RULES), {})
    setup.tokens = {token(world.seed, a["code"]): (Platform(a["platform"]), a["code"]) for a in accounts}
    subs = sorted(sub_members)
    for i in range(1, n + 1 if usable else 1):  # a world too small to hold MIN_STOCK anywhere advertises nothing
        account = rng.choices(usable, weights=weights)[0]
        country, currency = channel_country[account["channel"]], account["currency"]
        code = f"cmp-{i:05d}"
        pool = stocked[country]
        grouped = rng.random() < GROUP_SHARE
        if grouped:
            if rng.random() < 0.7 or not brand_members:
                tag = subs[rng.randrange(len(subs))]
                target, members, theme = {"category": tag}, sub_members[tag], tag
            else:
                brand = sorted(brand_members)[rng.randrange(len(brand_members))]
                target, members, theme = {"brand": brand}, brand_members[brand], brand
        else:
            anchor = pool[int(len(pool) * rng.random() ** 2)]
            theme = slug(*leaf_of[anchor])
        name = f"{TITLE[Platform(account['platform'])]} {country} {theme} {i}"
        budget = _money(rng, 40.0, 0.6, currency, rates, day)
        setup.batch["campaigns"].append(
            {"code": code, "account": account["code"], "name": name, "country": country, "daily_budget": budget}
        )
        for g in range(1 if grouped else rng.choice((1, 1, 2))):
            group = f"grp-{i:05d}-{g + 1}"
            bid = _money(rng, 0.45, 0.5, currency, rates, day)
            setup.batch["ad_groups"].append(
                {"code": group, "campaign": code, "name": f"{theme} {g + 1}", "default_bid": bid}
            )
            if grouped:
                ad = f"ad-{i:05d}-{g + 1}-1"
                setup.batch["ads"].append({"code": ad, "ad_group": group, **target})
                setup.ad_country[ad], setup.ad_skus[ad] = country, tuple(members)
                continue
            same_leaf = [s for s in pool if leaf_of[s] == leaf_of[anchor]] or pool
            chosen = list(dict.fromkeys(same_leaf[int(len(same_leaf) * rng.random() ** 2)] for _ in range(3)))
            for n_ad, sku in enumerate(chosen[: rng.randint(1, 3)], start=1):
                ad = f"ad-{i:05d}-{g + 1}-{n_ad}"
                doc: dict[str, Any] = {"code": ad, "ad_group": group, "skus": [sku]}
                if rng.random() < 0.2:  # some ads carry their own bid
                    doc["bid"] = _nice(max(1, int(bid * rng.uniform(0.7, 1.5))))
                setup.batch["ads"].append(doc)
                setup.ad_country[ad], setup.ad_skus[ad] = country, (sku,)
    return setup


def load_media(keel: Keel, world: World, url_of: Callable[[Platform], str] | None = None) -> Saved:
    """Save the twin's ad setup and its rules through ``keel.media`` (saving them again changes nothing).
    The catalogue must be loaded first: the ads' SKUs and product groups are checked against it."""
    setup = media_setup(world, url_of=url_of)
    saved = keel.media.setup.save(setup.batch)
    for rule in setup.rules:
        keel.media.save_rule(rule["name"], rule)
    return saved


def has_media(keel: Keel) -> bool:
    """Whether media holds any ad account (a demo database loaded before the twin advertised holds none)."""
    return keel.media.setup.counts()["accounts"] > 0


def mirrored(keel: Keel, page: int = 5000) -> Iterator[tuple[Platform, str, Level, str, AdState]]:
    """Every object as Keel mirrors it: (platform, account, level, code, desired state)."""
    platforms = {a.code: a.platform for a in keel.media.setup.accounts()}
    offset = 0
    while True:
        rows, total = keel.media.states(None, None, page, offset)
        for row in rows:
            yield platforms[row.account], row.account, row.level, row.code, row.state
        offset += len(rows)
        if not rows or offset >= total:
            return


def seed_platforms(keel: Keel, sim: Any) -> int:
    """Seed an ``AdPlatforms`` simulator with every object as Keel mirrors it (the platforms' side of a setup
    Keel was given); returns the objects seeded."""
    n = 0
    for platform, account, level, code, state in mirrored(keel):
        sim.seed(platform, account, level, code, state)
        n += 1
    return n


def showing(state: Mapping[tuple[Level, str], AdState], parents: Mapping[str, tuple[str, str]]) -> set[str]:
    """The ads of one account that show: enabled, in an enabled ad group of an enabled campaign.
    ``parents``: ad -> (ad group, campaign)."""

    def on(level: Level, code: str) -> bool:
        found = state.get((level, code))
        return found is not None and found.status is Status.ENABLED

    return {
        ad
        for ad, (group, campaign) in parents.items()
        if on(Level.AD, ad) and on(Level.AD_GROUP, group) and on(Level.CAMPAIGN, campaign)
    }
