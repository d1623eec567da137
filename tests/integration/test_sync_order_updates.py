"""Orders round trip with an Amazon-style channel, on both databases: an order placed on the marketplace is
downloaded into Keel's order capture; shipping it in Keel sends the shipment confirmation (carrier, tracking,
lines) back once; a cancellation goes back too; an update the channel refuses for good is a dead letter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keel.bootstrap import Keel
from keel.channels import FEEDER
from keel.channels.sync import updates_store
from keel.orders import AdvanceShipment, CancelOrder
from keel.platform.vocabulary import ShipmentStatus
from keel.sim.amazon import AmazonMarketplace
from tests.support import MARKET, WH_DE, World, receive

TOKEN = "amz-token-1"


@pytest.fixture
def market(keel: Keel, world: World) -> Iterator[AmazonMarketplace]:
    receive(keel, "SKU-1", WH_DE, 30)
    receive(keel, "SKU-2", WH_DE, 30)
    keel.availability.catch_up()
    with AmazonMarketplace({TOKEN: MARKET}, processing_s=0.0) as m:
        keel.sync.configure(MARKET, {"connector": "amazon", "url": m.url("eu"), "secret": TOKEN})
        yield m


def sync(keel: Keel) -> None:
    """One round of the worker's sync parts: the feeder, the pump (quantities, then order updates)."""
    keel.consumers.get(FEEDER).step(1000)
    keel.sync.run_pass()


def states(keel: Keel) -> dict[str, int]:
    with keel.db.read() as conn:
        return updates_store.counts(conn).get(MARKET, {})


def test_an_order_comes_in_and_its_shipment_goes_back_once(keel: Keel, market: AmazonMarketplace) -> None:
    # given an order placed on the marketplace, downloaded into Keel
    amazon_id = market.add_order(MARKET, "DE", [("SKU-1", 2, "9.90"), ("SKU-2", 1, "4.50")])
    keel.sync.run_pass()  # the worker takes the channel
    assert keel.sync.orders.pull() == 1
    (order,) = keel.orders.reads.list(channel=MARKET).items
    assert order.external_id == amazon_id
    # when Keel ships it
    for step in (ShipmentStatus.PICKING, ShipmentStatus.PACKED):
        keel.orders.fulfilment.advance(AdvanceShipment(order.id, 1, step))
    keel.orders.fulfilment.advance(
        AdvanceShipment(order.id, 1, ShipmentStatus.SHIPPED, carrier="DHL", tracking_number="00340434")
    )
    sync(keel)
    sync(keel)  # nothing is sent twice
    # then the marketplace has the one confirmation, with the carrier, tracking and both lines
    (confirmation,) = market.confirmations
    assert (confirmation.order_id, confirmation.carrier, confirmation.tracking) == (amazon_id, "DHL", "00340434")
    assert sorted(q for _, q in confirmation.items) == [1, 2]
    assert market.order_status(amazon_id) == "Shipped"
    assert states(keel) == {"sent": 1}


def test_a_cancellation_goes_back_and_a_refusal_for_good_is_a_dead_letter(
    keel: Keel, market: AmazonMarketplace
) -> None:
    first = market.add_order(MARKET, "DE", [("SKU-1", 1, "9.90")])
    second = market.add_order(MARKET, "DE", [("SKU-2", 1, "4.50")])
    keel.sync.run_pass()
    assert keel.sync.orders.pull() == 2
    ids = {o.external_id: o.id for o in keel.orders.reads.list(channel=MARKET).items}
    # when Keel cancels the first, and the second is cancelled on the marketplace before Keel ships it
    keel.orders.fulfilment.cancel(CancelOrder(ids[first], None, "customer asked"))
    market.set_order_status(second, "Canceled")
    for step in (ShipmentStatus.PICKING, ShipmentStatus.PACKED):
        keel.orders.fulfilment.advance(AdvanceShipment(ids[second], 1, step))
    keel.orders.fulfilment.advance(AdvanceShipment(ids[second], 1, ShipmentStatus.SHIPPED, "DHL", "T-2"))
    sync(keel)
    # then the cancellation is on the marketplace, and the confirmation of a cancelled order is refused for good
    assert market.order_status(first) == "Canceled"
    assert market.confirmations == []
    assert states(keel) == {"sent": 1, "dead": 1}


def test_the_stock_the_marketplace_holds_is_booked_as_a_location_of_its_own(
    keel: Keel, market: AmazonMarketplace
) -> None:
    # given stock the marketplace holds for the channel in its own warehouses
    market.add_fba_stock(MARKET, "DE", "SKU-1", 12)
    market.add_fba_stock(MARKET, "DE", "SKU-2", 3)
    keel.sync.run_pass()
    # when it is booked, then read again after the marketplace sold some and received others
    assert keel.sync.orders.book_fulfilled() == 1
    market.add_fba_stock(MARKET, "DE", "SKU-1", 7)
    market.add_fba_stock(MARKET, "DE", "SKU-2", 0)
    market.add_fba_stock(MARKET, "DE", "SKU-3", 4)
    keel.sync.orders.book_fulfilled()
    # then the ledger holds it at the channel's own location, as the marketplace reports it now
    code = f"{MARKET}.fulfilled.DE"
    held = {p.sku: p.on_hand for p in keel.queries.positions(location=code)[0]}
    assert held == {"SKU-1": 7, "SKU-2": 0, "SKU-3": 4}
    location = keel.locations.get(code)
    assert (location.kind, location.country, location.capabilities) == ("3pl", "DE", ())
    # through movements (the ledger covers it): 12 + 3 in, then 5 and 3 out, 4 in
    moved = [(m.kind, m.sku, m.quantity) for m in keel.queries.ledger(location=code)]
    assert sorted(moved) == sorted(
        [("adjusted_in", "SKU-1", 12), ("adjusted_in", "SKU-2", 3), ("adjusted_out", "SKU-1", 5),
         ("adjusted_out", "SKU-2", 3), ("adjusted_in", "SKU-3", 4)]
    )  # fmt: skip
