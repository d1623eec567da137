"""Replenishment use cases: policies, planning runs, and the suggestions an operator accepts, rejects and
receives. Accepting writes the ledger through the inventory context's existing movement kinds, in the same
transaction as the suggestion's new status: ``expected`` at the destination (a purchase order, or a transfer
in transit) and, for a transfer, ``transfer_out`` at the DC; receiving writes ``received`` or ``transfer_in``,
which settle the incoming quantity. Movement ids derive from the suggestion, so a retried call changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from keel.inventory import DemandSeries, InventoryQueries, Location, LocationService, StockService
from keel.planning import store
from keel.planning.country import CountryForecast, country_forecast
from keel.planning.imported import import_file, with_imported
from keel.planning.model import (
    HistoryImport,
    Planned,
    PlanReport,
    Policy,
    PolicyRow,
    Status,
    Suggestion,
    SuggestionFilter,
    parse_policy_rows,
    plan,
    resolve_policy,
)
from keel.planning.prepare import Prepared, prepare
from keel.planning.rebalance import REBALANCE, rebalance
from keel.planning.series import SeriesForecast, series_forecast
from keel.planning.shipto import OrderUnitsOf
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, FieldError, NotFound, PayloadTooLarge, ValidationFailed
from keel.platform.events import EventLog, NewEvent
from keel.platform.scope import Scope

PLANNED = "planning.planned"
POLICIES_CHANGED = "planning.policies_changed"
SUGGESTION_DECIDED = "planning.suggestion_decided"  # accepted or rejected
SUGGESTION_RECEIVED = "planning.suggestion_received"
MAX_POLICY_ROWS = 10_000
REPLENISH_KINDS = ("purchase", "transfer")
MIN_FORECAST_DAYS = 14  # two weeks: the least history a weekly season can be learned from
MAX_HORIZON = 56


class PlanningService:
    """Replenishment: order-up-to levels from forecasts, purchase and transfer suggestions, their decisions."""

    def __init__(
        self,
        db: Database,
        events: EventLog,
        locations: LocationService,
        queries: InventoryQueries,
        stock: StockService,
        forecast_scheduler: str = "",  # a Dask scheduler's address: the forecast's fits run on its workers
        order_units: OrderUnitsOf | None = None,  # where orders shipped to (online demand by ship-to country)
    ) -> None:
        self.db = db
        self.order_units = order_units
        self.forecast_scheduler = forecast_scheduler
        self.events = events
        self.locations = locations
        self.queries = queries
        self.stock = stock

    # -- policies -------------------------------------------------------------------------------------------

    def policies(self) -> list[PolicyRow]:
        """The stored policy rows (kind rows, then location rows, then SKU-at-location rows)."""
        with self.db.read() as conn:
            rows = store.policy_rows(conn)
        return [rows[k] for k in sorted(rows, key=lambda k: (bool(k[1]), bool(k[2]), k))]

    def set_policies(self, docs: Sequence[Any], scope: Scope = Scope.ALL) -> int:
        """Validate and store policy rows, all or nothing (row-level errors); returns how many changed. The same
        rows again change nothing. A kind's row applies in every country, so a country-restricted caller may set
        only location rows of its countries."""
        if len(docs) > MAX_POLICY_ROWS:
            raise PayloadTooLarge(f"{len(docs)} policy rows in one batch; the limit is {MAX_POLICY_ROWS}")
        known = self._locations()
        rows, errors = parse_policy_rows(docs, frozenset(known))
        if errors:
            raise ValidationFailed(f"{len({e.row for e in errors})} of {len(docs)} rows refused", errors)
        for row in rows:
            if row.kind is not None:
                scope.check_every_country(f"the policy of every {row.kind}")
            elif row.location is not None:
                scope.check_country(known[row.location].country, f"the country of location {row.location!r}")
        with self.db.write() as conn:
            changed = store.upsert_policies(conn, rows, utcnow())
            if changed:
                self.events.append(
                    conn, [NewEvent("planning.policies_changed", "planning/policies", {"rows": changed})]
                )
        return changed

    def policy_of(self, sku: str, location: str, scope: Scope = Scope.ALL) -> Policy:
        """The policy ``sku`` at ``location`` is planned with (its kind's default overlaid by stored rows)."""
        loc = self._location(location, scope)
        with self.db.read() as conn:
            return resolve_policy(loc.kind, loc.code, sku, store.policy_rows(conn))

    # -- planning -------------------------------------------------------------------------------------------

    def plan(
        self,
        *,
        country: str | None = None,
        skus: Sequence[str] | None = None,
        top: int | None = None,
        today: date | None = None,
        trigger: str = "manual",
        fast: bool = True,
        scope: Scope = Scope.ALL,
    ) -> PlanReport:
        """Forecast every SKU x location of ``country`` (every country: None) and suggest purchases and
        transfers; the run's open suggestions replace the proposed ones of the same series. ``skus``: only
        these; ``top``: only the N SKUs that sold most over the history window. ``today`` (default: the UTC
        date) is the day planned for; history ends the day before."""
        [report] = self.run_modes(("replenish",), country=country, skus=skus, top=top, today=today,
                                  trigger=trigger, fast=fast, scope=scope)  # fmt: skip
        return report

    def rebalance(
        self,
        *,
        country: str | None,
        skus: Sequence[str] | None = None,
        top: int | None = None,
        today: date | None = None,
        trigger: str = "manual",
        fast: bool = True,
        scope: Scope = Scope.ALL,
    ) -> PlanReport:
        """Transfers between the locations of ``country`` that save the most margin (``keel.planning.rebalance``:
        a MILP per SKU over the same forecasts as ``plan``); they replace the proposed rebalancing suggestions of
        the same series and leave purchase and DC transfer suggestions alone. ``country`` is required:
        transfers never cross a border."""
        [report] = self.run_modes(("rebalance",), country=country, skus=skus, top=top, today=today,
                                  trigger=trigger, fast=fast, scope=scope)  # fmt: skip
        return report

    def run_modes(
        self,
        modes: Sequence[str],
        *,
        country: str | None,
        skus: Sequence[str] | None = None,
        top: int | None = None,
        today: date | None = None,
        trigger: str = "manual",
        fast: bool = True,
        scope: Scope = Scope.ALL,
    ) -> list[PlanReport]:
        """One run per mode (``replenish``, then ``rebalance``) from one forecast: the later runs'
        ``forecast_seconds`` are 0. Rebalancing needs a ``country``: transfers never cross a border."""
        if "rebalance" in modes and country is None:
            raise ValidationFailed("a rebalancing run plans one country", [FieldError(None, "country", "required")])
        run = prepare(
            self.db,
            self.queries,
            self._locations(),
            country,
            skus,
            top,
            today,
            fast,
            scope,
            self.forecast_scheduler,
            self.order_units,
        )
        reports = []
        for mode in modes:
            if mode == "replenish":
                reports.append(self._record(run, plan(run.lines, run.today.weekday()), REPLENISH_KINDS, trigger, mode))
            else:
                reports.append(self._record(run, rebalance(run.lines), (REBALANCE,), trigger, mode))
            run = replace(run, started=utcnow(), clock=time.perf_counter(), forecast_seconds=0.0)
        return reports

    def _record(
        self, run: Prepared, planned: Sequence[Planned], kinds: Sequence[str], trigger: str, mode: str
    ) -> PlanReport:
        """Store the run and its suggestions (superseding the proposed ones of ``kinds`` into its sites, of its
        SKUs when it named some) and announce it, in one transaction."""
        countries = {code: loc.country for code, loc in run.sites.items()}
        with self.db.write() as conn:
            superseded = store.supersede_open(conn, sorted(run.sites), kinds, utcnow(), run.skus)
            report = PlanReport(
                0, run.started, len(run.sites), len(run.lines), len(planned),
                sum(p.kind == "purchase" for p in planned), sum(p.kind != "purchase" for p in planned), superseded,
                round(time.perf_counter() - run.clock, 3), round(run.forecast_seconds, 3), trigger, mode, run.country,
            )  # fmt: skip
            run_id = store.insert_run(conn, report)
            store.insert_suggestions(conn, run_id, planned, countries, utcnow())
            data = {"run": run_id, "mode": mode, "suggestions": len(planned), "series": len(run.lines),
                    "country": run.country}  # fmt: skip
            self.events.append(conn, [NewEvent(PLANNED, f"planning/run/{run_id}", data)])
        return replace(report, run_id=run_id)

    def runs(self, limit: int = 20, scope: Scope = Scope.ALL) -> list[PlanReport]:
        """The newest planning runs first (for a caller restricted to some countries: only runs of one of
        them, not the runs of every country)."""
        with self.db.read() as conn:
            return store.last_runs(conn, limit, scope.countries)

    # -- suggestions ----------------------------------------------------------------------------------------

    def suggestions(
        self,
        where: SuggestionFilter = SuggestionFilter(),
        *,
        limit: int = 100,
        offset: int = 0,
        scope: Scope = Scope.ALL,
    ) -> tuple[list[Suggestion], int]:
        """A page of suggestions, newest first, and how many match (only in ``scope``'s countries)."""
        if scope.countries is not None:
            where = replace(where, countries=scope.countries)
        with self.db.read() as conn:
            return store.suggestions_page(conn, where, limit, offset)

    def counts(self, scope: Scope = Scope.ALL) -> dict[str, dict[str, int]]:
        """kind -> status -> how many suggestions (in ``scope``'s countries)."""
        with self.db.read() as conn:
            return store.counts_by_status(conn, scope.countries)

    def get(self, suggestion_id: int, scope: Scope = Scope.ALL) -> Suggestion:
        """One suggestion; ``NotFound`` when unknown or outside ``scope``."""
        with self.db.read() as conn:
            found = store.get_suggestion(conn, suggestion_id)
        if found is None or not scope.sees_country(found.country):
            raise NotFound(f"no suggestion {suggestion_id}")
        return found

    def accept(
        self,
        suggestion_id: int,
        actor: str | None = None,
        scope: Scope = Scope.ALL,
        also: Callable[[Connection], None] | None = None,
    ) -> Suggestion:
        """Record the suggestion in the ledger (``expected`` at the destination; a transfer also leaves its DC
        with ``transfer_out``) and mark it accepted, atomically. Accepting an accepted one again changes
        nothing; a rejected, superseded or received one is a ``Conflict``. A DC that no longer holds the units
        refuses the transfer (409, nothing written). ``also`` writes in the same transaction (the automation's
        record of why it accepted)."""
        return self._decide(suggestion_id, Status.ACCEPTED, actor, scope, also)

    def reject(self, suggestion_id: int, actor: str | None = None, scope: Scope = Scope.ALL) -> Suggestion:
        """Mark a proposed suggestion rejected (idempotent); the ledger is not touched."""
        return self._decide(suggestion_id, Status.REJECTED, actor, scope)

    def receive(self, suggestion_id: int, actor: str | None = None, scope: Scope = Scope.ALL) -> Suggestion:
        """The goods of an accepted suggestion arrived: ``received`` (purchase) or ``transfer_in`` (transfer) at
        the destination, which settles its incoming quantity. Idempotent; only an accepted one can arrive."""
        with self.db.write() as conn:
            found = self._locked(conn, suggestion_id, scope)
            if found.status is Status.RECEIVED:
                return found
            if found.status is not Status.ACCEPTED:
                raise Conflict(f"suggestion {suggestion_id} is {found.status.value}; only an accepted one arrives")
            kind = "received" if found.kind == "purchase" else "transfer_in"
            rows = [_movement(found, kind, found.location, "arrived")]
            event = NewEvent(SUGGESTION_RECEIVED, f"planning/suggestion/{found.id}", {"status": "received"})
            self.stock.apply_in(conn, rows, "planning", announce_with=[event])
            store.set_status(conn, found.id, Status.RECEIVED, utcnow(), actor, received=True)
            result = store.get_suggestion(conn, found.id)
        assert result is not None
        return result

    def _decide(
        self,
        suggestion_id: int,
        status: Status,
        actor: str | None,
        scope: Scope,
        also: Callable[[Connection], None] | None = None,
    ) -> Suggestion:
        with self.db.write() as conn:
            found = self._locked(conn, suggestion_id, scope)
            if found.status is status:
                return found
            if found.status is not Status.PROPOSED:
                raise Conflict(f"suggestion {suggestion_id} is {found.status.value}; only a proposed one is decided")
            event = NewEvent(SUGGESTION_DECIDED, f"planning/suggestion/{found.id}", {"status": status.value})
            if status is Status.ACCEPTED:
                rows = [_movement(found, "expected", found.location, "ordered")]
                if found.kind != "purchase":  # a transfer leaves its source now
                    rows.insert(0, _movement(found, "transfer_out", found.source, "sent"))
                self.stock.apply_in(conn, rows, "planning", announce_with=[event])
            else:
                self.events.append(conn, [event])
            store.set_status(conn, found.id, status, utcnow(), actor)
            if also is not None:
                also(conn)
            result = store.get_suggestion(conn, found.id)
        assert result is not None
        return result

    def _locked(self, conn: Any, suggestion_id: int, scope: Scope) -> Suggestion:
        found = store.get_suggestion(conn, suggestion_id, lock=True)
        if found is None or not scope.sees_country(found.country):
            raise NotFound(f"no suggestion {suggestion_id}")
        return found

    # -- history --------------------------------------------------------------------------------------------

    def history(self, sku: str, location: str, days: int = 56, scope: Scope = Scope.ALL) -> DemandSeries:
        """The daily demand of ``sku`` at ``location`` over the last ``days`` complete days, stockout days
        flagged."""
        if not 1 <= days <= 730:
            raise ValidationFailed("bad window", [FieldError(None, "days", "between 1 and 730")])
        self._location(location, scope)
        today = utcnow().date()
        found = self.queries.demand_history([location], today - timedelta(days=days), today - timedelta(days=1), [sku])
        if not found:
            raise NotFound(f"no stock position of {sku!r} at {location!r}")
        return with_imported(self.db, found)[0]

    def import_history(self, path: Path, calendar: Path | None = None, scope: Scope = Scope.ALL) -> HistoryImport:
        """Store a daily demand history file (``keel.planning.imported``): all or nothing, every bad row named;
        the same file again changes nothing."""
        return import_file(self.db, self.events, self.queries, self._locations(), path, calendar, scope)

    def forecast(
        self, sku: str, location: str, *, days: int = 56, horizon: int = 14, scope: Scope = Scope.ALL
    ) -> SeriesForecast:
        """The demand history of ``sku`` at ``location`` over the last ``days`` complete days and the forecast
        a planning run would make of it over ``horizon`` days, with its quantiles: any series, planned or not."""
        self._window(days, horizon)
        series = self.history(sku, location, days, scope)
        with self.db.read() as conn:
            rows = store.policy_rows(conn)
        place = self._location(location, scope)
        level = resolve_policy(place.kind, location, sku, rows).service_level
        if not any(series.units):
            return SeriesForecast(series, level, (), note=f"no sales of {sku} at {location} in {days} days")
        return series_forecast(self.db, self.queries, self._locations(), series, level, horizon,
                               self.order_units, self.forecast_scheduler)  # fmt: skip

    def country_forecast(
        self, sku: str, country: str, *, days: int = 56, horizon: int = 14, scope: Scope = Scope.ALL
    ) -> CountryForecast:
        """``sku``'s demand in ``country``: the country's forecast and each location's, coherent (``views``)."""
        self._window(days, horizon)
        return country_forecast(
            self.db, self.queries, self._locations(), sku, country, days=days, horizon=horizon, scope=scope,
            scheduler=self.forecast_scheduler,
        )  # fmt: skip

    def _locations(self) -> dict[str, Location]:
        found, _ = self.locations.list(limit=1_000_000)
        return {loc.code: loc for loc in found}

    @staticmethod
    def _window(days: int, horizon: int) -> None:
        errors = (
            []
            if MIN_FORECAST_DAYS <= days <= 730
            else [FieldError(None, "days", f"between {MIN_FORECAST_DAYS} and 730")]
        )
        if not 1 <= horizon <= MAX_HORIZON:
            errors.append(FieldError(None, "horizon", f"between 1 and {MAX_HORIZON}"))
        if errors:
            raise ValidationFailed("bad window", errors)

    def _location(self, code: str, scope: Scope) -> Location:
        loc = self._locations().get(code)
        if loc is None or not scope.sees_country(loc.country):
            raise NotFound(f"no location {code!r}")
        return loc


def _movement(s: Suggestion, kind: str, location: str, step: str) -> dict[str, Any]:
    return {
        "id": f"plan-{s.id}-{step}",
        "kind": kind,
        "sku": s.sku,
        "location": location,
        "quantity": s.quantity,
        "reference": s.reference,
    }
