"""Request and response schemas of the orders API (the documents themselves are validated by the services)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from keel.orders.model import Outcome
from keel.orders.sourcing import Fulfilment
from keel.platform.schemas import Code, Email, Flag, LongText, Number, Price, Quantity, StrictModel, Text


class LineCreate(StrictModel):
    sku: Code = Field(examples=["SKU-000001"])
    quantity: Quantity = Field(description="units, above 0")
    unit_price: Price = Field(examples=["19.99"], description="decimal string, at most 2 decimals, channel currency")


class Customer(StrictModel):
    name: Text
    email: Email | None = None


class Address(StrictModel):
    country: Code = Field(examples=["DE"])
    city: Text | None = None
    postal_code: Code | None = None
    latitude: Number | None = Field(None, description="omit both to use a known city of the country")
    longitude: Number | None = None


class OrderCreate(StrictModel):
    channel: Code = Field(examples=["web-de"])
    external_id: Code = Field(examples=["100045"], description="the channel's order id; captures are idempotent by it")
    lines: list[LineCreate]
    customer: Customer
    ship_to: Address | None = Field(None, description="required for ship_standard, ship_express and same_day")
    fulfilment: Fulfilment = Fulfilment.SHIP_STANDARD
    promise_at: datetime | None = Field(None, description="default: 3 days standard, 1 day express, 8 h same day")
    pickup_location: Code | None = Field(None, description="required for pickup and curbside")


class OrderLinePublic(BaseModel):
    line_no: int
    sku: str
    quantity: int
    unit_price: str
    cancelled: int
    backordered: int
    shipped: int
    committed: int
    rejected: int


class ShipmentLinePublic(BaseModel):
    line_no: int
    sku: str
    quantity: int
    cancelled: int
    rejected: int
    moved: int


class ShipmentPublic(BaseModel):
    number: int
    location: str
    status: str
    carrier: str | None
    tracking_number: str | None
    created_at: datetime
    updated_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None
    lines: list[ShipmentLinePublic]


class ReturnHeadPublic(BaseModel):
    rma: str
    order_id: int
    status: str
    refund_status: str
    reason: str | None
    location: str | None
    created_at: datetime
    received_at: datetime | None
    refunded_at: datetime | None


class TimelinePublic(BaseModel):
    at: datetime
    kind: str
    message: str
    data: dict[str, Any]


class OrderSummaryPublic(BaseModel):
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
    nodes: list[str]


class OrderSummaryPage(BaseModel):
    """One page of order summaries (GET /orders)."""

    items: list[OrderSummaryPublic]
    total: int = Field(description="orders matching the filters, over every page")
    limit: int = Field(description="the page size asked for")
    offset: int = Field(description="orders skipped before this page")


class MetricsPublic(BaseModel):
    routed: int
    delivered: int
    split_rate: float | None
    on_time_rate: float | None
    same_day_rate: float | None


class OrderPublic(BaseModel):
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
    excluded_nodes: list[str]
    lines: list[OrderLinePublic]
    shipments: list[ShipmentPublic]
    returns: list[ReturnHeadPublic]
    timeline: list[TimelinePublic]
    routing: list[dict[str, Any]] = Field(description="every sourcing plan with candidates, rejections and ranking")


class ShipBody(StrictModel):
    carrier: Code = Field(examples=["DHL"])
    tracking_number: Code = Field(examples=["00340434161094042557"])


class LineQuantity(StrictModel):
    line_no: Quantity
    quantity: Quantity


class CancelBody(StrictModel):
    lines: list[LineQuantity] | None = Field(None, description="omit to cancel everything not yet shipped")
    reason: LongText = ""


class RejectBody(StrictModel):
    lines: list[Quantity] | None = Field(None, description="line numbers; omit to reject the whole shipment")
    reason: LongText = ""


class ReturnCreate(StrictModel):
    lines: list[LineQuantity]
    reason: LongText = ""


class LineOutcome(StrictModel):
    line_no: Quantity
    outcome: Outcome = Outcome.AVAILABLE


class ReturnReceive(StrictModel):
    location: Code = Field(examples=["WH-DE-1"])
    lines: list[LineOutcome] = Field(default_factory=list, description="inspection outcome per line; default available")


class ReturnLinePublic(BaseModel):
    rma: str
    line_no: int
    sku: str
    quantity: int
    outcome: str | None


class ReturnPublic(ReturnHeadPublic):
    lines: list[ReturnLinePublic]


class WaveCreate(StrictModel):
    country: Code | None = Field(default=None, examples=["DE"], description="only orders shipping to this country")
    channel: Code | None = Field(default=None, description="only orders of this channel")
    limit: Quantity = Field(default=200, ge=1, le=1000, description="the oldest allocated orders taken into the wave")
    apply: Flag = Field(default=False, description="move the orders; false only reports what would change")
    time_limit_s: Number = Field(default=20.0, gt=0, le=300, description="solver time limit")


class WaveChangePublic(BaseModel):
    order_id: int
    channel: str
    external_id: str
    before: dict[str, Any] = Field(description="nodes and cost of the plan in place")
    after: dict[str, Any] = Field(description="nodes, cost and allocations of the joint plan")


class WaveReportPublic(BaseModel):
    applied: bool = Field(description="true when the changed orders were moved")
    orders_considered: int
    orders_planned: int
    orders_changed: int
    kept: list[int] = Field(description="orders that keep their plan (a node left their channel's sources, ...)")
    cost_before: float
    cost_after: float
    saving: float
    splits_before: int
    splits_after: int
    status: str = Field(description="solver status: optimal, feasible, or empty when no order qualified")
    seconds: float
    attempts: int = Field(description="2 when orders or stock changed during the first solve")
    changes: list[WaveChangePublic]


class BackorderFillPublic(BaseModel):
    order_id: int
    units: int
    nodes: list[str]


class BackorderReportPublic(BaseModel):
    orders_waiting: int
    orders_with_stock: int
    orders_tried: int
    orders_filled: int
    units_allocated: int
    failed: int
    filled: list[BackorderFillPublic]


class SourcingPolicyPublic(BaseModel):
    channel: str = Field(description='a channel code, or "*" for every channel without its own policy')
    source: str = Field(description="where the policy in effect comes from: channel, default or built-in")
    document: dict[str, Any] | None = Field(description="the stored document in effect (null: built-in)")
    updated_at: datetime | None
    effective: dict[str, Any] = Field(description="the policy in effect, every filter with its numbers")
    warnings: list[str] = Field(default_factory=list, description="on a save: built-in filters left out")


class SourcingPolicyStored(BaseModel):
    channel: str
    document: dict[str, Any]
    updated_at: datetime
