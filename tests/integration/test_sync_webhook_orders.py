"""Orders round trip with a webhook channel, on both databases, over real HTTP both ways: the marketplace
simulator sends an order it sold to Keel's signed order webhook (a uvicorn server on 127.0.0.1); shipping,
cancelling and refunding it in Keel send the updates back to the marketplace's order-updates endpoint, each
applied once, through faults; an update the marketplace refuses for good is a dead letter; and the updates
count against the channel's request budget (no 429)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from keel.api import create_app
from keel.bootstrap import Keel
from keel.channels import FEEDER
from keel.channels.sync import updates_store
from keel.channels.sync.model import OrderUpdate
from keel.orders import AdvanceShipment, CancelOrder
from keel.platform.clock import utcnow
from keel.platform.vocabulary import ShipmentStatus
from keel.sim.marketplace import Marketplace
from tests.integration.test_channel_sync_market import churn
from tests.support import MARKET, WH_DE, World, receive, serve_app

SECRET = "market-orders-1"


def document(external_id: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "channel": MARKET,
        "external_id": external_id,
        "lines": [{"sku": sku, "quantity": q, "unit_price": "9.90"} for sku, q in lines],
        "customer": {"name": "Ann"},
        "ship_to": {"country": "DE", "postal_code": "10115", "latitude": 52.5, "longitude": 13.4},
    }


@pytest.fixture
def market(keel: Keel, world: World) -> Iterator[Marketplace]:
    receive(keel, "SKU-1", WH_DE, 30)
    receive(keel, "SKU-2", WH_DE, 30)
    keel.availability.catch_up()
    # every other request fails (503, a timeout, a dropped connection, a malformed answer, partial success)
    with (
        serve_app(create_app(keel), as_admin=False) as url,
        Marketplace({MARKET: SECRET}, callback=url, fault_rate=0.5, seed=4, stall_s=0.6) as m,
    ):
        settings = {"url": m.url, "secret": SECRET, "rate_limit": 1000, "window_s": 1.0, "timeout_s": 0.3}
        keel.sync.configure(MARKET, settings)
        yield m


def sync_until_sent(keel: Keel, rounds: int = 40) -> dict[str, int]:
    """The worker's sync parts (feeder, pump) until no order update is owed; the updates' states."""
    counts: dict[str, int] = {}
    for _ in range(rounds):
        keel.consumers.get(FEEDER).step(1000)
        keel.sync.pump.backoff_base_s = 0.0
        keel.sync.run_pass()
        with keel.db.read() as conn:
            counts = updates_store.counts(conn).get(MARKET, {})
        if not counts.get("pending"):
            return counts
    return counts


def ship(keel: Keel, order_id: int, carrier: str, tracking: str) -> None:
    for step in (ShipmentStatus.PICKING, ShipmentStatus.PACKED):
        keel.orders.fulfilment.advance(AdvanceShipment(order_id, 1, step))
    keel.orders.fulfilment.advance(AdvanceShipment(order_id, 1, ShipmentStatus.SHIPPED, carrier, tracking))


def test_a_sold_order_comes_in_by_webhook_and_its_updates_go_back_once_through_faults(
    keel: Keel, market: Marketplace
) -> None:
    # given two orders sold on the marketplace, sent to Keel's order webhook over HTTP
    first = market.orders.sell(MARKET, document("M-1", [("SKU-1", 2), ("SKU-2", 1)]))
    second = market.orders.sell(MARKET, document("M-2", [("SKU-2", 1)]))
    assert (first.outcome, second.outcome) == ("captured", "captured")
    assert market.orders.sell(MARKET, document("M-1", [("SKU-1", 2), ("SKU-2", 1)])).outcome == "duplicate"
    assert first.order_id is not None and second.order_id is not None
    # when Keel ships the first and cancels the second
    ship(keel, first.order_id, "DHL", "00340434161094")
    keel.orders.fulfilment.cancel(CancelOrder(second.order_id, None, "customer asked"))
    counts = sync_until_sent(keel)
    # then the marketplace holds one shipment with carrier, tracking and both lines, and one cancellation
    shipped, cancelled = market.orders.order(MARKET, "M-1"), market.orders.order(MARKET, "M-2")
    assert shipped is not None and cancelled is not None
    assert shipped.status == "shipped"
    assert [(c, t, sorted(lines)) for c, t, lines in shipped.shipments] == [
        ("DHL", "00340434161094", [("SKU-1", 2), ("SKU-2", 1)])
    ]
    assert cancelled.status == "cancelled"
    assert counts == {"sent": 2}
    assert sum(market.stats.faults_injected.values()) > 0  # the faults did happen
    assert market.stats.rate_limit_violations == 0


def test_an_update_the_marketplace_refuses_for_good_is_a_dead_letter_with_its_reason(
    keel: Keel, market: Marketplace
) -> None:
    market.fault_rate = 0.0
    sold = market.orders.sell(MARKET, document("M-3", [("SKU-1", 1)]))
    assert sold.order_id is not None
    # the buyer's order was cancelled on the marketplace before Keel shipped it
    held = market.orders.order(MARKET, "M-3")
    assert held is not None
    held.status = "cancelled"
    ship(keel, sold.order_id, "UPS", "1Z999AA10123456784")
    assert sync_until_sent(keel) == {"dead": 1}
    (dead,), total = keel.sync.order_updates(MARKET, "dead")
    assert total == 1
    assert (dead.update.external_id, dead.update.kind) == ("M-3", "shipped")
    assert "cancelled" in (dead.last_error or "")


def test_order_updates_share_the_channel_request_budget(keel: Keel, world: World) -> None:
    # a channel allowing 2 requests a minute, owed both quantities and order updates
    with Marketplace({MARKET: SECRET}, rate_limit=2, window_s=60.0) as m:
        settings = {"url": m.url, "secret": SECRET, "rate_limit": 2, "window_s": 60.0, "batch_size": 2}
        keel.sync.configure(MARKET, settings)
        churn(keel, 1)
        for n in range(4):
            m.orders.sell(MARKET, document(f"B-{n}", [("SKU-1", 1)]))
        with keel.db.write() as conn:
            updates_store.queue(
                conn, [(MARKET, OrderUpdate(f"B-{n}", "cancelled", (), f"c:{n}")) for n in range(4)], utcnow()
            )
        for _ in range(3):
            keel.sync.run_pass()
        # then the updates took one request of the budget, the quantities the other, and nothing more went out
        assert (m.stats.requests, m.stats.rate_limit_violations) == (2, 0)
        assert keel.sync.order_updates(MARKET, "sent")[1] == 4
        assert m.state(MARKET)  # the quantities went too
        assert keel.sync.channel(MARKET).pending > 0  # and the rest waits for the window
