"""HTTP API of planning: replenishment policies, planning runs, suggestions and their decisions, history."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from keel.access import IdentityDep, ScopeDep
from keel.deps import KeelDep
from keel.planning import DEFAULTS, Status, SuggestionFilter
from keel.planning.api_automation import router as automation_router
from keel.planning.schemas import (
    CountryForecastPublic,
    ForecastPublic,
    HistoryImportPublic,
    HistoryPublic,
    PlanCreate,
    PoliciesPublic,
    PoliciesSaved,
    PolicyBatch,
    PolicyPublic,
    RunPublic,
    SuggestionPublic,
    SuggestionsPage,
)
from keel.platform.api import Limit, Offset
from keel.platform.schemas import SeqNumber

router = APIRouter(tags=["planning"])
CSV = "text/csv"
Filter = Annotated[str | None, Query(max_length=64)]
SuggestionId = SeqNumber  # an INTEGER column: 2**31 and above are a 422, not a database error


@router.get("/planning/policies", response_model=PoliciesPublic, operation_id="list_planning_policies",
            summary="List replenishment policies")  # fmt: skip
def list_policies(keel: KeelDep) -> PoliciesPublic:
    """The stored policy rows (per location kind, location, or SKU at a location) and the built-in default of
    each location kind they overlay.

    Refuses nothing a caller with `planning.read` can send. Idempotent: a read, it changes nothing.
    """
    return PoliciesPublic(
        items=[PolicyPublic.of(r) for r in keel.planning.policies()],
        defaults={kind: asdict(p) for kind, p in DEFAULTS.items()},
    )


@router.put("/planning/policies", response_model=PoliciesSaved, operation_id="set_planning_policies",
            summary="Set replenishment policies")  # fmt: skip
def set_policies(body: PolicyBatch, keel: KeelDep, scope: ScopeDep) -> PoliciesSaved:
    """Creates or replaces policy rows, all or nothing. A SKU x location is planned with its location kind's
    default overlaid by the kind's row, the location's row and the SKU-at-location row.

    Refuses a bad row (422, every error by row and field: an unknown field or location, a service level outside
    0.5-0.999, a pack size below 1, a key twice), more than 10,000 rows (422), and a kind row from a caller
    restricted to some countries (403). Nothing is written then. Idempotent: the same rows again change nothing.
    """
    return PoliciesSaved(rows=len(body.rows), changed=keel.planning.set_policies(body.rows, scope))


@router.post("/planning/runs", response_model=RunPublic, status_code=201, operation_id="create_planning_run",
             summary="Plan replenishment or rebalancing")  # fmt: skip
async def create_run(body: PlanCreate, keel: KeelDep, scope: ScopeDep) -> RunPublic:
    """Forecasts every SKU x location of a country (or all) from the ledger's daily demand, stockout days
    censored, then, in mode `replenish`, suggests purchase orders and transfers from DCs; in mode `rebalance`
    (one country), transfers between its locations that save the most margin (a MILP per SKU). A run
    supersedes the proposed suggestions of its mode into the same locations. Takes seconds to minutes (about
    20 ms a series to forecast; rebalancing adds about 0.1 s a SKU, at most 2 s): plan a country, a list of
    SKUs or the top sellers at a time.

    Refuses a bad country code, a rebalancing run without a country, a day before 2000 or after 2999 or an
    unknown field (422), more than 50,000 series (413) and a country outside the caller's restrictions (403).
    Not idempotent: each call is a new run.
    """
    run = keel.planning.plan if body.mode == "replenish" else keel.planning.rebalance
    report = await run_in_threadpool(
        lambda: run(country=body.country, skus=body.skus, top=body.top, today=body.today, scope=scope)
    )
    return RunPublic.of(report)


@router.get("/planning/runs", response_model=list[RunPublic], operation_id="list_planning_runs",
            summary="List planning runs")  # fmt: skip
def list_runs(keel: KeelDep, scope: ScopeDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[RunPublic]:
    """The newest planning runs first: what each looked at, what it suggested and how long it took. A caller
    restricted to some countries sees only the runs of one of them.

    Refuses a limit outside 1-200 (422). Idempotent: a read, it changes nothing.
    """
    return [RunPublic.of(r) for r in keel.planning.runs(limit, scope)]


@router.get("/planning/suggestions", response_model=SuggestionsPage, operation_id="list_planning_suggestions",
            summary="List purchase and transfer suggestions")  # fmt: skip
def list_suggestions(
    keel: KeelDep,
    scope: ScopeDep,
    status: Annotated[Literal["proposed", "accepted", "received", "rejected", "superseded"] | None, Query()] = None,
    kind: Annotated[Literal["purchase", "transfer", "rebalance"] | None, Query()] = None,
    sku: Filter = None,
    location: Filter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> SuggestionsPage:
    """Suggestions newest first, filtered by status, kind, SKU and destination location, a page at a time,
    each with the numbers that made its quantity. Only the caller's countries.

    Refuses an unknown status or kind and a page out of range (422). Idempotent: a read, it changes nothing.
    """
    where = SuggestionFilter(Status(status) if status else None, kind, sku, location)
    items, total = keel.planning.suggestions(where, limit=limit, offset=offset, scope=scope)
    return SuggestionsPage(items=[SuggestionPublic.of(s) for s in items], total=total, limit=limit, offset=offset)


@router.get("/planning/suggestions/{suggestion_id}", response_model=SuggestionPublic,
            operation_id="get_planning_suggestion", summary="Get a suggestion")  # fmt: skip
def get_suggestion(suggestion_id: SuggestionId, keel: KeelDep, scope: ScopeDep) -> SuggestionPublic:
    """One suggestion with its explanation and the ledger reference of its movements.

    Refuses an id that is not a 32-bit positive integer (422), an unknown one or one outside the caller's
    countries (404). Idempotent: a read, it changes nothing.
    """
    return SuggestionPublic.of(keel.planning.get(suggestion_id, scope))


@router.post("/planning/suggestions/{suggestion_id}/accept", response_model=SuggestionPublic,
             operation_id="accept_planning_suggestion", summary="Accept a suggestion")  # fmt: skip
def accept(suggestion_id: SuggestionId, keel: KeelDep, identity: IdentityDep) -> SuggestionPublic:
    """Records it in the ledger with the suggestion's reference: `expected` at the destination and, for a
    transfer, `transfer_out` at the DC, in one transaction with the new status; `decided_by` names the caller.

    Refuses an unknown suggestion (404), one already rejected, superseded or received (409), and a transfer
    the DC can no longer send (409); nothing is written then. Idempotent: accepting again changes nothing.
    """
    return SuggestionPublic.of(keel.planning.accept(suggestion_id, identity.name, identity.scope))


@router.post("/planning/suggestions/{suggestion_id}/reject", response_model=SuggestionPublic,
             operation_id="reject_planning_suggestion", summary="Reject a suggestion")  # fmt: skip
def reject(suggestion_id: SuggestionId, keel: KeelDep, identity: IdentityDep) -> SuggestionPublic:
    """Marks a proposed suggestion rejected, naming the caller in `decided_by`; stock is not touched.

    Refuses an unknown suggestion (404) and one accepted, received or superseded (409). Idempotent: rejecting
    again answers the same.
    """
    return SuggestionPublic.of(keel.planning.reject(suggestion_id, identity.name, identity.scope))


@router.post("/planning/suggestions/{suggestion_id}/receive", response_model=SuggestionPublic,
             operation_id="receive_planning_suggestion", summary="Receive an accepted suggestion")  # fmt: skip
def receive(suggestion_id: SuggestionId, keel: KeelDep, identity: IdentityDep) -> SuggestionPublic:
    """The goods arrived: `received` (purchase) or `transfer_in` (transfer) at the destination, settling its
    incoming quantity, with the suggestion's reference.

    Refuses an unknown suggestion (404) and one not accepted (409). Idempotent: receiving again writes nothing.
    """
    return SuggestionPublic.of(keel.planning.receive(suggestion_id, identity.name, identity.scope))


@router.get("/planning/history", response_model=HistoryPublic, operation_id="get_demand_history",
            summary="Daily demand history of a SKU at a location")  # fmt: skip
def history(
    keel: KeelDep,
    scope: ScopeDep,
    sku: Annotated[str, Query(max_length=64)],
    location: Annotated[str, Query(max_length=64)],
    days: Annotated[int, Query(ge=1, le=730)] = 56,
) -> HistoryPublic:
    """Units sold or committed per UTC day over the last complete `days`, and the stockout days (no sellable
    stock at the day's start or end), which planning never learns as demand.

    Refuses `days` outside 1-730 (422), an unknown location or one outside the caller's countries, and a SKU
    never stocked there (404). Idempotent: a read, it changes nothing.
    """
    return HistoryPublic.of(keel.planning.history(sku, location, days, scope))


@router.post(
    "/planning/history",
    response_model=HistoryImportPublic,
    operation_id="import_demand_history",
    summary="Import daily demand history",
    openapi_extra={"requestBody": {"content": {CSV: {"schema": {"type": "string"}}}, "required": True}},
)
async def import_history(request: Request, keel: KeelDep, scope: ScopeDep) -> HistoryImportPublic:
    """Store daily demand history from another system (``date,sku,location,units`` and optionally
    ``stockout``, ``on_hand``, ``price``, ``promo``), for the days before Keel's ledger knew each series:
    planning runs, the history and the forecasts read it there ([docs](planning.md#imported-history)).

    All or nothing: a file with any bad row is refused whole, with every problem by row.

    Refuses a body that is not ``text/csv`` (415), over the size limit (413), or with any bad row (422: a bad
    date or number, negative or fractional units, a duplicate day, a gap in a series' days, an unknown location
    or one outside the caller's countries, a SKU with no stock position there); nothing is written then.
    Idempotent: the same file again changes nothing (`changed` 0); a corrected day replaces the stored one.
    """
    raw = await request.body()  # at most max_body_bytes: the HTTP guard refused more
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.csv"
        path.write_bytes(raw)
        report = await run_in_threadpool(keel.planning.import_history, path, None, scope)
    return HistoryImportPublic.of(report)


@router.get("/planning/forecast", response_model=ForecastPublic, operation_id="get_demand_forecast",
            summary="Demand history and forecast of a SKU at a location")  # fmt: skip
async def forecast(
    keel: KeelDep,
    scope: ScopeDep,
    sku: Annotated[str, Query(max_length=64)],
    location: Annotated[str, Query(max_length=64)],
    days: Annotated[int, Query(ge=14, le=730, description="complete days of history the forecast learns from")] = 56,
    horizon: Annotated[int, Query(ge=1, le=56, description="days ahead")] = 14,
) -> ForecastPublic:
    """The daily demand of any SKU x location (planned or not) and the forecast a planning run would make of it:
    the mean and the quantiles per day ahead, stockout days never learned as demand, the weekly season learned
    from the history. A SKU that sold nothing in the window gets no forecast and a `note` saying so.

    Refuses `days` outside 14-730 and `horizon` outside 1-56 (422), an unknown location or one outside the
    caller's countries, and a SKU never stocked there (404). Idempotent: a read, it changes nothing.
    """
    found = await run_in_threadpool(keel.planning.forecast, sku, location, days=days, horizon=horizon, scope=scope)
    return ForecastPublic.of(found)


@router.get("/planning/forecast/country", response_model=CountryForecastPublic,
            operation_id="get_country_demand_forecast",
            summary="Demand forecast of a SKU in a country, coherent with its locations'")  # fmt: skip
async def country_forecast(
    keel: KeelDep,
    scope: ScopeDep,
    sku: Annotated[str, Query(max_length=64)],
    country: Annotated[str, Query(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")],
    days: Annotated[int, Query(ge=14, le=730, description="complete days of history the forecast learns from")] = 56,
    horizon: Annotated[int, Query(ge=1, le=56, description="days ahead")] = 14,
) -> CountryForecastPublic:
    """A SKU's demand in a whole country: the country's forecast and each of its locations', reconciled so that
    the locations add up to the country (docs/planning.md, "Coherent levels"), with the method the backtest chose and
    the errors that chose it. A SKU that sold nothing there in the window gets no forecast and a `note`.

    Refuses `days` outside 14-730, `horizon` outside 1-56 and a country that is not two letters (422), a
    country outside the caller's countries and a SKU with no stock position in the country (404). Idempotent:
    a read, it changes nothing.
    """
    found = await run_in_threadpool(
        keel.planning.country_forecast, sku, country, days=days, horizon=horizon, scope=scope
    )
    return CountryForecastPublic.of(found)


router.include_router(automation_router)  # one router for the app to mount: /planning/automation...
