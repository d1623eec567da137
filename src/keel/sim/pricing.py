"""The twin's prices through Keel's pricing engine: what a retailer of its shape would set up on day one.

- one base price list per currency (``twin-<currency>``), each SKU at its local shelf price (the catalogue's
  euro price converted at the twin's rates and rounded to the local habit, ``keel.sim.fx.local_price``);
- every SKU's unit cost in euros, 45-65 % of its euro price, and its tax class (``standard``; the food and
  book-like categories would be ``reduced``: the twin sells neither);
- a default policy: a 20 % margin floor on cost, then the currency's price ending;
- competitors' observed prices for a quarter of the SKUs in every country (85-110 % of the local price, one
  rival per country), and each marketplace held within 5 % of the lowest of them (``competitor``) before it
  is kept within 5 % of its country's web store (``parity``), after the margin floor;
- the season's promotions and welcome codes (``keel.sim.promotions``).

``reprice_sku`` is a merchandiser's price edit (``keel.sim.edits``): the SKU's base price in every
currency's list, which the engine recomputes and announces, and the sync engine pushes to the marketplaces.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from keel.platform.money import plain, to_major, to_minor
from keel.sim.catalog import generate_catalog
from keel.sim.fx import START, local_price, twin_rate_table
from keel.sim.geography import CURRENCY
from keel.sim.promotions import load_promotions
from keel.sim.world import World

MARGIN_FLOOR, PARITY = "0.20", "0.05"
RIVAL = {"rule": "competitor", "within": "0.05"}  # within 5 % of the lowest fresh competitor price
RIVAL_SHARE = 0.25  # of the SKUs, watched in every country
BATCH = 20_000  # prices per request, well inside the engine's limit
RIVAL_BATCH = 10_000  # competitor prices per request (the API's limit)
Progress = Callable[[str, int, int], None]


def load_pricing(keel: Keel, world: World, progress: Progress | None = None) -> int:
    """Costs, base lists, policies, then one full computation; the prices computed."""
    report = progress or (lambda _stage, _done, _total: None)
    rng = random.Random(world.seed * 7 + 3)
    euro = {p.sku: p.price for p in generate_catalog(world.skus, world.seed)}
    skus = sorted(euro)
    costs = [
        {
            "sku": s,
            "cost": str((euro[s] * Decimal(rng.uniform(0.45, 0.65))).quantize(Decimal("0.01"))),
            "currency": "EUR",
        }
        for s in skus
    ]
    # costs and policies first: nothing is priced yet, so they compute nothing; each list then prices its
    # currency's channels once, with everything in place (the marketplaces after their web stores)
    for start in range(0, len(costs), BATCH):
        keel.pricing.set_skus(costs[start : start + BATCH])
    rates, day = twin_rate_table(), START.date()
    _observe_rivals(keel, world, skus, euro, rng)
    floor = {"rule": "cost_plus", "margin_floor": MARGIN_FLOOR}
    keel.pricing.set_policy("*", {"rules": [floor]})
    codes = {ch["code"] for ch in world.channels}
    for ch in world.channels:
        web = ch["code"].replace("market-", "web-", 1)
        if ch["kind"] == "marketplace" and web in codes:
            keel.pricing.set_policy(
                ch["code"], {"rules": [floor, RIVAL, {"rule": "parity", "channel": web, "within": PARITY}]}
            )
    currencies = sorted({ch["currency"] for ch in world.channels})
    priced = 0
    for i, currency in enumerate(currencies, start=1):
        prices = [{"sku": s, "amount": f"{local_price(euro[s], currency, rates, day):f}"} for s in skus]
        document = {"name": f"Twin base {currency}", "currency": currency, "prices": prices}
        priced += keel.pricing.save_list(f"twin-{currency.lower()}", document)[1].prices
        report("prices", i, len(currencies))
    load_promotions(keel, world)
    return priced


def _observe_rivals(keel: Keel, world: World, skus: list[str], euro: dict[str, Decimal], rng: random.Random) -> int:
    """A rival's shelf price for a quarter of the SKUs in each country the twin sells in, observed now (before
    any policy reads them: storing them computes nothing); how many were stored."""
    rates, day, now = twin_rate_table(), START.date(), utcnow().isoformat()
    countries = sorted({c for ch in world.channels for c in ch["countries"]})
    watched = [s for s in skus if rng.random() < RIVAL_SHARE]
    rows = []
    for country in countries:
        currency = CURRENCY[country]
        for sku in watched:
            local = local_price(euro[sku], currency, rates, day) * Decimal(str(round(rng.uniform(0.85, 1.10), 3)))
            rows.append({"competitor": f"rival-{country.lower()}", "country": country, "sku": sku,
                         "currency": currency, "amount": f"{to_major(to_minor(local, currency), currency):f}",
                         "observed_at": now})  # fmt: skip
    for start in range(0, len(rows), RIVAL_BATCH):
        keel.pricing.competitors.save(rows[start : start + RIVAL_BATCH])
    return len(rows)


def reprice_sku(keel: Keel, sku: str, factor: Decimal) -> int:
    """A merchandiser's new price for ``sku`` (its base price times ``factor`` in every currency's list, as the
    catalogue's price edit); the channel prices that changed (0 when the twin's pricing is not loaded)."""
    changed = 0
    for view in keel.pricing.lists():
        pl = view.price_list
        if not pl.code.startswith("twin-"):
            continue
        tiers = keel.pricing.list_entries(pl.code, [sku]).get(sku)
        if not tiers:
            continue
        amount = max(1, int(tiers[0].amount * factor))
        changed += keel.pricing.set_list_prices(pl.code, [{"sku": sku, "amount": plain(amount, pl.currency)}]).changed
    return changed
