"""``keel inventory ...`` and ``keel locations ...`` commands."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from keel.bootstrap import Keel
from keel.cli_support import fail, open_keel, user_mistakes
from keel.inventory.model import CreateLocation, LocationChanges, validate_batch
from keel.inventory.schemas import LocationPublic
from keel.platform.errors import FieldError, KeelError, ValidationFailed

app = typer.Typer(help="Stock ledger, positions, reservations, counts and channel availability.", no_args_is_help=True)
locations_app = typer.Typer(help="Stock locations and location groups.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
DbOpt = Annotated[str | None, typer.Option("--database-url", help="overrides KEEL_DATABASE_URL")]


def _keel(url: str | None) -> Keel:

    return open_keel(url)


def decode(path: Path) -> tuple[str, list[FieldError]]:
    """The file's text, or the reason it is not UTF-8 text (Latin-1, UTF-16, binary), by line."""
    with user_mistakes():  # unreadable: one line, no traceback
        raw = path.read_bytes()
    if b"\x00" in raw:  # UTF-16 and binary files hold NUL bytes; text never does
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        return "", [FieldError(line, "", "NUL byte: the file is binary or UTF-16; save it as UTF-8 text")]
    try:
        return raw.decode("utf-8-sig"), []  # a UTF-8 byte order mark (Excel writes one) is fine
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        reason = f"byte 0x{raw[exc.start]:02x} is not UTF-8 (Latin-1 or Windows-1252?); save the file as UTF-8"
        return "", [FieldError(line, "", reason)]


def read_rows(path: Path) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """CSV (header row) or JSON Lines, by extension; malformed lines become row errors."""
    rows: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".jsonl", ".ndjson"}:
        raise typer.BadParameter("FILE must end in .csv, .jsonl or .ndjson")
    text, errors = decode(path)
    if errors:
        return [], errors
    if suffix != ".csv":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except (json.JSONDecodeError, RecursionError) as exc:
                reason = f"invalid JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else "nested too deep"
                errors.append(FieldError(number, "", reason))
        return rows, errors
    # strict: an unterminated quote is an error at the end of the file, not every later line merged into one
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        missing = {"id", "kind", "sku", "location", "quantity"} - set(reader.fieldnames or [])
        if missing:
            return [], [FieldError(1, "header", f"missing columns: {', '.join(sorted(missing))}")]
        for number, record in enumerate(reader, start=2):
            if None in record or any(v is None for v in record.values()):
                errors.append(FieldError(number, "", "wrong number of fields"))
                continue
            rows.append(record)
    except csv.Error as exc:  # a field over the CSV field limit, an unterminated quote: the reader stops here
        errors.append(FieldError(len(rows) + len(errors) + 2, "", f"malformed CSV: {exc}"))
    return rows, errors


