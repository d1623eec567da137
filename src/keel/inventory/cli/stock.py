"""``keel inventory ...``: import movements, rebuild positions, list positions, ATP, counts, accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from keel.bootstrap import Keel
from keel.cli_support import (
    EXIT_CHECK_FAILED,
    EXIT_NOT_FOUND,
    DbOpt,
    JsonOpt,
    cli_scope,
    emit,
    fail,
    open_keel,
    page,
    refuse,
)
from keel.inventory.cli.files import read_rows
from keel.inventory.model import validate_batch
from keel.platform.errors import KeelError, ValidationFailed
from keel.platform.scope import Scope

app = typer.Typer(help="Stock ledger, positions, reservations, counts and channel availability.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
Limit = Annotated[int, typer.Option(min=1, max=10_000, help="rows in one page")]
Offset = Annotated[int, typer.Option(min=0, help="rows to skip (the next page: offset + limit)")]


def known_sku(keel: Keel, sku: str, scope: Scope) -> bool:
    """Whether any location (in ``scope``) holds or has held ``sku``: it has a position or a ledger entry.
    There is no catalog yet, so the ledger is what knows SKUs."""
    if keel.queries.positions(sku=sku, limit=1, scope=scope)[1]:
        return True
    return bool(keel.queries.ledger(sku=sku, limit=1, scope=scope))


def unknown_sku(sku: str) -> typer.Exit:
    return refuse(f"unknown SKU {sku!r}: no location holds it or has held it", EXIT_NOT_FOUND)


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a .csv, .jsonl or .ndjson file")],
    database_url: DbOpt = None,
) -> None:
    """Import movements from CSV or JSON Lines: validated, then applied in batches inside one transaction.

    Nothing is written when any row is refused (a bad field or a stock refusal in any batch). Movement ids
    make a re-run idempotent: rows already in the ledger are acknowledged, not applied twice.
    """
    keel = open_keel(database_url)
    rows, errors = read_rows(path)
    if not errors:
        with keel.db.read() as conn:
            _, errors = validate_batch(rows, keel.locations.active_ids(conn))
    if errors:
        raise fail(ValidationFailed(f"{path}: {len(errors)} problems; nothing was imported", errors))
    columns = (TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    # a bar for people at a terminal; a script's stderr holds only refusals
    with Progress(*columns, console=err, disable=not err.is_terminal) as progress:
        task = progress.add_task("import", total=len(rows))
        try:
            result = keel.stock.apply_many(
                rows, source="import", progress=lambda n: progress.advance(task, n), scope=cli_scope()
            )
        except KeelError as exc:
            raise fail(exc) from exc
    accepted, duplicates = result.accepted, result.duplicates
    keel.availability.catch_up()
    console.print(f"imported {accepted} movements ({duplicates} already recorded) from {path}")


@app.command()
def rebuild(
    database_url: DbOpt = None,
    check: Annotated[bool, typer.Option(help="compare only, write nothing; exit with 1 on a difference")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Recompute every position from the ledger and compare it with the live positions (replaced unless --check).

    A maintenance job over the whole ledger: it is not limited to a KEEL_TOKEN identity's restrictions.
    """
    keel = open_keel(database_url)
    columns = (TextColumn("[bold]replaying ledger"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, disable=not err.is_terminal) as progress:
        task = progress.add_task("rebuild", total=None)
        report = keel.stock.rebuild(write=not check, progress=lambda n: progress.advance(task, n))
    if json_out:
        emit(report)
    else:
        console.print(
            f"replayed {report.movements} movements into {report.positions} positions; "
            f"{len(report.differences)} differences" + ("; positions replaced" if report.applied else "")
        )
        for diff in report.differences[:20]:
            console.print(diff)
    if report.differences and check:
        raise typer.Exit(code=EXIT_CHECK_FAILED)


@app.command()
def positions(
    database_url: DbOpt = None,
    sku: Annotated[str | None, typer.Option(help="only this SKU")] = None,
    location: Annotated[str | None, typer.Option(help="only this location code")] = None,
    country: Annotated[str | None, typer.Option(help="only locations in this ISO country, e.g. DE")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    json_out: JsonOpt = False,
) -> None:
    """List stock positions (on hand, available, committed, ...) per SKU and location."""
    keel = open_keel(database_url)
    scope = cli_scope()
    try:
        if location is not None:
            keel.locations.get(location, scope=scope)  # a mistyped code is named, not an empty list
        if sku is not None and not known_sku(keel, sku, scope):
            raise unknown_sku(sku)
    except KeelError as exc:
        raise fail(exc) from exc
    items, total = keel.queries.positions(
        sku=sku, location=location, country=country, limit=limit, offset=offset, scope=scope
    )
    if json_out:
        emit(page(items, total, limit=limit, offset=offset))
        return
    columns = ("sku", "location", "country", "on_hand", "available", "committed", "reserved", "incoming")
    table = Table(*columns, title=f"{total} positions (showing {offset + 1}-{offset + len(items)})")
    for p in items:
        quantities = (p.on_hand, p.available, p.committed, p.reserved, p.incoming)
        table.add_row(p.sku, p.location, p.country, *(str(q) for q in quantities))
    console.print(table)


@app.command()
def atp(
    sku: Annotated[str, typer.Argument(help="the SKU")],
    database_url: DbOpt = None,
    channel: Annotated[str | None, typer.Option(help="only this channel")] = None,
    country: Annotated[str | None, typer.Option(help="only this ISO country, e.g. DE")] = None,
    explain: Annotated[bool, typer.Option(help="show what each rule of the channel's policy removed")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Available-to-promise of a SKU per channel and country, computed live (--explain for the breakdown)."""
    keel = open_keel(database_url)
    scope = cli_scope()
    if not known_sku(keel, sku, scope):
        raise unknown_sku(sku)
    try:
        rows = keel.availability.explain(sku, channel, country, scope=scope)
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit({"sku": sku, "availability": rows})
        return
    table = Table("channel", "country", "atp", "projected", "backorder", "breakdown" if explain else "sources")
    for r in rows:
        detail = (
            "; ".join(f"{s.rule}: -{s.removed} -> {s.result}" for s in r.steps)
            if explain
            else str(len(r.contributions))
        )
        table.add_row(r.channel, r.country, str(r.quantity), str(r.projected), str(r.backorder), detail)
    console.print(table)


@app.command()
def count(
    sku: Annotated[str, typer.Argument(help="the SKU counted")],
    location: Annotated[str, typer.Argument(help="the location code where it was counted")],
    counted: Annotated[int, typer.Argument(help="the units found")],
    database_url: DbOpt = None,
) -> None:
    """Record a cycle count; the variance against the book becomes a movement."""
    keel = open_keel(database_url)
    try:
        r = keel.stock.record_count_once(sku, location, counted, scope=cli_scope())[0]
    except KeelError as exc:
        raise fail(exc) from exc
    verdict = "within" if r.within_tolerance else "outside"
    console.print(
        f"count {r.id}: {sku} at {location} book {r.book}, counted {r.counted}, "
        f"variance {r.variance:+d} ({verdict} {r.tolerance_pct:g}% tolerance)"
    )


@app.command()
def accuracy(
    database_url: DbOpt = None,
    tolerance_pct: Annotated[
        float | None, typer.Option(help="the variance counted as accurate, in percent (default: the setting)")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Inventory accuracy per location and overall: the share of counts within tolerance of the book."""
    keel = open_keel(database_url)
    report = keel.queries.accuracy(tolerance_pct, scope=cli_scope())
    if json_out:
        emit(report)
        return
    table = Table("location", "counted", "within tolerance", "accuracy", title=f"tolerance {report.tolerance_pct}%")
    overall = report.overall
    rows = [(r.location, r.counted, r.within_tolerance, r.accuracy) for r in report.locations]
    for location, counted, within, share in [
        *rows,
        ("OVERALL", overall.counted, overall.within_tolerance, overall.accuracy),
    ]:
        acc = "-" if share is None else f"{share:.1%}"
        table.add_row(location, str(counted), str(within), acc)
    console.print(table)


@app.command()
def expire(database_url: DbOpt = None) -> None:
    """Release reservations whose expiry has passed (what the worker's sweeper does every second)."""
    # Every identity's expired holds: releasing them is what the sweeper would do anyway, for everyone.
    console.print(f"released {open_keel(database_url).stock.expire_due()} expired reservations")
