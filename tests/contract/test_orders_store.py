"""Contract of the orders store (``keel.orders.store``), on SQLite and PostgreSQL: every query function
given rows written through the store itself, asserted exactly. No services, no planning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from keel.bootstrap import Keel
from keel.orders.model import Assigned
from keel.orders.store import orders, policies, reads, returns, shipments
from keel.orders.store.reads import OrderFilter
from keel.orders.views import LineRecord, NewOrder, Piece, ReturnLine, ShipmentLine, StoredPolicy, TimelineEntry
from keel.platform.db import pipelined
from keel.platform.vocabulary import ShipmentStatus

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def head(external_id: str, **over: Any) -> NewOrder:
    return NewOrder(
        **{
            "channel": "web-de",
            "external_id": external_id,
            "digest": f"d-{external_id}",
            "status": "allocated",
            "fulfilment": "ship_standard",
            "customer_name": "Ada",
            "customer_email": None,
            "country": "DE",
            "city": "Berlin",
            "postal_code": "10117",
            "latitude": 52.52,
            "longitude": 13.405,
            "geocoded": "city",
            "pickup_location": None,
            "promise_at": T0 + timedelta(days=3),
            "excluded_nodes": (),
            "routing": (),
            "created_at": T0,
            "updated_at": T0,
            **over,
        }
    )


def line(no: int, sku: str, qty: int, backordered: int = 0) -> LineRecord:
    return LineRecord(no, sku, qty, "9.99", 0, backordered)


def captured(keel: Keel, external_id: str = "A-1", **over: Any) -> int:
    """An order of two lines (3 x SKU-1, 1 x SKU-2) with one shipment at WH-1 holding all of it."""
    with keel.db.write() as conn:
        order_id = orders.insert(conn, head(external_id, **over), [line(1, "SKU-1", 3), line(2, "SKU-2", 1)])
        shipments.add(conn, order_id, [Assigned("WH-1", 1, "SKU-1", 3), Assigned("WH-1", 2, "SKU-2", 1)], T0)
    return order_id


def test_an_order_reads_back_as_written(keel: Keel) -> None:
    order_id = captured(keel)
    with keel.db.write() as conn:
        found = orders.get(conn, order_id, lock=True)
        assert found is not None
        assert (found.id, found.channel, found.external_id, found.status) == (order_id, "web-de", "A-1", "allocated")
        assert (found.excluded_nodes, found.routing, found.created_at) == ((), (), T0)
        assert orders.find_external(conn, "web-de", "A-1")() == (order_id, "d-A-1")
        assert orders.find_external(conn, "web-de", "A-2")() is None
        assert orders.get(conn, order_id + 1) is None
        assert orders.lines(conn, order_id) == [line(1, "SKU-1", 3), line(2, "SKU-2", 1)]
        orders.serialise_capture(conn, "web-de", "A-1")  # takes the lock (PostgreSQL) or nothing (SQLite)


def test_reads_sent_together_answer_as_each_alone(keel: Keel) -> None:
    """Capture sends its first reads in one pipeline (one round trip on PostgreSQL) and takes the answers
    after: each answer is the one the read gives alone, whatever the order they are taken in."""
    order_id = captured(keel)
    with keel.db.write() as conn:
        with pipelined(conn):
            orders.serialise_capture(conn, "web-de", "A-1")
            missing = orders.find_external(conn, "web-de", "A-2")
            found = orders.find_external(conn, "web-de", "A-1")
            none = policies.of_channels(conn, ["web-de", "*"])
        assert found() == (order_id, "d-A-1")
        assert found() == (order_id, "d-A-1")  # taken once, kept
        assert none() == {}
        assert missing() is None


def test_line_counts_status_and_routing_change_in_place(keel: Keel) -> None:
    order_id = captured(keel)
    with keel.db.write() as conn:
        orders.add_to_line(conn, order_id, 1, backordered=2)
        orders.add_to_line(conn, order_id, 1, cancelled=1, backordered=-1)
        orders.set_status(conn, order_id, "partially_backordered", T0 + timedelta(hours=1))
        orders.set_routing(conn, order_id, [{"trigger": "capture"}], ["ST-1"])
    with keel.db.read() as conn:
        assert orders.lines(conn, order_id, backordered_only=True) == [LineRecord(1, "SKU-1", 3, "9.99", 1, 1)]
        assert orders.backordered_units(conn, order_id) == 1
        assert orders.waiting_lines(conn) == [(order_id, "SKU-1", 1)]
        found = orders.get(conn, order_id)
        assert found is not None
        assert (found.status, found.updated_at) == ("partially_backordered", T0 + timedelta(hours=1))
        assert (found.routing, found.excluded_nodes) == (({"trigger": "capture"},), ("ST-1",))
        assert [r.id for r in orders.records(conn, [order_id, order_id, 999])] == [order_id]


def test_the_timeline_keeps_its_order(keel: Keel) -> None:
    order_id = captured(keel)
    with keel.db.write() as conn:
        orders.note(conn, order_id, T0, "captured", "first", {"units": 4})
        orders.note(conn, order_id, T0, "routed", "second", {})
    with keel.db.read() as conn:
        assert orders.timeline_of(conn, order_id) == [
            TimelineEntry(T0, "captured", "first", {"units": 4}),
            TimelineEntry(T0, "routed", "second", {}),
        ]


def test_shipments_are_numbered_per_node_after_the_last(keel: Keel) -> None:
    order_id = captured(keel)
    with keel.db.write() as conn:
        later = T0 + timedelta(hours=2)
        numbers = shipments.add(
            conn, order_id, [Assigned("ST-1", 1, "SKU-1", 1), Assigned("ST-2", 2, "SKU-2", 1)], later
        )
        assert numbers == [2, 3]
        assert shipments.add(conn, order_id, [], later) == []
        held = shipments.of_order(conn, order_id)
    assert [(s.number, s.location, s.status) for s in held] == [
        (1, "WH-1", ShipmentStatus.ALLOCATED),
        (2, "ST-1", ShipmentStatus.ALLOCATED),
        (3, "ST-2", ShipmentStatus.ALLOCATED),
    ]
    assert held[0].lines == (
        ShipmentLine(1, 1, "SKU-1", 3, 0, 0, 0),
        ShipmentLine(1, 2, "SKU-2", 1, 0, 0, 0),
    )


def test_units_move_between_columns_and_empty_shipments_close(keel: Keel) -> None:
    order_id = captured(keel)
    now = T0 + timedelta(hours=1)
    with keel.db.write() as conn:
        shipments.take(conn, order_id, 1, 1, 3, "cancelled")
        shipments.close_empty(conn, order_id, ShipmentStatus.CANCELLED, now)
        assert shipments.statuses(conn, order_id) == [ShipmentStatus.ALLOCATED]  # line 2 still holds a unit
        shipments.take(conn, order_id, 1, 2, 1, "rejected")
        shipments.close_empty(conn, order_id, ShipmentStatus.REJECTED, now)
        found = shipments.get(conn, order_id, 1)
        assert shipments.get(conn, order_id, 2) is None
    assert found is not None
    assert (found.status, found.updated_at, found.live) == (ShipmentStatus.REJECTED, now, False)
    assert found.lines == (ShipmentLine(1, 1, "SKU-1", 0, 3, 0, 0), ShipmentLine(1, 2, "SKU-2", 0, 0, 1, 0))


def test_pieces_holdings_and_spent_capacity(keel: Keel) -> None:
    order_id = captured(keel)
    other = captured(keel, "A-2", created_at=T0 + timedelta(minutes=1))
    with keel.db.write() as conn:
        shipments.advance(conn, other, 1, ShipmentStatus.SHIPPED, T0, carrier="DHL", tracking_number="T", shipped_at=T0)
        assert shipments.pieces_by_order(conn, [order_id, other]) == {
            order_id: [
                Piece(1, 1, "SKU-1", 3, "WH-1", T0),
                Piece(1, 2, "SKU-2", 1, "WH-1", T0),
            ],
        }
        assert shipments.pieces_by_order(conn, [other], [ShipmentStatus.SHIPPED])[other][0].quantity == 3
        assert shipments.live_holdings(conn, other) == {
            (1, 1, 3, ShipmentStatus.SHIPPED),
            (1, 2, 1, ShipmentStatus.SHIPPED),
        }
        assert shipments.shipped_per_line(conn, other) == {1: 3, 2: 1}
        assert shipments.shipped_per_line(conn, order_id) == {}
        assert shipments.units_since(conn, T0) == {"WH-1": 8}
        assert shipments.units_since(conn, T0 + timedelta(seconds=1)) == {}
        shipments.close(conn, order_id, [1], ShipmentStatus.REPLANNED, T0)
        assert shipments.live_holdings(conn, order_id) == set()


def test_returns_open_receive_and_refund(keel: Keel) -> None:
    order_id = captured(keel)
    rma = f"RMA-{order_id}-1"
    later = T0 + timedelta(days=1)
    with keel.db.write() as conn:
        assert returns.count_of_order(conn, order_id) == 0
        returns.insert(conn, rma, order_id, "too small", T0, {1: ("SKU-1", 2)})
        assert returns.returned_per_line(conn, order_id) == {1: 2}
        assert returns.count_of_order(conn, order_id) == 1
        opened = returns.get(conn, rma, lock=True)
        assert opened is not None and (opened.status, opened.refund_status) == ("open", "pending")
        returns.received(conn, rma, "WH-1", {1: "returned"}, later)
        returns.refunded(conn, rma, later)
    with keel.db.read() as conn:
        done = returns.get(conn, rma)
        assert returns.get(conn, "RMA-0-0") is None
        assert returns.lines(conn, rma) == [ReturnLine(rma, 1, "SKU-1", 2, "returned")]
        assert [r.rma for r in returns.of_order(conn, order_id)] == [rma]
    assert done is not None
    assert (done.status, done.location, done.received_at) == ("received", "WH-1", later)
    assert (done.refund_status, done.refunded_at, done.reason) == ("refunded", later, "too small")


def test_policies_are_replaced_and_dropped_per_channel(keel: Keel) -> None:
    with keel.db.write() as conn:
        policies.put(conn, "web-de", {"max_nodes": 2}, T0)
        policies.put(conn, "web-de", {"max_nodes": 3}, T0 + timedelta(hours=1))
        policies.put(conn, "*", {}, T0)
    with keel.db.write() as conn:
        assert policies.of_channels(conn, ["web-de", "pos-fr"])() == {
            "web-de": StoredPolicy("web-de", {"max_nodes": 3}, T0 + timedelta(hours=1))
        }
        assert [p.channel for p in policies.every(conn)] == ["*", "web-de"]
        assert policies.delete(conn, "web-de") is True
        assert policies.delete(conn, "web-de") is False
        assert policies.every(conn) == [StoredPolicy("*", {}, T0)]


def test_pages_metrics_facts_and_wave_candidates(keel: Keel) -> None:
    first = captured(keel, "A-1")
    second = captured(keel, "A-2", country="FR", created_at=T0 + timedelta(minutes=1))
    with keel.db.write() as conn:
        shipments.advance(conn, second, 1, ShipmentStatus.PICKING, T0)
        items, total = reads.page(conn, OrderFilter(), 1, 0)
        assert total == 2 and [(i.id, i.units, i.nodes) for i in items] == [(second, 4, ("WH-1",))]
        assert reads.page(conn, OrderFilter(country="fr"), 10, 0)[1] == 1
        assert reads.page(conn, OrderFilter(channel="pos-fr"), 10, 0) == ([], 0)
        facts = reads.live_shipments(conn, OrderFilter(created_since=T0 + timedelta(seconds=30)))
        assert [(f.order_id, f.location, f.status) for f in facts] == [(second, "WH-1", ShipmentStatus.PICKING)]
        # The second order is being picked: only the first may join a wave.
        assert [o.id for o in reads.wave_candidates(conn, reads.OrderFilter(), 10)] == [first]
        assert reads.wave_candidates(conn, reads.OrderFilter(country="FR"), 10) == []
        assert reads.wave_candidates(conn, reads.OrderFilter(channel="pos-fr"), 10) == []
