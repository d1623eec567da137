"""What every ``keel`` command needs before it runs: settings, logging, the container, the schema check, the
identity and its restrictions, and the two ways a command answers (a table for people, ``--json`` for scripts).

Context command modules import this rather than ``keel.cli``, which imports them (no import cycle).

Exit statuses (docs/operations.md, "Exit statuses"): 0 done; 1 a check found a difference
(``keel inventory rebuild --check``); 2 a user mistake (bad arguments or input, a refused write, a missing
permission, no usable database); 3 not found (the SKU, location, channel, order, ... named does not exist,
or is outside the identity's restrictions).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shlex
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

# Typer 0.2x vendors click and keeps the running command's context there (the installed click package's own
# stack is empty); the CLI test of the audit entry fails if a Typer upgrade moves it.
from typer._click.globals import get_current_context

from keel.access import LOCAL_OPERATOR, Identity
from keel.audit import NewAuditEntry
from keel.bootstrap import Keel, bootstrap
from keel.platform import migrate
from keel.platform.actor import Actor, current_actor
from keel.platform.config import check_bus, load_settings
from keel.platform.errors import ConfigError, FieldError, KeelError, NotFound
from keel.platform.observability import configure_logging
from keel.platform.schemas import clean_document
from keel.platform.scope import Scope

EXIT_CHECK_FAILED = 1
EXIT_MISTAKE = 2
EXIT_NOT_FOUND = 3

_err = Console(stderr=True)
SHOWN = 50  # problems printed for one refusal; a terminal shows no more usefully
MAX_FILE_BYTES = 64 * 1024 * 1024  # a document file: 100,000 prices of a price list are ~8 MB of JSON
# The permission the running command declared (``guard_commands``), checked by ``open_keel``.
_required: ContextVar[str | None] = ContextVar("keel_cli_permission", default=None)
# Who the running command acts as, once ``open_keel`` resolved it (``cli_scope`` reads its restrictions).
_identity: ContextVar[Identity | None] = ContextVar("keel_cli_identity", default=None)

DbOpt = Annotated[str | None, typer.Option("--database-url", help="the database to use; overrides KEEL_DATABASE_URL")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON document on stdout instead of a table")]


def refuse(message: str, code: int = EXIT_MISTAKE) -> typer.Exit:
    """Print ``message`` as one line on stderr (never wrapped, markup-free) and return the exit to raise."""
    _err.print(escape(message), style="red", soft_wrap=True, highlight=False)
    return typer.Exit(code)


def open_keel(
    database_url: str | None = None,
    *,
    create: bool = False,
    upgrade: bool = False,
    settings_overrides: Mapping[str, Any] | None = None,
) -> Keel:
    """Bootstrap Keel for a command on an existing Keel database at the current schema.

    ``create`` (``keel db upgrade``, ``keel demo``) lets the command start on a missing or empty database;
    ``upgrade`` (``keel serve``, ``keel worker``, ``keel demo``) brings an older Keel schema up to date. Any
    other command refuses, with one line and exit status 2, a database that does not exist, holds no Keel
    schema or is at an older revision: a read never creates or changes a database (a command run from the
    wrong folder must not leave an empty database behind). A bad config exits with 2 as well.
    ``settings_overrides`` are a command's options that stand for settings (``keel worker --source``).
    """
    try:
        settings = load_settings()
        if settings_overrides:
            settings = dataclasses.replace(settings, **settings_overrides)
            check_bus(settings)
    except ConfigError as exc:
        raise refuse(f"configuration: {exc.detail}") from exc
    configure_logging(settings.log_level, settings.log_json)
    url = database_url or settings.database_url
    if url.split(":", 1)[0].split("+", 1)[0] not in SCHEMES:
        raise refuse(f"database URL {url!r}: unsupported scheme; use sqlite:///PATH or postgresql://...")
    with user_mistakes():
        where = _where(url)
        file = _sqlite_file(url)
        if not create and file is not None and not file.is_file():
            raise refuse(_missing(where))  # checked before connecting: SQLite would create the file
        keel = bootstrap(settings, database_url=database_url)
        try:
            current = _check_schema(keel, where, create=create, upgrade=upgrade)
        except BaseException:
            keel.close()
            raise
    identity = cli_identity(keel)
    _identity.set(identity)
    # the command's request id (set when the command started) ties its events to its audit entry
    current_actor.set(Actor(str(identity.id), identity.name, "cli", None, current_actor.get().request_id))
    if current:  # an older schema (``keel db upgrade --revision``) may have no audit log to write to
        _audit_when_done(keel)
    return keel


SCHEMES = ("sqlite", "postgresql")


def _where(url: str) -> str:
    """The database as a message names it: the SQLite file's absolute path (a relative one depends on the
    folder the command runs in), else the URL without its password."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return os.path.abspath(parsed.database) if parsed.database not in (None, "", ":memory:") else ":memory:"
    return parsed.render_as_string(hide_password=True)


