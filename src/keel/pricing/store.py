"""The pricing engine's tables and every query on them.

- ``pricing_lists`` and ``pricing_entries``: price lists and their prices (minor units, per quantity tier);
- ``pricing_skus``: per SKU its unit cost (in a currency of its own) and tax class;
- ``pricing_tax_rates``: stored rates per (country, tax class), overriding the defaults of ``model.tax``;
- ``pricing_policies``: the ordered rules per scope (``*`` or a channel code);
- ``pricing_competitor_prices``: the latest observed price per (competitor, country, SKU), in the currency it
  was seen in (no digital-shelf context yet: pricing keeps the few facts its ``competitor`` rule reads);
- ``pricing_prices``: every computed (channel, country, SKU) price with the steps that produced it, and the
  price the day started with (``day_base`` since ``day_start``: what ``max_change_per_day`` limits against).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.platform.bulk import bulk_insert, chunks
from keel.platform.db import JsonType, Timestamp, any_of, dbapi_cursor, metadata, placeholder, upsert_insert
from keel.pricing.model import PriceEntry, PriceList
from keel.pricing.model.documents import CompetitorPrice, SkuCost

lists_t = sa.Table(
    "pricing_lists",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("channel", sa.String(64), nullable=True),
    sa.Column("country", sa.String(2), nullable=True),
    sa.Column("customer_group", sa.String(64), nullable=True),
    sa.Column("valid_from", Timestamp, nullable=True),
    sa.Column("valid_to", Timestamp, nullable=True),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
entries_t = sa.Table(
    "pricing_entries",
    metadata,
    sa.Column("list_code", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("min_quantity", sa.Integer, primary_key=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("compare_at", sa.BigInteger, nullable=True),
    sa.Index(None, "sku"),
)
skus_t = sa.Table(
    "pricing_skus",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("cost_currency", sa.String(3), nullable=True),
    sa.Column("cost", sa.BigInteger, nullable=True),  # minor units of cost_currency, net of tax
    sa.Column("tax_class", sa.String(32), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
rates_t = sa.Table(
    "pricing_tax_rates",
    metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("tax_class", sa.String(32), primary_key=True),
    sa.Column("rate", sa.String(12), nullable=False),  # a decimal fraction, as text: exact on both databases
    sa.Column("updated_at", Timestamp, nullable=False),
)
policies_t = sa.Table(
    "pricing_policies",
    metadata,
    sa.Column("scope", sa.String(64), primary_key=True),
    sa.Column("rules", JsonType, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
competitors_t = sa.Table(
    "pricing_competitor_prices",
    metadata,
    sa.Column("competitor", sa.String(64), primary_key=True),
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),  # minor units of currency
    sa.Column("observed_at", Timestamp, nullable=False),
    sa.Index(None, "sku"),
)
prices_t = sa.Table(
    "pricing_prices",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("compare_at", sa.BigInteger, nullable=True),
    sa.Column("price_list", sa.String(64), nullable=False),
    sa.Column("floor", sa.BigInteger, nullable=False),
    sa.Column("steps", JsonType, nullable=False),
    sa.Column("digest", sa.String(16), nullable=False),  # of the steps: a recompute compares it, not the JSON
    sa.Column("day_base", sa.BigInteger, nullable=False),
    sa.Column("day_start", Timestamp, nullable=False),
    sa.Column("changed_at", Timestamp, nullable=False),
    sa.Index(None, "sku"),
)


@dataclass(frozen=True)
class PriceRow:
    channel: str
    country: str
    sku: str
    currency: str
    amount: int
    compare_at: int | None
    price_list: str
    floor: int
    steps: list[dict[str, Any]]
    digest: str
    day_base: int
    day_start: datetime
    changed_at: datetime


# A stored price as a recompute reads it: (sku, amount, compare_at, floor, digest, day_base, day_start,
# changed_at), the instants as stored (microseconds since the epoch: a recompute compares and carries them).
Held = tuple[str, int, int | None, int, str, int, int, int]
HELD_COLUMNS = "sku, amount, compare_at, floor, digest, day_base, day_start, changed_at"


# A price as ``write_prices`` takes it, in ``PRICE_COLUMNS`` order: the steps as JSON text, ``day_start`` and
# ``changed_at`` in microseconds since the epoch (a recompute builds hundreds of thousands: plain tuples).
PriceWrite = tuple[str, str, str, str, int, int | None, str, int, str, str, int, int, int]


# -- price lists ---------------------------------------------------------------------------------------------
def save_list(conn: Connection, pl: PriceList, entries: Sequence[PriceEntry], now: datetime) -> None:
    """Store the list and replace its prices with ``entries``."""
    row = {**pl.__dict__, "updated_at": now}
    stmt = upsert_insert(conn, lists_t).values(row)
    changes = {k: v for k, v in row.items() if k != "code"}
    conn.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=changes))
    conn.execute(entries_t.delete().where(entries_t.c.list_code == pl.code))
    rows = [{"list_code": pl.code, **e.__dict__} for e in entries]
    for part in chunks(rows, 5000):
        conn.execute(entries_t.insert(), list(part))


def upsert_entries(conn: Connection, code: str, entries: Sequence[PriceEntry]) -> None:
    """Insert or replace these prices of list ``code``, keeping its others."""
    stmt = upsert_insert(conn, entries_t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["list_code", "sku", "min_quantity"],
        set_={"amount": stmt.excluded.amount, "compare_at": stmt.excluded.compare_at},
    )
    for part in chunks([{"list_code": code, **e.__dict__} for e in entries], 5000):
        conn.execute(stmt, list(part))


def delete_list(conn: Connection, code: str) -> bool:
    conn.execute(entries_t.delete().where(entries_t.c.list_code == code))
    return bool(conn.execute(lists_t.delete().where(lists_t.c.code == code)).rowcount)


def lists(conn: Connection) -> list[PriceList]:
    rows = conn.execute(sa.select(lists_t).order_by(lists_t.c.code))
    return [PriceList(**{k: v for k, v in r._mapping.items() if k != "updated_at"}) for r in rows]


def list_updated(conn: Connection, code: str) -> datetime | None:
    return conn.execute(sa.select(lists_t.c.updated_at).where(lists_t.c.code == code)).scalar_one_or_none()


def entries(
    conn: Connection, codes: Iterable[str], skus: Iterable[str] | None = None
) -> dict[str, dict[str, list[PriceEntry]]]:
    """list code -> SKU -> its entries in ascending ``min_quantity`` (of ``skus`` only, when given; the
    driver's cursor: a recompute reads every list)."""
    out: dict[str, dict[str, list[PriceEntry]]] = {}
    lists, params = any_of(conn, "list_code", sorted(codes))
    sql = f"SELECT list_code, sku, amount, compare_at, min_quantity FROM pricing_entries WHERE {lists}"
    order = " ORDER BY list_code, sku, min_quantity"
    cur = dbapi_cursor(conn)
    wanted = None if skus is None else list(skus)
    for part in [None] if wanted is None else chunks(wanted, 500):
        if part is None:
            cur.execute(sql + order, params)
        else:
            named, more = any_of(conn, "sku", part)
            cur.execute(f"{sql} AND {named}{order}", [*params, *more])
        for code, sku, amount, compare_at, tier in cur.fetchall():
            out.setdefault(code, {}).setdefault(sku, []).append(PriceEntry(sku, amount, compare_at, tier))
    return out


def entry_page(conn: Connection, code: str, limit: int, offset: int) -> tuple[list[PriceEntry], int]:
    t = entries_t
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.list_code == code)).scalar_one()
    q = sa.select(t).where(t.c.list_code == code).order_by(t.c.sku, t.c.min_quantity).limit(limit).offset(offset)
    return [PriceEntry(r.sku, r.amount, r.compare_at, r.min_quantity) for r in conn.execute(q)], int(total)


