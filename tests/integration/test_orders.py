"""Orders on both databases: capture, routing, the shipment lifecycle, cancellation, rejection, returns."""

from __future__ import annotations

from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.orders import AdvanceShipment, CancelOrder, CreateReturn, ReceiveReturn, RejectShipment
from keel.orders.model import Outcome
from keel.platform.errors import Conflict, InsufficientStock, NotFound, ValidationFailed
from keel.platform.vocabulary import ShipmentStatus
from tests.support import (
    MARKET,
    POS_FR,
    ST_DE,
    ST_FR,
    TPL_DE,
    WEB_DE,
    WH_DE,
    WH_FR,
    World,
    place,
    position,
    receive,
    snapshot,
)


def order(external_id: str = "A-1", *lines: tuple[str, int], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": WEB_DE,
        "external_id": external_id,
        "lines": [{"sku": s, "quantity": q, "unit_price": "9.99"} for s, q in (lines or (("SKU-1", 2),))],
        "customer": {"name": "Ann Example", "email": "ann@example.com"},
        "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10115"},
    }
    body.update(extra)
    return body


@pytest.fixture
def stocked(keel: Keel, world: World) -> Keel:
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", ST_DE, 5)
    receive(keel, "SKU-1", WH_FR, 4)
    return keel


def test_capture_commits_stock_and_explains_the_route(stocked: Keel) -> None:
    placed, created = place(stocked, order("A-1", ("SKU-1", 2), ("SKU-2", 1)))
    assert created
    assert [(s.location, s.status) for s in placed.shipments] == [(WH_DE, "allocated"), (ST_DE, "allocated")]
    assert placed.status == "allocated"
    assert placed.geocoded == "city"
    assert position(stocked, "SKU-1", WH_DE)["committed"] == 2
    assert position(stocked, "SKU-2", ST_DE)["committed"] == 1
    explanation = placed.routing[0]["explanation"]
    # only web-de's DE sources are candidates: WH-FR-1 holds SKU-1 but does not feed this listing
    assert {c["node"] for c in explanation["candidates"]} == {WH_DE, ST_DE}
    assert explanation["rejections"] == []
    assert explanation["ranking"][0]["nodes"] == [WH_DE, ST_DE]
    assert [t.kind for t in placed.timeline] == ["captured", "routed"]


def test_capture_is_idempotent_and_refuses_other_content(stocked: Keel) -> None:
    first, _ = place(stocked, order("A-1"))
    again, created = place(stocked, order("A-1"))
    assert not created and again.id == first.id
    before = snapshot(stocked)
    with pytest.raises(Conflict, match="other content"):
        place(stocked, order("A-1", ("SKU-1", 3)))
    assert snapshot(stocked) == before
    assert position(stocked, "SKU-1", WH_DE)["committed"] == 2


