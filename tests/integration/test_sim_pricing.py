"""The twin's prices through the pricing engine: a base list per currency at local shelf prices, a margin
floor, each marketplace near its country's web store; a merchandiser's price edit reprices the SKU on every
channel and announces it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from keel.platform.money import exponent
from keel.pricing import PRICE_CHANGED
from keel.pricing.model import DEFAULT_ENDINGS
from keel.sim.catalog import generate_catalog
from keel.sim.load import load_world
from keel.sim.pricing import reprice_sku
from keel.sim.promotions import WELCOME_CODES, CartPricing
from keel.sim.stream import Stream
from keel.sim.world import Scale, generate
from tests.support import events_after, last_seq, open_keel

WORLD = generate(5, Scale(skus=40, locations=60, channels=30))


def test_the_twin_prices_every_channel_in_its_currency_within_its_rules(tmp_path: Path) -> None:
    keel = open_keel(f"sqlite:///{tmp_path / 'twin.db'}")
    load_world(keel, WORLD)
    prices, total = keel.pricing.prices(limit=100_000)
    markets = {(ch["code"], c): ch["currency"] for ch in WORLD.channels for c in ch["countries"]}
    assert total == len(markets) * len(WORLD.skus) and len(prices) == total
    for p in prices:
        assert p.currency == markets[(p.channel, p.country)]
        assert p.amount >= p.floor > 0  # every SKU has a cost: every price has its margin floor
        if p.currency == "JPY":
            assert p.amount % 10 == 0 and exponent("JPY") == 0
    by_key = {(p.channel, p.country, p.sku): p for p in prices}
    for (channel, country, sku), p in by_key.items():
        web = by_key.get((channel.replace("market-", "web-"), country, sku))
        if channel.startswith("market-") and web is not None and p.floor <= web.amount * Decimal("0.95"):
            # parity, then the ending (which moves down by up to one step of the currency's endings)
            assert abs(p.amount - web.amount) <= web.amount * Decimal("0.05") + DEFAULT_ENDINGS[p.currency].step
    # marketplaces follow their country's rivals (within 5 % of the lowest) before parity holds them near the web
    rivals = [p for p in prices if any(s.rule == "competitor" for s in p.steps)]
    assert rivals and all(p.channel.startswith("market-") for p in rivals)
    # a merchandiser's markdown of one SKU reprices it on every channel, announced
    seq = last_seq(keel)
    changed = reprice_sku(keel, WORLD.skus[0], Decimal("0.80"))
    announced = {(e.subject, c["country"]) for e in events_after(keel, seq, {PRICE_CHANGED}) for c in e.data["changes"]}
    assert changed == len(announced) > len(markets) // 2  # some prices sit on their floor and do not move
    keel.close()


def test_the_twin_runs_its_season_of_promotions_and_its_web_orders_redeem_them(tmp_path: Path) -> None:
    keel = open_keel(f"sqlite:///{tmp_path / 'twin.db'}")
    load_world(keel, WORLD)
    views, total = keel.promotions.promotions(limit=1000)
    currencies = {ch["currency"] for ch in WORLD.channels}
    assert total == 7 + 2 * len(currencies) and all(v.status == "live" for v in views)
    assert keel.promotions.codes("welcome-10", limit=1)[1] == WELCOME_CODES
    # the web checkout: a gold member's cart of a SKU no item promotion covers takes the members' 5 % (never
    # below the price's margin floor)
    web = next(ch for ch in WORLD.channels if ch["kind"] == "web_store")
    products = generate_catalog(WORLD.skus, WORLD.seed)

    def cart(sku: str, **customer: str) -> dict[str, object]:
        return {"channel": web["code"], "country": web["countries"][0], "customer": customer,
                "lines": [{"sku": sku, "quantity": 1}]}  # fmt: skip

    # outerwear is on sale on every channel: a published price with the regular one struck through (where the
    # margin floor leaves room for it)
    outerwear = {p.sku for p in products if p.category[1] == "Outerwear"}
    on_sale = [
        p for p in keel.pricing.prices(limit=100_000)[0]
        if p.sku in outerwear and p.steps[-1].rule == "promotion" and "winter-outerwear" in p.steps[-1].note
    ]  # fmt: skip
    assert on_sale and all(p.compare_at is not None and p.compare_at > p.amount for p in on_sale)
    plain_sku = next(p.sku for p in products if not keel.promotions.evaluate(cart(p.sku)).result.discount)
    gold = keel.promotions.evaluate(cart(plain_sku, loyalty_tier="gold")).result
    assert [o.promotion for o in gold.outcomes if o.applied] == ["gold-members"] and gold.discount > 0
    checkout = CartPricing(keel, 3)
    # the stream prices its web orders as carts and redeems them once captured
    stream = Stream(keel, WORLD, seed=3, capture_every=1)
    counts = stream.step(6 * 3600)
    assert counts["cart_redeemed"] > 0
    assert sum(v.uses for v in keel.promotions.promotions(limit=1000)[0]) >= counts["cart_redeemed"]
    assert checkout.price({"channel": "nope", "ship_to": {"country": "DE"}, "lines": [], "customer": {},
                           "external_id": "x"}) is None  # fmt: skip
    keel.close()
