"""HTTP API of the orders context: capture, shipments, cancellation, rejection, returns, waves, backorders
and sourcing policies (schemas in ``schemas.py``).

Prices are decimal strings in the channel's currency (``"19.99"``): JSON numbers would pass through
binary floating point in many clients.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

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
    OrderSummaryPublic,
    RejectBody,
    ReturnCreate,
    ReturnPublic,
    ReturnReceive,
    ShipBody,
    SourcingPolicyPublic,
    SourcingPolicyStored,
    WaveCreate,
    WaveReportPublic,
)
from keel.platform.api import Limit, Offset, Page
from keel.platform.schemas import Document, RowId, SeqNumber
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
    responses={200: {"description": "the same order was already captured"}},
)
def capture_order(body: OrderCreate, keel: KeelDep, scope: ScopeDep, response: Response) -> OrderPublic:
    """Capture, source and commit an order; the same (channel, external_id) again returns it with 200."""
    captured = keel.orders.capture.place(capture_command(body.model_dump(mode="json", exclude_none=True)), scope)
    if not captured.created:
        response.status_code = status.HTTP_200_OK
    return OrderPublic.model_validate(captured.order, from_attributes=True)


@router.get("/orders", response_model=Page, operation_id="list_orders")
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
    """Order summaries, newest first, filtered by channel, status, country and creation time."""
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


@router.get("/orders/metrics", response_model=MetricsPublic, operation_id="order_metrics")
def order_metrics(
    keel: KeelDep,
    scope: ScopeDep,
    channel: str | None = None,
    country: str | None = None,
    created_since: datetime | None = None,
) -> MetricsPublic:
    """Split rate (routed orders), on-time and same-day rates (delivered orders)."""
    found = keel.orders.reads.metrics(channel=channel, country=country, created_since=created_since, scope=scope)
    return MetricsPublic.model_validate(found, from_attributes=True)


@router.post("/orders/waves", response_model=WaveReportPublic, operation_id="plan_wave")
def plan_wave(body: WaveCreate, keel: KeelDep, scope: ScopeDep) -> WaveReportPublic:
    """Re-optimise allocated (not yet picking) shipped orders jointly with the batch program; with
    ``apply`` the orders whose joint plan is cheaper move in one transaction. Returns cost before and
    after and every change."""
    report = keel.orders.waves.plan(PlanWave(**body.model_dump()), scope)
    return WaveReportPublic.model_validate(report, from_attributes=True)


@router.post("/orders/backorders/fill", response_model=BackorderReportPublic, operation_id="fill_backorders")
def fill_backorders(
    keel: KeelDep, scope: ScopeDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> BackorderReportPublic:
    """Source backordered units of the oldest ``limit`` waiting orders against live stock now (the worker
    does this by itself a few seconds after stock moves)."""
    return BackorderReportPublic.model_validate(
        keel.orders.backorders.fill(limit=limit, scope=scope), from_attributes=True
    )


@router.get("/orders/{order_id}", response_model=OrderPublic, operation_id="get_order")
def get_order(order_id: RowId, keel: KeelDep, scope: ScopeDep) -> OrderPublic:
    """One order with its lines, allocations, shipments and timeline."""
    return OrderPublic.model_validate(keel.orders.reads.get(order_id, scope), from_attributes=True)


@router.post("/orders/{order_id}/allocations/{number}/pick", response_model=OrderPublic, operation_id="pick_allocation")
def pick_allocation(order_id: RowId, number: SeqNumber, keel: KeelDep, scope: ScopeDep) -> OrderPublic:
    """The node started picking the allocation."""
    return _order(keel.orders.fulfilment.advance(AdvanceShipment(order_id, number, ShipmentStatus.PICKING), scope))


@router.post("/orders/{order_id}/allocations/{number}/pack", response_model=OrderPublic, operation_id="pack_allocation")
def pack_allocation(order_id: RowId, number: SeqNumber, keel: KeelDep, scope: ScopeDep) -> OrderPublic:
    """The allocation is packed and ready to ship."""
    return _order(keel.orders.fulfilment.advance(AdvanceShipment(order_id, number, ShipmentStatus.PACKED), scope))


@router.post("/orders/{order_id}/allocations/{number}/ship", response_model=OrderPublic, operation_id="ship_allocation")
def ship_allocation(order_id: RowId, number: SeqNumber, body: ShipBody, keel: KeelDep, scope: ScopeDep) -> OrderPublic:
    """The allocation left the node with a carrier and tracking number."""
    command = AdvanceShipment(order_id, number, ShipmentStatus.SHIPPED, body.carrier, body.tracking_number)
    return _order(keel.orders.fulfilment.advance(command, scope))


@router.post(
    "/orders/{order_id}/allocations/{number}/deliver", response_model=OrderPublic, operation_id="deliver_allocation"
)
def deliver_allocation(order_id: RowId, number: SeqNumber, keel: KeelDep, scope: ScopeDep) -> OrderPublic:
    """The carrier delivered the allocation."""
    return _order(keel.orders.fulfilment.advance(AdvanceShipment(order_id, number, ShipmentStatus.DELIVERED), scope))


@router.post(
    "/orders/{order_id}/allocations/{number}/reject", response_model=OrderPublic, operation_id="reject_allocation"
)
def reject_allocation(
    order_id: RowId, number: SeqNumber, keel: KeelDep, scope: ScopeDep, body: RejectBody | None = None
) -> OrderPublic:
    """The node cannot fulfil (stock discrepancy): release there and re-route to other nodes."""
    body = body or RejectBody()
    lines = None if body.lines is None else tuple(body.lines)
    return _order(keel.orders.fulfilment.reject(RejectShipment(order_id, number, lines, body.reason), scope))


@router.post("/orders/{order_id}/cancel", response_model=OrderPublic, operation_id="cancel_order")
def cancel_order(order_id: RowId, keel: KeelDep, scope: ScopeDep, body: CancelBody | None = None) -> OrderPublic:
    """Cancel everything not yet shipped, or given quantities of given lines; stock returns to available."""
    body = body or CancelBody()
    lines = None if body.lines is None else tuple((x.line_no, x.quantity) for x in body.lines)
    return _order(keel.orders.fulfilment.cancel(CancelOrder(order_id, lines, body.reason), scope))


@router.post(
    "/orders/{order_id}/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=ReturnPublic,
    operation_id="create_return",
)
def create_return(order_id: RowId, body: ReturnCreate, keel: KeelDep, scope: ScopeDep) -> ReturnPublic:
    """Open a return (RMA) for delivered quantities of the order's lines."""
    lines = tuple((x.line_no, x.quantity) for x in body.lines)
    return _return(keel.orders.returns.open(CreateReturn(order_id, lines, body.reason), scope))


