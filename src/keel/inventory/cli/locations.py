"""``keel locations ...``: stock locations and location groups."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from keel.cli_support import DbOpt, JsonOpt, cli_scope, details, emit, fail, open_keel, page, refuse
from keel.inventory.model import CreateLocation, LocationChanges
from keel.platform.errors import KeelError

app = typer.Typer(help="Stock locations and location groups.", no_args_is_help=True)
console = Console()
Code = Annotated[str, typer.Argument(help="the location code, e.g. WH-DE-1")]


@app.command("list")
def list_locations(
    database_url: DbOpt = None,
    kind: Annotated[
        str | None, typer.Option(help="only this kind: warehouse, store, dark_store, 3pl, supplier")
    ] = None,
    country: Annotated[str | None, typer.Option(help="only this ISO country, e.g. DE")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="rows in one page")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="rows to skip (the next page: offset + limit)")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """List locations, with their kind, country, city, capabilities and whether they are active."""
    keel = open_keel(database_url)
    items, total = keel.locations.list(kind=kind, country=country, limit=limit, offset=offset, scope=cli_scope())
    if json_out:
        emit(page(items, total, limit=limit, offset=offset))
        return
    table = Table("code", "name", "kind", "country", "city", "capabilities", "active", title=f"{total} locations")
    for loc in items:
        capabilities = ",".join(loc.capabilities)
        table.add_row(loc.code, loc.name, loc.kind, loc.country, loc.city or "", capabilities, str(loc.active))
    console.print(table)


@app.command("create")
def create_location(
    code: Code,
    name: Annotated[str, typer.Argument(help="a name people recognise, e.g. Berlin warehouse")],
    kind: Annotated[str, typer.Argument(help="warehouse, store, dark_store, 3pl or supplier")],
    country: Annotated[str, typer.Argument(help="ISO country code, e.g. DE")],
    database_url: DbOpt = None,
    city: Annotated[str | None, typer.Option(help="the city it is in")] = None,
    region: Annotated[str | None, typer.Option(help="the region or state it is in")] = None,
    latitude: Annotated[float | None, typer.Option(help="where it is, for order sourcing distances")] = None,
    longitude: Annotated[float | None, typer.Option(help="where it is, for order sourcing distances")] = None,
    capability: Annotated[list[str] | None, typer.Option(help="ship, pickup, ship_from_store (repeatable)")] = None,
    daily_capacity: Annotated[int | None, typer.Option(help="units it can pick a day (default: by kind)")] = None,
) -> None:
    """Create a location."""
    command = CreateLocation(
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
    keel = open_keel(database_url)
    try:
        loc = keel.locations.create(command, scope=cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"created location {loc.code} (#{loc.id})")


@app.command("update")
def update_location(
    code: Code,
    database_url: DbOpt = None,
    name: Annotated[str | None, typer.Option(help="a new name")] = None,
    kind: Annotated[str | None, typer.Option(help="warehouse, store, dark_store, 3pl or supplier")] = None,
    city: Annotated[str | None, typer.Option(help="the city it is in")] = None,
    region: Annotated[str | None, typer.Option(help="the region or state it is in")] = None,
    daily_capacity: Annotated[int | None, typer.Option(help="units it can pick a day")] = None,
    default_capacity: Annotated[
        bool, typer.Option("--default-capacity", help="drop its daily capacity: the default of its kind applies")
    ] = False,
) -> None:
    """Change a location's fields (only those given)."""
    fields = {"name": name, "kind": kind, "city": city, "region": region, "daily_capacity": daily_capacity}
    changes: LocationChanges = {k: v for k, v in fields.items() if v is not None}  # type: ignore[assignment]
    if default_capacity:
        if daily_capacity is not None:
            raise refuse("give --daily-capacity or --default-capacity, not both")
        changes["daily_capacity"] = None
    keel = open_keel(database_url)
    try:
        keel.locations.update(code, changes, scope=cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"updated location {code}")


@app.command("deactivate")
def deactivate_location(code: Code, database_url: DbOpt = None) -> None:
    """Deactivate a location: it stops feeding channels and refuses new movements."""
    keel = open_keel(database_url)
    try:
        keel.locations.deactivate(code, scope=cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"deactivated location {code}")


@app.command("show")
def show_location(code: Code, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Show one location."""
    keel = open_keel(database_url)
    try:
        loc = keel.locations.get(code, scope=cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(loc)
        return
    console.print(details(loc))


@app.command("groups")
def list_groups(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """List location groups (locations a channel's policy names together) and their members."""
    groups = open_keel(database_url).locations.groups(cli_scope())
    if json_out:
        emit(groups)
        return
    table = Table("code", "name", "members", title=f"{len(groups)} location groups")
    for group in groups:
        table.add_row(group.code, group.name, ", ".join(group.members))
    console.print(table)


@app.command("group")
def set_group(
    code: Annotated[str, typer.Argument(help="the group code")],
    members: Annotated[list[str], typer.Argument(help="location codes")],
    database_url: DbOpt = None,
    name: Annotated[str | None, typer.Option(help="name, when the group is new")] = None,
) -> None:
    """Create a location group, or replace the members of an existing one."""
    keel = open_keel(database_url)
    scope = cli_scope()
    try:
        # whether the code exists at all decides update or create; the update then answers "does not exist"
        # for a group wholly outside the restrictions, like the API
        if any(g.code == code for g in keel.locations.groups()):
            keel.locations.set_group_members(code, members, scope)
        else:
            keel.locations.create_group(code, name or code, members, scope)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"location group {code}: {len(members)} members")
