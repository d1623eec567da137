"""Driver-level bulk statements for hot paths, once for both databases: chunked IN lists, bulk inserts
(executemany on SQLite, COPY on PostgreSQL) and staging rows in a temporary table. Stores call these."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection

from keel.platform.db import dbapi_cursor, is_postgresql, placeholder

# Up to this many rows, PostgreSQL gets them inline in the statement instead of through COPY and a temporary
# table, whose creation costs more than the copy saves for a handful of rows.
SMALL_BATCH = 50


def chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    """Consecutive slices of at most ``size``: keeps IN lists under the databases' parameter limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def select_in(conn: Connection, query: Any, column: Any, values: Iterable[Any] | None, size: int = 500) -> list[Any]:
    """The rows of ``query`` whose ``column`` is one of ``values`` (every row when None), asked ``size``
    values at a time: an IN list stays under the databases' parameter limits whatever the count."""
    if values is None:
        return list(conn.execute(query))
    rows: list[Any] = []
    for part in chunks(sorted(set(values)), size):
        rows += conn.execute(query.where(column.in_(part))).all()
    return rows


def insert_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], tail: str = ""
) -> int:
    """``INSERT INTO table (columns) VALUES (...), (...) tail``: a few rows (at most ``SMALL_BATCH``) in one
    statement on either database; returns the rows written. An order's lines, shipments and timeline go
    this way: one round trip, where ``executemany`` costs a pipeline sync on PostgreSQL."""
    if not rows:
        return 0
    ph = placeholder(conn)
    values = ", ".join([f"({', '.join([ph] * len(columns))})"] * len(rows))
    cur = dbapi_cursor(conn)
    cur.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} {tail}", [v for row in rows for v in row])
    return int(cur.rowcount)


def bulk_insert(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    tail: str,
    order_by: str = "",
) -> int:
    """``INSERT INTO table (columns) ... tail`` for many rows; returns the rows written.

    SQLite takes a plain executemany. PostgreSQL gets the rows through ``COPY`` into a temporary table
    and one ``INSERT ... SELECT``: row-by-row executemany costs a network round trip per row there.
    ``order_by`` (PostgreSQL): the order that ``SELECT`` feeds the rows in, e.g. a secondary index's key, so
    its B-tree takes them in one forward pass; the heap appends them whatever the order.
    """
    if not rows:
        return 0
    cur = dbapi_cursor(conn)
    cols = ", ".join(columns)
    if not is_postgresql(conn):
        cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['?'] * len(columns))}) {tail}", rows)
        return int(cur.rowcount)
    if len(rows) <= SMALL_BATCH:
        # A few rows (an order's commit): one multi-row VALUES statement beats a temporary table and COPY.
        return insert_rows(conn, table, columns, rows, tail)
    stage = _pg_stage(cur, f"stage_{table}", f"LIKE {table}", columns, rows)
    order = f" ORDER BY {order_by}" if order_by else ""
    cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage}{order} {tail}")
    return int(cur.rowcount)


@contextmanager
def staged(
    conn: Connection, stage: str, ddl: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Iterator[str]:
    """Put ``rows`` into an otherwise empty temporary table ``stage`` (columns ``ddl``) for the block to join
    against; yields its name. SQLite: a connection-scoped table filled by executemany and emptied after the
    block (the pooled connection outlives the transaction). PostgreSQL: filled by COPY, dropped at commit."""
    cur = dbapi_cursor(conn)
    if is_postgresql(conn):
        yield _pg_stage(cur, stage, ddl, columns, rows)
        return
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({ddl})")
    cur.execute(f"DELETE FROM {stage}")
    cur.executemany(f"INSERT INTO {stage} ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))})", rows)
    try:
        yield stage
    finally:
        cur.execute(f"DELETE FROM {stage}")


def _pg_stage(cur: Any, stage: str, ddl: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """COPY rows into an empty temporary table (dropped at commit) defined by ``ddl``; returns its name."""
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({ddl}) ON COMMIT DROP")
    cur.execute(f"TRUNCATE {stage}")
    with cur.copy(f"COPY {stage} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return stage