def entry_counts(conn: Connection) -> dict[str, int]:
    q = sa.select(entries_t.c.list_code, sa.func.count()).group_by(entries_t.c.list_code)
    return {code: int(n) for code, n in conn.execute(q).tuples()}


def skus_of_lists(conn: Connection, codes: Iterable[str]) -> set[str]:
    q = sa.select(entries_t.c.sku).where(entries_t.c.list_code.in_(list(codes))).distinct()
    return set(conn.execute(q).scalars())


# -- SKUs, tax, policies --------------------------------------------------------------------------------------
def save_skus(conn: Connection, rows: Sequence[SkuCost], now: datetime) -> None:
    if not rows:
        return
    stmt = upsert_insert(conn, skus_t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["sku"],
        set_={c: stmt.excluded[c] for c in ("cost_currency", "cost", "tax_class", "updated_at")},
    )
    for part in chunks([{**r.__dict__, "updated_at": now} for r in rows], 5000):
        conn.execute(stmt, list(part))


def skus(conn: Connection, wanted: Iterable[str] | None = None) -> dict[str, SkuCost]:
    q = sa.select(skus_t.c.sku, skus_t.c.cost_currency, skus_t.c.cost, skus_t.c.tax_class)
    if wanted is None:
        return {r.sku: SkuCost(*r) for r in conn.execute(q)}
    out: dict[str, SkuCost] = {}
    for part in chunks(list(wanted), 500):
        out |= {r.sku: SkuCost(*r) for r in conn.execute(q.where(skus_t.c.sku.in_(list(part))))}
    return out


