"""Demand history brought from another system (an ERP's daily sales before Keel kept the ledger): imported
from a history file, stored per SKU x location x day, and read by planning for the days the ledger does not
know.

The ledger is the truth from the first day it knows a series: the first day with demand or with sellable
stock. Before that day the ledger's history is empty and flagged out of stock (there was no position to
sell from), so a forecast would learn nothing from it; the imported days take their place there, and only
there. An imported day the ledger also knows is kept but not used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from keel.inventory import DemandSeries, InventoryQueries, Location
from keel.planning import store_history
from keel.planning.model import HistoryImport
from keel.planning.store_history import Day
from keel.platform.db import Database
from keel.platform.errors import FieldError, ValidationFailed
from keel.platform.events import EventLog, NewEvent
from keel.platform.scope import Scope

HISTORY_IMPORTED = "planning.history_imported"
MAX_ERRORS = 100
MAX_UNITS = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL; more in a day is a unit mistake anyway


def import_file(
    db: Database,
    events: EventLog,
    queries: InventoryQueries,
    locations: dict[str, Location],
    path: Path,
    calendar: Path | None,
    scope: Scope,
) -> HistoryImport:
    """Check the daily history file at ``path`` whole (every problem by row) and store it in one transaction;
    the same file again changes nothing."""
    from keel.planning.panel import read_history  # pandas: imported when a file is read

    panel = read_history(path, freq="D", calendar=calendar)
    frame, first_rows = panel.frame, panel.first_rows
    errors: list[FieldError] = []
    for i, (_, code) in enumerate(panel.keys):
        loc = locations.get(code)
        if loc is None or not scope.sees_country(loc.country):
            errors.append(FieldError(first_rows[i], "location", f"unknown location {code!r}"))
    known = {(p.sku, p.location) for p in queries.positions_at(sorted(locations), sorted({k[0] for k in panel.keys}))}
    errors += [
        FieldError(first_rows[i], "sku", f"{sku!r} has no stock position at {code!r}: Keel plans only what it stocks")
        for i, (sku, code) in enumerate(panel.keys)
        if code in locations and (sku, code) not in known
    ]
    whole = frame["y"] % 1 == 0
    for uid in sorted(set(frame.loc[~whole, "unique_id"])):
        errors.append(FieldError(first_rows[uid], "units", "whole units: imported history is units sold a day"))
    for uid in sorted(set(frame.loc[frame["y"] > MAX_UNITS, "unique_id"])):
        errors.append(FieldError(first_rows[uid], "units", f"at most {MAX_UNITS:,} a day"))
    if errors:
        raise ValidationFailed("bad history", sorted(errors, key=lambda e: e.row or 0)[:MAX_ERRORS])
    rows = [
        Day(panel.keys[uid][0], panel.keys[uid][1], ds.date(), int(y), bool(censored))
        for uid, ds, y, censored in frame[["unique_id", "ds", "y", "censored"]].itertuples(index=False)
    ]
    with db.write() as conn:
        changed = store_history.save_days(conn, rows)
        if changed:
            data = {"rows": len(rows), "changed": changed, "series": panel.series, "file": path.name}
            events.append(conn, [NewEvent(HISTORY_IMPORTED, "planning/history", data)])
    return HistoryImport(len(rows), panel.series, changed, min(r.day for r in rows), max(r.day for r in rows))


def with_imported(db: Database, history: Sequence[DemandSeries]) -> list[DemandSeries]:
    """``history`` with the imported days in place of the days before the ledger knew each series."""
    if not history:
        return list(history)
    first, last = min(s.first_day for s in history), max(s.last_day for s in history)
    with db.read() as conn:
        stored = store_history.days(conn, [s.location for s in history], [s.sku for s in history], first, last)
    if not stored:
        return list(history)
    by_series: dict[tuple[str, str], dict[date, Day]] = {}
    for d in stored:
        by_series.setdefault((d.sku, d.location), {})[d.day] = d
    return [_merged(s, by_series.get((s.sku, s.location))) for s in history]


def _merged(s: DemandSeries, imported: dict[date, Day] | None) -> DemandSeries:
    if not imported:
        return s
    # the ledger knows the series from its first day with demand or with stock
    known = next((i for i, (u, out) in enumerate(zip(s.units, s.stockout, strict=True)) if u or not out), len(s.units))
    units, stockout = list(s.units), list(s.stockout)
    for i in range(known):
        day = imported.get(s.first_day + timedelta(days=i))
        if day is not None:
            units[i], stockout[i] = day.units, day.censored
    return replace(s, units=tuple(units), stockout=tuple(stockout))
