"""HTTP API of the inventory context."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from keel.access import ScopeDep, get_identity
from keel.bootstrap import Keel
from keel.deps import KeelDep
from keel.inventory.model import (
    AccuracyReport,
    CreateLocation,
    Kind,
    LocationChanges,
)
from keel.inventory.schemas import (
    AvailabilityBatchPublic,
    AvailabilityQuery,
    BatchPublic,
    CountCreate,
    CountPublic,
    Explained,
    GroupCreate,
    GroupMembers,
    GroupPublic,
    LocationCreate,
    LocationPublic,
    LocationUpdate,
    MovementsPage,
    PositionPublic,
    ReservationCreate,
    ReservationPublic,
    SkuAvailabilityPublic,
)
from keel.platform.api import Limit, Offset, Page
from keel.platform.errors import FieldError, PayloadTooLarge, ValidationFailed, single_field
from keel.platform.observability import MOVEMENTS_REFUSED

router = APIRouter()
# Mounted first: route matching is linear, and this holds the hottest read in Keel.
availability_router = APIRouter()


@router.post(
    "/locations",
    status_code=status.HTTP_201_CREATED,
    response_model=LocationPublic,
    tags=["locations"],
    operation_id="create_location",
)
def create_location(body: LocationCreate, keel: KeelDep, scope: ScopeDep) -> LocationPublic:
    """Register a stock-holding location: warehouse, store, dark store, 3PL or supplier."""
    command = CreateLocation(**{**body.model_dump(), "capabilities": tuple(body.capabilities)})
    return LocationPublic.model_validate(keel.locations.create(command, scope))


@router.get("/locations", response_model=Page, tags=["locations"], operation_id="list_locations")
def list_locations(
    keel: KeelDep,
    scope: ScopeDep,
    kind: str | None = None,
    country: str | None = None,
    active: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """Locations, filtered by kind, country and active flag, one page at a time."""
    items, total = keel.locations.list(
        kind=kind, country=country, active=active, limit=limit, offset=offset, scope=scope
    )
    rows = [LocationPublic.model_validate(x).model_dump() for x in items]
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.get("/locations/{code}", response_model=LocationPublic, tags=["locations"], operation_id="get_location")
def get_location(code: str, keel: KeelDep, scope: ScopeDep) -> LocationPublic:
    """One location by its code."""
    return LocationPublic.model_validate(keel.locations.get(code, scope))


@router.patch("/locations/{code}", response_model=LocationPublic, tags=["locations"], operation_id="update_location")
def update_location(code: str, body: LocationUpdate, keel: KeelDep, scope: ScopeDep) -> LocationPublic:
    """Change the given fields of a location; fields left out keep their value."""
    changes: LocationChanges = body.model_dump(exclude_unset=True)  # type: ignore[assignment]
    return LocationPublic.model_validate(keel.locations.update(code, changes, scope))


@router.delete(
    "/locations/{code}", response_model=LocationPublic, tags=["locations"], operation_id="deactivate_location"
)
def deactivate_location(code: str, keel: KeelDep, scope: ScopeDep) -> LocationPublic:
    """Deactivate a location: movements naming it are refused from now on."""
    return LocationPublic.model_validate(keel.locations.deactivate(code, scope))


@router.post("/location-groups", status_code=201, tags=["locations"], operation_id="create_location_group")
def create_group(body: GroupCreate, keel: KeelDep, scope: ScopeDep) -> GroupPublic:
    """Create a named group of locations that channel policies can source from."""
    return GroupPublic.model_validate(keel.locations.create_group(body.code, body.name, body.members, scope))


@router.get("/location-groups", tags=["locations"], operation_id="list_location_groups")
def list_groups(keel: KeelDep, scope: ScopeDep) -> list[GroupPublic]:
    """Every location group with its members."""
    return [GroupPublic.model_validate(g) for g in keel.locations.groups(scope)]


@router.put("/location-groups/{code}/members", tags=["locations"], operation_id="set_location_group_members")
def set_members(code: str, body: GroupMembers, keel: KeelDep, scope: ScopeDep) -> GroupPublic:
    """Replace the members of a location group."""
    return GroupPublic.model_validate(keel.locations.set_group_members(code, body.members, scope))


def parse_body(raw: bytes, content_type: str, limit: int) -> list[Any]:
    """A JSON array or NDJSON (one movement per line) into a list, refusing malformed rows by line."""
    text = raw.decode("utf-8", errors="replace")
    if "ndjson" in content_type or "jsonlines" in content_type:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > limit:
            raise PayloadTooLarge(f"{len(lines)} movements in one request; the limit is {limit}")
        rows, errors = [], []
        for number, line in enumerate(lines, start=1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                errors.append(FieldError(number, "", f"invalid JSON: {exc.msg}"))
        if errors:
            raise ValidationFailed(f"{len(errors)} lines are not JSON", errors)
        return rows
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed("body is not JSON", [FieldError(None, "", f"invalid JSON: {exc.msg}")]) from exc
    if not isinstance(data, list):
        raise ValidationFailed("body must be a JSON array of movements", [FieldError(None, "", "expected an array")])
    return data


@router.post(
    "/inventory/movements",
    response_model=BatchPublic,
    tags=["inventory"],
    operation_id="post_movements",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
            "required": True,
        }
    },
)
async def post_movements(request: Request, keel: KeelDep, scope: ScopeDep) -> BatchPublic:
    """Apply up to ``max_batch`` movements all-or-nothing; ids already recorded are acknowledged, not re-applied."""
    limit = keel.settings.max_batch
    try:
        raw = await request.body()  # at most max_body_bytes: the HTTP guard (keel.platform.http) refused more
        rows = parse_body(raw, request.headers.get("content-type", ""), limit)
        # the write may wait for SQLite's lock: keep it off the event loop
        result = await run_in_threadpool(keel.stock.apply_batch, rows, "api", scope)
    except (ValidationFailed, PayloadTooLarge) as exc:
        MOVEMENTS_REFUSED.labels(reason=type(exc).__name__).inc()
        raise
    return BatchPublic(**result.__dict__)


@router.get("/inventory/movements", response_model=MovementsPage, tags=["inventory"], operation_id="list_movements")
def list_movements(
    keel: KeelDep,
    scope: ScopeDep,
    sku: str | None = None,
    location: str | None = None,
    kind: Kind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_seq: Annotated[int, Query(ge=0, le=2**62, description="last seq of the previous page")] = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    """The movement ledger in sequence order, filtered; page with ``after_seq``."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and not 1970 <= value.year <= 9999:
            raise single_field(name, "must fall between 1970 and 9999")
        if value is not None and value.tzinfo is None:
            raise single_field(name, "needs a UTC offset, e.g. 2026-01-31T10:00:00Z")
    items = keel.queries.ledger(
        sku=sku, location=location, kind=kind, since=since, until=until, after_seq=after_seq, limit=limit, scope=scope
    )
    return {"items": items, "next_after_seq": items[-1].seq if len(items) == limit else None}


