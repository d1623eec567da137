"""The twin's advertising: its ad setup generated from the world (deterministic, at the promised scale, in each
account's currency), saved through ``keel.media`` on both databases with its rules; the demo's ads on the
local ad platforms simulator lifting the demand of what they show and spending per click, in stock or not."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from keel.bootstrap import Keel
from keel.media import Level, Platform, Status
from keel.media.model.rules_doc import parse_rule
from keel.sim.load import load_world
from keel.sim.media import MIN_STOCK, RESUME_AT, RULES, default_campaigns, has_media, media_setup
from keel.sim.media_ads import TwinAds
from keel.sim.media_perf import LIFT, AdModel, hour, hourly_spend
from keel.sim.stream import Stream
from keel.sim.world import Scale, generate
from tests.support import open_keel

WORLD = generate(5, Scale(skus=60, locations=60, channels=30))


def test_the_setup_is_deterministic_and_has_the_promised_campaigns() -> None:
    # given the reference world (10,000 SKUs) and a small one
    big, small = generate(42), WORLD
    # when the setups are generated (twice for the small one)
    setup, again = media_setup(big), media_setup(small)
    # then the reference world advertises in 2,000 campaigns, the small one in a few dozen, always the same
    assert setup.campaigns == default_campaigns(10_000) == 2_000
    assert again.campaigns == 36 and media_setup(small).batch == again.batch
    assert media_setup(small, campaigns=50).campaigns == 50
    # one Amazon-style account per marketplace, a Google- and a Meta-style one per web store
    kinds = Counter(ch["kind"] for ch in big.channels)
    platforms = Counter(a["platform"] for a in setup.batch["accounts"])
    assert platforms == {"amazon": kinds["marketplace"], "google": kinds["web_store"], "meta": kinds["web_store"]}
    # campaigns on every platform and in every country, ads mostly on one SKU, some product groups
    accounts = {a["code"]: a for a in setup.batch["accounts"]}
    on = Counter(accounts[c["account"]]["platform"] for c in setup.batch["campaigns"])
    assert set(on) == {"amazon", "google", "meta"} and min(on.values()) > 300
    assert {c["country"] for c in setup.batch["campaigns"]} == {ch["countries"][0] for ch in big.channels[:42]}
    groups = [a for a in setup.batch["ads"] if "skus" not in a]
    assert 0 < len(groups) < len(setup.batch["ads"]) / 10
    assert {k for a in groups for k in a} - {"code", "ad_group"} == {"category", "brand"}


def test_money_is_in_the_account_currency_and_ads_advertise_what_is_in_stock() -> None:
    setup = media_setup(WORLD)
    currency = {a["code"]: a["currency"] for a in setup.batch["accounts"]}
    budgets: dict[str, list[int]] = {}
    for c in setup.batch["campaigns"]:
        budgets.setdefault(currency[c["account"]], []).append(c["daily_budget"])
        assert c["daily_budget"] >= 100 and len(str(c["daily_budget"]).rstrip("0")) <= 2  # two significant digits
    # a yen budget is a thousand times a euro cent budget, give or take: whole yen, not yen cents
    if "JPY" in budgets and "EUR" in budgets:
        assert min(budgets["JPY"]) > 300 and max(budgets["EUR"]) < 100_000
    # every single-SKU ad's SKU has MIN_STOCK units at the fulfilment nodes of its campaign's country
    kind = {loc["code"]: (loc["kind"], loc["country"]) for loc in WORLD.locations}
    units: Counter[tuple[str, str]] = Counter()
    for row in WORLD.opening_stock:
        k, country = kind[row["location"]]
        if k != "store":
            units[(country, row["sku"])] += row["quantity"]
    single = [a for a, skus in setup.ad_skus.items() if len(skus) == 1]
    assert single and all(units[(setup.ad_country[a], setup.ad_skus[a][0])] >= MIN_STOCK for a in single)


def test_the_default_rules_parse_and_pause_with_hysteresis() -> None:
    parsed = [parse_rule(doc) for doc in RULES]
    assert [errors for _, errors in parsed] == [[], [], [], []]
    pause = parsed[0][0]
    assert pause is not None and pause.stock_out_pause
    assert [str(c) for c in pause.then.resume_when] == [f"sellable >= {RESUME_AT}"]  # type: ignore[union-attr]
    assert [r.priority for r, _ in parsed if r is not None] == [10, 20, 30, 40]


def test_load_world_saves_the_ads_and_rules_through_media(keel: Keel) -> None:
    # given an empty database / when the twin is loaded
    assert not has_media(keel)
    load_world(keel, WORLD)
    setup = media_setup(WORLD)
    # then its setup is stored as generated, mirrored as sent, and its rules are in effect
    assert has_media(keel)
    assert keel.media.setup.counts() == {k: len(v) for k, v in setup.batch.items()}
    assert keel.media.outbox_totals()["owed"] == 0
    assert [r.name for r in keel.media.rules()] == sorted(r["name"] for r in RULES)
    # and saving it again changes nothing
    assert keel.media.setup.save(setup.batch).changed == 0


def test_showing_ads_lift_demand_and_spend_money(tmp_path: Path) -> None:
    # given the twin loaded, its stream, and its ads on a simulator
    keel = open_keel(f"sqlite:///{tmp_path / 'twin.db'}")
    load_world(keel, WORLD)
    stream = Stream(keel, WORLD, seed=3, capture_every=50)
    ads = TwinAds(keel, WORLD, 5, fault_rate=0.0, every_s=3600)
    try:
        assert ads.start(stream) == len(ads.setup.batch["accounts"])
        account = ads.setup.batch["accounts"][0]
        assert keel.media.setup.account(account["code"]).url == ads.sim.url(Platform(account["platform"]))
        # when an ad is paused on its platform and the stream plays three hours
        paused = sorted(a for a, skus in ads.setup.ad_skus.items() if len(skus) == 1)[0]
        owner = ads.account_of[paused]
        state = ads.sim.state(ads.platform[owner], owner)[(Level.AD, paused)]
        ads.sim.set_remote(ads.platform[owner], owner, Level.AD, paused, type(state)(Status.PAUSED, state.bid))
        ads.tick()
        stream.step(3 * 3600)
        imported = ads.tick()
        # then every other ad shows, lifts its SKUs' demand in its country, and its spend is imported
        shown = ads.showing()
        assert shown == set(ads.setup.ad_skus) - {paused}
        pairs = {(ads.setup.ad_country[a], s) for a in shown for s in ads.setup.ad_skus[a]}
        assert set(stream.lifted) == pairs and set(stream.lifted.values()) == {LIFT}
        assert imported > 0 and ads.saved_rows == imported
        spent, _ = keel.media.performance.totals("account", limit=1000)
        assert sum(line.clicks for line in spent) > 0 and all(line.cost >= 0 for line in spent)
        rows, _ = keel.media.performance.totals("sku", key=None, limit=100_000)
        assert rows
        # the paused ad has spent nothing
        assert not [k for k in ads.rows if k[2] == paused]
    finally:
        ads.close()
        keel.close()


def test_a_click_out_of_stock_costs_the_same_and_sells_nothing() -> None:
    ad = AdModel(Platform.AMAZON, 80, 80, 2999)
    # given the same draws in stock and out of stock
    inside = [hour(random.Random(i), ad, 18, True) for i in range(200)]
    outside = [hour(random.Random(i), ad, 18, False) for i in range(200)]
    # then clicks and cost are the same, and out of stock nothing is sold
    assert [h.cost for h in inside] == [h.cost for h in outside] and sum(h.cost for h in inside) > 0
    assert sum(h.orders_7d for h in inside) > 0
    assert sum(h.orders_7d + h.orders_14d + h.sales_14d for h in outside) == 0
    # and the expected spend of a mean hour grows with the bid
    assert hourly_spend(AdModel(Platform.AMAZON, 160, 80, 2999)) > 3 * hourly_spend(ad)


def test_the_lift_draws_nothing_without_ads() -> None:
    # given a stream with nothing lifted / when it asks how many orders an order becomes
    keel_less = Stream.__new__(Stream)
    keel_less.rng, keel_less.lifted = random.Random(1), {}
    before = keel_less.rng.getstate()
    # then one, and the stream's random draws are untouched (the twin's events stay as they were)
    assert [keel_less.ad_orders("DE", "SKU-000001") for _ in range(5)] == [1] * 5
    assert keel_less.rng.getstate() == before
    # with an ad showing, a quarter more orders of that SKU there, and nowhere else
    keel_less.lifted = {("DE", "SKU-000001"): LIFT}
    extra = sum(keel_less.ad_orders("DE", "SKU-000001") - 1 for _ in range(4000))
    assert 900 < extra < 1100
    assert keel_less.ad_orders("FR", "SKU-000001") == 1
