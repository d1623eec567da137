"""Writes of the content and the price of the channels' listings in the desired state (``store.sync_items``):
each a new version of the rows whose value differs."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.channels.sync import store


def set_content(conn: Connection, rows: list[tuple[str, str, str]], changed_at: datetime) -> None:
    """Set the content value of every country's row of (channel, sku) that has a different one."""
    t = store.sync_items
    stmt = (
        t.update()
        .where(
            t.c.channel == sa.bindparam("b_channel"),
            t.c.sku == sa.bindparam("b_sku"),
            sa.or_(t.c.content.is_(None), t.c.content != sa.bindparam("b_content")),
        )
        .values(content=sa.bindparam("b_content"), version=t.c.version + 1, state=store.PENDING, changed_at=changed_at)
    )
    if rows:
        conn.execute(stmt, [{"b_channel": c, "b_sku": s, "b_content": v} for c, s, v in rows])


def set_price(conn: Connection, rows: list[tuple[str, str, str, str | None]], changed_at: datetime) -> None:
    """Set the price of (channel, country, sku) rows that hold a different one (None: no longer priced)."""
    t = store.sync_items
    # "" is never a price: comparing through it treats a missing price like any other value, on both databases
    differs = sa.func.coalesce(t.c.price, "") != sa.func.coalesce(sa.bindparam("b_price", type_=sa.String()), "")
    stmt = (
        t.update()
        .where(
            t.c.channel == sa.bindparam("b_channel"),
            t.c.country == sa.bindparam("b_country"),
            t.c.sku == sa.bindparam("b_sku"),
            differs,
        )
        .values(price=sa.bindparam("b_price"), version=t.c.version + 1, state=store.PENDING, changed_at=changed_at)
    )
    if rows:
        conn.execute(stmt, [{"b_channel": ch, "b_country": c, "b_sku": s, "b_price": p} for ch, c, s, p in rows])
