"""``keel planning ...`` commands of replenishment: policies, runs, suggestions and their decisions, and a
series' demand history (the documents the HTTP API takes and answers)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from keel.cli_support import DbOpt, JsonOpt, cli_scope, emit, fail, open_keel, page, read_document, refuse
from keel.planning import DEFAULTS, Status, SuggestionFilter
from keel.planning.schemas import (
    CountryForecastPublic,
    ForecastPublic,
    HistoryImportPublic,
    HistoryPublic,
    PolicyPublic,
    RunPublic,
    SuggestionPublic,
)
from keel.platform.actor import current_actor
from keel.platform.errors import KeelError

console = Console()
_err = Console(stderr=True)
Limit = Annotated[int, typer.Option(min=1, max=1000, help="rows in one page")]
Offset = Annotated[int, typer.Option(min=0, max=2**31 - 1, help="rows to skip")]
Id = Annotated[int, typer.Argument(metavar="ID", min=1, max=2**31 - 1, help="the suggestion's id")]
STATUSES = tuple(s.value for s in Status)
KINDS = ("purchase", "transfer", "rebalance")
# the options a replenishment and a rebalancing run share
SkuOpt = Annotated[list[str] | None, typer.Option(help="only this SKU (repeatable)")]
TopOpt = Annotated[int | None, typer.Option(min=1, max=100_000, help="only the N best-selling SKUs")]
TodayOpt = Annotated[str | None, typer.Option(help="the day planned for, YYYY-MM-DD (default: today, UTC)")]


def register(app: typer.Typer) -> None:
    """Add the replenishment commands to ``keel planning``."""
    for name, command in (
        ("policies", policies), ("set-policies", set_policies), ("plan", plan_now), ("rebalance", rebalance_now),
        ("runs", runs),
        ("suggestions", suggestions), ("suggestion", suggestion), ("accept", accept), ("reject", reject),
        ("receive", receive), ("history", history), ("import-history", import_history), ("outlook", outlook),
        ("country-outlook", country_outlook),
    ):  # fmt: skip
        app.command(name)(command)


def policies(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """The stored replenishment policy rows and the built-in default of each location kind."""
    keel = open_keel(database_url)
    rows = [PolicyPublic.of(r) for r in keel.planning.policies()]
    if json_out:
        emit({"items": rows, "defaults": {k: asdict(p) for k, p in DEFAULTS.items()}})
        return
    table = Table("kind", "location", "sku", "fields", title=f"{len(rows)} policy rows (over the kind defaults)")
    for r in rows:
        fields = ", ".join(f"{k}={v}" for k, v in r.fields.items())
        table.add_row(r.kind or "-", escape(r.location or "-"), escape(r.sku or "-"), escape(fields))
    console.print(table)


def set_policies(
    file: Annotated[Path, typer.Argument(help="JSON: a list of policy rows")], database_url: DbOpt = None
) -> None:
    """Create or replace policy rows from a JSON file, all or nothing (every bad row named)."""
    doc = read_document(file)
    if not isinstance(doc, list):
        raise refuse(f'{file}: a JSON list of policy rows, e.g. [{{"kind": "store", "review_days": 3}}]')
    keel = open_keel(database_url)
    try:
        changed = keel.planning.set_policies(doc, cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"{len(doc)} policy rows, {changed} changed", highlight=False)


def plan_now(
    country: Annotated[str | None, typer.Option(help="plan one country (ISO code; default: every country)")] = None,
    sku: SkuOpt = None,
    top: TopOpt = None,
    today: TodayOpt = None,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Forecast and plan now: purchase and transfer suggestions, replacing the proposed ones of those locations."""
    _run("replenish", country, sku, top, today, database_url, json_out)


