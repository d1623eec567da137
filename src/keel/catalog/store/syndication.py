"""Each variant's listing, stored once per listing group plus a channel's own rows, and read per channel.

A channel's listing of a SKU is its own row (``channel`` = the channel) when the product has one there, else
its group's row (``channel`` empty). ``by_channel`` is that rule as a query; the hot reads (a channel's feed
pages, the readiness counts) apply it per group instead, so they read each group's rows once, not once per
channel.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.catalog.store.bulk import append_rows
from keel.catalog.store.tables import listings, targets
from keel.platform.db import to_micros

SHARED = ""  # the channel column of a group's row


class StoredRow(NamedTuple):
    """A stored listing row: a group's (``channel`` empty) or one channel's own (a named tuple: an import
    makes one per variant and listing group)."""

    group: str
    channel: str
    sku: str
    product: str
    state: str
    reasons: list[list[str]]
    payload: dict[str, Any]
    revision: int
    updated_at: datetime


@dataclass(frozen=True)
class StoredListing:
    """One channel's listing of one SKU."""

    channel: str
    sku: str
    product: str
    state: str
    reasons: list[list[str]]
    payload: dict[str, Any]
    revision: int
    updated_at: datetime


def _listing(row: Any, channel: str | None = None) -> StoredListing:
    return StoredListing(
        channel or row.channel, row.sku, row.product, row.state, row.reasons, row.payload, row.revision, row.updated_at
    )


def by_channel() -> sa.Subquery:
    """Every channel's listing of every SKU: its own rows, and its group's for the products it has none of."""
    row, own = listings, listings.alias("own")
    fields = (row.c.sku, row.c.product, row.c.state, row.c.reasons, row.c.payload, row.c.revision, row.c.updated_at)
    shared = (
        sa.select(targets.c.channel, *fields)
        .join_from(targets, row, sa.and_(row.c.grp == targets.c.grp, row.c.channel == SHARED))
        .where(~sa.exists().where(own.c.channel == targets.c.channel, own.c.product == row.c.product))
    )
    return sa.union_all(shared, sa.select(row.c.channel, *fields).where(row.c.channel != SHARED)).subquery("listed")


def rows_of(conn: Connection, products: Sequence[str]) -> dict[tuple[str, str, str], StoredRow]:
    """The stored rows of ``products``, by (group, channel, sku)."""
    found: dict[tuple[str, str, str], StoredRow] = {}
    ordered = sorted(set(products))
    t = listings
    for start in range(0, len(ordered), 1000):
        for r in conn.execute(sa.select(t).where(t.c.product.in_(ordered[start : start + 1000]))):
            found[(r.grp, r.channel, r.sku)] = StoredRow(
                r.grp, r.channel, r.sku, r.product, r.state, r.reasons, r.payload, r.revision, r.updated_at
            )
    return found


def save_rows(conn: Connection, rows: Sequence[StoredRow], gone: Sequence[tuple[str, str, str]]) -> None:
    """Delete the rows keyed in ``gone`` and insert ``rows`` (a row replacing a stored one is in both)."""
    t = listings
    delete = t.delete().where(
        t.c.grp == sa.bindparam("b_grp"), t.c.channel == sa.bindparam("b_channel"), t.c.sku == sa.bindparam("b_sku")
    )
    for start in range(0, len(gone), 1000):
        conn.execute(delete, [{"b_grp": g, "b_channel": c, "b_sku": s} for g, c, s in gone[start : start + 1000]])
    # the bulk path (executemany on SQLite, COPY on PostgreSQL) with each JSON value serialised once, as the
    # JSON type would: a catalog import writes a row per variant and listing group. Rows share their reasons'
    # lists (the service makes one per distinct reasons), so each is serialised once, by identity (``rows``
    # holds them, so no id is reused meanwhile); the reasons as the JSON type writes them (the blocked-reason
    # counts group by their text), the payloads by orjson (same JSON, without spaces), several times faster.
    texts: dict[int, str] = {}
    stamps: dict[datetime, int] = {}
    columns = ("grp", "channel", "sku", "product", "state", "reasons", "payload", "revision", "updated_at")
    values = []
    for r in rows:
        reasons = texts.get(id(r.reasons))
        if reasons is None:
            reasons = texts[id(r.reasons)] = json.dumps(r.reasons)
        stamp = stamps.get(r.updated_at)
        if stamp is None:
            stamp = stamps[r.updated_at] = to_micros(r.updated_at)
        payload = orjson.dumps(r.payload).decode()
        values.append((r.group, r.channel, r.sku, r.product, r.state, reasons, payload, r.revision, stamp))
    append_rows(conn, t.name, columns, values)


def drop_orphan_groups(conn: Connection) -> None:
    """Delete the rows of groups no channel's target names any more."""
    conn.execute(listings.delete().where(listings.c.grp.not_in(sa.select(targets.c.grp))))


def listings_of(conn: Connection, products: Sequence[str]) -> dict[tuple[str, str], StoredListing]:
    """Every channel's listing of ``products``' SKUs, by (channel, sku)."""
    v = by_channel()
    query = sa.select(v).where(v.c.product.in_(sorted(set(products))))
    return {(r.channel, r.sku): _listing(r) for r in conn.execute(query)}


def _excepted() -> sa.Subquery:
    """(channel, group, product) of every product with own rows on a channel: its group's rows do not count
    for that channel."""
    t = listings
    return sa.select(t.c.channel, t.c.grp, t.c.product).where(t.c.channel != SHARED).distinct().subquery("excepted")