def save_rate(conn: Connection, country: str, tax_class: str, rate: Decimal, now: datetime) -> None:
    row = {"country": country, "tax_class": tax_class, "rate": f"{rate:f}", "updated_at": now}
    stmt = upsert_insert(conn, rates_t).values(row)
    changes = {"rate": row["rate"], "updated_at": now}
    conn.execute(stmt.on_conflict_do_update(index_elements=["country", "tax_class"], set_=changes))


def rates(conn: Connection) -> dict[tuple[str, str], Decimal]:
    return {(r.country, r.tax_class): Decimal(r.rate) for r in conn.execute(sa.select(rates_t))}


def save_policy(conn: Connection, scope: str, rules: list[dict[str, Any]], now: datetime) -> None:
    stmt = upsert_insert(conn, policies_t).values(scope=scope, rules=rules, updated_at=now)
    conn.execute(stmt.on_conflict_do_update(index_elements=["scope"], set_={"rules": rules, "updated_at": now}))


def delete_policy(conn: Connection, scope: str) -> bool:
    return bool(conn.execute(policies_t.delete().where(policies_t.c.scope == scope)).rowcount)


def policies(conn: Connection) -> dict[str, tuple[list[dict[str, Any]], datetime]]:
    return {r.scope: (list(r.rules), r.updated_at) for r in conn.execute(sa.select(policies_t))}


# -- competitor prices ----------------------------------------------------------------------------------------
def save_competitor_prices(conn: Connection, rows: Sequence[CompetitorPrice]) -> None:
    """Insert or replace each observation, unless the stored one of its (competitor, country, SKU) was observed
    later: an older observation never replaces a newer one, whatever order they arrive in."""
    t = competitors_t
    stmt = upsert_insert(conn, t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["competitor", "country", "sku"],
        set_={c: stmt.excluded[c] for c in ("currency", "amount", "observed_at")},
        where=t.c.observed_at <= stmt.excluded.observed_at,
    )
    for part in chunks([r.__dict__ for r in rows], 5000):
        conn.execute(stmt, list(part))


def competitor_prices(
    conn: Connection, skus: Iterable[str] | None = None, countries: Iterable[str] | None = None
) -> dict[tuple[str, str], list[CompetitorPrice]]:
    """(country, SKU) -> its observations, by competitor (of ``skus`` and ``countries`` only, when given)."""
    t = competitors_t
    q = sa.select(t).order_by(t.c.country, t.c.sku, t.c.competitor)
    if countries is not None:
        q = q.where(t.c.country.in_(sorted(countries)))
    out: dict[tuple[str, str], list[CompetitorPrice]] = {}
    parts = [None] if skus is None else list(chunks(list(skus), 500))
    for part in parts:
        for r in conn.execute(q if part is None else q.where(t.c.sku.in_(list(part)))):
            out.setdefault((r.country, r.sku), []).append(CompetitorPrice(*r))
    return out


