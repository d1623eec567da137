"""The channel availability port: what each channel was last told per (country, SKU)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from keel.platform.bulk import chunks
from keel.platform.db import dbapi_cursor, placeholder

# (channel_id, country, sku, quantity, backorder, updated_at micros)
ListedRow = tuple[int, str, str, int, bool, int]


def listed_snapshot(conn: Connection) -> dict[str, dict[tuple[int, str], tuple[int, bool]]]:
    """sku -> (channel_id, country) -> (quantity, backorder) of every listing (the whole table)."""
    cur = dbapi_cursor(conn)
    cur.execute("SELECT channel_id, country, sku, quantity, backorder FROM channel_availability")
    listed: dict[str, dict[tuple[int, str], tuple[int, bool]]] = {}
    for ch, country, sku, qty, backorder in cur.fetchall():
        listed.setdefault(sku, {})[(ch, country)] = (qty, bool(backorder))
    return listed


def listed_of_channel(conn: Connection, channel_id: int) -> list[tuple[str, str, int]]:
    """(country, sku, quantity) of every listing of one channel (a sync engine seeding a channel)."""
    cur = dbapi_cursor(conn)
    cur.execute(
        f"SELECT country, sku, quantity FROM channel_availability WHERE channel_id = {placeholder(conn)}",
        (channel_id,),
    )
    return [(country, sku, int(qty)) for country, sku, qty in cur.fetchall()]


def save_listed(conn: Connection, rows: Sequence[tuple[int, str, str, int, bool]], now_us: int) -> None:
    """Insert or replace (channel_id, country, sku, quantity, backorder) listings."""
    ph = placeholder(conn)
    dbapi_cursor(conn).executemany(
        "INSERT INTO channel_availability (channel_id, country, sku, quantity, backorder, updated_at) "
        f"VALUES ({ph}, {ph}, {ph}, {ph}, {ph}, {ph}) ON CONFLICT (channel_id, country, sku) DO UPDATE SET "
        "quantity = excluded.quantity, backorder = excluded.backorder, updated_at = excluded.updated_at",
        [(*row, now_us) for row in rows],
    )


def listed_for_skus(
    cur: Any,
    skus: Sequence[str],
    channel_id: int | None = None,
    country: str | None = None,
    channel_ids: Sequence[int] | None = None,
    countries: Sequence[str] | None = None,
) -> list[ListedRow]:
    """The listings of ``skus`` (optionally of one channel id and/or country), in no particular order: the
    service orders them by channel code, which this context does not store.

    This is the hottest read in Keel: ``cur`` is a bare DBAPI cursor (``Database.raw_cursor``, no
    transaction round trips); one hand-written indexed query per 500 SKUs, because building the equivalent
    SQLAlchemy statement cost more than running it.
    """
    ph = placeholder(cur)
    extra, params = "", list[int | str]()
    if channel_id is not None:
        extra += f" AND channel_id = {ph}"
        params.append(channel_id)
    if country:
        extra += f" AND country = {ph}"
        params.append(country)
    # the caller's restrictions (None: every channel or country; empty: nothing)
    for column, allowed in (("channel_id", channel_ids), ("country", countries)):
        if allowed is not None:
            if not allowed:
                return []
            extra += f" AND {column} IN ({', '.join([ph] * len(allowed))})"
            params.extend(allowed)
    out: list[ListedRow] = []
    for chunk in chunks(skus):
        cur.execute(
            "SELECT channel_id, country, sku, quantity, backorder, updated_at FROM channel_availability "
            f"WHERE sku IN ({', '.join([ph] * len(chunk))}){extra}",
            (*chunk, *params),
        )
        out.extend(cur.fetchall())
    return out
