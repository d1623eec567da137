"""HTTP API of the channels' order webhook: orders a channel sends Keel, signed with its sync secret."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from keel.deps import KeelDep

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
