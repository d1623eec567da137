"""Queries on performance rows: upserted by (day, hour, ad, SKU), summed per SKU, campaign, channel or region
and always per currency (an account's money is in its own currency; amounts are never added across them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.media.model.performance import PerformanceLine
from keel.media.store.tables import accounts_t, campaigns_t, performance_t
from keel.platform.bulk import chunks, select_in
from keel.platform.db import upsert_insert

COUNTS = (
    "impressions", "clicks", "cost", "orders_7d", "units_7d", "sales_7d", "orders_14d", "units_14d", "sales_14d",
)  # fmt: skip
GROUPS = ("sku", "campaign", "channel", "region", "account", "day")


def save(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace rows (a re-import of the same day, hour, ad and SKU replaces its numbers)."""
    if not rows:
        return
    stmt = upsert_insert(conn, performance_t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "hour", "ad", "sku"],
        set_={c: stmt.excluded[c] for c in (*COUNTS, "campaign", "account")},
    )
    for part in chunks(list(rows), 2000):
        conn.execute(stmt, list(part))


def totals(
    conn: Connection,
    by: str,
    since: str | None = None,
    until: str | None = None,
    key: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[PerformanceLine], int]:
    """Sums per ``by`` (one of ``GROUPS``) and currency over days ``since``..``until`` (inclusive, ISO dates),
    biggest cost first; ``key`` keeps one group."""
    p, c, a = performance_t, campaigns_t, accounts_t
    group = {
        "sku": p.c.sku,
        "campaign": p.c.campaign,
        "channel": a.c.channel,
        "region": c.c.country,
        "account": p.c.account,
        "day": p.c.day,
    }[by]
    where = [x for x in (
        p.c.day >= since if since else None,
        p.c.day <= until if until else None,
        group == key if key else None,
    ) if x is not None]  # fmt: skip
    joined = p.join(a, a.c.code == p.c.account).join(c, c.c.code == p.c.campaign)
    sums = [sa.func.sum(p.c[name]).label(name) for name in COUNTS]
    q = sa.select(group.label("key"), a.c.currency, *sums).select_from(joined).where(*where)
    q = q.group_by(group, a.c.currency)
    total = conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
    q = q.order_by(sa.desc("cost"), "key", a.c.currency).limit(limit).offset(offset)
    out = [PerformanceLine(r.key, r.currency, *(int(getattr(r, n) or 0) for n in COUNTS)) for r in conn.execute(q)]
    return out, int(total)


def hourly(
    conn: Connection, since: str, until: str, ads: Sequence[str] | None = None
) -> list[tuple[str, str, int, str, int, int, int]]:
    """(ad, day, hour, currency, cost, clicks, sales_7d) per ad-hour (hour -1: a whole day's row) over the
    days ``since``..``until``: what the savings are computed from."""
    p, a = performance_t, accounts_t
    q = (
        sa.select(p.c.ad, p.c.day, p.c.hour, a.c.currency)
        .add_columns(sa.func.sum(p.c.cost), sa.func.sum(p.c.clicks), sa.func.sum(p.c.sales_7d))
        .select_from(p.join(a, a.c.code == p.c.account))
        .where(p.c.day >= since, p.c.day <= until)
        .group_by(p.c.ad, p.c.day, p.c.hour, a.c.currency)
    )
    rows = select_in(conn, q, p.c.ad, ads)
    return [(r[0], r[1], int(r[2]), r[3], int(r[4] or 0), int(r[5] or 0), int(r[6] or 0)) for r in rows]


def recent(conn: Connection, since: str, ads: Sequence[str] | None = None) -> dict[str, tuple[int, int, int]]:
    """ad -> (cost, sales_7d, clicks) summed since the day ``since``: the rules' 7-day figures."""
    p = performance_t
    q = (
        sa.select(p.c.ad, sa.func.sum(p.c.cost), sa.func.sum(p.c.sales_7d), sa.func.sum(p.c.clicks))
        .where(p.c.day >= since)
        .group_by(p.c.ad)
    )
    rows = select_in(conn, q, p.c.ad, ads)
    return {ad: (int(cost or 0), int(sales or 0), int(clicks or 0)) for ad, cost, sales, clicks in rows}


def granularity(conn: Connection, ads: Sequence[str], days: Sequence[str]) -> dict[tuple[str, str, str], set[bool]]:
    """(day, ad, SKU) -> whether its stored rows are whole days (True) and/or hours (False), for these ads and
    days: a day is reported one way or the other, never both (they would add up twice)."""
    p = performance_t
    q = sa.select(p.c.day, p.c.ad, p.c.sku, p.c.hour).where(p.c.day.in_(sorted(set(days))))
    out: dict[tuple[str, str, str], set[bool]] = {}
    for day, ad, sku, hour in select_in(conn, q, p.c.ad, ads):
        out.setdefault((day, ad, sku), set()).add(hour < 0)
    return out
