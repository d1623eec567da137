"""``keel channels ...`` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from keel.channels.api import public
from keel.channels.model import CreateChannel
from keel.cli_support import fail, open_keel

app = typer.Typer(help="Sales channels and their availability policies.", no_args_is_help=True)
console = Console()
DbOpt = Annotated[str | None, typer.Option("--database-url", help="overrides KEEL_DATABASE_URL")]


@app.command("list")
def list_channels(database_url: DbOpt = None, kind: str | None = None, country: str | None = None) -> None:
    """List channels."""

    items, total = open_keel(database_url).channels.list(kind=kind, country=country, limit=1000)
    table = Table("code", "name", "kind", "countries", "currency", "active", title=f"{total} channels")
    for c in items:
        table.add_row(c.code, c.name, c.kind, ",".join(c.countries), c.currency, str(c.active))
    console.print(table)


@app.command("show")
def show_channel(code: str, database_url: DbOpt = None) -> None:
    """Show one channel with its availability policy."""
    from keel.platform.errors import KeelError

    try:
        channel = open_keel(database_url).channels.get(code)
    except KeelError as exc:
        raise fail(exc, console=console) from exc
    console.print_json(json.dumps(public(channel).model_dump(), default=str))


@app.command("create")
def create_channel(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON document, as POST /channels")],
    database_url: DbOpt = None,
) -> None:
    """Register a channel from a JSON file (code, name, kind, countries, currency, policy)."""
    from keel.platform.errors import KeelError

    try:
        document = json.loads(path.read_text())
        # absent fields go to validation as empty, which names them the way the API does
        fields = {k: document.get(k) for k in ("code", "name", "kind", "countries", "currency", "policy")}
        channel = open_keel(database_url).channels.create(CreateChannel(**fields))
    except json.JSONDecodeError as exc:
        console.print(f"[red]{path}: not JSON: {exc.msg}[/red]")
        raise typer.Exit(2) from exc
    except KeelError as exc:
        raise fail(exc, console=console) from exc
    console.print(f"created channel {channel.code} (#{channel.id})")


@app.command("deactivate")
def deactivate_channel(code: str, database_url: DbOpt = None) -> None:
    """Deactivate a channel: its listings drop to zero at the next projector step."""
    from keel.platform.errors import KeelError

    try:
        open_keel(database_url).channels.deactivate(code)
    except KeelError as exc:
        raise fail(exc, console=console) from exc
    console.print(f"deactivated channel {code}")
