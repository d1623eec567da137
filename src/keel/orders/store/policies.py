"""Queries on sourcing policy documents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.orders.store.tables import sourcing_policies
from keel.orders.views import StoredPolicy
from keel.platform.db import Later, any_of, from_micros, json_column, send, upsert_insert

p = sourcing_policies


def of_channels(conn: Connection, channels: Iterable[str]) -> Later[dict[str, StoredPolicy]]:
    """The stored documents of these channels (codes, or "*"), by channel; channels without one are absent.
    On the driver's cursor and sent now (see ``Later``): order capture asks for every order."""
    named, params = any_of(conn, "channel", sorted(set(channels)))
    return send(
        conn,
        f"SELECT channel, document, updated_at FROM sourcing_policies WHERE {named}",
        params,
        lambda cur: {c: StoredPolicy(c, json_column(doc), from_micros(at)) for c, doc, at in cur.fetchall()},
    )


def every(conn: Connection) -> list[StoredPolicy]:
    """Every stored document, ordered by channel code."""
    return [StoredPolicy(r.channel, r.document, r.updated_at) for r in conn.execute(sa.select(p).order_by(p.c.channel))]


def put(conn: Connection, channel: str, document: Any, now: datetime) -> None:
    """Save the channel's document, replacing the one it had."""
    stmt = upsert_insert(conn, p).values(channel=channel, document=document, updated_at=now)
    conn.execute(stmt.on_conflict_do_update(index_elements=["channel"], set_={"document": document, "updated_at": now}))


def delete(conn: Connection, channel: str) -> bool:
    """Drop the channel's document; whether it had one."""
    return bool(conn.execute(p.delete().where(p.c.channel == channel)).rowcount)
