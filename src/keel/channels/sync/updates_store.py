"""The outbox of order updates owed to channels (shipments, cancellations, refunds) and every query on it.

One row per update, keyed by (channel, key): the key names the update once (``shipped:<order>:<shipment>``,
``cancelled:<order>:<event>``, ...), so an event read twice queues it once. ``state`` is pending, sent or
dead, with attempts, the next attempt's time and the last error, as for quantities.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.channels.sync.model import OrderUpdate, OrderUpdateRecord
from keel.platform.clock import as_utc
from keel.platform.db import JsonType, Timestamp, metadata, upsert_insert

PENDING, SENT, DEAD = "pending", "sent", "dead"
STATES = (PENDING, SENT, DEAD)

sync_order_updates = sa.Table(
    "sync_order_updates",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("external_id", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(12), nullable=False),  # shipped, cancelled, refunded
    sa.Column("lines", JsonType, nullable=False),  # [[sku, quantity], ...]
    sa.Column("carrier", sa.String(100), nullable=True),
    sa.Column("tracking", sa.String(100), nullable=True),
    sa.Column("amount", sa.String(30), nullable=True),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("due_at", Timestamp, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp, nullable=True),
    sa.Index(None, "channel", "state", "due_at"),
)


def queue(conn: Connection, rows: Sequence[tuple[str, OrderUpdate]], now: datetime) -> None:
    """Queue (channel, update) rows; an update already queued (same channel and key) is left as it is."""
    if not rows:
        return
    t = sync_order_updates
    stmt = upsert_insert(conn, t).on_conflict_do_nothing(index_elements=["channel", "key"])
    conn.execute(
        stmt,
        [
            {
                "channel": channel,
                "key": u.key,
                "external_id": u.external_id,
                "kind": u.kind,
                "lines": [list(line) for line in u.lines],
                "carrier": u.carrier,
                "tracking": u.tracking,
                "amount": u.amount,
                "state": PENDING,
                "attempts": 0,
                "due_at": now,
                "created_at": now,
            }
            for channel, u in rows
        ],
    )


def due(conn: Connection, channel: str, now: datetime, limit: int) -> list[tuple[OrderUpdate, int]]:
    """Updates owed to ``channel`` whose time has come, oldest first, with their attempts so far."""
    t = sync_order_updates
    q = (
        sa.select(t)
        .where(t.c.channel == channel, t.c.state == PENDING, t.c.due_at <= now)
        .order_by(t.c.due_at, t.c.key)
        .limit(limit)
    )
    return [(_update(r), r.attempts) for r in conn.execute(q)]


def listing(
    conn: Connection, channel: str, state: str | None, limit: int, offset: int
) -> tuple[list[OrderUpdateRecord], int]:
    """A page of the channel's order updates (of ``state``, or all), newest first, and how many there are."""
    t = sync_order_updates
    where = [t.c.channel == channel] + ([t.c.state == state] if state is not None else [])
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
    q = sa.select(t).where(*where).order_by(t.c.created_at.desc(), t.c.key).limit(limit).offset(offset)
    rows = [
        OrderUpdateRecord(
            _update(r),
            r.state,
            r.attempts,
            as_utc(r.due_at),
            r.last_error,
            as_utc(r.created_at),
            None if r.sent_at is None else as_utc(r.sent_at),
        )
        for r in conn.execute(q)
    ]
    return rows, int(total)


def _update(r: sa.Row[Any]) -> OrderUpdate:
    lines = tuple((str(sku), int(q)) for sku, q in r.lines)
    return OrderUpdate(r.external_id, r.kind, lines, r.key, r.carrier, r.tracking, r.amount)


def outcome(conn: Connection, channel: str, rows: Sequence[tuple[str, str, int, datetime, str | None]]) -> None:
    """Record (key, state, attempts, due_at, error) of updates after a request; sent ones get their time."""
    t = sync_order_updates
    stmt = (
        t.update()
        .where(t.c.channel == channel, t.c.key == sa.bindparam("b_key"))
        .values(
            state=sa.bindparam("b_state"),
            attempts=sa.bindparam("b_attempts"),
            due_at=sa.bindparam("b_due"),
            last_error=sa.bindparam("b_error"),
            sent_at=sa.case((sa.bindparam("b_state") == SENT, sa.bindparam("b_due")), else_=t.c.sent_at),
        )
    )
    if rows:
        conn.execute(
            stmt,
            [{"b_key": k, "b_state": s, "b_attempts": a, "b_due": d, "b_error": e} for k, s, a, d, e in rows],
        )


def counts(conn: Connection) -> dict[str, dict[str, int]]:
    """channel -> state -> updates."""
    t = sync_order_updates
    out: dict[str, dict[str, int]] = {}
    q = sa.select(t.c.channel, t.c.state, sa.func.count()).group_by(t.c.channel, t.c.state)
    for channel, state, n in conn.execute(q).tuples():
        out.setdefault(channel, {})[state] = int(n)
    return out


def retry_dead(conn: Connection, channel: str, now: datetime) -> int:
    """Give the channel's dead order updates another round of attempts; how many."""
    t = sync_order_updates
    q = t.update().where(t.c.channel == channel, t.c.state == DEAD)
    return int(conn.execute(q.values(state=PENDING, attempts=0, due_at=now, last_error=None)).rowcount)
