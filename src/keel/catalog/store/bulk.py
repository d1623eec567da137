"""Appending many rows to a catalog table at once: ``COPY`` straight into the table on PostgreSQL.

The platform's ``bulk_insert`` stages PostgreSQL rows in a temporary table first (for an ``ON CONFLICT`` tail
or an order), which writes every row twice; the catalog's bulk writes are plain appends (new listing rows,
products, variants, revisions), so their rows go into the table itself. SQLite, and a handful of rows, take
the platform's path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from keel.platform.bulk import SMALL_BATCH, bulk_insert
from keel.platform.db import dbapi_cursor, is_postgresql


def append_rows(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """``INSERT INTO table (columns)`` every row of ``rows`` (a duplicate key fails the transaction)."""
    if not is_postgresql(conn) or len(rows) <= SMALL_BATCH:
        bulk_insert(conn, table, columns, rows, "")
        return
    with dbapi_cursor(conn).copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
