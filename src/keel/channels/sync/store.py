"""The sync engine's tables and every query on them.

``sync_items`` holds one row per (channel, country, SKU): the desired value with its ``version`` and the
version the channel last accepted; ``state`` says whether a push is owed (pending), done (synced) or given up
(dead). ``sync_channels`` holds each channel's connector configuration, pause flag, channel-level backoff and
the worker that owns it (a lease); ``sync_workers`` the live workers; ``sync_pushes`` one row per request sent,
for lag, error rate and the pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.platform.db import BigId, JsonType, Timestamp, metadata, upsert_insert

PENDING, SYNCED, DEAD = "pending", "synced", "dead"

sync_channels = sa.Table(
    "sync_channels",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("connector", sa.String(20), nullable=False),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("settings", JsonType, nullable=False),  # capabilities, max_attempts, timeout_s
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),  # consecutive whole-request failures
    sa.Column("not_before", Timestamp, nullable=True),  # channel-level backoff or the channel's Retry-After
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("owner", sa.String(100), nullable=True),
    sa.Column("lease_until", Timestamp, nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("order_cursor", sa.String(500), nullable=True),  # where the next order download starts
)
sync_items = sa.Table(
    "sync_items",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("content", sa.String(100), nullable=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("pushed_version", sa.BigInteger, nullable=False),
    sa.Column("pushed_quantity", sa.Integer, nullable=True),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("due_at", Timestamp, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("changed_at", Timestamp, nullable=False),  # when the newest version's change was committed
    sa.Column("pushed_at", Timestamp, nullable=True),
    sa.Column("price", sa.String(30), nullable=True),  # the pricing engine's price, as a decimal string
    sa.Index(None, "channel", "state", "due_at"),
)
sync_workers = sa.Table(
    "sync_workers",
    metadata,
    sa.Column("worker", sa.String(100), primary_key=True),
    sa.Column("seen_at", Timestamp, nullable=False),
)
sync_pushes = sa.Table(
    "sync_pushes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("items", sa.Integer, nullable=False),
    sa.Column("accepted", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("lags_ms", JsonType, nullable=False),  # accepted items: change committed -> accepted
    sa.Index(None, "at"),  # the status reads the last 15 minutes of every channel; pruning drops the oldest
)


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    connector: str
    url: str
    secret: str
    settings: dict[str, Any]
    paused: bool
    failures: int
    not_before: datetime | None
    last_error: str | None
    owner: str | None
    lease_until: datetime | None
    updated_at: datetime
    order_cursor: str | None = None


@dataclass(frozen=True)
class ItemRow:
    channel: str
    country: str
    sku: str
    quantity: int
    content: str | None
    version: int
    pushed_version: int
    pushed_quantity: int | None
    state: str
    attempts: int
    due_at: datetime
    last_error: str | None
    changed_at: datetime
    pushed_at: datetime | None
    price: str | None = None


@dataclass(frozen=True)
class PushRow:
    channel: str
    at: datetime
    items: int
    accepted: int
    rejected: int
    error: str | None
    lags_ms: list[int]


def _channel(r: Any) -> ChannelRow:
    return ChannelRow(*(getattr(r, c.name) for c in sync_channels.c))


def _item(r: Any) -> ItemRow:
    return ItemRow(*(getattr(r, c.name) for c in sync_items.c))


# -- channels -----------------------------------------------------------------------------------------------


def channel_rows(conn: Connection, channel: str | None = None) -> list[ChannelRow]:
    q = sa.select(sync_channels).order_by(sync_channels.c.channel)
    if channel is not None:
        q = q.where(sync_channels.c.channel == channel)
    return [_channel(r) for r in conn.execute(q)]


def save_channel(
    conn: Connection, channel: str, connector: str, url: str, secret: str, settings: dict[str, Any], now: datetime
) -> bool:
    """Insert or replace a channel's connector configuration (keeping its pause flag and owner); False when
    nothing changed."""
    t = sync_channels
    old = conn.execute(
        sa.select(t.c.connector, t.c.url, t.c.secret, t.c.settings).where(t.c.channel == channel)
    ).first()
    if old is not None and tuple(old) == (connector, url, secret, settings):
        return False
    values = {"connector": connector, "url": url, "secret": secret, "settings": settings, "updated_at": now}
    if old is None:
        conn.execute(t.insert().values(channel=channel, paused=False, failures=0, **values))
    else:
        conn.execute(t.update().where(t.c.channel == channel).values(failures=0, not_before=None, **values))
    return True


def set_paused(conn: Connection, channel: str, paused: bool, now: datetime) -> bool:
    t = sync_channels
    done = conn.execute(
        t.update().where(t.c.channel == channel, t.c.paused != paused).values(paused=paused, updated_at=now)
    )
    return done.rowcount > 0


def channel_outcome(
    conn: Connection, channel: str, failures: int, not_before: datetime | None, error: str | None
) -> None:
    """Record a request's outcome on the channel: consecutive failures, backoff and the last error."""
    t = sync_channels
    conn.execute(
        t.update().where(t.c.channel == channel).values(failures=failures, not_before=not_before, last_error=error)
    )


