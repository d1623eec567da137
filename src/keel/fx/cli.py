"""``keel fx ...`` commands: import the ECB reference-rate file, list the stored rates."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from keel.cli_support import DbOpt, JsonOpt, emit, fail, open_keel, page
from keel.fx.model import RateFilter
from keel.fx.schemas import RatePublic
from keel.platform.errors import FieldError, KeelError, ValidationFailed

app = typer.Typer(help="Exchange rates (per 1 EUR, from the ECB reference-rate CSV).", no_args_is_help=True)
console = Console()
MAX_FILE_BYTES = 64 * 1024 * 1024  # the ECB's whole history is ~600 KB


def _read(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationFailed(f"{path}: over {MAX_FILE_BYTES} bytes", [FieldError(None, "", "file too large")])
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValidationFailed(f"{path}: not UTF-8 text", [FieldError(line, "", "not UTF-8")]) from exc


@app.command("import")
def import_rates(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="eurofxref.csv or eurofxref-hist.csv")],
    database_url: DbOpt = None,
) -> None:
    """Import the ECB reference-rate CSV (Date,USD,JPY,... then one row per day). Nothing is written when any
    row is refused; importing the same file again changes nothing."""
    keel = open_keel(database_url)
    try:
        report = keel.fx.import_ecb(_read(path), source="cli")
    except KeelError as exc:
        raise fail(exc) from exc
    span = f"{report.first_day} to {report.last_day}" if report.first_day else "no days"
    console.print(
        f"{report.rates} rates of {len(report.currencies)} currencies, {span}: {report.inserted} new, "
        f"{report.updated} changed, {report.unchanged} already known"
    )


@app.command("rates")
def list_rates(
    database_url: DbOpt = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217 code, e.g. USD")] = None,
    since: Annotated[str | None, typer.Option(help="first date, YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="last date, YYYY-MM-DD")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="at most this many rates")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """The stored rates, newest date first."""
    keel = open_keel(database_url)
    try:
        where = RateFilter(currency.upper() if currency else None, _day(since, "since"), _day(until, "until"))
        items, total = keel.fx.rates(where, limit=limit)
    except KeelError as exc:
        raise fail(exc) from exc
    rows = [RatePublic.of(r) for r in items]
    if json_out:
        emit(page(rows, total, limit=limit, offset=0))
        return
    shown = f" (first {len(rows)})" if total > len(rows) else ""
    table = Table("date", "currency", "per 1 EUR", title=f"{total} rates{shown}")
    for r in rows:
        table.add_row(r.date.isoformat(), r.currency, r.rate)
    console.print(table)


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed(f"{name}: not a date", [FieldError(None, name, "a date, YYYY-MM-DD")]) from exc