def _sqlite_file(url: str) -> Path | None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _missing(where: str) -> str:
    return f"no Keel database at {where}; run `keel db upgrade` or `keel demo` first"


def _check_schema(keel: Keel, where: str, *, create: bool, upgrade: bool) -> bool:
    """Refuse a database the command may not use; True when its schema is now current."""
    try:
        found = migrate.state(keel.db)
    except sa_exc.OperationalError:
        raise  # unreachable: user_mistakes says so
    except sa_exc.DatabaseError as exc:  # e.g. a file that is not SQLite at all
        raise refuse(f"{where} is not a Keel database: {str(exc.orig or exc).strip()}") from exc
    if found.unknown:
        raise refuse(
            f"the database at {where} is at schema revision {', '.join(found.unknown)}, which this Keel does not "
            "know: a newer Keel upgraded it; use that version"
        )
    if not create and found.empty:
        raise refuse(_missing(where))
    if found.up_to_date or (create and not upgrade):
        return found.up_to_date
    if not upgrade:
        raise refuse(
            f"the Keel database at {where} is at schema revision {', '.join(found.current)}, this Keel needs "
            f"{found.head}; run `keel db upgrade`"
        )
    migrate.upgrade(keel.db)
    return True


@contextmanager
def user_mistakes() -> Iterator[None]:
    """Turn what a user got wrong (a database that cannot be reached or opened, a malformed database URL, a
    file that cannot be read) into one line on stderr and exit status 2, never a traceback."""
    try:
        yield
    except sa_exc.OperationalError as exc:
        cause = str(exc.orig or exc).strip().splitlines()
        raise refuse(f"database unreachable: {cause[0] if cause else type(exc).__name__}") from exc
    except (sa_exc.ArgumentError, ValueError) as exc:  # bad URL syntax, e.g. a port that is not a number
        raise refuse(f"database URL not usable: {exc}") from exc
    except OSError as exc:
        raise refuse(f"{exc.filename or 'file'}: {exc.strerror or exc}") from exc


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
    """Who the command acts as: the token's identity when ``KEEL_TOKEN`` is set (its role and restrictions
    are enforced), else the local operator (admin, unrestricted): whoever runs Keel's CLI on the database
    directly can read and write that database anyway. Exits with 2 for a bad token or a missing permission."""
    token = os.environ.get("KEEL_TOKEN")
    if not token:
        return LOCAL_OPERATOR
    identity = keel.access.authenticate_token(token)
    if identity is None:
        raise refuse("KEEL_TOKEN is unknown, expired or revoked")
    needed = _required.get()
    if needed is not None and not identity.can(needed):
        raise refuse(f"{identity.name} (role {identity.role.value}) lacks the permission {needed}")
    return identity


def cli_scope() -> Scope:
    """The channels and countries the running command may see and change: the restrictions of the
    ``KEEL_TOKEN`` identity, or ``Scope.ALL`` for the local operator. Call it after ``open_keel``; pass it
    as ``scope=`` to every service method that takes one."""
    identity = _identity.get()
    if identity is None:
        raise RuntimeError("cli_scope() needs the identity open_keel() resolves; call open_keel() first")
    return identity.scope


