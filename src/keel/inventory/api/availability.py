"""HTTP API of the inventory context: what each channel may sell (the hottest read in Keel)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from keel.access import ScopeDep, get_identity
from keel.bootstrap import Keel
from keel.deps import KeelDep
from keel.inventory.schemas import (
    AvailabilityBatchPublic,
    AvailabilityQuery,
    Explained,
    SkuAvailabilityPublic,
)
from keel.platform.errors import single_field

availability_router = APIRouter()


_SKU_QUERY_PARAMS = [
    {"name": "channel", "in": "query", "required": False, "schema": {"type": "string"}},
    {"name": "country", "in": "query", "required": False, "schema": {"type": "string"}},
    {"name": "explain", "in": "query", "required": False, "schema": {"type": "boolean", "default": False}},
]


@availability_router.get(
    "/availability/{sku}",
    tags=["availability"],
    operation_id="sku_availability",
    summary="Availability of one SKU",
    response_model=None,
    responses={200: {"model": SkuAvailabilityPublic}},  # documented only: the hot path skips validation
    openapi_extra={"parameters": _SKU_QUERY_PARAMS},
)
async def sku_availability(sku: str, request: Request) -> dict[str, Any] | Response:
    """What each channel may sell of one SKU, per country (available to promise, as last projected), optionally for one
    ``channel`` or ``country``. With ``explain=true`` the figures are computed live instead, with each source location's
    contribution and what each policy rule removed. A restricted caller sees only its channels and countries.

    Refuses an unknown ``channel`` (404) and an ``explain`` that is not true or false (422). Idempotent: a read, it
    changes nothing.
    \f
    The hottest read in Keel. Measured, FastAPI's per-parameter processing cost more than the query, so the
    optional query parameters are read by hand (and declared for OpenAPI above), the container comes from
    the app state, and the projected read, a single indexed query, runs on the event loop; the live
    explanation does real work and goes to a worker thread.
    """
    keel: Keel = request.app.state.keel
    scope = (await get_identity(request)).scope
    query = request.query_params
    channel, country = query.get("channel") or None, query.get("country") or None
    explain = query.get("explain", "false").lower()
    if explain not in {"true", "false", "1", "0"}:
        raise single_field("explain", "true or false")
    if explain in {"true", "1"}:
        rows = await run_in_threadpool(keel.availability.explain, sku, channel, country, scope)
        return {"sku": sku, "availability": [Explained.model_validate(r).model_dump() for r in rows]}
    # Dataclasses of plain JSON types: orjson serialises them directly, faster than FastAPI's generic encoder.
    payload = {"sku": sku, "availability": keel.availability.projected([sku], channel, country, scope)[sku]}
    return Response(orjson.dumps(payload, option=orjson.OPT_UTC_Z), media_type="application/json")


@availability_router.post(
    "/availability/query",
    response_model=AvailabilityBatchPublic,
    tags=["availability"],
    operation_id="query_availability",
    summary="Availability of many SKUs",
)
def query_availability(body: AvailabilityQuery, keel: KeelDep, scope: ScopeDep) -> dict[str, Any]:
    """The projected listings of up to 1,000 SKUs in one call, optionally for one channel or country; a SKU no channel
    lists answers an empty list.

    Refuses more than 1,000 SKUs or malformed codes (422) and an unknown channel (404). Idempotent: a read sent as POST
    for its body; it changes nothing.
    """
    return {"items": keel.availability.projected(body.skus, body.channel, body.country, scope)}
