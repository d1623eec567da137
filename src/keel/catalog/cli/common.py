"""What the ``keel catalog`` command modules share: the command group, the consoles, reading files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from keel.catalog.schemas import (
    ChangePublic,
)
from keel.platform.errors import FieldError, ValidationFailed

app = typer.Typer(help="The product catalog: families, categories, products and their revisions.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
MAX_FILE_BYTES = 512 * 1024 * 1024
FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a JSON document")]


def read_text(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationFailed(f"{path}: over {MAX_FILE_BYTES} bytes", [FieldError(None, "", "file too large")])
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValidationFailed(f"{path}: not UTF-8 text", [FieldError(line, "", "not UTF-8")]) from exc


def read_document(path: Path) -> Any:
    text = read_text(path)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValidationFailed(f"{path}: not JSON", [FieldError(None, "", str(exc))]) from exc


def changes_table(changes: list[ChangePublic], title: str) -> Table:
    table = Table("path", "before", "after", title=title)
    for c in changes:
        cells = (escape(json.dumps(v, ensure_ascii=False)) if v is not None else "-" for v in (c.before, c.after))
        table.add_row(c.path, *cells)
    return table
