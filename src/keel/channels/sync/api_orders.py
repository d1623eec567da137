"""HTTP API of the channels' orders: the order webhook (orders a channel sends Keel, signed with its sync secret)
and the shipment, cancellation and refund updates Keel owes the channels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from keel.access import ScopeDep
from keel.channels.sync.model import OrderUpdateRecord
from keel.deps import KeelDep
from keel.platform.api import Limit, Offset

router = APIRouter()  # mounted by the sync router, under its tag
CodePath = Annotated[str, Field(max_length=64)]


class IntakeRow(BaseModel):
    external_id: str
    order_id: int | None = Field(None, description="Keel's order id (None: refused)")
    outcome: Literal["captured", "duplicate", "refused"]
    reason: str | None = None


class IntakePublic(BaseModel):
    channel: str
    orders: list[IntakeRow]


ORDERS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["orders"],
                "properties": {
                    "orders": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 100,
                        "items": {"type": "object", "description": "a capture document, as POST /orders takes"},
                    }
                },
            }
        }
    },
}


@router.post(
    "/sync/channels/{code}/orders",
    response_model=IntakePublic,
    operation_id="receive_channel_orders",
    summary="Receive a channel's orders (signed webhook)",
    openapi_extra={"requestBody": ORDERS_BODY},
    responses={401: {"description": "the signature does not verify, or its timestamp is more than 5 minutes off"}},
)
async def receive_orders(
    code: CodePath,
    request: Request,
    keel: KeelDep,
    x_keel_timestamp: Annotated[str, Header(max_length=20)] = "",
    x_keel_signature: Annotated[str, Header(max_length=100)] = "",
) -> IntakePublic:
    """The channel's order webhook: ``{"orders": [...]}``, each order a capture document (as ``POST /orders``
    takes, its channel this one), signed by the channel with the secret of its sync configuration as Keel signs
    its own requests (``X-Keel-Timestamp``, ``X-Keel-Signature: sha256=<HMAC-SHA256 over "<timestamp>." +
    body>``). No Keel token: the signature is the credential. Each order goes through order capture; one
    refused does not stop the others.

    Refuses a channel without a sync configuration (404), a missing or wrong signature or a timestamp more
    than 5 minutes off (401) and a body that is not that shape (422). Idempotent: an order already captured
    answers ``duplicate`` with its id.
    """
    body = await request.body()
    report = await run_in_threadpool(keel.sync.orders.receive, code, x_keel_timestamp, x_keel_signature, body)
    rows = [IntakeRow(external_id=e, order_id=i, outcome="captured") for e, i in report.captured]
    rows += [IntakeRow(external_id=e, order_id=i, outcome="duplicate") for e, i in report.duplicates]
    rows += [IntakeRow(external_id=e, outcome="refused", reason=r) for e, r in report.refused]
    return IntakePublic(channel=code, orders=rows)


class OrderLinePublic(BaseModel):
    sku: str
    quantity: int


class OrderUpdatePublic(BaseModel):
    external_id: str = Field(description="the channel's order id")
    kind: Literal["shipped", "cancelled", "refunded"]
    key: str = Field(description="the update's idempotency key, as the channel receives it")
    lines: list[OrderLinePublic]
    carrier: str | None
    tracking: str | None
    amount: str | None = Field(description="a refund's amount, in the order's currency")
    state: Literal["pending", "sent", "dead"]
    attempts: int
    due_at: datetime = Field(description="the next attempt (pending)")
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class OrderUpdatePage(BaseModel):
    items: list[OrderUpdatePublic]
    total: int = Field(description="updates matching the filter, over every page")
    limit: int
    offset: int


def order_update(r: OrderUpdateRecord) -> OrderUpdatePublic:
    u = r.update
    return OrderUpdatePublic(
        external_id=u.external_id,
        kind=u.kind,
        key=u.key,
        lines=[OrderLinePublic(sku=sku, quantity=q) for sku, q in u.lines],
        carrier=u.carrier,
        tracking=u.tracking,
        amount=u.amount,
        state=r.state,
        attempts=r.attempts,
        due_at=r.due_at,
        last_error=r.last_error,
        created_at=r.created_at,
        sent_at=r.sent_at,
    )


@router.get(
    "/sync/channels/{code}/order-updates",
    response_model=OrderUpdatePage,
    operation_id="list_channel_order_updates",
    summary="A channel's order updates (shipments, cancellations, refunds)",
)
def list_order_updates(
    code: CodePath,
    keel: KeelDep,
    scope: ScopeDep,
    state: Literal["pending", "sent", "dead"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> OrderUpdatePage:
    """The shipment, cancellation and refund updates Keel owes or sent the channel, newest first, with attempts
    and the last error; ``state=dead`` lists the dead letters (``POST .../retry`` gives them another round).

    Refuses a channel without a sync configuration (404) and paging values out of range (422). Idempotent.
    """
    rows, total = keel.sync.order_updates(code, state, limit, offset, scope)
    return OrderUpdatePage(items=[order_update(r) for r in rows], total=total, limit=limit, offset=offset)
