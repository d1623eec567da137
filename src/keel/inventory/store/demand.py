"""The demand-history port: the ledger summed per SKU x location x UTC day, and the positions of locations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.inventory.model import AVAILABLE_DELTA, DEMAND_SIGNS, ROUTED_SIGNS, DailyFlow, Position
from keel.inventory.store.positions import _position
from keel.inventory.store.tables import locations, movements, positions
from keel.platform.bulk import chunks

__all__ = ["daily_flows", "moved_since", "positions_at"]

DAY_US = 86_400 * 1_000_000
EPOCH = date(1970, 1, 1)


def _signed(signs: dict[int, int]) -> sa.ColumnElement[int]:
    m = movements
    return sa.func.sum(
        sa.case(*((m.c.kind == code, m.c.quantity * sign) for code, sign in sorted(signs.items()) if sign), else_=0)
    )


def daily_flows(
    conn: Connection, since: date, location_ids: Sequence[int], skus: Sequence[str] | None
) -> list[DailyFlow]:
    """Per (SKU, location, UTC day) from ``since`` on, at ``location_ids``: demand units (``DEMAND_SIGNS``) and
    the net change of available stock (``AVAILABLE_DELTA``), and of the demand what orders committed there
    (``ROUTED_SIGNS``). Only (sku, location, day)s with movements."""
    m, loc = movements, locations
    micros = sa.type_coerce(m.c.occurred_at, sa.BigInteger)  # the stored integer, not a datetime
    day = (micros // DAY_US).label("day")
    since_us = (since - EPOCH).days * DAY_US
    query = (
        sa.select(m.c.sku, loc.c.code, day, _signed(DEMAND_SIGNS), _signed(AVAILABLE_DELTA), _signed(ROUTED_SIGNS))
        .join(loc, loc.c.id == m.c.location_id)
        .where(micros >= since_us)
        .group_by(m.c.sku, loc.c.code, day)
    )
    out: list[DailyFlow] = []
    for ids in chunks(list(location_ids), 500):
        scoped = query.where(m.c.location_id.in_(list(ids)))
        for part in [None] if skus is None else chunks(list(skus), 500):
            stmt = scoped if part is None else scoped.where(m.c.sku.in_(list(part)))
            out += [
                DailyFlow(sku, code, EPOCH + timedelta(days=int(d)), int(units or 0), int(delta or 0), int(routed or 0))
                for sku, code, d, units, delta, routed in conn.execute(stmt).tuples()
            ]
    return out


def positions_at(conn: Connection, location_ids: Sequence[int], skus: Sequence[str] | None) -> list[Position]:
    """Every position at ``location_ids`` (of ``skus`` when given), by (sku, location code)."""
    p, loc = positions, locations
    query = sa.select(p, loc.c.code.label("location"), loc.c.country).join(loc, loc.c.id == p.c.location_id)
    out: list[Position] = []
    for ids in chunks(list(location_ids), 500):
        scoped = query.where(p.c.location_id.in_(list(ids)))
        for part in [None] if skus is None else chunks(list(skus), 500):
            stmt = scoped if part is None else scoped.where(p.c.sku.in_(list(part)))
            out += [_position(r) for r in conn.execute(stmt)]
    return sorted(out, key=lambda x: (x.sku, x.location))


def moved_since(conn: Connection, after_seq: int, location_ids: Sequence[int]) -> tuple[set[str], int]:
    """The SKUs with a movement at ``location_ids`` after ledger sequence ``after_seq`` (a range of the primary
    key, however long the ledger), and the last sequence now (``after_seq`` when nothing was appended)."""
    m = movements
    last = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(m.c.seq), after_seq))).scalar_one())
    moved: set[str] = set()
    if last > after_seq:
        for ids in chunks(list(location_ids), 500):
            query = sa.select(m.c.sku).where(m.c.seq > after_seq, m.c.seq <= last, m.c.location_id.in_(list(ids)))
            moved.update(conn.execute(query.distinct()).scalars())
    return moved, last
