"""``keel users ...`` and ``keel tokens ...`` commands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from keel.access.model import parse_role
from keel.access.schemas import AccountPublic, TokenPublic
from keel.cli_support import DbOpt, JsonOpt, cli_scope, emit, fail, open_keel, refuse
from keel.platform.errors import KeelError

users_app = typer.Typer(help="People and service accounts, and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
console = Console()
Name = Annotated[str, typer.Argument(help="the person's or service account's name")]


def _password(value: str | None) -> str:
    return value if value is not None else typer.prompt("password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def add_user(
    name: Name,
    role: Annotated[str, typer.Option(help="admin, merchandiser, inventory_planner, ... (docs/access.md)")],
    service: Annotated[bool, typer.Option("--service", help="a service account: tokens only")] = False,
    password: Annotated[str | None, typer.Option(help="prompted when absent (people only)")] = None,
    database_url: DbOpt = None,
) -> None:
    """Add a person (with a password) or a service account (--service)."""
    keel = open_keel(database_url)
    try:
        checked = parse_role(role)
        if service:
            account = keel.access.add_service(name, checked)
        else:
            account = keel.access.add_user(name, checked, _password(password))
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"added {account.kind.value} {account.name} with role {account.role.value}")


@users_app.command("list")
def list_users(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """List people and service accounts."""
    accounts = open_keel(database_url).access.accounts()
    if json_out:
        emit([AccountPublic.model_validate(a) for a in accounts])
        return
    table = Table("name", "kind", "role", "channels", "countries", "disabled", "created", title=f"{len(accounts)} ids")
    for a in accounts:
        table.add_row(
            a.name,
            a.kind.value,
            a.role.value,
            ",".join(a.channels) if a.channels else "(all)",
            ",".join(a.countries) if a.countries else "(all)",
            str(a.disabled),
            a.created_at.isoformat(timespec="seconds"),
        )
    console.print(table)


@users_app.command("set-role")
def set_role(
    name: Name,
    role: Annotated[str, typer.Argument(help="admin, merchandiser, inventory_planner, ... (docs/access.md)")],
    database_url: DbOpt = None,
) -> None:
    """Give an identity another role (its web sessions end)."""
    keel = open_keel(database_url)
    try:
        keel.access.set_role(name, parse_role(role))
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"{name} now has role {role}")


ChannelOpt = Annotated[list[str] | None, typer.Option("--channel", help="a channel code to keep (repeat)")]
CountryOpt = Annotated[list[str] | None, typer.Option("--country", help="an ISO country code to keep (repeat)")]


def _restrictions(account: str, channels: tuple[str, ...] | None, countries: tuple[str, ...] | None) -> str:
    shown = [f"channels {', '.join(channels)}" if channels else "every channel"]
    shown.append(f"countries {', '.join(countries)}" if countries else "every country")
    return f"{account} sees and changes {' and '.join(shown)}"


@users_app.command("set-scope")
def set_scope(name: Name, channel: ChannelOpt = None, country: CountryOpt = None, database_url: DbOpt = None) -> None:
    """Restrict an identity to channels and/or countries (no option: unrestricted); its web sessions end."""
    keel = open_keel(database_url)
    try:
        # a restricted administrator may name only the channels it sees
        known = {c.code for c in keel.channels.list(limit=1_000_000, scope=cli_scope())[0]}
        account = keel.access.set_scope(name, channel, country, known)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(_restrictions(account.name, account.channels, account.countries), highlight=False)


@users_app.command("disable")
def disable_user(name: Name, database_url: DbOpt = None) -> None:
    """Disable an identity: its tokens and sessions stop working at once."""
    try:
        open_keel(database_url).access.disable(name)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"{name} is disabled")


@users_app.command("password")
def set_password(
    name: Name,
    password: Annotated[str | None, typer.Option(help="prompted when absent")] = None,
    database_url: DbOpt = None,
) -> None:
    """Set a person's password (their web sessions end)."""
    keel = open_keel(database_url)
    try:
        keel.access.set_password(name, _password(password))
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"password of {name} changed")


@tokens_app.command("create")
def create_token(
    identity: Annotated[str, typer.Argument(help="the name of the person or service account it acts as")],
    name: Annotated[str, typer.Option(help="what the token is for, e.g. 'shop-de'")],
    scope: Annotated[list[str] | None, typer.Option(help="a permission to keep (repeat); default: the role's")] = None,
    expires: Annotated[datetime | None, typer.Option(help="expiry, e.g. 2027-01-31T00:00:00+00:00")] = None,
    database_url: DbOpt = None,
) -> None:
    """Create a token for an identity and print it once (it is stored hashed and cannot be shown again)."""
    keel = open_keel(database_url)
    if expires is not None and expires.tzinfo is None:
        raise refuse("--expires needs a UTC offset, e.g. 2027-01-31T00:00:00+00:00")
    try:
        created = keel.access.create_token(identity, name, scope or None, expires)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"token {created.info.id} for {identity}; shown once, store it now:", highlight=False)
    print(created.secret)


@tokens_app.command("list")
def list_tokens(
    identity: Annotated[str | None, typer.Option(help="only this identity's tokens")] = None,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List tokens (never their secrets)."""
    tokens = open_keel(database_url).access.list_tokens(identity)
    if json_out:
        emit([TokenPublic.model_validate(t) for t in tokens])
        return
    table = Table("id", "identity", "name", "scopes", "expires", "revoked", "last used", title=f"{len(tokens)} tokens")
    for t in tokens:
        when = [
            None if d is None else d.isoformat(timespec="seconds") for d in (t.expires_at, t.revoked_at, t.last_used_at)
        ]
        table.add_row(t.id, t.identity, t.name, " ".join(t.scopes) if t.scopes else "(role)", *(w or "-" for w in when))
    console.print(table)


@tokens_app.command("revoke")
def revoke_token(
    token_id: Annotated[str, typer.Argument(help="the token's id (keel tokens list shows them)")],
    database_url: DbOpt = None,
) -> None:
    """Revoke a token for good."""
    try:
        open_keel(database_url).access.revoke_token(token_id)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"token {token_id} revoked")
