"""What every ``keel`` command needs before it runs: settings, logging, the container and the schema.

Context command modules import this rather than ``keel.cli``, which imports them (no import cycle).
"""

from __future__ import annotations

import functools
import os
import shlex
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy.exc as sa_exc
import typer
from rich.console import Console

# Typer 0.2x vendors click and keeps the running command's context there (the installed click package's own
# stack is empty); the CLI test of the audit entry fails if a Typer upgrade moves it.
from typer._click.globals import get_current_context

from keel.access import LOCAL_OPERATOR, Identity
from keel.audit import NewAuditEntry
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
    url = database_url or settings.database_url
    if url.split(":", 1)[0].split("+", 1)[0] not in SCHEMES:
        _err.print(f"[red]database URL {url!r}: unsupported scheme; use sqlite:///PATH or postgresql://...[/red]")
        raise typer.Exit(2)
    with user_mistakes():
        keel = bootstrap(settings, database_url=database_url)
        if upgrade:
            migrate.upgrade(keel.db)
    identity = cli_identity(keel)
    # the command's request id (set when the command started) ties its events to its audit entry
    current_actor.set(Actor(str(identity.id), identity.name, "cli", None, current_actor.get().request_id))
    _audit_when_done(keel)
    return keel


SCHEMES = ("sqlite", "postgresql")


@contextmanager
def user_mistakes() -> Iterator[None]:
    """Turn what a user got wrong (a database that cannot be reached or opened, a malformed database URL, a
    file that cannot be read) into one line on stderr and exit status 2, never a traceback."""
    try:
        yield
    except sa_exc.OperationalError as exc:
        cause = str(exc.orig or exc).strip().splitlines()
        _err.print(f"[red]database unreachable: {cause[0] if cause else type(exc).__name__}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    except (sa_exc.ArgumentError, ValueError) as exc:  # bad URL syntax, e.g. a port that is not a number
        _err.print(f"[red]database URL not usable: {exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    except OSError as exc:
        _err.print(f"[red]{exc.filename or 'file'}: {exc.strerror or exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc


def cli_actor() -> Actor:
    """Who a command acts as until it opens Keel (``open_keel`` names the identity): the local operator,
    with the id that will link the command's events to its audit entry."""
    return Actor(str(LOCAL_OPERATOR.id), LOCAL_OPERATOR.name, "cli", None, uuid.uuid4().hex)


def _audit_when_done(keel: Keel) -> None:
    """When the running command ends, give it an audit entry if it appended events (it changed something),
    linked to them by the command's request id. Outside a command (tests, benches) nothing is recorded."""
    ctx = get_current_context(silent=True)
    actor = current_actor.get()
    if ctx is None or actor.via != "cli" or actor.request_id is None:
        return
    command = ctx.command_path.removeprefix(ctx.find_root().info_name or "").strip() or "keel"
    # The parsed arguments, not argv: the same command reads the same however it was spelled or invoked.
    given = [f"{name}={value}" for name, value in ctx.params.items() if value is not None and name != "database_url"]
    line = shlex.join(["keel", *command.split(), *given])

    def record() -> None:
        request_id = actor.request_id or ""
        with keel.db.read() as conn:
            caused = keel.events.of_request(conn, request_id, limit=1)
        if caused:
            keel.audit.record(
                NewAuditEntry(actor.identity_id, actor.name, "cli", None, command, "CLI", line, 0, request_id)
            )

    ctx.find_root().call_on_close(record)


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
