"""The positions port: load, save and guard-update position rows, and the position reads (pages, available
stock by location)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.inventory.model import MovedPosition, Position
from keel.inventory.store.tables import POSITION_COLUMNS, QTY_COLUMNS, locations, positions
from keel.platform.bulk import SMALL_BATCH, bulk_insert, chunks, staged
from keel.platform.db import Later, any_of, dbapi_cursor, placeholder, send

Quantities = list[int]  # the eight QTY_COLUMNS of one position, in order


def load_positions(conn: Connection, pairs: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Quantities]:
    """Current quantities of the given (sku, location_id) pairs that have a row (absent: no row yet).

    No row locks: every transaction that writes positions holds the ledger lock from its first statement
    (``lock_ledger``), which already makes a read-check-write of positions atomic against every other
    writer. ``SELECT ... FOR UPDATE`` on top of it wrote a lock into each of 10,000 rows a batch (a WAL
    record apiece on PostgreSQL) and created the missing rows first, for no extra guarantee.

    More than ``SMALL_BATCH`` pairs go through a temporary table joined on the primary key: SQLite plans a
    row-value ``IN`` list as a scan, which cost 60 us per pair at reference scale against ~2 us for the join.
    """
    if not pairs:
        return {}
    cur = dbapi_cursor(conn)
    cols = ", ".join(f"p.{c}" for c in QTY_COLUMNS)
    if len(pairs) <= SMALL_BATCH:
        # A few pairs (an order's commit): equality terms on the key, which both databases answer by index
        # lookups, without filling a temporary table first.
        ph = placeholder(conn)
        where = " OR ".join([f"(p.sku = {ph} AND p.location_id = {ph})"] * len(pairs))
        cur.execute(
            f"SELECT p.sku, p.location_id, {cols} FROM positions p WHERE {where}",
            [v for pair in sorted(pairs) for v in pair],
        )
        return {(row[0], row[1]): list(row[2:]) for row in cur.fetchall()}
    pair_ddl = "sku TEXT, location_id INTEGER"
    with staged(conn, "wanted_positions", pair_ddl, ("sku", "location_id"), sorted(pairs)) as wanted:
        cur.execute(
            f"SELECT p.sku, p.location_id, {cols} FROM {wanted} w "
            "JOIN positions p ON p.sku = w.sku AND p.location_id = w.location_id"
        )
        return {(row[0], row[1]): list(row[2:]) for row in cur.fetchall()}


def save_positions(conn: Connection, changed: dict[tuple[str, int], Quantities], now_us: int) -> None:
    """Write the given quantities, inserting or replacing each (sku, location_id) row."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*QTY_COLUMNS, "updated_at"))
    # In key order: consecutive upserts land on the same or the next B-tree page instead of random ones,
    # which halves the statement's cost on SQLite and keeps a large batch from dirtying a page twice.
    rows = sorted((sku, loc, *qty, now_us) for (sku, loc), qty in changed.items())
    bulk_insert(conn, "positions", POSITION_COLUMNS, rows, f"ON CONFLICT (sku, location_id) DO UPDATE SET {updates}")


def conditional_move(
    conn: Connection, sku: str, location_id: int, effects: Sequence[int], quantity: int, now_us: int
) -> bool:
    """Apply one movement's effects with a guard in the WHERE clause: atomic without a read-modify-write.
    False (nothing changed) when the row is missing or a decreased quantity would go below zero."""
    sets = [f"{col} = {col} + :d{i}" for i, (col, s) in enumerate(zip(QTY_COLUMNS, effects, strict=True)) if s]
    guards = [f"{col} >= :q" for col, s in zip(QTY_COLUMNS, effects, strict=True) if s < 0]
    params: dict[str, Any] = {f"d{i}": s * quantity for i, s in enumerate(effects) if s}
    params.update(q=quantity, sku=sku, loc=location_id, now=now_us)
    sql = (
        f"UPDATE positions SET {', '.join(sets)}, updated_at = :now "
        f"WHERE sku = :sku AND location_id = :loc{''.join(' AND ' + g for g in guards)}"
    )
    return conn.execute(sa.text(sql), params).rowcount == 1


def all_positions(conn: Connection) -> dict[tuple[str, int], Quantities]:
    """Every position row's quantities."""
    p = positions
    query = sa.select(p.c.sku, p.c.location_id, *(p.c[c] for c in QTY_COLUMNS))
    return {(row[0], row[1]): list(row[2:]) for row in conn.execute(query)}


def replace_positions(conn: Connection, rebuilt: dict[tuple[str, int], Quantities], now_us: int) -> None:
    """Replace the whole positions table with ``rebuilt``."""
    conn.execute(positions.delete())
    save_positions(conn, rebuilt, now_us)