def rebalance_now(
    country: Annotated[str, typer.Option(help="the country whose locations trade stock (ISO code)")],
    sku: SkuOpt = None,
    top: TopOpt = None,
    today: TodayOpt = None,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Forecast and rebalance now: transfers between a country's locations that save the most margin."""
    _run("rebalance", country, sku, top, today, database_url, json_out)


def _run(
    mode: str, country: str | None, sku: list[str] | None, top: int | None, today: str | None,
    database_url: str | None, json_out: bool,
) -> None:  # fmt: skip
    try:
        day = date.fromisoformat(today) if today else None
    except ValueError as exc:
        raise refuse(f"--today {today!r}: a date as YYYY-MM-DD") from exc
    keel = open_keel(database_url)
    start = keel.planning.plan if mode == "replenish" else keel.planning.rebalance
    try:
        with _err.status("forecasting and planning"):
            report = start(country=country.upper() if country else None, skus=sku, top=top, today=day,
                           scope=cli_scope())  # fmt: skip
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(RunPublic.of(report))
        return
    made = f"{report.purchases} purchases, {report.transfers} transfers" if mode == "replenish" else (
        f"{report.transfers} rebalancing transfers")  # fmt: skip
    console.print(
        f"run {report.run_id}: {report.series:,} series at {report.locations} locations -> {made} "
        f"({report.superseded} superseded) in {report.seconds:.1f} s",
        highlight=False,
    )


def runs(limit: Limit = 20, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """The newest planning runs."""
    keel = open_keel(database_url)
    found = [RunPublic.of(r) for r in keel.planning.runs(limit, cli_scope())]
    if json_out:
        emit(found)
        return
    table = Table("run", "started", "mode", "country", "series", "purchases", "transfers", "superseded", "seconds",
                  "trigger")  # fmt: skip
    for r in found:
        table.add_row(str(r.run_id), r.started_at.isoformat(timespec="seconds"), r.mode, r.country or "all",
                      f"{r.series:,}", str(r.purchases), str(r.transfers), str(r.superseded), f"{r.seconds:.1f}",
                      r.trigger)  # fmt: skip
    console.print(table)


def suggestions(
    status: Annotated[str | None, typer.Option(help=f"only {', '.join(STATUSES)}")] = "proposed",
    kind: Annotated[str | None, typer.Option(help="only purchase, transfer or rebalance")] = None,
    sku: Annotated[str | None, typer.Option(help="only this SKU")] = None,
    location: Annotated[str | None, typer.Option(help="only into this location")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Suggestions, newest first (proposed ones by default; --status '' for all)."""
    if status and status not in STATUSES:
        raise refuse(f"--status {status!r}: one of {', '.join(STATUSES)}")
    if kind is not None and kind not in KINDS:
        raise refuse(f"--kind {kind!r}: one of {', '.join(KINDS)}")
    keel = open_keel(database_url)
    where = SuggestionFilter(Status(status) if status else None, kind, sku, location)
    found, total = keel.planning.suggestions(where, limit=limit, offset=offset, scope=cli_scope())
    items = [SuggestionPublic.of(s) for s in found]
    if json_out:
        emit(page(items, total, limit=limit, offset=offset))
        return
    table = Table("id", "kind", "sku", "from", "to", "qty", "forecast", "safety", "up to", "position", "status",
                  title=f"{total} suggestions")  # fmt: skip
    for s in items:
        e = s.explanation
        table.add_row(str(s.id), s.kind, escape(s.sku), escape(s.source), escape(s.location), str(s.quantity),
                      f"{e['forecast_units']:.1f}/{e['protection_days']}d", f"{e['safety_stock']:.1f}",
                      str(e["order_up_to"]), str(e["position"]), s.status)  # fmt: skip
    console.print(table)


def suggestion(suggestion_id: Id, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """One suggestion and the arithmetic behind its quantity."""
    keel = open_keel(database_url)
    try:
        s = SuggestionPublic.of(keel.planning.get(suggestion_id, cli_scope()))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(s)
        return
    e = s.explanation
    console.print(
        f"{s.kind} {s.id}: {s.quantity} x {escape(s.sku)} {escape(s.source)} -> {escape(s.location)} ({s.status})\n"
        f"  forecast over {e['protection_days']} days: {e['forecast_units']:.1f}; safety stock z {e['z']} x sigma "
        f"{e['sigma']} = {e['safety_stock']:.1f}; order-up-to {e['order_up_to']}\n"
        f"  position = available {e['available']} + incoming {e['incoming']} = {e['position']}; needed "
        f"{e['needed']}; quantity {e['quantity']}" + "".join(f"\n  - {escape(n)}" for n in e["notes"]),
        highlight=False,
    )


def _decide(verb: str, suggestion_id: int, database_url: str | None) -> None:
    keel = open_keel(database_url)
    act = {"accept": keel.planning.accept, "reject": keel.planning.reject, "receive": keel.planning.receive}[verb]
    try:
        done = act(suggestion_id, current_actor.get().name, cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"{done.kind} {done.id}: {done.quantity} x {escape(done.sku)} -> {escape(done.location)} "
                  f"{done.status.value}", highlight=False)  # fmt: skip


def accept(suggestion_id: Id, database_url: DbOpt = None) -> None:
    """Accept: `expected` at the destination (and `transfer_out` at the DC for a transfer) in the ledger."""
    _decide("accept", suggestion_id, database_url)


def reject(suggestion_id: Id, database_url: DbOpt = None) -> None:
    """Reject a proposed suggestion; stock is not touched."""
    _decide("reject", suggestion_id, database_url)


def receive(suggestion_id: Id, database_url: DbOpt = None) -> None:
    """The goods of an accepted suggestion arrived: `received` or `transfer_in` at the destination."""
    _decide("receive", suggestion_id, database_url)


def history(
    sku: Annotated[str, typer.Argument(help="the SKU")],
    location: Annotated[str, typer.Argument(help="the location code")],
    days: Annotated[int, typer.Option(min=1, max=730, help="complete days back from yesterday")] = 28,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Daily demand of a SKU at a location, stockout days (censored for forecasting) marked."""
    keel = open_keel(database_url)
    try:
        found = HistoryPublic.of(keel.planning.history(sku, location, days, cli_scope()))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(found)
        return
    table = Table("day", "units", "of them orders", "stockout", title=f"{escape(sku)} at {escape(location)}")
    for i, (units, routed, out) in enumerate(zip(found.units, found.routed, found.stockout, strict=True)):
        day = date.fromordinal(found.first_day.toordinal() + i).isoformat()
        table.add_row(day, str(units), str(routed) if routed else "", "yes" if out else "")
    console.print(table)


def import_history(
    history_file: Annotated[
        Path, typer.Argument(metavar="FILE", help="CSV or Parquet: date, sku, location, units [, stockout, ...]")
    ],
    calendar: Annotated[Path | None, typer.Option(help="CSV: date, open [, holiday]; closed days are censored")] = None,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Store daily demand history from another system, for the days before the ledger knew each series: all or
    nothing, every bad row named; the same file again changes nothing."""
    keel = open_keel(database_url)
    with _err.status(f"checking and storing {history_file}"):
        try:
            report = HistoryImportPublic.of(keel.planning.import_history(history_file, calendar, cli_scope()))
        except KeelError as exc:
            raise fail(exc) from exc
    if json_out:
        emit(report)
        return
    console.print(
        f"{report.rows:,} days of {report.series:,} series ({report.first_day} to {report.last_day}): "
        f"{report.changed:,} new or changed",
        highlight=False,
    )


def outlook(
    sku: Annotated[str, typer.Argument(help="the SKU")],
    location: Annotated[str, typer.Argument(help="the location code")],
    days: Annotated[int, typer.Option(min=14, max=730, help="complete days of history learned from")] = 56,
    horizon: Annotated[int, typer.Option(min=1, max=56, help="days ahead")] = 14,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The forecast a planning run makes of a SKU at a location, per day ahead with its quantiles (any series,
    planned or not); stockout days in its history are not learned as demand."""
    keel = open_keel(database_url)
    try:
        found = ForecastPublic.of(keel.planning.forecast(sku, location, days=days, horizon=horizon, scope=cli_scope()))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(found)
        return
    sold, out = sum(found.history.units), sum(found.history.stockout)
    console.print(f"{escape(sku)} at {escape(location)}: {sold:,} units sold in {days} days, {out} of them without"
                  f" stock (not learned); service level {found.service_level:g}", highlight=False)  # fmt: skip
    if found.shipped_shares:
        shares = ", ".join(f"{v:.0%} of the orders shipped to {k}" for k, v in sorted(found.shipped_shares.items()))
        console.print(f"its own demand plus {shares} (forecast at the ship-to country)", highlight=False)
    if found.note:
        console.print(f"no forecast: {escape(found.note)}", highlight=False)
        return
    levels = list(found.quantiles)
    table = Table("day", "mean", *levels, title=f"forecast, {len(found.mean)} days ahead")
    for i, mean in enumerate(found.mean):
        day = date.fromordinal(found.first_day_ahead.toordinal() + i).isoformat()
        table.add_row(day, f"{mean:.1f}", *(f"{found.quantiles[q][i]:.1f}" for q in levels))
    console.print(table)


def country_outlook(
    sku: Annotated[str, typer.Argument(help="the SKU")],
    country: Annotated[str, typer.Argument(help="the country (ISO code)")],
    days: Annotated[int, typer.Option(min=14, max=730, help="complete days of history learned from")] = 56,
    horizon: Annotated[int, typer.Option(min=1, max=56, help="days ahead")] = 14,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A SKU's forecast in a whole country and at each of its locations, coherent: the locations add up to the
    country (the reconciliation chosen by backtest; docs/planning.md, "Coherent levels")."""
    keel = open_keel(database_url)
    try:
        found = CountryForecastPublic.of(
            keel.planning.country_forecast(sku, country, days=days, horizon=horizon, scope=cli_scope())
        )
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(found)
        return
    console.print(f"{escape(sku)} in {found.country}: {sum(found.sold):,} units sold in {days} days at"
                  f" {len(found.history)} locations", highlight=False)  # fmt: skip
    if found.note:
        console.print(f"no forecast: {escape(found.note)}", highlight=False)
        return
    places = sorted(found.locations)
    table = Table("day", found.country, "own forecast", *(escape(p) for p in places),
                  title=f"forecast, {len(found.mean)} days ahead, reconciled by {found.method}")  # fmt: skip
    for column in table.columns[1:]:
        column.justify = "right"
    for i, mean in enumerate(found.mean):
        day = date.fromordinal(found.first_day_ahead.toordinal() + i).isoformat()
        table.add_row(day, f"{mean:.1f}", f"{found.base[i]:.1f}", *(f"{found.locations[p][i]:.1f}" for p in places))
    console.print(table)
