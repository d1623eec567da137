"""The twin's prices through the pricing engine: a base list per currency at local shelf prices, a margin
floor, each marketplace near its country's web store; a merchandiser's price edit reprices the SKU on every
channel and announces it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from keel.platform.money import exponent
from keel.pricing import PRICE_CHANGED
from keel.sim.load import load_world
from keel.sim.pricing import reprice_sku
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
            assert abs(p.amount - web.amount) <= web.amount * Decimal("0.05") + 100  # parity, then the ending
    # a merchandiser's markdown of one SKU reprices it on every channel, announced
    seq = last_seq(keel)
    changed = reprice_sku(keel, WORLD.skus[0], Decimal("0.80"))
    announced = {(e.subject, c["country"]) for e in events_after(keel, seq, {PRICE_CHANGED}) for c in e.data["changes"]}
    assert changed == len(announced) > len(markets) // 2  # some prices sit on their floor and do not move
    keel.close()
