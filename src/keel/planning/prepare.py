"""What a planning run plans from: its sites, and per SKU x location the policy, the stock and the forecast."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from keel.inventory import DemandSeries, InventoryQueries, Location
from keel.planning import store
from keel.planning.imported import with_imported
from keel.planning.model import DEFAULTS, Line, country_code, forecast_days, resolve_policy
from keel.planning.shipto import OrderUnitsOf
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import FieldError, PayloadTooLarge, ValidationFailed
from keel.platform.scope import Scope
from keel.platform.vocabulary import LocationKind

MAX_SERIES = 50_000  # one run; a larger estate is planned a country (or a list of SKUs) at a time
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)  # the days a run may plan for


@dataclass(frozen=True, slots=True)
class Prepared:
    started: datetime
    clock: float  # perf_counter at the start
    today: date
    country: str | None
    sites: dict[str, Location]  # the run's locations by code
    lines: list[Line]
    forecast_seconds: float
    skus: list[str] | None  # the SKUs a run restricted to some planned (None: every SKU of the sites)


def prepare(
    db: Database,
    queries: InventoryQueries,
    locations: dict[str, Location],
    country: str | None,
    skus: Sequence[str] | None,
    top: int | None,
    today: date | None,
    fast: bool,
    scope: Scope,
    scheduler: str = "",
    order_units: OrderUnitsOf | None = None,
) -> Prepared:
    """What a run plans from: the sites, and per SKU x location its policy, stock and forecast."""
    started, clock = utcnow(), time.perf_counter()
    today = today or started.date()
    if not FIRST_DAY <= today <= LAST_DAY:  # the history window before it must be a real calendar
        raise ValidationFailed("bad day", [FieldError(None, "today", f"from {FIRST_DAY} to {LAST_DAY}")])
    country = country_code(country) if country is not None else None
    if country is not None:
        scope.check_country(country)
    elif scope.countries is not None:
        scope.check_every_country("a planning run of every country")
    sites = {
        loc.code: loc
        for loc in locations.values()
        if loc.active and loc.kind != LocationKind.SUPPLIER and (country is None or loc.country == country)
    }
    with db.read() as conn:
        rows = store.policy_rows(conn)
    days = max(
        [p.history_days for p in DEFAULTS.values()] + [int(r.values.get("history_days", 0)) for r in rows.values()]
    )
    first, last = today - timedelta(days=days), today - timedelta(days=1)
    history = queries.demand_history(list(sites), first, last, skus)
    history = with_imported(db, history)  # the days before the ledger knew a series, from an imported file
    if top is not None:
        history = _top(history, top)
    if len(history) > MAX_SERIES:
        raise PayloadTooLarge(
            f"{len(history)} SKU x location series in one run; the limit is {MAX_SERIES}: plan a country, "
            "a list of SKUs or the top sellers at a time"
        )
    policies = {(h.sku, h.location): resolve_policy(sites[h.location].kind, h.location, h.sku, rows) for h in history}
    horizon = max([forecast_days(p) for p in policies.values()], default=1)
    from keel.planning.outlook import node_outlooks  # statsforecast: seconds to import, so only when planning

    orders = order_units(first, last, sorted({h.sku for h in history})) if order_units and history else []
    levels = {k: p.service_level for k, p in policies.items()}
    country_of = {code: loc.country for code, loc in sites.items()}
    outlook, forecast_seconds, split = node_outlooks(history, orders, country_of, levels, horizon, fast, scheduler)
    stock = {(p.sku, p.location): p for p in queries.positions_at(list(sites), skus)}
    lines = []
    for h in history:
        key = (h.sku, h.location)
        pos, loc = stock.get(key), sites[h.location]
        lines.append(
            Line(
                h.sku, h.location, loc.kind, loc.country, policies[key],
                pos.on_hand if pos else 0, pos.available if pos else 0, pos.committed if pos else 0,
                pos.incoming if pos else 0, outlook[key].mean, outlook[key].upper, outlook[key].bands,
                split.shares.get(key, {}),
            )
        )  # fmt: skip
    planned = None if skus is None else sorted({h.sku for h in history})
    return Prepared(started, clock, today, country, sites, lines, forecast_seconds, planned)


def _top(history: list[DemandSeries], count: int) -> list[DemandSeries]:
    """The series of the ``count`` SKUs with the most units over the window (all their locations)."""
    units: dict[str, int] = {}
    for h in history:
        units[h.sku] = units.get(h.sku, 0) + sum(h.units)
    keep = set(sorted(units, key=lambda s: (-units[s], s))[:count])
    return [h for h in history if h.sku in keep]
