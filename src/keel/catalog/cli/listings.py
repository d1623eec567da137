"""``keel catalog ...`` commands on syndication: channel targets, listing states, readiness."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from keel.catalog.cli.common import app, console, read_document
from keel.catalog.model.listings import ListingState
from keel.catalog.schemas import (
    ListingPublic,
    ReadinessPublic,
    TargetPublic,
)
from keel.cli_support import DbOpt, JsonOpt, cli_scope, emit, fail, open_keel, page
from keel.platform.errors import KeelError


@app.command("targets")
def targets(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """How each channel lists products: profile, locale, mapping."""
    keel = open_keel(database_url)
    rows = [TargetPublic.of(t) for t in keel.catalog.targets(cli_scope())]
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
        found = keel.catalog.put_target(channel, read_document(path), source="cli", scope=cli_scope())
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
    items, total = keel.catalog.listings(channel, state, limit=limit, scope=cli_scope())
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
    rows = [ReadinessPublic.of(r) for r in keel.catalog.readiness(scope=cli_scope())]
    if json_out:
        emit(rows)
        return
    table = Table("channel", "ready", "blocked", "top reasons", title="listing readiness")
    for r in rows:
        reasons = "; ".join(f"{c.reason} ({c.listings})" for c in r.top_reasons[:3])
        table.add_row(r.channel, str(r.ready), str(r.blocked), escape(reasons))
    console.print(table)
