"""The exchange-rate table and every query on it. Rates are stored as decimal text: SQLite has no exact
decimal type (a NUMERIC column there would round through a float)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.fx.model import Rate, RateFilter, rate_text
from keel.platform.bulk import bulk_insert, chunks
from keel.platform.db import Timestamp, metadata, to_micros

fx_rates = sa.Table(
    "fx_rates",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("rate", sa.String(32), nullable=False),  # units of the currency per 1 EUR, decimal text
    sa.Column("imported_at", Timestamp, nullable=False),
    sa.Index(None, "currency", "day"),
)


def _where(query: sa.Select, where: RateFilter) -> sa.Select:  # type: ignore[type-arg]
    t = fx_rates
    if where.currency:
        query = query.where(t.c.currency == where.currency)
    if where.since:
        query = query.where(t.c.day >= where.since)
    if where.until:
        query = query.where(t.c.day <= where.until)
    return query


def rates_page(conn: Connection, where: RateFilter, limit: int, offset: int) -> tuple[list[Rate], int]:
    """A page of rates, newest day first then by currency, and how many match."""
    t = fx_rates
    total = int(conn.execute(_where(sa.select(sa.func.count()).select_from(t), where)).scalar_one())
    query = _where(sa.select(t.c.day, t.c.currency, t.c.rate), where)
    rows = conn.execute(query.order_by(t.c.day.desc(), t.c.currency).limit(limit).offset(offset))
    return [Rate(r.day, r.currency, Decimal(r.rate)) for r in rows], total


def all_rates(conn: Connection, currencies: Sequence[str] | None = None) -> list[Rate]:
    """Every stored rate, or those of ``currencies``."""
    t = fx_rates
    query = sa.select(t.c.day, t.c.currency, t.c.rate)
    if currencies is not None:
        query = query.where(t.c.currency.in_(sorted(set(currencies))))
    return [Rate(r.day, r.currency, Decimal(r.rate)) for r in conn.execute(query)]


def known_between(conn: Connection, first: date, last: date) -> dict[tuple[date, str], Decimal]:
    """The stored rates of the days ``first``..``last``, by (day, currency)."""
    t = fx_rates
    query = sa.select(t.c.day, t.c.currency, t.c.rate).where(t.c.day.between(first, last))
    return {(r.day, r.currency): Decimal(r.rate) for r in conn.execute(query)}


def insert_rates(conn: Connection, rates: Sequence[Rate], now: datetime) -> int:
    """Insert rates whose (day, currency) is not stored yet; returns how many were written."""
    at = to_micros(now)
    rows = [(r.day.isoformat(), r.currency, rate_text(r.rate), at) for r in rates]
    return bulk_insert(conn, "fx_rates", ("day", "currency", "rate", "imported_at"), rows, "")


def update_rates(conn: Connection, rates: Sequence[Rate], now: datetime) -> None:
    """Replace the stored value of known (day, currency) pairs."""
    t = fx_rates
    stmt = (
        t.update()
        .where(t.c.day == sa.bindparam("b_day"), t.c.currency == sa.bindparam("b_currency"))
        .values(rate=sa.bindparam("b_rate"), imported_at=now)
    )
    for chunk in chunks(rates, 1000):
        conn.execute(stmt, [{"b_day": r.day, "b_currency": r.currency, "b_rate": rate_text(r.rate)} for r in chunk])