def set_order_cursor(conn: Connection, channel: str, cursor: str) -> None:
    t = sync_channels
    conn.execute(t.update().where(t.c.channel == channel).values(order_cursor=cursor))


# -- ownership ----------------------------------------------------------------------------------------------


def heartbeat(conn: Connection, worker: str, now: datetime, forget_before: datetime) -> None:
    """Mark ``worker`` alive, and forget workers not seen since ``forget_before`` (crashed ones linger)."""
    stmt = upsert_insert(conn, sync_workers).values(worker=worker, seen_at=now)
    conn.execute(stmt.on_conflict_do_update(index_elements=["worker"], set_={"seen_at": now}))
    conn.execute(sync_workers.delete().where(sync_workers.c.seen_at < forget_before))


def live_workers(conn: Connection, since: datetime) -> int:
    t = sync_workers
    return int(conn.execute(sa.select(sa.func.count()).where(t.c.seen_at >= since)).scalar_one())


def claim(conn: Connection, channels: Sequence[str], worker: str, now: datetime, until: datetime) -> None:
    """Take (or renew) ``channels`` for ``worker``, each unless another worker's lease on it still runs: one
    conditional update, so two workers never both hold a channel."""
    if not channels:
        return
    t = sync_channels
    free = sa.or_(t.c.owner == worker, t.c.owner.is_(None), t.c.lease_until < now)
    conn.execute(t.update().where(t.c.channel.in_(list(channels)), free).values(owner=worker, lease_until=until))


def owned_by(conn: Connection, worker: str, now: datetime) -> list[ChannelRow]:
    """The channels ``worker`` holds a running lease on."""
    t = sync_channels
    q = sa.select(t).where(t.c.owner == worker, t.c.lease_until >= now).order_by(t.c.channel)
    return [_channel(r) for r in conn.execute(q)]


def release(conn: Connection, worker: str, channels: Sequence[str] | None = None) -> None:
    t = sync_channels
    q = t.update().where(t.c.owner == worker)
    if channels is not None:
        q = q.where(t.c.channel.in_(list(channels)))
    conn.execute(q.values(owner=None, lease_until=None))


# -- items --------------------------------------------------------------------------------------------------


def desire(conn: Connection, rows: Sequence[tuple[str, str, str, int, datetime]]) -> int:
    """Set the desired quantity of (channel, country, sku, quantity, changed_at) rows: a new row, or a new
    version of a row whose quantity differs (the same quantity again changes nothing). A new version revives
    a dead row."""
    if not rows:
        return 0
    t = sync_items
    stmt = upsert_insert(conn, t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["channel", "country", "sku"],
        set_={
            "quantity": stmt.excluded.quantity,
            "version": t.c.version + 1,
            "state": PENDING,
            "attempts": sa.case((t.c.state == DEAD, 0), else_=t.c.attempts),
            "due_at": sa.case((t.c.state == DEAD, stmt.excluded.due_at), else_=t.c.due_at),
            "changed_at": stmt.excluded.changed_at,
        },
        where=t.c.quantity != stmt.excluded.quantity,
    )
    params = [
        {
            "channel": ch,
            "country": country,
            "sku": sku,
            "quantity": qty,
            "version": 1,
            "pushed_version": 0,
            "state": PENDING,
            "attempts": 0,
            "due_at": changed_at,
            "changed_at": changed_at,
        }
        for ch, country, sku, qty, changed_at in rows
    ]
    conn.execute(stmt, params)
    return len(params)


def due(conn: Connection, channel: str, now: datetime, limit: int) -> list[ItemRow]:
    t = sync_items
    q = (
        sa.select(t)
        .where(t.c.channel == channel, t.c.state == PENDING, t.c.due_at <= now)
        .order_by(t.c.due_at)
        .limit(limit)
    )
    return [_item(r) for r in conn.execute(q)]