@pytest.mark.parametrize(
    ("change", "field", "row"),
    [
        ({"channel": "nope"}, "channel", None),
        ({"lines": [{"sku": "NEVER-SEEN", "quantity": 1, "unit_price": "1.00"}]}, "sku", 1),
        ({"lines": [{"sku": "SKU-1", "quantity": 0, "unit_price": "1.00"}]}, "quantity", 1),
        ({"lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "1.001"}]}, "unit_price", 1),
        ({"ship_to": None}, "ship_to", None),
        ({"ship_to": {"country": "BR", "postal_code": "1"}}, "ship_to.country", None),
        ({"fulfilment": "pickup", "ship_to": None}, "pickup_location", None),
        ({"fulfilment": "pickup", "ship_to": None, "pickup_location": WH_DE}, "pickup_location", None),
    ],
    ids=["channel", "sku", "zero", "price", "no-address", "country", "no-pickup", "no-pickup-capability"],
)
def test_bad_input_is_refused_and_writes_nothing(
    stocked: Keel, change: dict[str, Any], field: str, row: int | None
) -> None:
    body = {k: v for k, v in {**order("B-1"), **change}.items() if v is not None}
    before = snapshot(stocked)
    with pytest.raises(ValidationFailed) as caught:
        place(stocked, body)
    assert (row, field) in [(e.row, e.field) for e in caught.value.errors]
    assert snapshot(stocked) == before


def test_short_stock_is_refused_unless_the_channel_backorders(stocked: Keel) -> None:
    before = snapshot(stocked)
    with pytest.raises(InsufficientStock) as caught:
        place(stocked, order("C-1", ("SKU-1", 11)))
    assert caught.value.extra["skus"] == [{"sku": "SKU-1", "requested": 11, "available_to_promise": 10}]
    assert snapshot(stocked) == before
    # pos-fr allows backorders: ST-FR-1 holds 2, the 3 missing are recorded as backordered
    receive(stocked, "SKU-3", ST_FR, 2)
    placed, _ = place(
        stocked, order("C-2", ("SKU-3", 5), channel=POS_FR, fulfilment="pickup", ship_to=None, pickup_location=ST_FR)
    )
    assert placed.status == "partially_backordered"
    assert placed.lines[0].backordered == 3
    assert position(stocked, "SKU-3", ST_FR)["committed"] == 2


def test_lifecycle_to_delivered_ships_out_of_stock(stocked: Keel) -> None:
    placed, _ = place(stocked, order("D-1"))
    oid = placed.id
    stocked.orders.fulfilment.advance(AdvanceShipment(oid, 1, ShipmentStatus.PICKING))
    stocked.orders.fulfilment.advance(AdvanceShipment(oid, 1, ShipmentStatus.PACKED))
    shipped = stocked.orders.fulfilment.advance(
        AdvanceShipment(oid, 1, ShipmentStatus.SHIPPED, carrier="DHL", tracking_number="T1")
    )
    assert shipped.shipments[0].tracking_number == "T1"
    p = position(stocked, "SKU-1", WH_DE)
    assert (p["on_hand"], p["available"], p["committed"]) == (8, 8, 0)
    done = stocked.orders.fulfilment.advance(AdvanceShipment(oid, 1, ShipmentStatus.DELIVERED))
    assert done.status == "delivered"
    assert stocked.orders.reads.metrics().on_time_rate == 1.0
    assert stocked.stock.rebuild(write=False).differences == []


ILLEGAL = [
    ([], ShipmentStatus.PACKED),
    ([], ShipmentStatus.SHIPPED),
    ([], ShipmentStatus.DELIVERED),
    ([ShipmentStatus.PICKING], ShipmentStatus.SHIPPED),
    ([ShipmentStatus.PICKING], ShipmentStatus.PICKING),
    ([ShipmentStatus.PICKING, ShipmentStatus.PACKED], ShipmentStatus.DELIVERED),
    ([ShipmentStatus.PICKING, ShipmentStatus.PACKED, ShipmentStatus.SHIPPED], ShipmentStatus.PACKED),
    (
        [ShipmentStatus.PICKING, ShipmentStatus.PACKED, ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED],
        ShipmentStatus.SHIPPED,
    ),
]


@pytest.mark.parametrize(("path", "target"), ILLEGAL, ids=[f"{len(p)}-{t.value}" for p, t in ILLEGAL])
def test_illegal_transitions_are_conflicts_and_change_nothing(
    stocked: Keel, path: list[ShipmentStatus], target: ShipmentStatus
) -> None:
    placed, _ = place(stocked, order("E-1"))
    for step in path:
        stocked.orders.fulfilment.advance(AdvanceShipment(placed.id, 1, step, carrier="DHL", tracking_number="T"))
    before = snapshot(stocked)
    with pytest.raises(Conflict, match="cannot become"):
        stocked.orders.fulfilment.advance(AdvanceShipment(placed.id, 1, target, carrier="DHL", tracking_number="T"))
    assert snapshot(stocked) == before


def test_cancelled_shipment_cannot_advance_and_unknown_ones_are_not_found(stocked: Keel) -> None:
    placed, _ = place(stocked, order("E-2"))
    stocked.orders.fulfilment.cancel(CancelOrder(placed.id))
    with pytest.raises(Conflict):
        stocked.orders.fulfilment.advance(AdvanceShipment(placed.id, 1, ShipmentStatus.PICKING))
    with pytest.raises(NotFound):
        stocked.orders.fulfilment.advance(AdvanceShipment(placed.id, 9, ShipmentStatus.PICKING))
    with pytest.raises(Conflict, match="nothing left to cancel"):
        stocked.orders.fulfilment.cancel(CancelOrder(placed.id))


def test_partial_then_full_cancellation_restores_available(stocked: Keel) -> None:
    placed, _ = place(stocked, order("F-1", ("SKU-1", 4)))
    partly = stocked.orders.fulfilment.cancel(CancelOrder(placed.id, [(1, 1)], "customer changed mind"))
    assert partly.lines[0].cancelled == 1
    assert position(stocked, "SKU-1", WH_DE)["available"] == 7
    before = snapshot(stocked)
    with pytest.raises(Conflict, match="3 cancellable"):
        stocked.orders.fulfilment.cancel(CancelOrder(placed.id, [(1, 4)]))
    assert snapshot(stocked) == before
    done = stocked.orders.fulfilment.cancel(CancelOrder(placed.id))
    assert done.status == "cancelled"
    p = position(stocked, "SKU-1", WH_DE)
    assert (p["available"], p["committed"]) == (10, 0)
    assert stocked.stock.rebuild(write=False).differences == []


def test_cannot_cancel_shipped_units(stocked: Keel) -> None:
    placed, _ = place(stocked, order("F-2"))
    for step in (ShipmentStatus.PICKING, ShipmentStatus.PACKED, ShipmentStatus.SHIPPED):
        stocked.orders.fulfilment.advance(AdvanceShipment(placed.id, 1, step, carrier="UPS", tracking_number="1Z"))
    with pytest.raises(Conflict):
        stocked.orders.fulfilment.cancel(CancelOrder(placed.id, [(1, 1)]))


def test_rejection_reroutes_to_another_node(stocked: Keel) -> None:
    # given SKU-1 at WH-DE-1 (10) and at the Berlin store (6), both web-de sources
    receive(stocked, "SKU-1", ST_DE, 6)
    placed, _ = place(stocked, order("G-1", ("SKU-1", 3)))
    assert placed.shipments[0].location == WH_DE
    # when the Berlin warehouse cannot find the units
    moved = stocked.orders.fulfilment.reject(RejectShipment(placed.id, 1, None, "shelf empty"))
    # then the line is committed at the store and the warehouse is released and excluded
    assert [(s.location, s.status) for s in moved.shipments] == [(WH_DE, "rejected"), (ST_DE, "allocated")]
    assert moved.excluded_nodes == (WH_DE,)
    assert position(stocked, "SKU-1", WH_DE)["committed"] == 0
    assert position(stocked, "SKU-1", ST_DE)["committed"] == 3
    assert moved.timeline[-1].kind == "rerouted"
    assert moved.routing[-1]["explanation"]["rejections"][0]["filter"] == "excluded"
    with pytest.raises(Conflict, match="rejected"):
        stocked.orders.fulfilment.reject(RejectShipment(placed.id, 1))
    assert stocked.stock.rebuild(write=False).differences == []


@pytest.mark.parametrize("outcome", list(Outcome), ids=[o.value for o in Outcome])
def test_returns_to_each_outcome(stocked: Keel, outcome: Outcome) -> None:
    placed, _ = place(stocked, order("H-1", ("SKU-1", 3)))
    for step in (ShipmentStatus.PICKING, ShipmentStatus.PACKED, ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED):
        stocked.orders.fulfilment.advance(AdvanceShipment(placed.id, 1, step, carrier="DHL", tracking_number="T"))
    with pytest.raises(ValidationFailed):
        stocked.orders.returns.open(CreateReturn(placed.id, [(1, 4)]))
    rma = stocked.orders.returns.open(CreateReturn(placed.id, [(1, 2)], "too small"))
    assert (rma.status, rma.refund_status) == ("open", "pending")
    with pytest.raises(Conflict, match="not been received"):
        stocked.orders.returns.refund(rma.rma)
    received = stocked.orders.returns.receive(ReceiveReturn(rma.rma, WH_FR, {1: outcome}))
    assert received.lines[0].outcome == outcome.value
    p = position(stocked, "SKU-1", WH_FR)
    field = {Outcome.AVAILABLE: "available", Outcome.DAMAGED: "damaged", Outcome.QC: "quality_control"}[outcome]
    assert p["on_hand"] == 4 + 2
    assert p[field] == (4 if field == "available" else 0) + 2
    assert stocked.orders.returns.refund(rma.rma).refund_status == "refunded"
    with pytest.raises(Conflict):
        stocked.orders.returns.receive(ReceiveReturn(rma.rma, WH_FR))
    with pytest.raises(ValidationFailed):  # one unit left to return, not two
        stocked.orders.returns.open(CreateReturn(placed.id, [(1, 2)]))
    assert stocked.stock.rebuild(write=False).differences == []


def test_orders_take_stock_only_from_the_channels_sources(stocked: Keel) -> None:
    # given SKU-3 only at the DE 3PL, which feeds no channel
    receive(stocked, "SKU-3", TPL_DE, 9)
    before = snapshot(stocked)
    # when web-de (sources WH-DE-1, ST-DE-1; no backorder) gets an order for it
    with pytest.raises(InsufficientStock):
        place(stocked, order("T-1", ("SKU-3", 1)))
    # then nothing was committed anywhere
    assert snapshot(stocked) == before


def test_orders_commit_against_the_channels_atp_not_raw_stock(stocked: Keel) -> None:
    # given market-eu may list 6 of SKU-1 in DE: (10 + 4 - buffer 2) x 50 %
    assert [r.quantity for r in stocked.availability.explain("SKU-1", MARKET, "DE")] == [6]
    before = snapshot(stocked)
    # when it captures 7, then 6
    with pytest.raises(InsufficientStock, match=r"SKU-1 \(7 > 6\)"):
        place(stocked, order("M-1", ("SKU-1", 7), channel=MARKET))
    assert snapshot(stocked) == before
    _, created = place(stocked, order("M-2", ("SKU-1", 6), channel=MARKET))
    # then only what the policy lets it sell is committed
    assert created and position(stocked, "SKU-1", WH_DE)["committed"] == 6


def test_every_fulfilment_type_is_captured_and_routed(stocked: Keel) -> None:
    receive(stocked, "SKU-2", WH_DE, 5)
    # express with the promise the channel gave; the Berlin warehouse makes it
    express, _ = place(
        stocked, order("F-1", ("SKU-1", 1), fulfilment="ship_express", promise_at="2030-01-02T12:00:00Z")
    )
    assert (express.fulfilment, express.promise_at.isoformat()) == ("ship_express", "2030-01-02T12:00:00+00:00")
    assert [s.location for s in express.shipments] == [WH_DE]
    # same-day only from nodes within the courier radius: Munich's store is out, Berlin's warehouse in
    same_day, _ = place(stocked, order("F-2", ("SKU-2", 1), fulfilment="same_day"))
    assert [s.location for s in same_day.shipments] == [WH_DE]
    rejected = {r["node"]: r["filter"] for r in same_day.routing[0]["explanation"]["rejections"]}
    assert rejected == {ST_DE: "max_distance"}
    # curbside is collected at its store like pick-up: no parcel, no shipping cost
    curbside, _ = place(stocked, order("F-3", ("SKU-2", 1), fulfilment="curbside", ship_to=None, pickup_location=ST_DE))
    assert [s.location for s in curbside.shipments] == [ST_DE]
    assert (curbside.geocoded, curbside.routing[0]["cost"]["shipping"]) == ("pickup", 0)
