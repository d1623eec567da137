"""What the order use cases take and give: commands (imperative) and frozen result types.

Pure data, standard library and platform value types only. The stores return the record types; the API
maps results onto its schemas with ``from_attributes``, the CLI and the web pages read attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keel.orders.model import Outcome
from keel.platform.vocabulary import DEAD_SHIPMENTS, OrderStatus, ShipmentStatus


# -- commands -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdvanceShipment:
    """Move shipment ``number`` of an order one step; shipping names the carrier and tracking number."""

    order_id: int
    number: int
    target: ShipmentStatus
    carrier: str | None = None
    tracking_number: str | None = None


@dataclass(frozen=True)
class CancelOrder:
    """Cancel (line_no, quantity) pairs before they ship; ``lines`` None cancels all that is left."""

    order_id: int
    lines: tuple[tuple[int, int], ...] | None = None
    reason: str = ""


@dataclass(frozen=True)
class RejectShipment:
    """A node cannot fulfil lines of a shipment; ``line_nos`` None rejects every line it holds."""

    order_id: int
    number: int
    line_nos: tuple[int, ...] | None = None
    reason: str = ""


@dataclass(frozen=True)
class CreateReturn:
    """Open an RMA for (line_no, quantity) pairs of shipped units."""

    order_id: int
    lines: tuple[tuple[int, int], ...]
    reason: str = ""


@dataclass(frozen=True)
class ReceiveReturn:
    """Receive an RMA at ``location`` with an inspection outcome per line (default: available)."""

    rma: str
    location: str
    outcomes: Mapping[int, Outcome] | None = None


@dataclass(frozen=True)
class PlanWave:
    """Re-plan the oldest ``limit`` allocated orders jointly; ``apply`` moves the cheaper ones."""

    country: str | None = None
    channel: str | None = None
    limit: int = 200
    apply: bool = False
    time_limit_s: float = 20.0


# -- records (as stored) --------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewOrder:
    """An order about to be stored: every column but the id (the database gives it)."""

    channel: str
    external_id: str
    digest: str  # of the normalised capture: same content, same order
    status: str
    fulfilment: str
    customer_name: str
    customer_email: str | None
    country: str
    city: str | None
    postal_code: str | None
    latitude: float | None
    longitude: float | None
    geocoded: str
    pickup_location: str | None
    promise_at: datetime | None
    excluded_nodes: tuple[str, ...]
    routing: tuple[dict[str, Any], ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OrderRecord:
    """An order as stored, less its capture digest."""

    id: int
    channel: str
    external_id: str
    status: OrderStatus
    fulfilment: str
    customer_name: str
    customer_email: str | None
    country: str
    city: str | None
    postal_code: str | None
    latitude: float | None
    longitude: float | None
    geocoded: str
    pickup_location: str | None
    promise_at: datetime | None
    excluded_nodes: tuple[str, ...]
    routing: tuple[dict[str, Any], ...]  # the sourcing explanation of every plan made, as JSON
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LineRecord:
    line_no: int
    sku: str
    quantity: int
    unit_price: str
    cancelled: int
    backordered: int


@dataclass(frozen=True)
class ShipmentLine:
    """Part of an order line held by one shipment: ``quantity`` is still committed (or shipped) there."""

    number: int
    line_no: int
    sku: str
    quantity: int
    cancelled: int
    rejected: int
    moved: int


@dataclass(frozen=True)
class Piece:
    """A shipment line with units still held at its node, and where and when its shipment was opened."""

    number: int
    line_no: int
    sku: str
    quantity: int
    location: str
    created_at: datetime


@dataclass(frozen=True)
class Shipment:
    number: int
    location: str
    status: ShipmentStatus
    carrier: str | None
    tracking_number: str | None
    created_at: datetime
    updated_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None
    lines: tuple[ShipmentLine, ...] = ()

    @property
    def live(self) -> bool:
        """It still carries units (not cancelled, rejected or moved by a wave)."""
        return self.status not in DEAD_SHIPMENTS


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    message: str
    data: dict[str, Any]


@dataclass(frozen=True)
class ReturnRecord:
    rma: str
    order_id: int
    status: str  # open, received
    refund_status: str  # pending, refunded
    reason: str | None
    location: str | None
    created_at: datetime
    received_at: datetime | None
    refunded_at: datetime | None


@dataclass(frozen=True)
class ReturnLine:
    rma: str
    line_no: int
    sku: str
    quantity: int
    outcome: str | None


@dataclass(frozen=True)
class StoredPolicy:
    channel: str  # a channel code, or "*" for every other channel
    document: dict[str, Any]
    updated_at: datetime


# -- results --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderLineView(LineRecord):
    shipped: int
    committed: int
    rejected: int


@dataclass(frozen=True)
class OrderView(OrderRecord):
    """The order with its lines, shipments (and their lines), returns, timeline and routing history."""

    lines: tuple[OrderLineView, ...]
    shipments: tuple[Shipment, ...]
    returns: tuple[ReturnRecord, ...]
    timeline: tuple[TimelineEntry, ...]

    @property
    def live_shipments(self) -> tuple[Shipment, ...]:
        return tuple(s for s in self.shipments if s.live)

    def shipment(self, number: int) -> Shipment | None:
        return next((s for s in self.shipments if s.number == number), None)


@dataclass(frozen=True)
class Captured:
    order: OrderView
    created: bool  # False: the same order had been captured before


@dataclass(frozen=True)
class OrderSummary:
    """An order of a list page: its head, units ordered and the nodes of its live shipments."""

    id: int
    channel: str
    external_id: str
    status: str
    fulfilment: str
    customer_name: str
    customer_email: str | None
    country: str
    city: str | None
    postal_code: str | None
    latitude: float | None
    longitude: float | None
    geocoded: str
    pickup_location: str | None
    promise_at: datetime | None
    created_at: datetime
    updated_at: datetime
    units: int
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class OrderPage:
    items: tuple[OrderSummary, ...]
    total: int


@dataclass(frozen=True)
class ReturnView(ReturnRecord):
    lines: tuple[ReturnLine, ...]


@dataclass(frozen=True)
class WaveChange:
    order_id: int
    channel: str
    external_id: str
    before: dict[str, Any]  # nodes and cost of the plan in place
    after: dict[str, Any]  # nodes, cost and allocations of the joint plan


@dataclass(frozen=True)
class WaveReport:
    applied: bool
    orders_considered: int
    orders_planned: int
    orders_changed: int
    kept: tuple[int, ...]
    cost_before: float
    cost_after: float
    saving: float
    splits_before: int
    splits_after: int
    status: str  # solver status: optimal, feasible, or empty when no order qualified
    seconds: float
    attempts: int
    changes: tuple[WaveChange, ...]


@dataclass(frozen=True)
class BackorderFill:
    order_id: int
    units: int
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class BackorderReport:
    orders_waiting: int
    orders_with_stock: int
    orders_tried: int
    orders_filled: int
    units_allocated: int
    failed: int
    filled: tuple[BackorderFill, ...]


@dataclass(frozen=True)
class SourcingPolicyView:
    """The policy in effect for a channel: where it comes from, the stored document and every filter."""

    channel: str
    source: str  # channel, default or built-in
    document: dict[str, Any] | None
    updated_at: datetime | None
    effective: dict[str, Any]
    warnings: tuple[str, ...] = ()