@router.get("/inventory/positions", response_model=Page, tags=["inventory"], operation_id="list_positions")
def list_positions(
    keel: KeelDep,
    scope: ScopeDep,
    sku: str | None = None,
    location: str | None = None,
    country: str | None = None,
    channel: str | None = None,
    min_available: Annotated[int | None, Query(ge=-(2**31), le=2**31 - 1)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """Stock positions (on hand, available, reserved, ...) per SKU and location; ``channel`` keeps its sources."""
    sources = keel.availability.source_locations(channel) if channel else None
    items, total = keel.queries.positions(
        sku=sku,
        location=location,
        country=country,
        locations=sources,
        min_available=min_available,
        limit=limit,
        offset=offset,
        scope=scope,
    )
    rows = [PositionPublic.model_validate(x).model_dump() for x in items]
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.post(
    "/inventory/reservations",
    status_code=201,
    response_model=ReservationPublic,
    tags=["inventory"],
    operation_id="create_reservation",
)
def create_reservation(
    body: ReservationCreate, keel: KeelDep, scope: ScopeDep, response: Response
) -> ReservationPublic:
    """Hold stock; an identical repeat of the same id answers 200 with the same body, other content 409."""
    held, created = keel.stock.reserve_once(
        body.sku, body.location, body.quantity, body.ttl_seconds, body.id, body.reference, scope
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return ReservationPublic.model_validate(held)


@router.get(
    "/inventory/reservations/{rid}",
    response_model=ReservationPublic,
    tags=["inventory"],
    operation_id="get_reservation",
)
def get_reservation(rid: str, keel: KeelDep, scope: ScopeDep) -> ReservationPublic:
    """One reservation by its id, with its status."""
    return ReservationPublic.model_validate(keel.stock.reservation(rid, scope))


@router.post(
    "/inventory/reservations/{rid}/release",
    response_model=ReservationPublic,
    tags=["inventory"],
    operation_id="release_reservation",
)
def release_reservation(rid: str, keel: KeelDep, scope: ScopeDep) -> ReservationPublic:
    """Give a held quantity back to available (a cart abandoned or an order cancelled)."""
    return ReservationPublic.model_validate(keel.stock.release(rid, scope))


@router.post(
    "/inventory/reservations/{rid}/commit",
    response_model=ReservationPublic,
    tags=["inventory"],
    operation_id="commit_reservation",
)
def commit_reservation(rid: str, keel: KeelDep, scope: ScopeDep) -> ReservationPublic:
    """Turn a hold into committed stock (checkout completed)."""
    return ReservationPublic.model_validate(keel.stock.commit_reservation(rid, scope))


@router.post(
    "/inventory/counts",
    status_code=201,
    response_model=CountPublic,
    tags=["inventory"],
    operation_id="record_count",
)
def record_count(body: CountCreate, keel: KeelDep, scope: ScopeDep, response: Response) -> CountPublic:
    """Record a count; an identical repeat of the same id answers 200 with the same body, other content 409."""
    count, created = keel.stock.record_count_once(body.sku, body.location, body.counted, body.id, scope)
    if not created:
        response.status_code = status.HTTP_200_OK
    return CountPublic.model_validate(count)


@router.get("/inventory/accuracy", tags=["inventory"], operation_id="inventory_accuracy")
def inventory_accuracy(
    keel: KeelDep,
    scope: ScopeDep,
    tolerance_pct: Annotated[float | None, Query(ge=0)] = None,
    location: str | None = None,
) -> AccuracyReport:
    """Share of counted positions whose latest count is within tolerance, overall and per location."""
    return keel.queries.accuracy(tolerance_pct, location, scope)


_SKU_QUERY_PARAMS = [
    {"name": "channel", "in": "query", "required": False, "schema": {"type": "string"}},
    {"name": "country", "in": "query", "required": False, "schema": {"type": "string"}},
    {"name": "explain", "in": "query", "required": False, "schema": {"type": "boolean", "default": False}},
]


@availability_router.get(
    "/availability/{sku}",
    tags=["availability"],
    operation_id="sku_availability",
    response_model=None,
    responses={200: {"model": SkuAvailabilityPublic}},  # documented only: the hot path skips validation
    openapi_extra={"parameters": _SKU_QUERY_PARAMS},
)
async def sku_availability(sku: str, request: Request) -> dict[str, Any] | Response:
    """ATP for one SKU on every channel (or one); ``explain=true`` recomputes live with the breakdown.

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
)
def query_availability(body: AvailabilityQuery, keel: KeelDep, scope: ScopeDep) -> dict[str, Any]:
    """ATP for up to 1,000 SKUs in one call."""
    return {"items": keel.availability.projected(body.skus, body.channel, body.country, scope)}
