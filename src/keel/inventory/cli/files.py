"""Movement files for ``keel inventory import``: CSV with a header row, or JSON Lines, read as rows to
validate; a file that is not UTF-8 text, or a malformed line, becomes a row error rather than a traceback."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import typer

from keel.cli_support import user_mistakes
from keel.platform.errors import FieldError


def decode(path: Path) -> tuple[str, list[FieldError]]:
    """The file's text, or the reason it is not UTF-8 text (Latin-1, UTF-16, binary), by line."""
    with user_mistakes():  # unreadable: one line, no traceback
        raw = path.read_bytes()
    if b"\x00" in raw:  # UTF-16 and binary files hold NUL bytes; text never does
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        return "", [FieldError(line, "", "NUL byte: the file is binary or UTF-16; save it as UTF-8 text")]
    try:
        return raw.decode("utf-8-sig"), []  # a UTF-8 byte order mark (Excel writes one) is fine
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        reason = f"byte 0x{raw[exc.start]:02x} is not UTF-8 (Latin-1 or Windows-1252?); save the file as UTF-8"
        return "", [FieldError(line, "", reason)]


def read_rows(path: Path) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """CSV (header row) or JSON Lines, by extension; malformed lines become row errors."""
    rows: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".jsonl", ".ndjson"}:
        raise typer.BadParameter("FILE must end in .csv, .jsonl or .ndjson")
    text, errors = decode(path)
    if errors:
        return [], errors
    if suffix != ".csv":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except (json.JSONDecodeError, RecursionError) as exc:
                reason = f"invalid JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else "nested too deep"
                errors.append(FieldError(number, "", reason))
        return rows, errors
    # strict: an unterminated quote is an error at the end of the file, not every later line merged into one
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        missing = {"id", "kind", "sku", "location", "quantity"} - set(reader.fieldnames or [])
        if missing:
            return [], [FieldError(1, "header", f"missing columns: {', '.join(sorted(missing))}")]
        for number, record in enumerate(reader, start=2):
            if None in record or any(v is None for v in record.values()):
                errors.append(FieldError(number, "", "wrong number of fields"))
                continue
            rows.append(record)
    except csv.Error as exc:  # a field over the CSV field limit, an unterminated quote: the reader stops here
        errors.append(FieldError(len(rows) + len(errors) + 2, "", f"malformed CSV: {exc}"))
    return rows, errors
