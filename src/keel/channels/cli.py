"""``keel channels ...`` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from keel.channels.api import public
from keel.channels.model import CreateChannel
from keel.channels.sync.cli import app as sync_app
from keel.cli_support import DbOpt, JsonOpt, cli_scope, details, emit, fail, open_keel, page, refuse
from keel.platform.errors import KeelError

app = typer.Typer(help="Sales channels and their availability policies.", no_args_is_help=True)
app.add_typer(sync_app, name="sync")
console = Console()
Code = Annotated[str, typer.Argument(help="the channel code, e.g. web-de")]


@app.command("list")
def list_channels(
    database_url: DbOpt = None,
    kind: Annotated[str | None, typer.Option(help="only this kind, e.g. web_store, marketplace, pos")] = None,
    country: Annotated[str | None, typer.Option(help="only channels selling to this ISO country, e.g. DE")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="rows in one page")] = 1000,
    offset: Annotated[int, typer.Option(min=0, help="rows to skip (the next page: offset + limit)")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """List channels, with the countries they sell to and their currency."""
    keel = open_keel(database_url)
    items, total = keel.channels.list(kind=kind, country=country, limit=limit, offset=offset, scope=cli_scope())
    if json_out:
        # the API's document (the availability policy as its JSON document, not the parsed rules)
        emit(page([public(c) for c in items], total, limit=limit, offset=offset))
        return
    table = Table("code", "name", "kind", "countries", "currency", "active", title=f"{total} channels")
    for c in items:
        table.add_row(c.code, c.name, c.kind, ",".join(c.countries), c.currency, str(c.active))
    console.print(table)


@app.command("show")
def show_channel(code: Code, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Show one channel with its availability policy."""
    keel = open_keel(database_url)
    try:
        channel = keel.channels.get(code, scope=cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(public(channel))
        return
    console.print(details(public(channel)))


@app.command("create")
def create_channel(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON document, as POST /channels")],
    database_url: DbOpt = None,
) -> None:
    """Register a channel from a JSON file (code, name, kind, countries, currency, policy)."""
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise refuse(f"{path}: not JSON: {exc.msg}") from exc
    if not isinstance(document, dict):
        raise refuse(f"{path}: a channel is a JSON object")
    # absent fields go to validation as empty, which names them the way the API does
    fields: dict[str, Any] = {k: document.get(k) for k in ("code", "name", "kind", "countries", "currency", "policy")}
    keel = open_keel(database_url)
    try:
        channel = keel.channels.create(CreateChannel(**fields), scope=cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"created channel {channel.code} (#{channel.id})")


@app.command("deactivate")
def deactivate_channel(code: Code, database_url: DbOpt = None) -> None:
    """Deactivate a channel: its listings drop to zero at the next projector step."""
    keel = open_keel(database_url)
    try:
        keel.channels.deactivate(code, scope=cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"deactivated channel {code}")
