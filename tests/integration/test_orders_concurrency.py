"""200 shoppers race for the last 50 units of a SKU: exactly 50 orders commit, on both databases."""

from __future__ import annotations

from collections import Counter

from keel.bootstrap import Keel
from keel.platform.errors import InsufficientStock
from tests.integration.test_concurrency import race
from tests.support import WEB_DE, WH_DE, World, place, position, receive


def test_two_hundred_orders_for_the_last_fifty_units(keel: Keel, world: World) -> None:
    # given exactly 50 units left, at one warehouse
    receive(keel, "LAST-1", WH_DE, 50)
    reasons: list[str] = []

    # when 200 single-unit orders arrive at the same moment
    def buy(i: int) -> str:
        try:
            place(
                keel,
                {
                    "channel": WEB_DE,
                    "external_id": f"race-{i}",
                    "lines": [{"sku": "LAST-1", "quantity": 1, "unit_price": "5.00"}],
                    "customer": {"name": f"Shopper {i}"},
                    "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10115"},
                },
            )
        except InsufficientStock as exc:
            reasons.append(exc.detail)
            return "rejected"
        return "committed"

    outcomes = race(200, buy)
    # then exactly 50 committed, the rest were told why, and the ledger agrees with the positions
    assert outcomes == Counter(committed=50, rejected=150)
    assert all("LAST-1" in r or "stock ran out" in r for r in reasons)
    p = position(keel, "LAST-1", WH_DE)
    assert (p["on_hand"], p["available"], p["committed"]) == (50, 0, 50)
    assert keel.orders.reads.list(limit=1).total == 50
    assert keel.stock.rebuild(write=False).differences == []
