"""The ledger port: append movements (idempotent by id), number them, lock writers, read ranges and pages."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.inventory.model import DEMAND_SIGNS, KIND_CODES, KINDS_BY_CODE, Kind, LedgerEntry
from keel.inventory.store.tables import MOVEMENT_COLUMNS, locations, movements, positions
from keel.platform.bulk import bulk_insert, chunks
from keel.platform.db import advisory_xact_lock, dbapi_cursor, locks_rows, placeholder

LEDGER_LOCK = 7366
_HELD = "keel_ledger_lock"  # in the connection's info: a weak reference to the transaction holding the lock


def lock_ledger(conn: Connection) -> None:
    """Serialise ledger writers for the rest of the transaction (SQLite's BEGIN IMMEDIATE already does).
    Every ledger-writing transaction takes it FIRST, before any row lock, so all of them lock in one order
    (ledger -> position rows -> event log) and cannot deadlock each other. Re-entrant, and asked of the
    server once per transaction (order capture takes it before reading stock, then writes stock)."""
    if not locks_rows(conn):
        return
    transaction = conn.get_transaction()
    held = conn.info.get(_HELD)
    if held is not None and transaction is not None and held() is transaction:
        return
    advisory_xact_lock(conn, LEDGER_LOCK)
    # Only a lock taken outside any savepoint is remembered: rolling a savepoint back releases what it took.
    if transaction is not None and not conn.in_nested_transaction():
        conn.info[_HELD] = weakref.ref(transaction)


def lock_client_id(conn: Connection, kind: str, client_id: str) -> None:
    """Serialise transactions reusing one client id (of a reservation or count), so a concurrent retry
    sees the first one's row instead of failing on the unique key."""
    advisory_xact_lock(conn, kind, client_id)


def next_movement_seqs(conn: Connection, count: int) -> int:
    """The first of ``count`` new consecutive ledger sequence numbers (the caller holds the ledger lock)."""
    last = conn.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM movements").scalar_one()
    return int(last) + 1


def insert_movements(conn: Connection, rows: Sequence[Sequence[Any]]) -> int:
    """Append ledger rows (``MOVEMENT_COLUMNS`` order), skipping ids already recorded; returns how many were new."""
    # PostgreSQL inserts them in (sku, location_id) order: the ledger's random secondary index then takes a
    # batch in one forward pass. SQLite keeps seq order, so the table itself is appended at its end.
    tail = "ON CONFLICT (id) DO NOTHING"
    return bulk_insert(conn, "movements", MOVEMENT_COLUMNS, rows, tail, order_by="sku, location_id, seq")


def movement_ids_in(conn: Connection, first_seq: int, last_seq: int) -> set[str]:
    """Ids of the movements numbered ``first_seq``..``last_seq``."""
    sql = f"SELECT id FROM movements WHERE seq BETWEEN {int(first_seq)} AND {int(last_seq)}"
    return set(conn.exec_driver_sql(sql).scalars())


def existing_movements(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[int, str, int, int]]:
    """(kind code, sku, location_id, quantity) of the given movement ids already in the ledger."""
    found: dict[str, tuple[int, str, int, int]] = {}
    ph = placeholder(conn)
    cur = dbapi_cursor(conn)
    for chunk in chunks(ids, 900):
        cur.execute(
            f"SELECT id, kind, sku, location_id, quantity FROM movements WHERE id IN ({', '.join([ph] * len(chunk))})",
            tuple(chunk),
        )
        for mid, kind, sku, loc, qty in cur.fetchall():
            found[mid] = (kind, sku, loc, qty)
    return found


def movement_deltas(
    conn: Connection, first_seq: int, last_seq: int, kinds: Iterable[int]
) -> list[tuple[str, int, int, int]]:
    """(sku, location_id, kind code, quantity) of the ledger range, restricted to ``kinds``."""
    kind_list = ", ".join(str(int(k)) for k in kinds)
    cur = dbapi_cursor(conn)
    cur.execute(
        "SELECT sku, location_id, kind, quantity FROM movements "
        f"WHERE seq BETWEEN {int(first_seq)} AND {int(last_seq)} AND kind IN ({kind_list})"
    )
    return list(cur.fetchall())


def skus_moved(conn: Connection, first_seq: int, last_seq: int | None = None) -> set[str]:
    """The SKUs the movements numbered ``first_seq``..``last_seq`` (None: the newest) moved (a range of the
    ledger's key)."""
    m = movements
    q = sa.select(m.c.sku).where(m.c.seq >= first_seq).distinct()
    if last_seq is not None:
        q = q.where(m.c.seq <= last_seq)
    return set(conn.execute(q).scalars())


def demand_since(conn: Connection, skus: Sequence[str] | None, since: datetime) -> dict[str, int]:
    """sku -> units sold or committed, less commitments given back, in movements that occurred at or after
    ``since`` (``DEMAND_SIGNS``), at any location; of ``skus`` only when given (the ledger's (sku, location,
    occurred_at) index then serves it; all SKUs scan the ledger)."""
    m = movements
    signed = sa.case(
        *((m.c.kind == code, -m.c.quantity) for code, sign in DEMAND_SIGNS.items() if sign < 0), else_=m.c.quantity
    )
    q = (
        sa.select(m.c.sku, sa.func.sum(signed))
        .where(m.c.kind.in_(sorted(DEMAND_SIGNS)), m.c.occurred_at >= since)
        .group_by(m.c.sku)
    )
    parts = [None] if skus is None else list(chunks(skus, 500))
    out: dict[str, int] = {}
    for part in parts:
        stmt = q if part is None else q.where(m.c.sku.in_(list(part)))
        out |= {sku: int(units) for sku, units in conn.execute(stmt).tuples()}
    return out


def replay(conn: Connection, after_seq: int = 0, through_seq: int | None = None) -> Iterator[tuple[int, str, int, int]]:
    """The movements after ``after_seq`` (up to ``through_seq``) as (kind code, sku, location_id, quantity), in
    ledger order, streamed."""
    m = movements
    # yield_per on the statement, not the connection: Connection.execution_options() changes the
    # connection in place, and a server-side cursor then breaks a later DELETE on PostgreSQL.
    query = sa.select(m.c.kind, m.c.sku, m.c.location_id, m.c.quantity).where(m.c.seq > after_seq)
    if through_seq is not None:
        query = query.where(m.c.seq <= through_seq)
    query = query.order_by(m.c.seq).execution_options(yield_per=20_000)
    for row in conn.execute(query):
        yield row[0], row[1], row[2], row[3]


def ledger_page(
    conn: Connection,
    *,
    sku: str | None = None,
    location: str | None = None,
    kind: Kind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_seq: int = 0,
    limit: int = 100,
    countries: frozenset[str] | None = None,
) -> list[LedgerEntry]:
    """Movements after ``after_seq`` in ledger order, filtered, at most ``limit``; only at locations in
    ``countries`` when given."""
    m, loc = movements, locations
    query = sa.select(m, loc.c.code.label("location")).join(loc, loc.c.id == m.c.location_id).where(m.c.seq > after_seq)
    if countries is not None:
        query = query.where(loc.c.country.in_(sorted(countries)))
    if sku:
        query = query.where(m.c.sku == sku)
    if location:
        query = query.where(loc.c.code == location)
        if not sku:
            # Walk the (sku, location_id, occurred_at) index once per SKU stocked at the location.
            p = positions
            stocked = sa.select(p.c.sku).join(loc, loc.c.id == p.c.location_id).where(loc.c.code == location)
            query = query.where(m.c.sku.in_(stocked))
    if kind:
        query = query.where(m.c.kind == KIND_CODES[kind])
    if since:
        query = query.where(m.c.occurred_at >= since)
    if until:
        query = query.where(m.c.occurred_at < until)
    return [
        LedgerEntry(
            r.seq,
            r.id,
            KINDS_BY_CODE[r.kind].value,
            r.sku,
            r.quantity,
            r.occurred_at,
            r.recorded_at,
            r.reason,
            r.reference,
            r.location,
        )
        for r in conn.execute(query.order_by(m.c.seq).limit(limit))
    ]
