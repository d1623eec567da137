"""``keel catalog ...`` commands: families, categories, products, their history, and product files."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from keel.catalog.model import Category, check_gtin
from keel.catalog.model.files import write_csv, write_ndjson
from keel.catalog.model.listings import ListingState
from keel.catalog.schemas import (
    CategoryPublic,
    ChangePublic,
    CompliancePublic,
    FamilyPublic,
    GtinPublic,
    ImportPublic,
    ListingPublic,
    ProductPublic,
    ProfilePublic,
    ReadinessPublic,
    RevisionPublic,
    SavedPublic,
    TargetPublic,
)
from keel.cli_support import DbOpt, JsonOpt, details, emit, fail, open_keel, page
from keel.platform.errors import FieldError, KeelError, ValidationFailed

app = typer.Typer(help="The product catalog: families, categories, products and their revisions.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
MAX_FILE_BYTES = 512 * 1024 * 1024
FORMATS = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}
FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a JSON document")]


def _read(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationFailed(f"{path}: over {MAX_FILE_BYTES} bytes", [FieldError(None, "", "file too large")])
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValidationFailed(f"{path}: not UTF-8 text", [FieldError(line, "", "not UTF-8")]) from exc


def _document(path: Path) -> Any:
    text = _read(path)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValidationFailed(f"{path}: not JSON", [FieldError(None, "", str(exc))]) from exc


def _changes(changes: list[ChangePublic], title: str) -> Table:
    table = Table("path", "before", "after", title=title)
    for c in changes:
        cells = (escape(json.dumps(v, ensure_ascii=False)) if v is not None else "-" for v in (c.before, c.after))
        table.add_row(c.path, *cells)
    return table


@app.command("gtin")
def gtin(text: Annotated[str, typer.Argument(help="8, 12, 13 or 14 digits")], json_out: JsonOpt = False) -> None:
    """Check a GTIN: digits, length, GS1 check digit, restricted-circulation or coupon prefix. Exit status 1
    when it is not valid."""
    result = GtinPublic.of(check_gtin(text))
    if json_out:
        emit(result)
    else:
        console.print(details(result))
    if not result.valid:
        raise typer.Exit(code=1)


@app.command("families")
def families(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Every product family, with its attributes and per-channel requirements."""
    keel = open_keel(database_url)
    rows = [FamilyPublic.of(f) for f in keel.catalog.families()]
    if json_out:
        emit(rows)
        return
    table = Table("family", "label", "attributes", "required", title=f"{len(rows)} families")
    for f in rows:
        required = "; ".join(f"{ch}: {', '.join(codes)}" for ch, codes in f.required.items())
        table.add_row(f.code, escape(f.label), ", ".join(a.code for a in f.attributes), required)
    console.print(table)


@app.command("family")
def family(code: str, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """One family's attributes."""
    keel = open_keel(database_url)
    try:
        found = FamilyPublic.of(keel.catalog.family(code))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(found)
        return
    table = Table("attribute", "type", "localised", "variant", "units / options", title=f"{found.code} {found.label}")
    for a in found.attributes:
        flags = ("yes" if a.localised else "", "yes" if a.variant else "")
        table.add_row(a.code, a.type, *flags, ", ".join(a.units or a.options))
    console.print(table)


@app.command("put-family")
def put_family(path: FileArg, database_url: DbOpt = None) -> None:
    """Create or replace a family from a JSON document (code, label, attributes, required)."""
    keel = open_keel(database_url)
    try:
        found = keel.catalog.put_family(_document(path), source="cli")
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"family {found.code}: {len(found.attributes)} attributes")


@app.command("categories")
def categories(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """The category tree."""
    keel = open_keel(database_url)
    rows = [CategoryPublic.of(c) for c in keel.catalog.categories()]
    if json_out:
        emit(rows)
        return
    table = Table("category", "label", "parent", title=f"{len(rows)} categories")
    for c in rows:
        table.add_row(c.code, escape(c.label), c.parent or "-")
    console.print(table)


@app.command("put-category")
def put_category(
    code: str,
    label: Annotated[str, typer.Option(help="the category's name")],
    parent: Annotated[str | None, typer.Option(help="the parent category's code")] = None,
    database_url: DbOpt = None,
) -> None:
    """Create a category, or rename or move one."""
    keel = open_keel(database_url)
    try:
        keel.catalog.put_category(Category(code, label, parent), source="cli")
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"category {code}" + (f" under {parent}" if parent else " (a root)"))


