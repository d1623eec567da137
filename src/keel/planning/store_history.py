"""Imported demand history (an ERP's daily sales before Keel kept the ledger) and every query on it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.platform.db import metadata, upsert_insert

planning_history = sa.Table(
    "planning_history",
    metadata,
    # the key leads with the location: every read names the locations of a run
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("units", sa.Integer, nullable=False),
    sa.Column("censored", sa.Boolean, nullable=False),  # out of stock or closed: not a measure of demand
)


class Day(NamedTuple):
    sku: str
    location: str
    day: date
    units: int
    censored: bool


CHUNK = 5_000  # rows per statement: well under SQLite's and PostgreSQL's parameter limits


def save_days(conn: Connection, rows: Sequence[Day]) -> int:
    """Insert or replace ``rows``; returns how many were new or differed from what was stored."""
    t = planning_history
    stored = {(r.sku, r.location, r.day): (r.units, r.censored) for r in _stored(conn, rows)}
    changed = [r for r in rows if stored.get((r.sku, r.location, r.day)) != (r.units, r.censored)]
    for start in range(0, len(changed), CHUNK):
        insert = upsert_insert(conn, t)
        statement = insert.on_conflict_do_update(
            index_elements=[t.c.location, t.c.sku, t.c.day],
            set_={"units": insert.excluded.units, "censored": insert.excluded.censored},
        )
        conn.execute(statement, [r._asdict() for r in changed[start : start + CHUNK]])
    return len(changed)


def _stored(conn: Connection, rows: Sequence[Day]) -> list[Day]:
    keys = sorted({(r.sku, r.location) for r in rows})
    if not keys:
        return []
    first, last = min(r.day for r in rows), max(r.day for r in rows)
    return days(conn, [k[1] for k in keys], [k[0] for k in keys], first, last)


def days(conn: Connection, locations: Sequence[str], skus: Sequence[str] | None, first: date, last: date) -> list[Day]:
    """The stored days of ``locations`` (and ``skus``, when given) from ``first`` to ``last``."""
    t = planning_history
    query = sa.select(t.c.sku, t.c.location, t.c.day, t.c.units, t.c.censored).where(
        t.c.location.in_(sorted(set(locations))), t.c.day >= first, t.c.day <= last
    )
    if skus is not None:
        query = query.where(t.c.sku.in_(sorted(set(skus))))
    return [Day(*row) for row in conn.execute(query)]


def summary(conn: Connection) -> tuple[int, int, date | None, date | None]:
    """(days stored, series, first day, last day)."""
    t = planning_history
    series = sa.select(t.c.sku, t.c.location).distinct().subquery()
    count, first, last = conn.execute(sa.select(sa.func.count(), sa.func.min(t.c.day), sa.func.max(t.c.day))).one()
    return int(count), int(conn.execute(sa.select(sa.func.count()).select_from(series)).scalar_one()), first, last