@app.command("import")
def import_file(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)], database_url: DbOpt = None) -> None:
    """Import movements from CSV or JSONL: validated, then applied in batches inside one transaction.

    Nothing is written when any row is refused (a bad field or a stock refusal in any batch). Movement ids
    make a re-run idempotent: rows already in the ledger are acknowledged, not applied twice.
    """
    keel = _keel(database_url)
    rows, errors = read_rows(path)
    if not errors:
        with keel.db.read() as conn:
            _, errors = validate_batch(rows, keel.locations.active_ids(conn))
    if errors:
        raise fail(ValidationFailed(f"{path}: {len(errors)} problems; nothing was imported", errors))
    columns = (TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("import", total=len(rows))
        try:
            result = keel.stock.apply_many(rows, source="import", progress=lambda n: progress.advance(task, n))
        except ValidationFailed as exc:
            raise fail(exc) from exc
    accepted, duplicates = result.accepted, result.duplicates
    keel.availability.catch_up()
    console.print(f"imported {accepted} movements ({duplicates} already recorded) from {path}")


@app.command()
def rebuild(
    database_url: DbOpt = None,
    check: Annotated[bool, typer.Option(help="compare only, write nothing")] = False,
) -> None:
    """Recompute every position from the ledger and compare it with the live projection."""
    keel = _keel(database_url)
    with Progress(TextColumn("[bold]replaying ledger"), BarColumn(), MofNCompleteColumn(), console=err) as progress:
        task = progress.add_task("rebuild", total=None)
        report = keel.stock.rebuild(write=not check, progress=lambda n: progress.advance(task, n))
    console.print(
        f"replayed {report.movements} movements into {report.positions} positions; "
        f"{len(report.differences)} differences" + ("; positions replaced" if report.applied else "")
    )
    for diff in report.differences[:20]:
        console.print(diff)
    if report.differences and check:
        raise typer.Exit(code=1)


@app.command()
def positions(
    database_url: DbOpt = None,
    sku: str | None = None,
    location: str | None = None,
    country: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """List positions with filters."""
    items, total = _keel(database_url).queries.positions(
        sku=sku, location=location, country=country, limit=limit, offset=offset
    )
    table = Table(
        "sku",
        "location",
        "country",
        "on_hand",
        "available",
        "committed",
        "reserved",
        "incoming",
        title=f"{total} positions (showing {offset + 1}-{offset + len(items)})",
    )
    for p in items:
        table.add_row(
            p.sku,
            p.location,
            p.country,
            *(str(q) for q in (p.on_hand, p.available, p.committed, p.reserved, p.incoming)),
        )
    console.print(table)


@app.command()
def atp(
    sku: str,
    database_url: DbOpt = None,
    channel: str | None = None,
    country: str | None = None,
    explain: bool = False,
) -> None:
    """Available-to-promise of a SKU per channel and country (``--explain`` for the breakdown)."""
    keel = _keel(database_url)
    try:
        rows = keel.availability.explain(sku, channel, country)
    except KeelError as exc:
        raise fail(exc) from exc
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
def count(sku: str, location: str, counted: int, database_url: DbOpt = None) -> None:
    """Record a cycle count; the variance against the book becomes a movement."""
    try:
        r = _keel(database_url).stock.record_count(sku, location, counted)
    except KeelError as exc:
        raise fail(exc) from exc
    verdict = "within" if r.within_tolerance else "outside"
    console.print(
        f"count {r.id}: {sku} at {location} book {r.book}, counted {r.counted}, "
        f"variance {r.variance:+d} ({verdict} {r.tolerance_pct:g}% tolerance)"
    )


@app.command()
def accuracy(database_url: DbOpt = None, tolerance_pct: float | None = None) -> None:
    """Inventory accuracy per location and overall."""
    report = _keel(database_url).queries.accuracy(tolerance_pct)
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
    """Release reservations whose expiry has passed."""
    console.print(f"released {_keel(database_url).stock.expire_due()} expired reservations")


@locations_app.command("list")
def list_locations(
    database_url: DbOpt = None,
    kind: str | None = None,
    country: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    items, total = _keel(database_url).locations.list(kind=kind, country=country, limit=limit, offset=offset)
    table = Table("code", "name", "kind", "country", "city", "capabilities", "active", title=f"{total} locations")
    for loc in items:
        table.add_row(
            loc.code,
            loc.name,
            loc.kind,
            loc.country,
            loc.city or "",
            ",".join(loc.capabilities),
            str(loc.active),
        )
    console.print(table)


@locations_app.command("create")
def create_location(
    code: str,
    name: str,
    kind: str,
    country: str,
    database_url: DbOpt = None,
    city: str | None = None,
    region: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    capability: Annotated[list[str] | None, typer.Option(help="ship, pickup, ship_from_store (repeatable)")] = None,
    daily_capacity: Annotated[int | None, typer.Option(help="units it can pick a day (default: by kind)")] = None,
) -> None:
    """Create a location."""
    try:
        loc = _keel(database_url).locations.create(
            CreateLocation(
                code=code,
                name=name,
                kind=kind,
                country=country,
                city=city,
                region=region,
                latitude=latitude,
                longitude=longitude,
                capabilities=tuple(capability or ()),
                daily_capacity=daily_capacity,
            )
        )
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"created location {loc.code} (#{loc.id})")


@locations_app.command("update")
def update_location(
    code: str,
    database_url: DbOpt = None,
    name: str | None = None,
    kind: str | None = None,
    city: str | None = None,
    region: str | None = None,
    daily_capacity: Annotated[int | None, typer.Option(help="units it can pick a day")] = None,
    default_capacity: Annotated[
        bool, typer.Option("--default-capacity", help="drop its daily capacity: the default of its kind applies")
    ] = False,
) -> None:
    """Change a location's fields."""
    fields = {"name": name, "kind": kind, "city": city, "region": region, "daily_capacity": daily_capacity}
    changes: LocationChanges = {k: v for k, v in fields.items() if v is not None}  # type: ignore[assignment]
    if default_capacity:
        if daily_capacity is not None:
            console.print("[red]give --daily-capacity or --default-capacity, not both[/red]")
            raise typer.Exit(2)
        changes["daily_capacity"] = None
    try:
        _keel(database_url).locations.update(code, changes)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"updated location {code}")


@locations_app.command("deactivate")
def deactivate_location(code: str, database_url: DbOpt = None) -> None:
    """Deactivate a location: it stops feeding channels and refuses new movements."""
    try:
        _keel(database_url).locations.deactivate(code)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"deactivated location {code}")


@locations_app.command("show")
def show_location(code: str, database_url: DbOpt = None) -> None:
    """Show one location."""
    try:
        loc = _keel(database_url).locations.get(code)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print_json(json.dumps(LocationPublic.model_validate(loc).model_dump(), default=str))


@locations_app.command("groups")
def list_groups(database_url: DbOpt = None) -> None:
    """List location groups and their members."""
    table = Table("code", "name", "members")
    for group in _keel(database_url).locations.groups():
        table.add_row(group.code, group.name, ", ".join(group.members))
    console.print(table)


@locations_app.command("group")
def set_group(
    code: str,
    members: Annotated[list[str], typer.Argument(help="location codes")],
    database_url: DbOpt = None,
    name: Annotated[str | None, typer.Option(help="name, when the group is new")] = None,
) -> None:
    """Create a location group, or replace the members of an existing one."""
    keel = _keel(database_url)
    try:
        if any(g.code == code for g in keel.locations.groups()):
            keel.locations.set_group_members(code, members)
        else:
            keel.locations.create_group(code, name or code, members)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"location group {code}: {len(members)} members")