def competitor_page(
    conn: Connection,
    competitor: str | None,
    country: str | None,
    sku: str | None,
    limit: int,
    offset: int,
    countries: frozenset[str] | None = None,
) -> tuple[list[CompetitorPrice], int]:
    t = competitors_t
    where = [c == v for c, v in ((t.c.competitor, competitor), (t.c.country, country), (t.c.sku, sku)) if v is not None]
    if countries is not None:
        where.append(t.c.country.in_(sorted(countries)))
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
    q = sa.select(t).where(*where).order_by(t.c.sku, t.c.country, t.c.competitor).limit(limit).offset(offset)
    return [CompetitorPrice(*r) for r in conn.execute(q)], int(total)


# -- computed prices ------------------------------------------------------------------------------------------
def held(conn: Connection, channel: str, country: str, skus: Sequence[str] | None = None) -> dict[str, Held]:
    """SKU -> its stored price in a channel and country (of ``skus`` only, when given), as a recompute needs
    it (the driver's cursor: a recompute reads every price, no row objects)."""
    ph = placeholder(conn)
    sql = f"SELECT {HELD_COLUMNS} FROM pricing_prices WHERE channel = {ph} AND country = {ph}"
    cur = dbapi_cursor(conn)
    if skus is None:
        cur.execute(sql, (channel, country))
        return {r[0]: tuple(r) for r in cur.fetchall()}
    out: dict[str, Held] = {}
    for part in chunks(skus, 500):
        named, params = any_of(conn, "sku", part)
        cur.execute(f"{sql} AND {named}", [channel, country, *params])
        out |= {r[0]: tuple(r) for r in cur.fetchall()}
    return out


def amounts(conn: Connection, channel: str, country: str, skus: Iterable[str] | None = None) -> dict[str, int]:
    t = prices_t
    q = sa.select(t.c.sku, t.c.amount).where(t.c.channel == channel, t.c.country == country)
    if skus is None:
        return dict(conn.execute(q).tuples().all())
    out: dict[str, int] = {}
    for part in chunks(list(skus), 500):
        out |= dict(conn.execute(q.where(t.c.sku.in_(list(part)))).tuples().all())
    return out


PRICE_COLUMNS = tuple(c.name for c in prices_t.columns)
_KEYS = ("channel", "country", "sku")


def write_prices(conn: Connection, rows: Sequence[PriceWrite]) -> None:
    """Insert or replace computed prices (the driver's bulk path: executemany, or COPY on PostgreSQL)."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in PRICE_COLUMNS if c not in _KEYS)
    bulk_insert(
        conn, "pricing_prices", PRICE_COLUMNS, rows, f"ON CONFLICT (channel, country, sku) DO UPDATE SET {updates}"
    )


def drop_prices(conn: Connection, keys: Sequence[tuple[str, str, str]]) -> None:
    t = prices_t
    same = (t.c.channel == sa.bindparam("c"), t.c.country == sa.bindparam("k"), t.c.sku == sa.bindparam("s"))
    stmt = t.delete().where(*same)
    if keys:
        conn.execute(stmt, [{"c": c, "k": k, "s": s} for c, k, s in keys])


def price_page(
    conn: Connection, channel: str | None, country: str | None, sku: str | None, limit: int, offset: int
) -> tuple[list[PriceRow], int]:
    t = prices_t
    where = [c == v for c, v in ((t.c.channel, channel), (t.c.country, country), (t.c.sku, sku)) if v is not None]
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
    q = sa.select(t).where(*where).order_by(t.c.channel, t.c.country, t.c.sku).limit(limit).offset(offset)
    return [PriceRow(*r) for r in conn.execute(q)], int(total)


def channel_prices(conn: Connection, channel: str) -> list[tuple[str, str, int, str]]:
    """(country, sku, amount, currency) of every price of ``channel``."""
    t = prices_t
    q = sa.select(t.c.country, t.c.sku, t.c.amount, t.c.currency).where(t.c.channel == channel)
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(q)]


def tiered(conn: Connection, lines: Mapping[str, int]) -> set[str]:
    """The SKUs of ``lines`` (SKU -> quantity) with a price list tier above 1 at or below their quantity."""
    t = entries_t
    query = sa.select(t.c.sku, sa.func.min(t.c.min_quantity)).where(
        t.c.sku.in_(sorted(lines)), t.c.min_quantity > 1
    ).group_by(t.c.sku)  # fmt: skip
    return {sku for sku, least in conn.execute(query) if least <= lines[sku]}
