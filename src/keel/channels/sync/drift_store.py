"""The drift and health tables of the sync engine and every query on them.

``sync_drift`` holds one row per difference found between what Keel last pushed and what the channel shows,
with what was done about it; ``sync_drift_checks`` one row per check (when, how many values read, how many
differed, whether the read failed), for the pages' "last check"; ``sync_thresholds`` a channel's own health
thresholds (a channel without a row uses the defaults).

Differences live in a table of their own rather than as columns on ``sync_items``: a row can drift again and
again, and the history (when, from what, to what, what Keel did) is what an operator asks about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.channels.sync.store import PENDING, SYNCED, sync_items
from keel.platform.db import BigId, JsonType, Timestamp, metadata

sync_drift = sa.Table(
    "sync_drift",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("field", sa.String(20), nullable=False),
    sa.Column("keel_quantity", sa.Integer, nullable=True),  # what Keel last pushed
    sa.Column("channel_quantity", sa.Integer, nullable=True),  # None: the channel does not hold the listing
    sa.Column("found_at", Timestamp, nullable=False),
    sa.Column("action", sa.String(200), nullable=False),
    sa.Index(None, "channel", "id"),
)
sync_drift_checks = sa.Table(
    "sync_drift_checks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("checked", sa.Integer, nullable=False),  # values read back and compared
    sa.Column("differences", sa.Integer, nullable=False),
    sa.Column("corrected", sa.Integer, nullable=False),  # owed again (Keel's field)
    sa.Column("adopted", sa.Integer, nullable=False),  # taken from the channel (the channel's field)
    sa.Column("error", sa.Text, nullable=True),  # the read failed (the check stopped there)
    sa.Index(None, "channel", "id"),
)
sync_thresholds = sa.Table(
    "sync_thresholds",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("thresholds", JsonType, nullable=False),  # metric -> limit
    sa.Column("updated_at", Timestamp, nullable=False),
)


@dataclass(frozen=True)
class DriftRow:
    id: int
    channel: str
    country: str
    sku: str
    field: str
    keel_quantity: int | None
    channel_quantity: int | None
    found_at: datetime
    action: str


@dataclass(frozen=True)
class CheckRow:
    channel: str
    at: datetime
    checked: int
    differences: int
    corrected: int
    adopted: int
    error: str | None


def synced_page(
    conn: Connection, channel: str, after: tuple[str, str] | None, limit: int
) -> list[tuple[str, str, int, int]]:
    """(sku, country, pushed_quantity, version) of the channel's synced rows in (sku, country) order after
    ``after``: the values the channel should hold as Keel last pushed them."""
    t = sync_items
    q = sa.select(t.c.sku, t.c.country, t.c.pushed_quantity, t.c.version).where(
        t.c.channel == channel, t.c.state == SYNCED, t.c.pushed_quantity.is_not(None)
    )
    if after is not None:
        q = q.where(sa.tuple_(t.c.sku, t.c.country) > sa.tuple_(sa.literal(after[0]), sa.literal(after[1])))
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in conn.execute(q.order_by(t.c.sku, t.c.country).limit(limit))]


def owe_again(conn: Connection, channel: str, rows: Sequence[tuple[str, str, int]], now: datetime) -> int:
    """Owe (sku, country, version) rows again as a new version of the same value (a channel that drops a
    value it already holds at that version would otherwise ignore the push); a row changed since it was read
    is left alone (it is owed already, or holds a newer value)."""
    t = sync_items
    stmt = (
        t.update()
        .where(t.c.channel == channel, t.c.sku == sa.bindparam("b_sku"), t.c.country == sa.bindparam("b_country"))
        .where(t.c.version == sa.bindparam("b_version"), t.c.state == SYNCED)
        .values(version=t.c.version + 1, state=PENDING, attempts=0, due_at=now, last_error=None, changed_at=now)
    )
    if not rows:
        return 0
    done = conn.execute(stmt, [{"b_sku": s, "b_country": c, "b_version": v} for s, c, v in rows])
    return int(done.rowcount)


def adopt(conn: Connection, channel: str, rows: Sequence[tuple[str, str, int, int]], now: datetime) -> int:
    """Take the channel's quantity of (sku, country, version, quantity) rows as Keel's own: a field the
    channel owns is what the channel says, and nothing is pushed back."""
    t = sync_items
    q: sa.BindParameter[int] = sa.bindparam("b_quantity")
    stmt = (
        t.update()
        .where(t.c.channel == channel, t.c.sku == sa.bindparam("b_sku"), t.c.country == sa.bindparam("b_country"))
        .where(t.c.version == sa.bindparam("b_version"), t.c.state == SYNCED)
        .values(quantity=q, pushed_quantity=q, pushed_at=now)
    )
    if not rows:
        return 0
    done = conn.execute(stmt, [{"b_sku": s, "b_country": c, "b_version": v, "b_quantity": n} for s, c, v, n in rows])
    return int(done.rowcount)


def record(conn: Connection, drift: Sequence[DriftRow], check: CheckRow) -> None:
    if drift:
        conn.execute(sync_drift.insert(), [{k: v for k, v in d.__dict__.items() if k != "id"} for d in drift])
    conn.execute(sync_drift_checks.insert().values(**check.__dict__))


def drift_page(conn: Connection, channel: str, before: int | None, limit: int) -> list[DriftRow]:
    """A page of the channel's recorded differences, newest first, older than id ``before``."""
    t = sync_drift
    q = sa.select(t).where(t.c.channel == channel)
    if before is not None:
        q = q.where(t.c.id < before)
    return [DriftRow(*r) for r in conn.execute(q.order_by(t.c.id.desc()).limit(limit)).tuples()]


def last_checks(conn: Connection) -> dict[str, CheckRow]:
    """Each channel's latest drift check."""
    t = sync_drift_checks
    newest = sa.select(sa.func.max(t.c.id)).group_by(t.c.channel).scalar_subquery()
    q = sa.select(t.c.channel, t.c.at, t.c.checked, t.c.differences, t.c.corrected, t.c.adopted, t.c.error)
    return {r[0]: CheckRow(*r) for r in conn.execute(q.where(t.c.id.in_(newest))).tuples()}


def drift_totals(conn: Connection, since: datetime) -> dict[str, tuple[int, int, int]]:
    """channel -> (differences, corrected, adopted) found since ``since``."""
    t = sync_drift_checks
    q = (
        sa.select(t.c.channel, sa.func.sum(t.c.differences), sa.func.sum(t.c.corrected), sa.func.sum(t.c.adopted))
        .where(t.c.at >= since)
        .group_by(t.c.channel)
    )
    return {r[0]: (int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in conn.execute(q).tuples()}


def thresholds(conn: Connection) -> dict[str, dict[str, Any]]:
    return {r[0]: dict(r[1]) for r in conn.execute(sa.select(sync_thresholds.c.channel, sync_thresholds.c.thresholds))}


def save_thresholds(conn: Connection, channel: str, values: dict[str, float], now: datetime) -> None:
    t = sync_thresholds
    conn.execute(t.delete().where(t.c.channel == channel))
    if values:
        conn.execute(t.insert().values(channel=channel, thresholds=values, updated_at=now))


def prune(conn: Connection, before: datetime) -> int:
    """Forget checks and differences older than ``before``."""
    conn.execute(sync_drift.delete().where(sync_drift.c.found_at < before))
    done = conn.execute(sync_drift_checks.delete().where(sync_drift_checks.c.at < before))
    return int(done.rowcount)