@app.command("profiles")
def profiles(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """The compliance profiles, shipped and user-defined."""
    keel = open_keel(database_url)
    rows = [ProfilePublic.of(p) for p in keel.catalog.profiles()]
    if json_out:
        emit(rows)
        return
    table = Table("profile", "label", "rules", "shipped", title=f"{len(rows)} compliance profiles")
    for p in rows:
        table.add_row(p.code, escape(p.label), str(len(p.rules)), "yes" if p.shipped else "")
    console.print(table)


@app.command("profile")
def profile(code: str, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """One compliance profile's rules."""
    keel = open_keel(database_url)
    try:
        found = ProfilePublic.of(keel.catalog.profile(code))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(found)
        return
    table = Table("rule", "check", "field", "message", title=f"{found.code}: {escape(found.label)}")
    for r in found.rules:
        table.add_row(r.id, r.check, r.field, escape(r.message))
    console.print(table)


@app.command("put-profile")
def put_profile(path: FileArg, database_url: DbOpt = None) -> None:
    """Create or replace a user-defined compliance profile from a JSON document."""
    keel = open_keel(database_url)
    try:
        found = keel.catalog.put_profile(_document(path), source="cli")
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"profile {found.code}: {len(found.rules)} rules")


@app.command("check")
def check(
    code: str,
    profile: Annotated[str, typer.Option(help="the compliance profile, e.g. google-merchant")],
    channel: Annotated[str | None, typer.Option(help="read this channel's overrides and requirements")] = None,
    locale: Annotated[str | None, typer.Option(help="read localised values in this locale, e.g. de")] = None,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a product against a compliance profile: every rule per variant, pass or fail, and the
    completeness score. Exit status 1 when a rule fails."""
    keel = open_keel(database_url)
    try:
        report = CompliancePublic.of(keel.catalog.compliance(code, profile, channel=channel, locale=locale))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(report)
    else:
        failed = [r for r in report.results if not r.passed]
        title = f"{report.product} against {report.profile}: {report.score}% complete, {len(failed)} failing"
        table = Table("sku", "rule", "field", "message", title=title)
        for r in failed:
            table.add_row(r.sku, r.rule, r.field, escape(r.message))
        console.print(table)
    if not report.passed:
        raise typer.Exit(code=1)


@app.command("targets")
def targets(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """How each channel lists products: profile, locale, mapping."""
    keel = open_keel(database_url)
    rows = [TargetPublic.of(t) for t in keel.catalog.targets()]
    if json_out:
        emit(rows)
        return
    table = Table("channel", "profile", "locale", "mapped fields", title=f"{len(rows)} channel targets")
    for t in rows:
        table.add_row(t.channel, t.profile, t.locale or "-", ", ".join(t.mapping) or "-")
    console.print(table)


@app.command("put-target")
def put_target(
    channel: str,
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="a JSON document: profile, locale, mapping")
    ],
    database_url: DbOpt = None,
) -> None:
    """Set how a channel lists products; every product's listing on it is rebuilt."""
    keel = open_keel(database_url)
    try:
        found = keel.catalog.put_target(channel, _document(path), source="cli")
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"channel {found.channel}: profile {found.profile}, locale {found.locale or '-'}")


@app.command("listings")
def listings(
    channel: Annotated[str | None, typer.Option(help="only this channel's listings")] = None,
    state: Annotated[ListingState | None, typer.Option(help="ready or blocked")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Each variant's listing per channel, ready or blocked with reasons."""
    keel = open_keel(database_url)
    items, total = keel.catalog.listings(channel, state, limit=limit)
    rows = [ListingPublic.of(v) for v in items]
    if json_out:
        emit(page(rows, total, limit=limit, offset=0))
        return
    table = Table("channel", "sku", "state", "reasons", title=f"{total} listings")
    for v in rows:
        table.add_row(v.channel, v.sku, v.state, escape("; ".join(r.message for r in v.reasons)))
    console.print(table)


@app.command("readiness")
def readiness(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Listings ready and blocked per channel, and the reasons that block most."""
    keel = open_keel(database_url)
    rows = [ReadinessPublic.of(r) for r in keel.catalog.readiness()]
    if json_out:
        emit(rows)
        return
    table = Table("channel", "ready", "blocked", "top reasons", title="listing readiness")
    for r in rows:
        reasons = "; ".join(f"{c.reason} ({c.listings})" for c in r.top_reasons[:3])
        table.add_row(r.channel, str(r.ready), str(r.blocked), escape(reasons))
    console.print(table)


@app.command("products")
def products(
    database_url: DbOpt = None,
    family: Annotated[str | None, typer.Option(help="only this family's products")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    json_out: JsonOpt = False,
) -> None:
    """Products by code."""
    keel = open_keel(database_url)
    items, total = keel.catalog.products(family, limit=limit, offset=offset)
    rows = [ProductPublic.of(p) for p in items]
    if json_out:
        emit(page(rows, total, limit=limit, offset=offset))
        return
    table = Table("product", "family", "variants", "revision", "updated", title=f"{total} products")
    for p in rows:
        table.add_row(p.code, p.family, str(len(p.document.variants)), str(p.revision), p.updated_at.isoformat())
    console.print(table)


@app.command("show")
def show(
    code: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="as it was at this instant (ISO 8601, offset)")] = None,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A product's document, now or as it was at an instant."""
    keel = open_keel(database_url)
    try:
        found = ProductPublic.of(keel.catalog.product(code, _instant(as_of)))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(found)
        return
    when = found.updated_at.isoformat()
    console.print(f"[bold]{found.code}[/] ({found.family}), revision {found.revision} of {when}")
    console.print_json(found.document.model_dump_json())


@app.command("put")
def put(path: FileArg, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Create or replace a product from its JSON document; a change makes a revision (source cli)."""
    keel = open_keel(database_url)
    try:
        saved = SavedPublic.of(keel.catalog.put_product(_document(path), source="cli"))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(saved)
        return
    if not saved.changed:
        console.print(f"{saved.code} unchanged at revision {saved.revision}")
        return
    console.print(_changes(saved.changes, f"{saved.code} revision {saved.revision}"))


@app.command("history")
def history(
    code: str,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A product's revisions, newest first."""
    keel = open_keel(database_url)
    try:
        items, total = keel.catalog.history(code, limit=limit)
    except KeelError as exc:
        raise fail(exc) from exc
    rows = [RevisionPublic.of(r) for r in items]
    if json_out:
        emit(page(rows, total, limit=limit, offset=0))
        return
    table = Table("revision", "at", "author", "via", "source", "changed", title=f"{code}: {total} revisions")
    for r in rows:
        changed = ", ".join(c.path for c in r.changes[:5]) + (f" (+{len(r.changes) - 5})" if len(r.changes) > 5 else "")
        table.add_row(str(r.number), r.at.isoformat(), escape(r.author), r.via, r.source, escape(changed))
    console.print(table)


@app.command("diff")
def diff(
    code: str,
    before: Annotated[int, typer.Argument(min=1, help="the revision compared from")],
    after: Annotated[int, typer.Argument(min=1, help="the revision compared to")],
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The values that differ between two revisions of a product."""
    keel = open_keel(database_url)
    try:
        changes = [ChangePublic.of(c) for c in keel.catalog.diff(code, before, after)]
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit({"product": code, "from_revision": before, "to_revision": after, "changes": changes})
        return
    console.print(_changes(changes, f"{code}: revision {before} -> {after}"))


@app.command("revert")
def revert(
    code: str,
    revision: Annotated[int, typer.Argument(min=1, help="the revision to make current again")],
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Make a product what it was after a revision, as a new revision."""
    keel = open_keel(database_url)
    try:
        saved = SavedPublic.of(keel.catalog.revert(code, revision, source="cli"))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(saved)
        return
    note = f"revision {saved.revision}" if saved.changed else f"unchanged at revision {saved.revision}"
    console.print(f"{saved.code} reverted to revision {revision}: {note}")


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a .csv, .ndjson or .jsonl file")],
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import products from a CSV (one row per variant) or NDJSON file (one product per line), all or nothing:
    any bad row refuses the file and nothing is written. Products the file does not change get no revision."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        problem = [FieldError(None, "path", "unknown file type")]
        raise fail(ValidationFailed(f"{path}: name a .csv, .ndjson or .jsonl file", problem))
    keel = open_keel(database_url)
    columns = (TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("import", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            report = ImportPublic.of(keel.catalog.import_file(_read(path), fmt, source="import", progress=advance))
        except KeelError as exc:
            raise fail(exc) from exc
    if json_out:
        emit(report)
        return
    console.print(
        f"{report.products} products from {report.rows} rows of {path}: {report.created} new, "
        f"{report.updated} changed, {report.unchanged} unchanged"
    )


@app.command("export")
def export_file(
    fmt: Annotated[str, typer.Option("--format", help="csv or ndjson")] = "ndjson",
    family: Annotated[str | None, typer.Option(help="only this family's products")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here instead of stdout")] = None,
    database_url: DbOpt = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="with --output: print what was written as one JSON document")
    ] = False,
) -> None:
    """Write every product as CSV or NDJSON, the files keel catalog import reads back."""
    if fmt not in ("csv", "ndjson"):
        raise fail(ValidationFailed(f"unknown format {fmt!r}", [FieldError(None, "format", "csv or ndjson")]))
    if json_out and output is None:
        raise fail(ValidationFailed("--json needs --output", [FieldError(None, "output", "a file to write")]))
    keel = open_keel(database_url)
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for doc in keel.catalog.export(family):
            count += 1
            yield doc

    chunks = write_csv(counted()) if fmt == "csv" else write_ndjson(counted())
    if output is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        for chunk in chunks:
            handle.write(chunk)
    if json_out:
        emit({"products": count, "format": fmt, "path": output})
    else:
        console.print(f"{count} products written to {output} ({fmt})")


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise fail(ValidationFailed("--as-of: not an instant", [FieldError(None, "as_of", "ISO 8601")])) from exc
    if value.utcoffset() is None:
        reason = "an instant with its offset, e.g. 2026-12-01T10:00:00Z"
        raise fail(ValidationFailed("--as-of: no offset", [FieldError(None, "as_of", reason)]))
    return value