def every_command(app: typer.Typer, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Each command of ``app`` and its groups: its words (``"orders policy show"``) and its registration."""
    for info in app.registered_commands:
        assert info.callback is not None
        yield prefix + (info.name or info.callback.__name__.replace("_", "-")), info
    for group in app.registered_groups:
        assert group.typer_instance is not None
        # a group added without a name lends its commands to ``app`` (``keel pricing cart`` lives in a module
        # of its own); Typer leaves a placeholder object where the name would be
        words = f"{prefix}{group.name} " if isinstance(group.name, str) else prefix
        yield from every_command(group.typer_instance, words)


def guard_commands(app: typer.Typer, permissions: dict[str, str]) -> None:
    """Make every command of ``app`` declare its permission from ``permissions`` (checked when it opens
    Keel); raise at import when a command has none, so a new command cannot ship without a decision."""
    found = dict(every_command(app))
    missing = sorted(set(found) - set(permissions))
    if missing:
        raise RuntimeError(f"commands without a permission: {', '.join(missing)}")
    for words, info in found.items():
        info.callback = _declaring(info.callback, permissions[words])


def _declaring(callback: Callable[..., Any], permission: str) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        reset = _required.set(permission)
        identity = _identity.set(None)
        actor = current_actor.set(current_actor.get())  # open_keel names the actor for this command only
        try:
            return callback(*args, **kwargs)
        finally:
            current_actor.reset(actor)
            _identity.reset(identity)
            _required.reset(reset)

    run.keel_permission = permission  # type: ignore[attr-defined]
    return run


def fail(exc: KeelError, *, label: str = "row") -> typer.Exit:
    """Print a refusal on stderr, its detail then each problem (``row 3  quantity: ...``), and return the exit
    to raise: 3 when what the command named does not exist (``NotFound``), else 2. ``label`` names what a
    problem's row counts: file rows, or ``line`` for an order's lines."""
    code = EXIT_NOT_FOUND if isinstance(exc, NotFound) else EXIT_MISTAKE
    refuse(exc.detail, code)
    problems = getattr(exc, "errors", None) or [FieldError(**e) for e in exc.extra.get("errors", [])]
    for e in problems[:SHOWN]:
        line = f"  {label} {e.row}  {e.field}: {e.reason}" if e.row is not None else f"  {e.field}: {e.reason}"
        if line.strip() != exc.detail:  # a single-field refusal says it all in its detail
            _err.print(escape(line), highlight=False, soft_wrap=True)
    if len(problems) > SHOWN:
        _err.print(f"  ... and {len(problems) - SHOWN} more", highlight=False)
    return typer.Exit(code=code)


# -- --json ----------------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: dataclasses and pydantic models become objects (field by field),
    enums their value, ``Decimal`` a string (no binary rounding of prices), dates and times ISO 8601 text
    (UTC instants ending in Z, as the HTTP API writes them),
    tuples and lists arrays, sets sorted arrays. Anything else is a bug in the command: ``TypeError``."""
    if value is None or (isinstance(value, bool | int | float | str) and not isinstance(value, Enum)):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime) and value.utcoffset() == timedelta(0):
        return value.isoformat().removesuffix("+00:00") + "Z"  # as the HTTP API writes UTC instants
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, Sequence):
        return [jsonable(v) for v in value]
    if isinstance(value, Path | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def read_document(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """The JSON document in ``path``, as clean as the HTTP API requires (no NUL, 64-bit numbers, 16 levels);
    a file too large, unreadable or not JSON is refused with one line (exit 2)."""
    try:
        if path.stat().st_size > max_bytes:
            raise refuse(f"{path}: over {max_bytes} bytes")
        return clean_document(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise refuse(f"{path}: {exc}") from exc


def emit(document: Any) -> None:
    """Write ``document`` (see ``jsonable``) to stdout as one JSON document, the only thing a ``--json``
    command prints there (progress and refusals go to stderr); indented when stdout is a terminal."""
    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(jsonable(document), ensure_ascii=False, allow_nan=False, indent=indent) + "\n")


def page(items: Sequence[Any], total: int, *, limit: int, offset: int) -> dict[str, Any]:
    """A list page as the HTTP API answers one: the items, how many match in all, and the window."""
    return {"items": list(items), "total": total, "limit": limit, "offset": offset}


def details(record: Any) -> Table:
    """A record for people: one row per field, its name and its value (``show`` commands without --json)."""
    table = Table(show_header=False, box=None, pad_edge=False)
    for name, value in jsonable(record).items():
        table.add_row(name, escape(_plain(value)))
    return table


def _plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(_plain(v) for v in value) or "-"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
