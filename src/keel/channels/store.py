"""The channel registry table and every query on it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.channels.model import Channel, CreateChannel, parse_policy
from keel.platform.db import JsonType, Later, Timestamp, from_micros, json_column, metadata, placeholder, send

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("countries", JsonType, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("policy", JsonType, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)


def _channel(row: sa.Row[Any]) -> Channel:
    policy, _ = parse_policy(row.policy, list(row.countries))  # stored documents were validated on write
    return Channel(
        row.id,
        row.code,
        row.name,
        row.kind,
        tuple(row.countries),
        row.currency,
        policy,
        row.active,
        row.created_at,
        row.updated_at,
    )


def get_channel(conn: Connection, code: str) -> Channel | None:
    """The channel with ``code``, or None."""
    row = conn.execute(sa.select(channels).where(channels.c.code == code)).first()
    return None if row is None else _channel(row)


_COLUMNS = [c.name for c in channels.c]


def find_channel(conn: Connection, code: str) -> Later[Channel | None]:
    """``get_channel`` on the driver's cursor, sent now (see ``Later``): order capture reads its channel for
    every order, with the rest it needs."""
    sql = f"SELECT {', '.join(_COLUMNS)} FROM channels WHERE code = {placeholder(conn)}"
    return send(conn, sql, (code,), lambda cur: _channel_row(cur.fetchone()))


def _channel_row(found: Any) -> Channel | None:
    if found is None:
        return None
    row = dict(zip(_COLUMNS, found, strict=True))
    countries = list(json_column(row["countries"]))
    policy, _ = parse_policy(json_column(row["policy"]), countries)  # stored documents were validated on write
    return Channel(
        row["id"],
        row["code"],
        row["name"],
        row["kind"],
        tuple(countries),
        row["currency"],
        policy,
        bool(row["active"]),
        from_micros(row["created_at"]),
        from_micros(row["updated_at"]),
    )


def channel_exists(conn: Connection, code: str) -> bool:
    """Whether a channel (active or not) has ``code``."""
    return conn.execute(sa.select(channels.c.id).where(channels.c.code == code)).first() is not None


def insert_channel(conn: Connection, channel: CreateChannel, now: datetime) -> None:
    """Store a new, validated channel as active (``channel.policy`` is the policy document)."""
    conn.execute(
        channels.insert().values(
            code=channel.code,
            name=channel.name,
            kind=channel.kind,
            countries=list(channel.countries),
            currency=channel.currency,
            policy=dict(channel.policy),
            active=True,
            created_at=now,
            updated_at=now,
        )
    )


def update_channel(conn: Connection, channel: CreateChannel, active: bool, now: datetime) -> None:
    """Replace every field but the code of the channel ``channel.code``."""
    conn.execute(
        channels.update()
        .where(channels.c.code == channel.code)
        .values(
            name=channel.name,
            kind=channel.kind,
            countries=list(channel.countries),
            currency=channel.currency,
            policy=dict(channel.policy),
            active=active,
            updated_at=now,
        )
    )


def list_channels(
    conn: Connection, *, kind: str | None = None, active: bool | None = None, codes: frozenset[str] | None = None
) -> list[Channel]:
    """Channels by code, optionally of one kind and/or activity, and only ``codes`` when given."""
    query = sa.select(channels).order_by(channels.c.code)
    if codes is not None:
        query = query.where(channels.c.code.in_(sorted(codes)))
    if kind:
        query = query.where(channels.c.kind == kind)
    if active is not None:
        query = query.where(channels.c.active.is_(active))
    return [_channel(r) for r in conn.execute(query)]


def active_channels(conn: Connection) -> list[Channel]:
    """Active channels in id order (the order their listings are computed in)."""
    query = sa.select(channels).where(channels.c.active.is_(True)).order_by(channels.c.id)
    return [_channel(r) for r in conn.execute(query)]


def codes_by_id(conn: Connection) -> dict[int, str]:
    """id -> code of every channel, active or not."""
    return dict(conn.execute(sa.select(channels.c.id, channels.c.code)).all())
