"""The order facts of the synced channels (``sync_order_facts``) and every query on them.

One row per order captured from a configured channel: when it was placed, promised and due to ship, when it
first shipped (and whether every shipment's tracking was valid), was last delivered, first cancelled, first
had a defect. The sync context keeps these itself from order events (it never reads the orders' tables), so
the seller standards are range counts over one narrow table.

Each metric's window runs on a different time column, so each has its index ``(channel, column)``: the
status reads every metric of every channel as indexed range counts, never a scan of the channel's orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.channels.sync.standards import (
    CANCELLATION,
    LATE_SHIPMENT,
    ON_TIME_DELIVERY,
    ORDER_DEFECT,
    VALID_TRACKING,
    Facts,
    OrderMetric,
)
from keel.platform.db import Timestamp, metadata, upsert_insert

sync_order_facts = sa.Table(
    "sync_order_facts",
    metadata,
    sa.Column("order_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("external_id", sa.String(100), nullable=False),
    sa.Column("placed_at", Timestamp, nullable=False),
    sa.Column("promise_at", Timestamp, nullable=True),
    sa.Column("ship_by", Timestamp, nullable=False),
    sa.Column("shipped_at", Timestamp, nullable=True),
    sa.Column("tracking_valid", sa.Boolean, nullable=True),  # every shipment's tracking valid (None: none yet)
    sa.Column("delivered_at", Timestamp, nullable=True),
    sa.Column("cancelled_at", Timestamp, nullable=True),
    sa.Column("defect_at", Timestamp, nullable=True),
    sa.Index(None, "channel", "placed_at"),
    sa.Index(None, "channel", "ship_by"),
    sa.Index(None, "channel", "shipped_at"),
    sa.Index(None, "channel", "delivered_at"),
)


def _earliest(column: sa.Column[datetime], at: sa.BindParameter[datetime]) -> sa.Case[datetime]:
    return sa.case((sa.or_(column.is_(None), column > at), at), else_=column)


def apply(conn: Connection, facts: Facts) -> None:
    """Write a batch's facts, one statement per kind: new orders first (a batch may place and ship one), then
    the changes, each only to orders that have a row. Every write is idempotent: a placed order is inserted
    once, first times keep the earliest, the delivery the latest, validity only ever turns false."""
    t = sync_order_facts
    if facts.placed:
        stmt = upsert_insert(conn, t).on_conflict_do_nothing(index_elements=["order_id"])
        conn.execute(stmt, [p.__dict__ for p in facts.placed.values()])
    named = {*facts.shipped, *facts.delivered, *facts.cancelled, *facts.defects}
    if not named:
        return
    # most order events name orders of channels without a sync configuration: one read finds the orders with
    # a row, so the updates below touch only those
    known = set(conn.execute(sa.select(t.c.order_id).where(t.c.order_id.in_(sorted(named)))).scalars())
    facts = Facts(
        shipped={o: v for o, v in facts.shipped.items() if o in known},
        delivered={o: v for o, v in facts.delivered.items() if o in known},
        cancelled={o: v for o, v in facts.cancelled.items() if o in known},
        defects={o: v for o, v in facts.defects.items() if o in known},
    )
    at: sa.BindParameter[datetime] = sa.bindparam("b_at", type_=Timestamp)
    by_order = t.c.order_id == sa.bindparam("b_order")
    if facts.shipped:
        valid: sa.BindParameter[bool] = sa.bindparam("b_valid", type_=sa.Boolean)
        stmt = (
            t.update()
            .where(by_order)
            .values(
                shipped_at=_earliest(t.c.shipped_at, at),
                tracking_valid=sa.case((valid, sa.func.coalesce(t.c.tracking_valid, sa.true())), else_=sa.false()),
            )
        )
        conn.execute(stmt, [{"b_order": o, "b_at": a, "b_valid": v} for o, (a, v) in facts.shipped.items()])
    if facts.delivered:
        latest = sa.case((sa.or_(t.c.delivered_at.is_(None), t.c.delivered_at < at), at), else_=t.c.delivered_at)
        stmt = t.update().where(by_order).values(delivered_at=latest)
        conn.execute(stmt, [{"b_order": o, "b_at": a} for o, a in facts.delivered.items()])
    for column, rows in (("cancelled_at", facts.cancelled), ("defect_at", facts.defects)):
        if rows:
            stmt = t.update().where(by_order).values({column: _earliest(t.c[column], at)})
            conn.execute(stmt, [{"b_order": o, "b_at": a} for o, a in rows.items()])


def _counted(metric: str) -> tuple[sa.ColumnElement[bool] | None, sa.ColumnElement[bool]]:
    """(which orders in the window count, which of them are hits) of a metric, as SQL conditions."""
    t = sync_order_facts
    if metric == LATE_SHIPMENT:
        # an order cancelled before it shipped had nothing to ship late
        cancelled_first = sa.and_(
            t.c.cancelled_at.is_not(None), sa.or_(t.c.shipped_at.is_(None), t.c.cancelled_at < t.c.shipped_at)
        )
        return sa.not_(cancelled_first), sa.or_(t.c.shipped_at.is_(None), t.c.shipped_at > t.c.ship_by)
    if metric == VALID_TRACKING:
        return None, t.c.tracking_valid == sa.true()
    if metric == ON_TIME_DELIVERY:
        return t.c.promise_at.is_not(None), t.c.delivered_at <= t.c.promise_at
    return None, t.c[{CANCELLATION: "cancelled_at", ORDER_DEFECT: "defect_at"}[metric]].is_not(None)


def slices(
    conn: Connection, metric: OrderMetric, channels: Sequence[str], edges: Sequence[datetime]
) -> dict[str, tuple[list[int], list[int]]]:
    """channel -> (hits, orders) per slice between consecutive ``edges`` (oldest first) of ``metric``: one
    aggregate over the index ``(channel, <the metric's column>)``, the slices' edges passed as parameters."""
    if not channels:
        return {}
    t = sync_order_facts
    col = t.c[metric.column]
    counted, hit = _counted(metric.name)
    sums: list[sa.ColumnElement[int]] = []
    for lo, hi in pairwise(edges):
        inside = sa.and_(col >= lo, col < hi)
        sums.append(sa.func.sum(sa.case((inside, 1), else_=0)))
        sums.append(sa.func.sum(sa.case((sa.and_(inside, hit), 1), else_=0)))
    q = sa.select(t.c.channel, *sums).where(t.c.channel.in_(list(channels)), col >= edges[0], col < edges[-1])
    if counted is not None:
        q = q.where(counted)
    out: dict[str, tuple[list[int], list[int]]] = {}
    for row in conn.execute(q.group_by(t.c.channel)).tuples():
        figures = [int(v or 0) for v in row[1:]]
        out[str(row[0])] = (figures[1::2], figures[0::2])
    return out
