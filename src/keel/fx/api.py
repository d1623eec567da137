"""HTTP API of the FX context: list the stored rates, import the ECB reference-rate CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from keel.deps import KeelDep
from keel.fx.model import RateFilter
from keel.fx.schemas import ImportPublic, RatePublic, RatesPage
from keel.platform.api import Limit, Offset
from keel.platform.errors import FieldError, ValidationFailed

router = APIRouter(tags=["fx"])
CSV = "text/csv"
Day = Annotated[date | None, Query(description="YYYY-MM-DD")]


@router.get("/fx/rates", response_model=RatesPage, operation_id="list_fx_rates", summary="List exchange rates")
def list_rates(
    keel: KeelDep,
    currency: Annotated[str | None, Query(pattern="^[A-Z]{3}$", description="ISO 4217 code, e.g. USD")] = None,
    since: Day = None,
    until: Day = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> RatesPage:
    """Stored exchange rates (units of a currency per 1 EUR), newest date first, filtered by currency and date
    range, a page at a time.

    Refuses a currency that is not three capital letters, a bad date or a page out of range (422). Idempotent: a
    read, it changes nothing.
    """
    items, total = keel.fx.rates(RateFilter(currency, since, until), limit=limit, offset=offset)
    return RatesPage(items=[RatePublic.of(r) for r in items], total=total, limit=limit, offset=offset)


@router.post(
    "/fx/rates",
    response_model=ImportPublic,
    operation_id="import_fx_rates",
    summary="Import exchange rates",
    openapi_extra={"requestBody": {"content": {CSV: {"schema": {"type": "string"}}}, "required": True}},
)
async def import_rates(request: Request, keel: KeelDep) -> ImportPublic:
    """Import the European Central Bank's reference-rate CSV (eurofxref.csv or eurofxref-hist.csv:
    ``Date,USD,JPY,...``, one row per day, ``N/A`` where a currency had no rate). All or nothing: a file with
    any bad row is refused with every row's error.

    Refuses a body that is not ``text/csv`` (415), over the size limit (413), not UTF-8 or with a bad row (422,
    every row's problem listed); nothing is written then. Idempotent: a rate is keyed by (date, currency), so the
    same file again changes nothing, and a corrected rate replaces the old one.
    """
    raw = await request.body()  # at most max_body_bytes: the HTTP guard refused more
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValidationFailed("the body is not UTF-8 text", [FieldError(line, "", "not UTF-8")]) from exc
    report = await run_in_threadpool(keel.fx.import_ecb, text, "api")
    return ImportPublic.of(report)