def pushed(conn: Connection, channel: str, done: Sequence[tuple[str, str, int, int]], now: datetime) -> None:
    """Record accepted (country, sku, version, quantity) values: the row is synced unless a newer version
    arrived meanwhile; a version at or below the recorded one changes nothing (an older value never counts
    over a newer)."""
    t = sync_items
    v: sa.BindParameter[int] = sa.bindparam("b_version")
    stmt = (
        t.update()
        .where(t.c.channel == channel, t.c.country == sa.bindparam("b_country"), t.c.sku == sa.bindparam("b_sku"))
        .where(t.c.pushed_version < v)
        .values(
            pushed_version=v,
            pushed_quantity=sa.bindparam("b_quantity"),
            state=sa.case((t.c.version > v, PENDING), else_=SYNCED),
            attempts=0,
            last_error=None,
            pushed_at=now,
        )
    )
    if done:
        conn.execute(stmt, [{"b_country": c, "b_sku": s, "b_version": ver, "b_quantity": q} for c, s, ver, q in done])


def failed(conn: Connection, channel: str, rows: Sequence[tuple[str, str, int, str, datetime, str]]) -> None:
    """Record failed (country, sku, attempts, state, due_at, error) items."""
    t = sync_items
    stmt = (
        t.update()
        .where(t.c.channel == channel, t.c.country == sa.bindparam("b_country"), t.c.sku == sa.bindparam("b_sku"))
        .values(
            attempts=sa.bindparam("b_attempts"),
            state=sa.bindparam("b_state"),
            due_at=sa.bindparam("b_due"),
            last_error=sa.bindparam("b_error"),
        )
    )
    if rows:
        conn.execute(
            stmt,
            [
                {"b_country": c, "b_sku": s, "b_attempts": a, "b_state": st, "b_due": d, "b_error": e}
                for c, s, a, st, d, e in rows
            ],
        )


def resync(conn: Connection, channel: str, now: datetime, dead_only: bool = False) -> int:
    """Owe the channel every row again (or only its dead ones): pending, due now, attempts reset."""
    t = sync_items
    q = t.update().where(t.c.channel == channel)
    q = q.where(t.c.state == DEAD) if dead_only else q.values(pushed_version=0)
    return int(conn.execute(q.values(state=PENDING, attempts=0, due_at=now, last_error=None)).rowcount)


def items(
    conn: Connection, channel: str, state: str | None, after: tuple[str, str] | None, limit: int
) -> list[ItemRow]:
    """A page of a channel's rows in (sku, country) order, after the key ``after``."""
    t = sync_items
    q = sa.select(t).where(t.c.channel == channel)
    if state is not None:
        q = q.where(t.c.state == state)
    if after is not None:
        q = q.where(sa.tuple_(t.c.sku, t.c.country) > sa.tuple_(sa.literal(after[0]), sa.literal(after[1])))
    return [_item(r) for r in conn.execute(q.order_by(t.c.sku, t.c.country).limit(limit))]


def counts(conn: Connection) -> dict[str, dict[str, int]]:
    """channel -> state -> rows."""
    t = sync_items
    out: dict[str, dict[str, int]] = {}
    for channel, state, n in conn.execute(
        sa.select(t.c.channel, t.c.state, sa.func.count()).group_by(t.c.channel, t.c.state)
    ):
        out.setdefault(channel, {})[state] = n
    return out


def oldest_pending(conn: Connection) -> dict[str, datetime]:
    t = sync_items
    q = sa.select(t.c.channel, sa.func.min(t.c.changed_at)).where(t.c.state == PENDING).group_by(t.c.channel)
    return dict(list(conn.execute(q).tuples()))  # a result has keys(): dict() would take it for a mapping


# -- requests -----------------------------------------------------------------------------------------------


def log_push(conn: Connection, row: PushRow) -> None:
    conn.execute(sync_pushes.insert().values(**row.__dict__))


def pushes_since(conn: Connection, since: datetime, channel: str | None = None) -> list[PushRow]:
    t = sync_pushes
    q = sa.select(t).where(t.c.at >= since)
    if channel is not None:
        q = q.where(t.c.channel == channel)
    return [
        PushRow(r.channel, r.at, r.items, r.accepted, r.rejected, r.error, list(r.lags_ms))
        for r in conn.execute(q.order_by(t.c.id))
    ]


def prune_pushes(conn: Connection, before: datetime) -> int:
    return int(conn.execute(sync_pushes.delete().where(sync_pushes.c.at < before)).rowcount)
