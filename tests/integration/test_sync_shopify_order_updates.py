"""Orders round trip with a Shopify-style shop, on both databases: an order placed on the shop is downloaded
into Keel's order capture; shipping it in Keel fulfils it on the shop with the carrier and tracking number,
cancelling it cancels it there (without restock), refunding a return records a refund there; with the shop
failing at random, every update still arrives exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from keel.bootstrap import Keel
from keel.channels import FEEDER
from keel.channels.sync import updates_store
from keel.orders import AdvanceShipment, CancelOrder, CreateReturn, ReceiveReturn
from keel.platform.vocabulary import ShipmentStatus
from keel.sim.shopify import Shopify
from keel.sim.shopify_orders import Cancellation, Fulfilment
from tests.support import WEB_DE, WH_DE, World, receive

TOKEN = "shpat_keel_orders"


@pytest.fixture
def stocked(keel: Keel, world: World) -> Keel:
    receive(keel, "SKU-1", WH_DE, 30)
    receive(keel, "SKU-2", WH_DE, 30)
    keel.availability.catch_up()
    return keel


@pytest.fixture
def shop(stocked: Keel) -> Iterator[Shopify]:
    with Shopify({WEB_DE: TOKEN}) as s:
        stocked.sync.configure(WEB_DE, {"connector": "shopify", "url": s.url, "secret": TOKEN})
        yield s


def sync(keel: Keel) -> None:
    """One round of the worker's sync parts: the feeder, the pump (quantities, then order updates)."""
    keel.consumers.get(FEEDER).step(1000)
    keel.sync.run_pass()


def states(keel: Keel) -> dict[str, int]:
    with keel.db.read() as conn:
        return updates_store.counts(conn).get(WEB_DE, {})


def download(keel: Keel, shop: Shopify, *lines: tuple[str, int, str]) -> tuple[str, int]:
    """An order placed on the shop, downloaded into Keel: (its Shopify id, its Keel id)."""
    number = shop.add_order(WEB_DE, list(lines))
    keel.sync.run_pass()  # the worker takes the channel
    assert keel.sync.orders.pull() == 1
    (order,) = [o for o in keel.orders.reads.list(channel=WEB_DE).items if o.external_id == number]
    return number, order.id


def ship(keel: Keel, order_id: int, tracking: str) -> None:
    for step in (ShipmentStatus.PICKING, ShipmentStatus.PACKED):
        keel.orders.fulfilment.advance(AdvanceShipment(order_id, 1, step))
    keel.orders.fulfilment.advance(AdvanceShipment(order_id, 1, ShipmentStatus.SHIPPED, "DHL", tracking))


def test_a_shipment_in_keel_is_a_fulfilment_with_tracking_on_the_shop(stocked: Keel, shop: Shopify) -> None:
    number, order_id = download(stocked, shop, ("SKU-1", 2, "9.90"), ("SKU-2", 1, "4.50"))
    ship(stocked, order_id, "00340434")
    sync(stocked)
    sync(stocked)  # nothing is sent twice
    (fulfilment,) = shop.fulfilments(WEB_DE)
    assert fulfilment == Fulfilment(number, fulfilment.lines, "DHL", "00340434", notify=True)
    assert sorted(fulfilment.lines) == [("SKU-1", 2), ("SKU-2", 1)]
    assert states(stocked) == {"sent": 1}


def test_a_cancellation_in_keel_cancels_the_order_on_the_shop(stocked: Keel, shop: Shopify) -> None:
    number, order_id = download(stocked, shop, ("SKU-1", 1, "9.90"))
    stocked.orders.fulfilment.cancel(CancelOrder(order_id, None, "customer asked"))
    sync(stocked)
    sync(stocked)
    assert shop.cancellations(WEB_DE) == [Cancellation(number, "OTHER", refund=False, restock=False, notify=True)]
    assert shop.fulfilments(WEB_DE) == []
    assert states(stocked) == {"sent": 1}


def test_a_refunded_return_is_a_refund_on_the_shop(stocked: Keel, shop: Shopify) -> None:
    number, order_id = download(stocked, shop, ("SKU-1", 2, "9.90"))
    ship(stocked, order_id, "T-9")
    stocked.orders.fulfilment.advance(AdvanceShipment(order_id, 1, ShipmentStatus.DELIVERED))
    rma = stocked.orders.returns.open(CreateReturn(order_id, ((1, 1),), "too small"))
    stocked.orders.returns.receive(ReceiveReturn(rma.rma, WH_DE))
    stocked.orders.returns.refund(rma.rma)
    sync(stocked)
    sync(stocked)
    (refund,) = shop.refunds(WEB_DE)
    # the returned line, without restock (Keel owns the stock), and a note naming the RMA and the amount
    assert refund.order == number and refund.lines == (("SKU-1", 1, "NO_RESTOCK"),)
    assert refund.note == f"Refunded in Keel (refunded:{number}:{rma.rma}, amount 9.90)"
    assert [f.number for f in shop.fulfilments(WEB_DE)] == ["T-9"]
    assert states(stocked) == {"sent": 2}


def test_an_update_the_shop_refuses_for_good_is_a_dead_letter(stocked: Keel, shop: Shopify) -> None:
    number, order_id = download(stocked, shop, ("SKU-1", 1, "9.90"))
    shop.cancel_order(WEB_DE, number)  # cancelled on the shop before Keel ships it
    ship(stocked, order_id, "T-1")
    sync(stocked)
    assert shop.fulfilments(WEB_DE) == []
    assert states(stocked) == {"dead": 1}


def test_with_the_shop_failing_every_update_arrives_exactly_once(stocked: Keel) -> None:
    with Shopify({WEB_DE: TOKEN}, fault_rate=0.3, seed=3, stall_s=0.3) as shop:
        stocked.sync.configure(
            WEB_DE,
            {"connector": "shopify", "url": shop.url, "secret": TOKEN, "timeout_s": 0.2, "max_attempts": 100},
        )
        stocked.sync.pump.backoff_base_s = 0.01  # retries come soon (the default waits up to minutes)
        numbers = [shop.add_order(WEB_DE, [("SKU-1", 1, "9.90"), ("SKU-2", 1, "4.50")]) for _ in range(4)]
        stocked.sync.run_pass()
        deadline = time.monotonic() + 60
        while len(stocked.orders.reads.list(channel=WEB_DE).items) < 4 and time.monotonic() < deadline:
            stocked.sync.orders.pull()  # a failed page is read again from the same cursor
        ids = {o.external_id: o.id for o in stocked.orders.reads.list(channel=WEB_DE).items}
        assert sorted(ids) == numbers
        for n in numbers[:3]:
            ship(stocked, ids[n], f"T-{n}")
        stocked.orders.fulfilment.cancel(CancelOrder(ids[numbers[3]], None, "customer asked"))
        while states(stocked) != {"sent": 4} and time.monotonic() < deadline:
            sync(stocked)
            time.sleep(0.02)
        stats = shop.stats
        fulfilments = shop.fulfilments(WEB_DE)
        cancellations = shop.cancellations(WEB_DE)
    assert states(stocked) == {"sent": 4}
    assert sorted(f.number or "" for f in fulfilments) == sorted(f"T-{n}" for n in numbers[:3])
    assert [c.order for c in cancellations] == [numbers[3]]
    assert sum(stats.faults_injected.values()) > 0
