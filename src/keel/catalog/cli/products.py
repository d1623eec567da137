"""``keel catalog ...`` commands on products: documents, history, diffs, reverts, bulk files."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from keel.catalog.cli.common import FileArg, app, changes_table, console, err, read_document, read_text
from keel.catalog.model.files import write_csv, write_ndjson
from keel.catalog.schemas import (
    ChangePublic,
    ImportPublic,
    ProductPublic,
    RevisionPublic,
    SavedPublic,
)
from keel.cli_support import DbOpt, JsonOpt, cli_scope, emit, fail, open_keel, page
from keel.platform.errors import FieldError, KeelError, ValidationFailed

FORMATS = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}


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
        saved = SavedPublic.of(keel.catalog.put_product(read_document(path), source="cli", scope=cli_scope()))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(saved)
        return
    if not saved.changed:
        console.print(f"{saved.code} unchanged at revision {saved.revision}")
        return
    console.print(changes_table(saved.changes, f"{saved.code} revision {saved.revision}"))


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
    console.print(changes_table(changes, f"{code}: revision {before} -> {after}"))


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
        saved = SavedPublic.of(keel.catalog.revert(code, revision, source="cli", scope=cli_scope()))
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
            found = keel.catalog.import_file(read_text(path), fmt, source="import", progress=advance, scope=cli_scope())
            report = ImportPublic.of(found)
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
