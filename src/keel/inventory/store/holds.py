"""The reservations and cycle-counts port: the records behind holds and counts (their stock effects go
through the ledger and positions ports)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.inventory.model import Reservation, StoredCount
from keel.inventory.store.tables import cycle_counts, locations, reservations
from keel.platform.db import locks_rows


def insert_reservation(
    conn: Connection,
    rid: str,
    sku: str,
    location_id: int,
    quantity: int,
    reference: str | None,
    expires_at: datetime,
    now: datetime,
) -> None:
    """Store a new active hold."""
    conn.execute(
        reservations.insert().values(
            id=rid,
            sku=sku,
            location_id=location_id,
            quantity=quantity,
            status="active",
            reference=reference,
            expires_at=expires_at,
            created_at=now,
        )
    )


def get_reservation(conn: Connection, rid: str, *, lock: bool = False) -> Reservation | None:
    """The hold ``rid``, or None; with ``lock`` its row stays locked for the transaction (where rows lock)."""
    r, loc = reservations, locations
    query = sa.select(r, loc.c.code.label("location")).join(loc, loc.c.id == r.c.location_id).where(r.c.id == rid)
    if lock and locks_rows(conn):
        query = query.with_for_update(of=r)
    row = conn.execute(query).first()
    if row is None:
        return None
    return Reservation(
        row.id,
        row.sku,
        row.location_id,
        row.quantity,
        row.status,
        row.reference,
        row.expires_at,
        row.created_at,
        row.closed_at,
        row.location,
    )


def close_reservation(conn: Connection, rid: str, status: str, now: datetime) -> None:
    """Mark the hold ``rid`` closed with ``status`` at ``now``."""
    conn.execute(reservations.update().where(reservations.c.id == rid).values(status=status, closed_at=now))


def due_reservations(conn: Connection, now: datetime, limit: int) -> list[str]:
    """Ids of active holds expired at ``now``, the oldest expiry first, at most ``limit``."""
    r = reservations
    query = sa.select(r.c.id).where(r.c.status == "active", r.c.expires_at <= now).order_by(r.c.expires_at).limit(limit)
    return list(conn.execute(query).scalars())


def get_count(conn: Connection, cid: str) -> StoredCount | None:
    """The cycle count ``cid``, or None."""
    row = conn.execute(sa.select(cycle_counts).where(cycle_counts.c.id == cid)).first()
    if row is None:
        return None
    return StoredCount(row.id, row.sku, row.location_id, row.book, row.counted, row.variance, row.counted_at)


def insert_count(conn: Connection, count: StoredCount) -> None:
    """Store a new cycle count."""
    conn.execute(
        cycle_counts.insert().values(
            id=count.id,
            sku=count.sku,
            location_id=count.location_id,
            book=count.book,
            counted=count.counted,
            variance=count.variance,
            counted_at=count.counted_at,
        )
    )


def latest_counts(
    conn: Connection, location: str | None = None, countries: frozenset[str] | None = None
) -> list[tuple[str, int, int]]:
    """(location code, book, counted) of the latest count of each counted position (of ``location``; at
    locations in ``countries`` when given)."""
    c, loc = cycle_counts, locations
    ranked = sa.select(
        c.c.location_id,
        c.c.book,
        c.c.counted,
        sa.func.row_number()
        .over(partition_by=(c.c.sku, c.c.location_id), order_by=(c.c.counted_at.desc(), c.c.id.desc()))
        .label("rn"),
    ).subquery()
    query = (
        sa.select(loc.c.code, ranked.c.book, ranked.c.counted)
        .join(loc, loc.c.id == ranked.c.location_id)
        .where(ranked.c.rn == 1)
    )
    if location:
        query = query.where(loc.c.code == location)
    if countries is not None:
        query = query.where(loc.c.country.in_(sorted(countries)))
    return [(code, book, counted) for code, book, counted in conn.execute(query)]