def available_snapshot(conn: Connection) -> dict[str, dict[int, int]]:
    """sku -> location_id -> available, for every position (read on the DBAPI cursor: it is the whole table)."""
    cur = dbapi_cursor(conn)
    cur.execute("SELECT sku, location_id, available FROM positions")
    stock: dict[str, dict[int, int]] = {}
    for sku, location_id, available in cur.fetchall():
        stock.setdefault(sku, {})[location_id] = available
    return stock


def available_of_sku(conn: Connection, sku: str) -> dict[int, int]:
    """location_id -> available of one SKU, at every location holding a row."""
    p = positions
    return dict(conn.execute(sa.select(p.c.location_id, p.c.available).where(p.c.sku == sku)).all())


def available_of_skus(conn: Connection, skus: Sequence[str]) -> Later[list[tuple[str, int, int]]]:
    """(sku, location_id, available) of every position of ``skus``, at any location (driver's cursor, sent
    now: see ``Later``)."""
    if not skus:
        return Later(list)
    named, params = any_of(conn, "sku", skus)
    return send(conn, f"SELECT sku, location_id, available FROM positions WHERE {named}", params, _all_rows)


def _all_rows(cur: Any) -> list[tuple[str, int, int]]:
    return [tuple(row) for row in cur.fetchall()]


def available_by_location(conn: Connection, skus: Sequence[str]) -> dict[str, dict[str, int]]:
    """sku -> location code -> available, for active locations with available > 0."""
    p, loc = positions, locations
    out: dict[str, dict[str, int]] = {sku: {} for sku in skus}
    for chunk in chunks(skus):
        query = (
            sa.select(p.c.sku, loc.c.code, p.c.available)
            .join(loc, loc.c.id == p.c.location_id)
            .where(p.c.sku.in_(chunk), loc.c.active.is_(True), p.c.available > 0)
        )
        for sku, code, available in conn.execute(query):
            out[sku][code] = available
    return out


def sellable(conn: Connection, skus: Sequence[str] | None) -> dict[str, int]:
    """sku -> units available at active locations, summed (of ``skus`` only, when given)."""
    p, loc = positions, locations
    q = (
        sa.select(p.c.sku, sa.func.sum(p.c.available))
        .join(loc, loc.c.id == p.c.location_id)
        .where(loc.c.active.is_(True))
        .group_by(p.c.sku)
    )
    parts = [None] if skus is None else list(chunks(skus, 500))
    out: dict[str, int] = {}
    for part in parts:
        stmt = q if part is None else q.where(p.c.sku.in_(list(part)))
        out |= {sku: int(units) for sku, units in conn.execute(stmt).tuples()}
    return out


def positions_page(
    conn: Connection,
    *,
    sku: str | None = None,
    location: str | None = None,
    country: str | None = None,
    locations_in: Sequence[str] | None = None,
    min_available: int | None = None,
    limit: int = 100,
    offset: int = 0,
    countries: frozenset[str] | None = None,
) -> tuple[list[Position], int]:
    """A page of positions by (sku, location code), and the total matching the filters (``country`` upper case;
    ``countries``: only locations in them)."""
    p, loc = positions, locations
    query = sa.select(p, loc.c.code.label("location"), loc.c.country).join(loc, loc.c.id == p.c.location_id)
    if countries is not None:
        query = query.where(loc.c.country.in_(sorted(countries)))
    if sku:
        query = query.where(p.c.sku == sku)
    if location:
        query = query.where(loc.c.code == location)
    if country:
        query = query.where(loc.c.country == country)
    if locations_in is not None:
        query = query.where(loc.c.code.in_(locations_in))
    if min_available is not None:
        query = query.where(p.c.available >= min_available)
    total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.order_by(p.c.sku, loc.c.code).limit(limit).offset(offset))
    return [_position(r) for r in rows], int(total)


def _position(r: Any) -> Position:
    return Position(
        r.sku,
        r.on_hand,
        r.available,
        r.committed,
        r.reserved,
        r.safety_stock,
        r.damaged,
        r.quality_control,
        r.incoming,
        r.updated_at,
        r.location,
        r.country,
    )


def positions_moved(conn: Connection, first_seq: int, last_seq: int) -> list[MovedPosition]:
    """The positions (as they are now) of every (sku, location) the ledger rows ``first_seq``..``last_seq``
    moved: a range of the ledger's primary key joined to the positions' one, on the driver's cursor."""
    ph = placeholder(conn)
    cur = dbapi_cursor(conn)
    cur.execute(
        "SELECT p.sku, l.code, p.on_hand, p.available, p.incoming FROM positions p"
        " JOIN (SELECT DISTINCT sku, location_id FROM movements"
        f" WHERE seq >= {ph} AND seq <= {ph}) m ON m.sku = p.sku AND m.location_id = p.location_id"
        " JOIN locations l ON l.id = p.location_id",
        (first_seq, last_seq),
    )
    return [MovedPosition(*row) for row in cur.fetchall()]
