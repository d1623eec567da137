"""What every ``keel`` command needs before it runs: settings, logging, the container and the schema.

Context command modules import this rather than ``keel.cli``, which imports them (no import cycle).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import typer
from rich.console import Console

from keel.access import LOCAL_OPERATOR, Identity
from keel.bootstrap import Keel, bootstrap
from keel.platform import migrate
from keel.platform.actor import Actor, current_actor
from keel.platform.config import load_settings
from keel.platform.errors import ConfigError, KeelError
from keel.platform.observability import configure_logging

_err = Console(stderr=True)
SHOWN = 50  # problems printed for one refusal; a terminal shows no more usefully
# The permission the running command declared (``guard_commands``), checked by ``open_keel``.
_required: ContextVar[str | None] = ContextVar("keel_cli_permission", default=None)


def open_keel(database_url: str | None = None, *, upgrade: bool = True) -> Keel:
    """Bootstrap Keel for a command, bringing the schema up to date first; a bad config exits with 2."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        _err.print(f"[red]configuration: {exc.detail}[/red]")
        raise typer.Exit(2) from exc
    configure_logging(settings.log_level, settings.log_json)
    keel = bootstrap(settings, database_url=database_url)
    if upgrade:
        migrate.upgrade(keel.db)
    identity = cli_identity(keel)
    current_actor.set(Actor(str(identity.id), identity.name, "cli"))
    return keel


def cli_identity(keel: Keel) -> Identity:
    """Who the command acts as: the token's identity when ``KEEL_TOKEN`` is set (its role is enforced),
    else the local operator (admin): whoever runs Keel's CLI on the database directly can read and write
    that database anyway. Exits with 2 for a bad token or a missing permission."""
    token = os.environ.get("KEEL_TOKEN")
    if not token:
        return LOCAL_OPERATOR
    identity = keel.access.authenticate_token(token)
    if identity is None:
        _err.print("[red]KEEL_TOKEN is unknown, expired or revoked[/red]")
        raise typer.Exit(2)
    needed = _required.get()
    if needed is not None and not identity.can(needed):
        _err.print(f"[red]{identity.name} (role {identity.role.value}) lacks the permission {needed}[/red]")
        raise typer.Exit(2)
    return identity


def _commands(app: typer.Typer, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for info in app.registered_commands:
        assert info.callback is not None
        yield prefix + (info.name or info.callback.__name__.replace("_", "-")), info
    for group in app.registered_groups:
        assert group.typer_instance is not None and group.name is not None
        yield from _commands(group.typer_instance, f"{prefix}{group.name} ")


def guard_commands(app: typer.Typer, permissions: dict[str, str]) -> None:
    """Make every command of ``app`` declare its permission from ``permissions`` (checked when it opens
    Keel); raise at import when a command has none, so a new command cannot ship without a decision."""
    found = dict(_commands(app))
    missing = sorted(set(found) - set(permissions))
    if missing:
        raise RuntimeError(f"commands without a permission: {', '.join(missing)}")
    for words, info in found.items():
        info.callback = _declaring(info.callback, permissions[words])


def _declaring(callback: Callable[..., Any], permission: str) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        reset = _required.set(permission)
        actor = current_actor.set(current_actor.get())  # open_keel names the actor for this command only
        try:
            return callback(*args, **kwargs)
        finally:
            current_actor.reset(actor)
            _required.reset(reset)

    run.keel_permission = permission  # type: ignore[attr-defined]
    return run


def fail(exc: KeelError, *, label: str = "row", console: Console | None = None) -> typer.Exit:
    """Print a refusal, its detail then each problem (``row 3  quantity: ...``), and return the exit (status 2)
    to raise. ``label`` names what a problem's row counts: file rows, or ``line`` for an order's lines."""
    out = console or _err
    out.print(f"[red]{exc.detail}[/red]")
    problems = getattr(exc, "errors", [])
    for e in problems[:SHOWN]:
        line = f"  {label} {e.row}  {e.field}: {e.reason}" if e.row is not None else f"  {e.field}: {e.reason}"
        if line.strip() != exc.detail:  # a single-field refusal says it all in its detail
            out.print(line, highlight=False)
    if len(problems) > SHOWN:
        out.print(f"  ... and {len(problems) - SHOWN} more", highlight=False)
    return typer.Exit(code=2)
