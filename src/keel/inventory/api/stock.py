"""HTTP API of the inventory context: movements, positions, reservations, counts and accuracy."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from keel.access import ScopeDep
from keel.deps import KeelDep
from keel.inventory.model import (
    AccuracyReport,
    Kind,
)
from keel.inventory.schemas import (
    AccuracyPublic,
    BatchPublic,
    CountCreate,
    CountPublic,
    MovementsPage,
    PositionPage,
    PositionPublic,
    ReservationCreate,
    ReservationPublic,
)
from keel.platform.api import Limit, Offset, Page
from keel.platform.errors import FieldError, PayloadTooLarge, ValidationFailed, single_field
from keel.platform.observability import MOVEMENTS_REFUSED

router = APIRouter()


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
    summary="Post stock movements",
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
    """Applies a batch of up to ``max_batch`` stock movements (received, sold, adjusted, transferred, counted,
    returned...) as a JSON array, or as NDJSON with one movement a line, all or nothing, in one transaction.

    Refuses the whole batch, naming every bad row, when a row is invalid, names an unknown or inactive location, reuses
    a recorded id with other content or would drive stock negative (422); more rows than ``max_batch`` (413); a location
    in a country outside the caller's restrictions (403). Idempotent by movement id: a row whose id is already recorded
    with the same content is acknowledged (counted in ``duplicates``), never applied twice, so a batch may be retried as
    a whole.
    """
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


@router.get(
    "/inventory/movements",
    response_model=MovementsPage,
    tags=["inventory"],
    operation_id="list_movements",
    summary="Read the stock ledger",
)
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
    """Movements in ledger order, filtered by SKU, location, kind and time; page with ``after_seq`` (the previous page's
    ``next_after_seq``). A restricted caller sees only its countries' locations.

    Refuses a ``since`` or ``until`` without a UTC offset or outside the years 1970 to 9999, and other malformed filters
    (422). Idempotent: a read, it changes nothing.
    """
    for name, value in (("since", since), ("until", until)):
        if value is not None and not 1970 <= value.year <= 9999:
            raise single_field(name, "must fall between 1970 and 9999")
        if value is not None and value.tzinfo is None:
            raise single_field(name, "needs a UTC offset, e.g. 2026-01-31T10:00:00Z")
    items = keel.queries.ledger(
        sku=sku, location=location, kind=kind, since=since, until=until, after_seq=after_seq, limit=limit, scope=scope
    )
    return {"items": items, "next_after_seq": items[-1].seq if len(items) == limit else None}


@router.get(
    "/inventory/positions",
    response_model=PositionPage,
    tags=["inventory"],
    operation_id="list_positions",
    summary="List stock positions",
)
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
    """Stock positions per SKU and location (on hand, available, committed, reserved, safety stock, damaged, quality
    control, incoming), filtered by SKU, location, country, minimum available, or the locations feeding a ``channel``;
    one page at a time.

    Refuses a ``channel`` that is unknown, inactive or lists nothing (404) and malformed filters (422). Idempotent: a
    read, it changes nothing.
    """
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
    summary="Reserve stock",
)
def create_reservation(
    body: ReservationCreate, keel: KeelDep, scope: ScopeDep, response: Response
) -> ReservationPublic:
    """Holds ``quantity`` units of a SKU at a location for ``ttl_seconds`` (a cart or checkout); the hold is released by
    itself when it expires. Atomic: it never takes more than is available.

    Refuses more than is available (409, with ``available``), an unknown or inactive location and invalid fields (422),
    a location outside the caller's restrictions (403). Idempotent with an ``id``: the same request again answers 200
    with the original reservation; other content under that id is refused with 409. Without an ``id`` every call holds
    more stock.
    """
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
    summary="Get a reservation",
)
def get_reservation(rid: str, keel: KeelDep, scope: ScopeDep) -> ReservationPublic:
    """One reservation by its id, with its status (active, released, committed or expired).

    Refuses an unknown id, or one at a location outside the caller's restrictions (404). Idempotent: a read, it changes
    nothing.
    """
    return ReservationPublic.model_validate(keel.stock.reservation(rid, scope))


@router.post(
    "/inventory/reservations/{rid}/release",
    response_model=ReservationPublic,
    tags=["inventory"],
    operation_id="release_reservation",
    summary="Release a reservation",
)
def release_reservation(rid: str, keel: KeelDep, scope: ScopeDep) -> ReservationPublic:
    """Gives an active hold back to available (a cart abandoned or an order cancelled).

    Refuses an unknown id (404), a reservation at a location outside the caller's restrictions (403) and one already
    committed or expired (409). Idempotent: releasing a released reservation answers it unchanged.
    """
    return ReservationPublic.model_validate(keel.stock.release(rid, scope))


@router.post(
    "/inventory/reservations/{rid}/commit",
    response_model=ReservationPublic,
    tags=["inventory"],
    operation_id="commit_reservation",
    summary="Commit a reservation",
)
def commit_reservation(rid: str, keel: KeelDep, scope: ScopeDep) -> ReservationPublic:
    """Turns an active hold into committed stock (checkout completed): the units stay out of available until they ship.

    Refuses an unknown id (404), a reservation at a location outside the caller's restrictions (403) and one already
    released or expired (409). Idempotent: committing a committed reservation answers it unchanged.
    """
    return ReservationPublic.model_validate(keel.stock.commit_reservation(rid, scope))


@router.post(
    "/inventory/counts",
    status_code=201,
    response_model=CountPublic,
    tags=["inventory"],
    operation_id="record_count",
    summary="Record a stock count",
)
def record_count(body: CountCreate, keel: KeelDep, scope: ScopeDep, response: Response) -> CountPublic:
    """Records a physical count of a SKU at a location: the difference from the book is written to the ledger as a count
    gain or loss, and the count's variance is kept for inventory accuracy.

    Refuses an unknown or inactive location and invalid fields (422), a location outside the caller's restrictions
    (403). Idempotent with an ``id``: the same count again answers 200 with the original; other content under that id is
    refused with 409.
    """
    count, created = keel.stock.record_count_once(body.sku, body.location, body.counted, body.id, scope)
    if not created:
        response.status_code = status.HTTP_200_OK
    return CountPublic.model_validate(count)


@router.get(
    "/inventory/accuracy",
    response_model=AccuracyPublic,
    tags=["inventory"],
    operation_id="inventory_accuracy",
    summary="Inventory accuracy",
)
def inventory_accuracy(
    keel: KeelDep,
    scope: ScopeDep,
    tolerance_pct: Annotated[float | None, Query(ge=0)] = None,
    location: str | None = None,
) -> AccuracyReport:
    """The share of counted positions whose latest count was within the tolerance, overall and per location
    (``tolerance_pct`` defaults to the configured one).

    Refuses a negative tolerance (422). Idempotent: a read, it changes nothing.
    """
    return keel.queries.accuracy(tolerance_pct, location, scope)
