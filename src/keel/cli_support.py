"""What every ``keel`` command needs before it runs: settings, logging, the container and the schema.

Context command modules import this rather than ``keel.cli``, which imports them (no import cycle).
"""

from __future__ import annotations

import typer
from rich.console import Console

from keel.bootstrap import Keel, bootstrap
from keel.platform import migrate
from keel.platform.config import load_settings
from keel.platform.errors import ConfigError, KeelError
from keel.platform.observability import configure_logging

_err = Console(stderr=True)
SHOWN = 50  # problems printed for one refusal; a terminal shows no more usefully


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
    return keel


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