def state_counts(conn: Connection, groups: dict[str, str]) -> dict[str, Counter[str]]:
    """Listings per channel (of ``groups``: channel -> its group) and state, counted once per group."""
    t, x = listings, _excepted()
    counted = conn.execute(
        sa.select(t.c.grp, t.c.channel, t.c.state, sa.func.count())
        .where(t.c.grp.in_(sorted(set(groups.values()))))
        .group_by(t.c.grp, t.c.channel, t.c.state)
    )
    rows: dict[tuple[str, str], Counter[str]] = {}
    for grp, channel, state, n in counted:
        rows.setdefault((grp, channel), Counter())[state] += int(n)
    hidden = sa.select(x.c.channel, t.c.state, sa.func.count()).join_from(
        x, t, sa.and_(t.c.grp == x.c.grp, t.c.channel == SHARED, t.c.product == x.c.product)
    )
    minus: dict[str, Counter[str]] = {}
    for channel, state, n in conn.execute(hidden.group_by(x.c.channel, t.c.state)):
        minus.setdefault(channel, Counter())[state] += int(n)
    out = {}
    for channel, grp in groups.items():
        have = rows.get((grp, SHARED), Counter()) + rows.get((grp, channel), Counter())
        have.subtract(minus.get(channel, Counter()))
        out[channel] = have
    return out


def blocked_reasons(conn: Connection, groups: dict[str, str]) -> dict[str, Counter[str]]:
    """Per channel (of ``groups``), how many of its blocked listings each reason ``rule: message`` blocks;
    rows with equal reasons are counted in the database and their reasons read once."""
    t, x = listings, _excepted()
    text = sa.cast(t.c.reasons, sa.Text).label("reasons")
    blocked = t.c.state == "blocked"
    counted = conn.execute(
        sa.select(t.c.grp, t.c.channel, text, sa.func.count()).where(blocked).group_by(t.c.grp, t.c.channel, text)
    )
    rows: dict[tuple[str, str], Counter[str]] = {}
    for grp, channel, reasons, n in counted:
        rows.setdefault((grp, channel), Counter()).update({r: int(n) for r in _reasons(reasons)})
    hidden = (
        sa.select(x.c.channel, text, sa.func.count())
        .join_from(x, t, sa.and_(t.c.grp == x.c.grp, t.c.channel == SHARED, t.c.product == x.c.product))
        .where(blocked)
        .group_by(x.c.channel, text)
    )
    minus: dict[str, Counter[str]] = {}
    for channel, reasons, n in conn.execute(hidden):
        minus.setdefault(channel, Counter()).update({r: int(n) for r in _reasons(reasons)})
    out = {}
    for channel, grp in groups.items():
        have = rows.get((grp, SHARED), Counter()) + rows.get((grp, channel), Counter())
        have.subtract(minus.get(channel, Counter()))
        out[channel] = +have  # drops the zeros
    return out


def blocked_reason_sets(conn: Connection, channel: str, group: str) -> list[tuple[list[list[str]], int]]:
    """The distinct reasons of ``channel``'s blocked listings (in ``group``), each with how many listings
    have exactly those: its own rows and its group's for the other products, grouped in the database."""
    t, own = listings, listings.alias("own")
    text = sa.cast(t.c.reasons, sa.Text).label("reasons")
    where = [t.c.grp == group, t.c.state == "blocked"]
    mine = sa.select(text).where(t.c.channel == channel, *where)
    shared = sa.select(text).where(
        t.c.channel == SHARED, *where, ~sa.exists().where(own.c.channel == channel, own.c.product == t.c.product)
    )
    both = sa.union_all(mine, shared).subquery("blocked")
    rows = conn.execute(sa.select(both.c.reasons, sa.func.count()).group_by(both.c.reasons))
    return [(json.loads(reasons), int(n)) for reasons, n in rows]


def _reasons(text: str) -> list[str]:
    return [f"{rule}: {message}" for rule, _, message in json.loads(text)]


def channel_rows(
    conn: Connection,
    channel: str,
    group: str,
    *,
    state: str | None = None,
    after: str = "",
    limit: int,
    offset: int = 0,
) -> list[StoredListing]:
    """Listings of ``channel`` (in ``group``) by SKU: its own rows and its group's for the other products, in
    ``state`` when given, with a SKU after ``after`` (keyset pages: a feed reads a channel of any size a page
    at a time) and/or from ``offset``."""
    t, own = listings, listings.alias("own")
    where = [t.c.grp == group, t.c.sku > after, *([t.c.state == state] if state else [])]
    mine = sa.select(t).where(t.c.channel == channel, *where)
    shared = sa.select(t).where(
        t.c.channel == SHARED, *where, ~sa.exists().where(own.c.channel == channel, own.c.product == t.c.product)
    )
    both = sa.union_all(mine, shared).subquery("listed")
    query = sa.select(both).order_by(both.c.sku).limit(limit).offset(offset)
    return [_listing(r, channel) for r in conn.execute(query)]


def channel_listing_count(conn: Connection, channel: str, group: str) -> int:
    """How many listings ``channel`` (in ``group``) has: its own rows and its group's for the other products."""
    t, own = listings, listings.alias("own")
    mine = sa.select(sa.func.count()).where(t.c.grp == group, t.c.channel == channel)
    shared = sa.select(sa.func.count()).where(
        t.c.grp == group,
        t.c.channel == SHARED,
        ~sa.exists().where(own.c.channel == channel, own.c.product == t.c.product),
    )
    return int(conn.execute(mine).scalar_one()) + int(conn.execute(shared).scalar_one())
