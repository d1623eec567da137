"""Each variant's listing per channel."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.catalog.store.tables import listings


@dataclass(frozen=True)
class StoredListing:
    channel: str
    sku: str
    product: str
    state: str
    reasons: list[list[str]]
    payload: dict[str, Any]
    revision: int
    updated_at: datetime


def _listing(row: Any) -> StoredListing:
    return StoredListing(
        row.channel, row.sku, row.product, row.state, row.reasons, row.payload, row.revision, row.updated_at
    )


def listings_of(
    conn: Connection, products: Sequence[str], channel: str | None = None
) -> dict[tuple[str, str], StoredListing]:
    """The stored listings of ``products`` (on one channel when given), by (channel, sku)."""
    found: dict[tuple[str, str], StoredListing] = {}
    ordered = sorted(set(products))
    for start in range(0, len(ordered), 1000):
        query = sa.select(listings).where(listings.c.product.in_(ordered[start : start + 1000]))
        if channel is not None:
            query = query.where(listings.c.channel == channel)
        found.update(((row.channel, row.sku), _listing(row)) for row in conn.execute(query))
    return found


def save_listings(conn: Connection, rows: Sequence[StoredListing], gone: Sequence[tuple[str, str]]) -> None:
    """Replace the listings of ``rows``' (channel, sku) and delete those of ``gone``."""
    keys = [(r.channel, r.sku) for r in rows] + list(gone)
    t = listings
    stmt = t.delete().where(t.c.channel == sa.bindparam("b_channel"), t.c.sku == sa.bindparam("b_sku"))
    for start in range(0, len(keys), 1000):
        conn.execute(stmt, [{"b_channel": c, "b_sku": s} for c, s in keys[start : start + 1000]])
    if rows:
        conn.execute(
            t.insert(),
            [
                {
                    "channel": r.channel,
                    "sku": r.sku,
                    "product": r.product,
                    "state": r.state,
                    "reasons": r.reasons,
                    "payload": r.payload,
                    "revision": r.revision,
                    "updated_at": r.updated_at,
                }
                for r in rows
            ],
        )


def listings_page(
    conn: Connection,
    channel: str | None,
    state: str | None,
    limit: int,
    offset: int,
    channels: frozenset[str] | None = None,
) -> tuple[list[StoredListing], int]:
    """A page of listings by channel then SKU, filtered by channel and state (and to ``channels`` when given:
    a restricted caller's), and how many match."""
    where = [
        c
        for c in (
            listings.c.channel == channel if channel else None,
            listings.c.state == state if state else None,
            listings.c.channel.in_(sorted(channels)) if channels is not None else None,
        )
        if c is not None
    ]
    total = int(conn.execute(sa.select(sa.func.count()).select_from(listings).where(*where)).scalar_one())
    query = sa.select(listings).where(*where).order_by(listings.c.channel, listings.c.sku).limit(limit).offset(offset)
    return [_listing(r) for r in conn.execute(query)], total


def state_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Listings per channel and state."""
    t = listings
    rows = conn.execute(sa.select(t.c.channel, t.c.state, sa.func.count()).group_by(t.c.channel, t.c.state))
    out: dict[str, dict[str, int]] = {}
    for channel, state, n in rows:
        out.setdefault(channel, {})[state] = int(n)
    return out


def blocked_reasons(conn: Connection, channel: str, limit: int = 100_000) -> Iterator[list[list[str]]]:
    """The reasons of a channel's blocked listings (at most ``limit``), to count the top ones."""
    t = listings
    query = sa.select(t.c.reasons).where(t.c.channel == channel, t.c.state == "blocked").limit(limit)
    for row in conn.execute(query):
        yield row.reasons


def channel_listings(conn: Connection, channel: str, after: str, limit: int) -> list[StoredListing]:
    """Up to ``limit`` listings of ``channel`` with a SKU after ``after``, by SKU (keyset pages: a feed reads
    a channel of any size a page at a time)."""
    t = listings
    query = sa.select(t).where(t.c.channel == channel, t.c.sku > after).order_by(t.c.sku).limit(limit)
    return [_listing(r) for r in conn.execute(query)]


def channel_listing_count(conn: Connection, channel: str) -> int:
    t = listings
    return int(conn.execute(sa.select(sa.func.count()).where(t.c.channel == channel)).scalar_one())