@router.get("/returns/{rma}", response_model=ReturnPublic, operation_id="get_return")
def get_return(rma: str, keel: KeelDep, scope: ScopeDep) -> ReturnPublic:
    """One return by its RMA code, with its lines."""
    return _return(keel.orders.returns.get(rma, scope))


@router.post("/returns/{rma}/receive", response_model=ReturnPublic, operation_id="receive_return")
def receive_return(rma: str, body: ReturnReceive, keel: KeelDep, scope: ScopeDep) -> ReturnPublic:
    """Receive at any location; each line goes back to available, damaged or quality control."""
    outcomes = {x.line_no: x.outcome for x in body.lines}
    return _return(keel.orders.returns.receive(ReceiveReturn(rma, body.location, outcomes), scope))


@router.post("/returns/{rma}/refund", response_model=ReturnPublic, operation_id="refund_return")
def refund_return(rma: str, keel: KeelDep, scope: ScopeDep) -> ReturnPublic:
    """Mark a received return as refunded."""
    return _return(keel.orders.returns.refund(rma, scope))


@router.get("/sourcing-policies", response_model=list[SourcingPolicyStored], operation_id="list_sourcing_policies")
def list_sourcing_policies(keel: KeelDep, scope: ScopeDep) -> list[SourcingPolicyStored]:
    """The stored policy documents: one per channel that has its own, and ``*`` (every other channel)."""
    return [SourcingPolicyStored.model_validate(p, from_attributes=True) for p in keel.orders.policies.list(scope)]


@router.get("/sourcing-policies/{channel}", response_model=SourcingPolicyPublic, operation_id="get_sourcing_policy")
def get_sourcing_policy(channel: str, keel: KeelDep, scope: ScopeDep) -> SourcingPolicyPublic:
    """The policy in effect for a channel (its own, the ``*`` default or the built-in one), with every filter
    and number spelled out under ``effective``."""
    return SourcingPolicyPublic.model_validate(keel.orders.policies.get(channel, scope), from_attributes=True)


@router.put("/sourcing-policies/{channel}", response_model=SourcingPolicyPublic, operation_id="set_sourcing_policy")
def set_sourcing_policy(
    channel: str,
    keel: KeelDep,
    scope: ScopeDep,
    body: Annotated[
        Document,
        Body(
            examples=[
                {
                    "filters": [
                        {"kind": "same_country"},
                        {"kind": "max_distance", "km": 800, "same_day_km": 40},
                        {"kind": "store_protection", "min_units": 3},
                        {"kind": "capacity", "headroom": 20},
                    ],
                    "objective": "fewest_splits_then_cost",
                    "max_nodes": 3,
                    "weights": {"split": 2.0, "late": 1.5},
                }
            ]
        ),
    ],
) -> SourcingPolicyPublic:
    """Replace the channel's sourcing policy (``*``: the default of every channel without its own). It applies
    to the next order planned: capture, re-routing, backorders and waves."""
    return SourcingPolicyPublic.model_validate(keel.orders.policies.set(channel, body, scope), from_attributes=True)


@router.delete(
    "/sourcing-policies/{channel}", status_code=status.HTTP_204_NO_CONTENT, operation_id="delete_sourcing_policy"
)
def delete_sourcing_policy(channel: str, keel: KeelDep, scope: ScopeDep) -> Response:
    """Drop the channel's own policy; it falls back to ``*``, then to the built-in policy."""
    keel.orders.policies.delete(channel, scope)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
