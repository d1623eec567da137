"""The seller standards on both databases: the feeder keeps the order facts of configured channels from order
events (idempotent when an event comes again), each metric's value from hand-built facts, a clean window
whose newest slice is bad projected to cross, the direction of at-least metrics, a channel's own threshold,
and the control tower's alert."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from keel.bootstrap import ORDER_FACTS, ORDER_UPDATES, Keel
from keel.catalog import LISTING_CHANGED
from keel.channels import FEEDER, FeedTypes
from keel.channels.sync import facts_store
from keel.channels.sync.health import Health
from keel.channels.sync.standards import HANDLING, Facts, Placed
from keel.insights import InsightsService
from keel.inventory import AVAILABILITY_CHANGED
from keel.orders import AdvanceShipment, CancelOrder, CreateReturn, ReceiveReturn
from keel.platform.clock import utcnow
from keel.platform.events import NewEvent
from keel.platform.vocabulary import ShipmentStatus
from tests.support import MARKET, WEB_DE, WH_DE, World, events_after, last_seq, place, receive, snapshot

NOWHERE = {"url": "http://127.0.0.1:9/hook", "secret": "standards-secret-1"}
DAY = timedelta(days=1)


def order(external_id: str, channel: str = WEB_DE, **extra: object) -> dict[str, object]:
    return {
        "channel": channel,
        "external_id": external_id,
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "9.99"}],
        "customer": {"name": "Ann Example"},
        "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10115"},
        **extra,
    }


def ship(keel: Keel, order_id: int, tracking: str) -> None:
    for step in (ShipmentStatus.PICKING, ShipmentStatus.PACKED):
        keel.orders.fulfilment.advance(AdvanceShipment(order_id, 1, step))
    keel.orders.fulfilment.advance(AdvanceShipment(order_id, 1, ShipmentStatus.SHIPPED, "DHL", tracking))


def facts(keel: Keel) -> dict[int, dict[str, object]]:
    t = facts_store.sync_order_facts
    with keel.db.read() as conn:
        return {r.order_id: dict(r._mapping) for r in conn.execute(sa.select(t).order_by(t.c.order_id))}


def health_of(keel: Keel, channel: str = WEB_DE) -> dict[str, Health]:
    return {h.metric: h for h in keel.sync.channel(channel).health}


def test_the_feeder_keeps_the_facts_of_configured_channels_orders(keel: Keel, world: World) -> None:
    # given web-de synced (market-eu is not) and stock to sell
    receive(keel, "SKU-1", WH_DE, 50)
    keel.availability.catch_up()
    keel.sync.configure(WEB_DE, NOWHERE)
    start = last_seq(keel)
    promise = utcnow().replace(microsecond=0) + timedelta(days=5)
    shipped, _ = place(keel, order("F-1", promise_at=promise.isoformat()))
    cancelled, _ = place(keel, order("F-2"))
    refunded, _ = place(keel, order("F-3"))
    claimed, _ = place(keel, order("F-4"))
    elsewhere, _ = place(keel, order("F-5", channel=MARKET))
    # when web-de's orders ship (one with a placeholder tracking), get delivered, cancelled, returned and
    # refunded, and one is refunded without a return (a claim)
    ship(keel, shipped.id, "00340434")
    keel.orders.fulfilment.advance(AdvanceShipment(shipped.id, 1, ShipmentStatus.DELIVERED))
    keel.orders.fulfilment.cancel(CancelOrder(cancelled.id, None, "customer asked"))
    ship(keel, refunded.id, "n/a")
    keel.orders.fulfilment.advance(AdvanceShipment(refunded.id, 1, ShipmentStatus.DELIVERED))
    rma = keel.orders.returns.open(CreateReturn(refunded.id, [(1, 1)]))
    keel.orders.returns.receive(ReceiveReturn(rma.rma, WH_DE))
    keel.orders.returns.refund(rma.rma)
    ship(keel, elsewhere.id, "00340435")
    with keel.db.write() as conn:
        keel.events.append(conn, [NewEvent("order.refunded", f"orders/{claimed.id}", {"order_id": claimed.id})])
    keel.consumers.get(FEEDER).step(1000)
    # then web-de's four orders have their facts, timed by their events; market-eu's none
    by_type = {(e.type, e.data["order_id"]): e.recorded_at for e in events_after(keel, start) if "order_id" in e.data}
    found = facts(keel)
    assert sorted(found) == [shipped.id, cancelled.id, refunded.id, claimed.id]
    placed_at = by_type[("order.captured", shipped.id)]
    assert found[shipped.id] == {
        "order_id": shipped.id, "channel": WEB_DE, "external_id": "F-1", "placed_at": placed_at,
        "promise_at": promise, "ship_by": placed_at + HANDLING,
        "shipped_at": by_type[("order.shipped", shipped.id)], "tracking_valid": True,
        "delivered_at": by_type[("order.delivered", shipped.id)], "cancelled_at": None, "defect_at": None,
    }  # fmt: skip
    assert found[cancelled.id]["cancelled_at"] == by_type[("order.cancelled", cancelled.id)]
    assert found[cancelled.id]["shipped_at"] is None and found[cancelled.id]["promise_at"] is not None
    assert (found[refunded.id]["tracking_valid"], found[refunded.id]["defect_at"]) == (False, None)
    assert found[claimed.id]["defect_at"] == by_type[("order.refunded", claimed.id)]
    # and the same events handed to the feeder again change nothing
    before = snapshot(keel)
    with keel.db.write() as conn:
        batch = keel.events.read(conn, start, set(ORDER_FACTS), limit=1000)
        keel.sync.feed(conn, batch, FeedTypes(AVAILABILITY_CHANGED, LISTING_CHANGED, None, ORDER_UPDATES, ORDER_FACTS))
    assert snapshot(keel) == before


def _placed(order_id: int, at: datetime, promise: datetime | None = None) -> Placed:
    return Placed(order_id, WEB_DE, f"H-{order_id}", at, promise, at + HANDLING)


def test_each_metrics_value_from_hand_built_facts(keel: Keel, world: World) -> None:
    # given 40 web-de orders placed 3.5 days ago, due to ship 1.5 days ago; the first 20 promised for 0.1 day
    # ago: 1 cancelled before shipping, 36 shipped on time, 2 late, 1 not at all; one shipment's tracking
    # invalid; 20 promised ones delivered, 2 after the promise; 10 more delivered without a promise; 1 defect
    keel.sync.configure(WEB_DE, NOWHERE)
    now = utcnow()
    placed_at = now - 3.5 * DAY
    ids = range(1, 41)
    made = Facts(placed={i: _placed(i, placed_at, now - 0.1 * DAY if i <= 20 else None) for i in ids})
    made.cancelled = {40: placed_at + 0.1 * DAY}
    made.shipped = {i: (placed_at + DAY, i != 5) for i in range(1, 37)}
    made.shipped |= {37: (now - 0.5 * DAY, True), 38: (now - 0.5 * DAY, True)}
    made.delivered = {i: now - (0.05 if i in (3, 4) else 0.2) * DAY for i in range(1, 31)}
    made.defects = {7: now - DAY}
    with keel.db.write() as conn:
        facts_store.apply(conn, made)
    # when the channel's health is read
    found = health_of(keel)
    got = {m: (h.value, h.orders, h.direction, h.status) for m, h in found.items() if h.orders is not None}
    # then each rate counts what its definition says, each in its direction
    assert got == {
        "cancellation_rate": (1 / 40, 40, "at most", "ok"),  # at the threshold is within it
        "late_shipment_rate": (3 / 39, 39, "at most", "breach"),  # 2 late + 1 unshipped of 39 not cancelled
        "valid_tracking_rate": (37 / 38, 38, "at least", "breach"),
        "on_time_delivery_rate": (18 / 20, 20, "at least", "ok"),
        "order_defect_rate": (1 / 40, 40, "at most", "breach"),
    }
    assert found["late_shipment_rate"].window_s == (10 * DAY).total_seconds()
    assert found["lag_p99_s"].orders is None  # the request metrics are still there, beside them


def test_a_clean_window_whose_newest_slice_is_bad_is_projected_and_alerts(keel: Keel, world: World) -> None:
    # given 70 web-de orders, 10 a day over the last 7 days, none cancelled but 1 of yesterday's 10
    keel.sync.configure(WEB_DE, NOWHERE)
    now = utcnow()
    made = Facts(placed={d * 10 + i: _placed(d * 10 + i, now - (d + 0.5) * DAY) for d in range(7) for i in range(10)})
    made.cancelled = {0: now - 0.2 * DAY}
    made.shipped = {n: (p.placed_at + 0.5 * DAY, True) for n, p in made.placed.items() if n != 0}
    with keel.db.write() as conn:
        facts_store.apply(conn, made)
    # then the cancellation rate is within 2.5 % (1.4 %) but projected to cross a day from now (2.9 %)
    cancellation = health_of(keel)["cancellation_rate"]
    assert (cancellation.value, cancellation.status) == (1 / 70, "projected")
    assert (cancellation.projected, cancellation.projected_in_s) == (2 / 70, DAY.total_seconds())
    # and the control tower alerts on it, naming the channel and the metric
    tower = InsightsService(
        keel.db, keel.events, keel.queries, keel.locations, keel.channels, keel.availability, keel.orders,
        ttl=0, sync=keel.sync,
    )  # fmt: skip
    alerts = [(a.rule, a.subject, a.severity) for a in tower.snapshot().alerts if a.rule.startswith("channel-seller")]
    assert alerts == [("channel-seller-standards", f"{WEB_DE} cancellation_rate", "bad")]
    # when the channel's marketplace asks for at most 1 %, it is a breach now
    keel.sync.set_thresholds(WEB_DE, {"cancellation_rate": 0.01})
    stricter = health_of(keel)["cancellation_rate"]
    assert (stricter.threshold, stricter.status, stricter.projected_in_s) == (0.01, "breach", None)
    # and with one above the newest slice's pace (10 %), nothing is projected
    keel.sync.set_thresholds(WEB_DE, {"cancellation_rate": 0.12})
    assert health_of(keel)["cancellation_rate"].status == "ok"
    assert [a for a in tower.snapshot().alerts if a.rule.startswith("channel-seller")] == []


def test_a_channel_with_few_orders_has_no_data_rather_than_an_alert(keel: Keel, world: World) -> None:
    keel.sync.configure(WEB_DE, NOWHERE)
    now = utcnow()
    made = Facts(placed={i: _placed(i, now - DAY * 0.5) for i in range(1, 4)}, cancelled={1: now - DAY * 0.2})
    with keel.db.write() as conn:
        facts_store.apply(conn, made)
    cancellation = health_of(keel)["cancellation_rate"]
    assert (cancellation.value, cancellation.orders, cancellation.status) == (1 / 3, 3, "no data")
    assert {h.status for h in keel.sync.channel(WEB_DE).health if h.orders is not None} == {"no data"}
