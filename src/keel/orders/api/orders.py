"""HTTP API of the orders context: capture, shipments, cancellation, rejection, returns, waves and backorders
(schemas in ``keel.orders.schemas``).

Prices are decimal strings in the channel's currency (``"19.99"``): JSON numbers would pass through
binary floating point in many clients.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from keel.access import ScopeDep
from keel.deps import KeelDep
from keel.orders import (
    AdvanceShipment,
    CancelOrder,
    CreateReturn,
    OrderView,
    PlanWave,
    ReceiveReturn,
    RejectShipment,
    ReturnView,
    capture_command,
)
from keel.orders.schemas import (
    BackorderReportPublic,
    CancelBody,
    MetricsPublic,
    OrderCreate,
    OrderPublic,
    OrderSummaryPage,
    OrderSummaryPublic,
    RejectBody,
    ReturnCreate,
    ReturnPublic,
    ReturnReceive,
    ShipBody,
    WaveCreate,
    WaveReportPublic,
)
from keel.platform.api import Limit, Offset, Page
from keel.platform.schemas import RowId, SeqNumber
from keel.platform.vocabulary import ShipmentStatus

router = APIRouter(tags=["orders"])


def _order(found: OrderView) -> OrderPublic:
    return OrderPublic.model_validate(found, from_attributes=True)


def _return(found: ReturnView) -> ReturnPublic:
    return ReturnPublic.model_validate(found, from_attributes=True)


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderPublic,
    operation_id="capture_order",
    summary="Capture an order",
    responses={200: {"model": OrderPublic, "description": "the same order was already captured: it, unchanged"}},
)
def capture_order(body: OrderCreate, keel: KeelDep, scope: ScopeDep, response: Response) -> OrderPublic:
    """Captures an order from a channel, sources it (which locations ship which lines, by the channel's sourcing policy)
    and commits the stock, all in one transaction; answers 201 with the order.

    Refuses an order whose stock is not there (409 ``insufficient-stock``, naming the SKUs) unless the channel allows
    backorders, which then records the rest; an unknown or inactive channel, unknown SKUs or pick-up locations and
    invalid fields (422); a channel or ship-to country outside the caller's restrictions (403). Idempotent by
    (``channel``, ``external_id``): the same order again answers 200 with the order already captured; other content
    under the same ids is refused with 409.
    """
    captured = keel.orders.capture.place(capture_command(body.model_dump(mode="json", exclude_none=True)), scope)
    if not captured.created:
        response.status_code = status.HTTP_200_OK
    return OrderPublic.model_validate(captured.order, from_attributes=True)


@router.get("/orders", response_model=OrderSummaryPage, operation_id="list_orders", summary="List orders")
def list_orders(
    keel: KeelDep,
    scope: ScopeDep,
    channel: str | None = None,
    status: str | None = None,
    country: str | None = None,
    created_since: datetime | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """Order summaries, newest first, filtered by channel, status, ship-to country and creation time, one page at a
    time. A restricted caller sees only its channels' and countries' orders.

    Refuses malformed filters and paging values (422). Idempotent: a read, it changes nothing.
    """
    found = keel.orders.reads.list(
        channel=channel,
        status=status,
        country=country,
        created_since=created_since,
        limit=limit,
        offset=offset,
        scope=scope,
    )
    items = [OrderSummaryPublic.model_validate(o, from_attributes=True).model_dump() for o in found.items]
    return Page(items=items, total=found.total, limit=limit, offset=offset)


@router.get(
    "/orders/metrics", response_model=MetricsPublic, operation_id="order_metrics", summary="Order fulfilment rates"
)
def order_metrics(
    keel: KeelDep,
    scope: ScopeDep,
    channel: str | None = None,
    country: str | None = None,
    created_since: datetime | None = None,
) -> MetricsPublic:
    """The split rate (orders shipped from more than one node), and the on-time and same-day rates of delivered orders,
    over the orders matching the filters.

    Refuses malformed filters (422). Idempotent: a read, it changes nothing.
    """
    found = keel.orders.reads.metrics(channel=channel, country=country, created_since=created_since, scope=scope)
    return MetricsPublic.model_validate(found, from_attributes=True)


@router.post("/orders/waves", response_model=WaveReportPublic, operation_id="plan_wave", summary="Plan a wave")
def plan_wave(body: WaveCreate, keel: KeelDep, scope: ScopeDep) -> WaveReportPublic:
    """Re-plans the oldest allocated orders (not yet picking) jointly, optionally of one country or channel, and reports
    the cost before and after and every change. Without ``apply`` it is a dry run; with it the orders whose joint plan
    is cheaper move in one transaction.

    Refuses an unknown country, or a limit or time limit out of range (422), an unknown channel (404), and a wave whose
    orders or stock changed while it was planned, twice in a row (409); nothing is changed then. Idempotent without
    ``apply``; with it, a repeat plans again from the new state and usually finds nothing cheaper.
    """
    report = keel.orders.waves.plan(PlanWave(**body.model_dump()), scope)
    return WaveReportPublic.model_validate(report, from_attributes=True)


@router.post(
    "/orders/backorders/fill",
    response_model=BackorderReportPublic,
    operation_id="fill_backorders",
    summary="Fill backorders",
)
def fill_backorders(
    keel: KeelDep, scope: ScopeDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> BackorderReportPublic:
    """Sources the backordered units of up to ``limit`` waiting orders, oldest first, against the stock there is now
    (the worker does this by itself a few seconds after stock moves).

    Refuses a ``limit`` out of range (422). Safe to repeat: a second call fills only what stock has arrived for since.
    """
    return BackorderReportPublic.model_validate(
        keel.orders.backorders.fill(limit=limit, scope=scope), from_attributes=True
    )


@router.get("/orders/{order_id}", response_model=OrderPublic, operation_id="get_order", summary="Get an order")
def get_order(order_id: RowId, keel: KeelDep, scope: ScopeDep) -> OrderPublic:
    """One order with its lines, shipments (allocations) and their lines, returns and timeline.

    Refuses an unknown id, or an order outside the caller's restrictions (404). Idempotent: a read, it changes nothing.
    """
    return OrderPublic.model_validate(keel.orders.reads.get(order_id, scope), from_attributes=True)


@router.post(
    "/orders/{order_id}/allocations/{number}/pick",
    response_model=OrderPublic,
    operation_id="pick_allocation",
    summary="Start picking an allocation",
)
def pick_allocation(order_id: RowId, number: SeqNumber, keel: KeelDep, scope: ScopeDep) -> OrderPublic:
    """The node started picking the allocation (shipment): it moves from allocated to picking and can no longer be moved
    by a wave.

    Refuses an unknown order or allocation (404), an allocation that is not allocated (409), an order outside the
    caller's restrictions (403). Not idempotent: a repeat is refused with 409.
    """
    return _order(keel.orders.fulfilment.advance(AdvanceShipment(order_id, number, ShipmentStatus.PICKING), scope))


@router.post(
    "/orders/{order_id}/allocations/{number}/pack",
    response_model=OrderPublic,
    operation_id="pack_allocation",
    summary="Pack an allocation",
)
def pack_allocation(order_id: RowId, number: SeqNumber, keel: KeelDep, scope: ScopeDep) -> OrderPublic:
    """The allocation is packed and ready to ship: it moves from picking to packed.

    Refuses an unknown order or allocation (404) and an allocation that is not picking (409). Not idempotent: a repeat
    is refused with 409.
    """
    return _order(keel.orders.fulfilment.advance(AdvanceShipment(order_id, number, ShipmentStatus.PACKED), scope))


@router.post(
    "/orders/{order_id}/allocations/{number}/ship",
    response_model=OrderPublic,
    operation_id="ship_allocation",
    summary="Ship an allocation",
)
def ship_allocation(order_id: RowId, number: SeqNumber, body: ShipBody, keel: KeelDep, scope: ScopeDep) -> OrderPublic:
    """The allocation left the node with a carrier and tracking number: it moves from packed to shipped and its units
    leave stock.

    Refuses a missing carrier or tracking number (422), an unknown order or allocation (404) and an allocation that is
    not packed (409). Not idempotent: a repeat is refused with 409 and ships nothing twice.
    """
    command = AdvanceShipment(order_id, number, ShipmentStatus.SHIPPED, body.carrier, body.tracking_number)
    return _order(keel.orders.fulfilment.advance(command, scope))


@router.post(
    "/orders/{order_id}/allocations/{number}/deliver",
    response_model=OrderPublic,
    operation_id="deliver_allocation",
    summary="Deliver an allocation",
)
def deliver_allocation(order_id: RowId, number: SeqNumber, keel: KeelDep, scope: ScopeDep) -> OrderPublic:
    """The carrier delivered the allocation: it moves from shipped to delivered, and its lines may be returned.

    Refuses an unknown order or allocation (404) and an allocation that is not shipped (409). Not idempotent: a repeat
    is refused with 409.
    """
    return _order(keel.orders.fulfilment.advance(AdvanceShipment(order_id, number, ShipmentStatus.DELIVERED), scope))


@router.post(
    "/orders/{order_id}/allocations/{number}/reject",
    response_model=OrderPublic,
    operation_id="reject_allocation",
    summary="Reject an allocation",
)
def reject_allocation(
    order_id: RowId, number: SeqNumber, keel: KeelDep, scope: ScopeDep, body: RejectBody | None = None
) -> OrderPublic:
    """The node cannot fulfil the allocation, or some of its ``lines`` (a stock discrepancy): their units are released
    there, the node is excluded for this order and the units are sourced again elsewhere; what cannot be re-sourced is
    backordered where the channel allows it, otherwise cancelled.

    Refuses an unknown order or allocation (404), an allocation past picking or holding no units (409) and lines the
    allocation holds none of (422). Not idempotent: the rejected node is excluded, so a repeat is refused.
    """
    body = body or RejectBody()
    lines = None if body.lines is None else tuple(body.lines)
    return _order(keel.orders.fulfilment.reject(RejectShipment(order_id, number, lines, body.reason), scope))


@router.post(
    "/orders/{order_id}/cancel", response_model=OrderPublic, operation_id="cancel_order", summary="Cancel an order"
)
def cancel_order(order_id: RowId, keel: KeelDep, scope: ScopeDep, body: CancelBody | None = None) -> OrderPublic:
    """Cancels everything not yet shipped, or the given quantities of given lines: backordered units first, then
    committed ones, which go back to available.

    Refuses unknown lines or quantities below 1 (422), more than is left to cancel or an order with nothing left (409),
    an unknown order (404). Not idempotent: cancelling everything twice is refused the second time with 409; partial
    cancellations add up.
    """
    body = body or CancelBody()
    lines = None if body.lines is None else tuple((x.line_no, x.quantity) for x in body.lines)
    return _order(keel.orders.fulfilment.cancel(CancelOrder(order_id, lines, body.reason), scope))


@router.post(
    "/orders/{order_id}/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=ReturnPublic,
    operation_id="create_return",
    summary="Open a return",
)
def create_return(order_id: RowId, body: ReturnCreate, keel: KeelDep, scope: ScopeDep) -> ReturnPublic:
    """Opens a return (RMA) for shipped quantities of the order's lines. No stock moves until the parcel is received.

    Refuses unknown lines and quantities beyond what shipped and is not already being returned (422), an unknown order
    (404). Not idempotent: each call opens another RMA while quantities remain.
    """
    lines = tuple((x.line_no, x.quantity) for x in body.lines)
    return _return(keel.orders.returns.open(CreateReturn(order_id, lines, body.reason), scope))


@router.get("/returns/{rma}", response_model=ReturnPublic, operation_id="get_return", summary="Get a return")
def get_return(rma: str, keel: KeelDep, scope: ScopeDep) -> ReturnPublic:
    """One return by its RMA code, with its lines, status and refund status.

    Refuses an unknown RMA, or one of an order outside the caller's restrictions (404). Idempotent: a read, it changes
    nothing.
    """
    return _return(keel.orders.returns.get(rma, scope))


@router.post(
    "/returns/{rma}/receive", response_model=ReturnPublic, operation_id="receive_return", summary="Receive a return"
)
def receive_return(rma: str, body: ReturnReceive, keel: KeelDep, scope: ScopeDep) -> ReturnPublic:
    """Receives the returned parcel at a location: each line goes back to available, damaged or quality control (an
    ``outcome`` per line in ``lines``, default available) through the ledger.

    Refuses an unknown RMA (404), a return already received (409), an unknown or inactive location and lines the RMA
    does not return (422). Not idempotent: a second receipt is refused with 409.
    """
    outcomes = {x.line_no: x.outcome for x in body.lines}
    return _return(keel.orders.returns.receive(ReceiveReturn(rma, body.location, outcomes), scope))


@router.post(
    "/returns/{rma}/refund", response_model=ReturnPublic, operation_id="refund_return", summary="Refund a return"
)
def refund_return(rma: str, keel: KeelDep, scope: ScopeDep) -> ReturnPublic:
    """Marks a received return as refunded (the payment itself happens in the payment provider).

    Refuses an unknown RMA (404) and a return not received yet or already refunded (409). Not idempotent: a second
    refund is refused with 409.
    """
    return _return(keel.orders.returns.refund(rma, scope))
