"""Insights storage: the control tower's projections (its own tables; no other context's table is read here).

The projector (``keel.insights.projector``) keeps them current from the event log; pages read them with a
handful of small indexed queries whose size depends on the number of locations, channels, countries and
days, never on SKUs or orders:

- ``insights_positions``: the quantities of each SKU at each location, as the projector last saw them (the
  mirror every other stock table is kept from, by difference);
- ``insights_location_stock``: sums per location (positions, on hand, available, incoming, out of stock);
- ``insights_sku_presence`` / ``insights_sku_counts``: how many positions hold each SKU per (country, region),
  per country (region ``*``) and overall (country ``*``), and how many distinct SKUs each of those holds;
- ``insights_listings`` / ``insights_listing_counts``: what each channel lists per (country, SKU) and whether
  a location feeds it, and per (channel, country) how many fed listings there are and how many show zero;
- ``insights_orders`` / ``insights_sales``: each order reduced to its sales figure, and orders and revenue per
  (channel, ship-to country, currency, day) of the live ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.platform.bulk import bulk_insert, chunks
from keel.platform.db import any_of, dbapi_cursor, metadata, upsert_insert

ANY = "*"  # the region of a country-wide row, and the country of the overall one
CONSUMER = "insights"

positions = sa.Table(
    "insights_positions",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("on_hand", sa.Integer, nullable=False),
    sa.Column("available", sa.Integer, nullable=False),
    sa.Column("incoming", sa.Integer, nullable=False),
    sa.Index(None, "location"),
)

location_stock = sa.Table(
    "insights_location_stock",
    metadata,
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("positions", sa.Integer, nullable=False),
    sa.Column("on_hand", sa.BigInteger, nullable=False),
    sa.Column("available", sa.BigInteger, nullable=False),
    sa.Column("incoming", sa.BigInteger, nullable=False),
    sa.Column("out_of_stock", sa.Integer, nullable=False),
)

sku_presence = sa.Table(
    "insights_sku_presence",
    metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("region", sa.String(100), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("positions", sa.Integer, nullable=False),
)

sku_counts = sa.Table(
    "insights_sku_counts",
    metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("region", sa.String(100), primary_key=True),
    sa.Column("skus", sa.Integer, nullable=False),
)

listings = sa.Table(
    "insights_listings",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("sourced", sa.Boolean, nullable=False),
)

listing_counts = sa.Table(
    "insights_listing_counts",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("sourced", sa.Integer, nullable=False),
    sa.Column("zero", sa.Integer, nullable=False),
)

orders = sa.Table(
    "insights_orders",
    metadata,
    sa.Column("order_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("amount", sa.String(40), nullable=False),  # exact decimal text: SQLite has no decimal type
    sa.Column("live", sa.Boolean, nullable=False),
)

sales = sa.Table(
    "insights_sales",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("amount", sa.String(40), nullable=False),
)

TABLES = (positions, location_stock, sku_presence, sku_counts, listings, listing_counts, orders, sales)
Row = dict[str, Any]


def clear(conn: Connection) -> None:
    """Empty every projection table (a rebuild starts from here)."""
    for table in TABLES:
        conn.execute(table.delete())


def _upsert(conn: Connection, table: sa.Table, rows: Sequence[Row]) -> None:
    """Insert or overwrite ``rows`` (few rows, any column types) through SQLAlchemy."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    stmt = upsert_insert(conn, table)
    values = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=values), list(rows))


def _put(conn: Connection, table: sa.Table, rows: Sequence[Sequence[Any]]) -> None:
    """Insert or overwrite many rows (every column, in table order; plain numbers, text and booleans) on
    the driver: an opening stock moves hundreds of thousands of rows here, SQLAlchemy's per-row parameter
    handling cost more than the database."""
    if not rows:
        return
    columns = [c.name for c in table.columns]
    keys = [c.name for c in table.primary_key.columns]
    update = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    bulk_insert(conn, table.name, columns, rows, f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {update}")


def _select(conn: Connection, sql: str, column: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
    """``sql`` (ending in WHERE) with ``column`` in ``values``, on the driver, 500 values a statement."""
    out: list[tuple[Any, ...]] = []
    cur = dbapi_cursor(conn)
    for part in chunks(sorted(set(values)), 500):
        where, params = any_of(conn, column, part)
        cur.execute(f"{sql} {where}", params)
        out.extend(cur.fetchall())
    return out


# -- positions --------------------------------------------------------------------------------------------
Quantities = tuple[int, int, int]  # on hand, available, incoming


def mirrored(conn: Connection, skus: Iterable[str]) -> dict[tuple[str, str], Quantities]:
    """(sku, location) -> the quantities last seen, for every position of ``skus`` (by the primary key)."""
    sql = "SELECT sku, location, on_hand, available, incoming FROM insights_positions WHERE"
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in _select(conn, sql, "sku", list(skus))}


def save_positions(conn: Connection, rows: Mapping[tuple[str, str], Quantities]) -> None:
    _put(conn, positions, [(s, loc, *q) for (s, loc), q in rows.items()])


def all_positions(conn: Connection) -> list[tuple[str, str, int, int, int]]:
    """Every mirrored position (sku, location, on hand, available, incoming): rebuilds of derived tables only."""
    p = positions
    query = sa.select(p.c.sku, p.c.location, p.c.on_hand, p.c.available, p.c.incoming)
    return [tuple(r) for r in conn.execute(query)]


def skus_at(conn: Connection, locations_: Sequence[str]) -> list[tuple[str, str]]:
    """(location, sku) of every mirrored position at ``locations_`` (by the location index)."""
    p = positions
    out: list[tuple[str, str]] = []
    for part in chunks(sorted(set(locations_)), 500):
        out.extend(
            (loc, sku) for loc, sku in conn.execute(sa.select(p.c.location, p.c.sku).where(p.c.location.in_(part)))
        )
    return out


# -- sums per location ------------------------------------------------------------------------------------
STOCK_FIGURES = ("positions", "on_hand", "available", "incoming", "out_of_stock")


def add_location_stock(conn: Connection, deltas: Mapping[str, Sequence[int]]) -> None:
    """Add ``deltas`` (location -> the five STOCK_FIGURES) to the per-location sums."""
    if not deltas:
        return
    t = location_stock
    current = {
        r[0]: list(r[1:])
        for r in conn.execute(
            sa.select(t.c.location, *(t.c[f] for f in STOCK_FIGURES)).where(t.c.location.in_(sorted(deltas)))
        )
    }
    rows = []
    for location, delta in deltas.items():
        now = [a + b for a, b in zip(current.get(location, [0] * len(STOCK_FIGURES)), delta, strict=True)]
        rows.append({"location": location, **dict(zip(STOCK_FIGURES, now, strict=True))})
    _upsert(conn, t, rows)


def location_stock_rows(conn: Connection) -> list[tuple[str, int, int, int, int, int]]:
    """(location, positions, on hand, available, incoming, out of stock) of every location holding positions."""
    t = location_stock
    query = sa.select(t.c.location, *(t.c[f] for f in STOCK_FIGURES)).where(t.c.positions > 0).order_by(t.c.location)
    return [tuple(r) for r in conn.execute(query)]


# -- distinct SKUs per place ------------------------------------------------------------------------------
def add_presence(conn: Connection, deltas: Mapping[tuple[str, str, str], int]) -> None:
    """Add positions to (country, region, sku) presence rows; a row going from none to some (or back) moves
    that place's distinct-SKU count."""
    if not deltas:
        return
    sql = "SELECT country, region, sku, positions FROM insights_sku_presence WHERE"
    current = {(c, r, s): n for c, r, s, n in _select(conn, sql, "sku", [k[2] for k in deltas])}
    rows: list[tuple[str, str, str, int]] = []
    counts: dict[tuple[str, str], int] = {}
    for key, delta in deltas.items():
        before = current.get(key, 0)
        after = before + delta
        rows.append((*key, after))
        moved = (after > 0) - (before > 0)
        if moved:
            counts[key[:2]] = counts.get(key[:2], 0) + moved
    _put(conn, sku_presence, rows)
    c = sku_counts
    have = {
        (country, region): n
        for country, region, n in conn.execute(
            sa.select(c.c.country, c.c.region, c.c.skus).where(c.c.country.in_(sorted({k[0] for k in counts})))
        )
    }
    _upsert(
        conn,
        c,
        [{"country": k[0], "region": k[1], "skus": have.get(k, 0) + n} for k, n in counts.items()],
    )


def sku_count_rows(conn: Connection) -> dict[tuple[str, str], int]:
    """(country, region) -> distinct SKUs held there (region ``*``: the whole country; ``*``, ``*``: overall)."""
    c = sku_counts
    return {(country, region): n for country, region, n in conn.execute(sa.select(c.c.country, c.c.region, c.c.skus))}


def distinct_skus_in(conn: Connection, countries: Sequence[str]) -> int:
    """Distinct SKUs held in any of ``countries`` (an index range per country: restricted views only)."""
    t = sku_presence
    query = sa.select(sa.func.count(sa.distinct(t.c.sku))).where(
        t.c.country.in_(sorted(countries)), t.c.region == ANY, t.c.positions > 0
    )
    return int(conn.execute(query).scalar_one())


def clear_presence(conn: Connection) -> None:
    conn.execute(sku_presence.delete())
    conn.execute(sku_counts.delete())


# -- listings ---------------------------------------------------------------------------------------------
ListingKey = tuple[str, str, str]  # channel, country, sku


def listing_rows(conn: Connection, keys: Iterable[ListingKey]) -> dict[ListingKey, tuple[int, bool]]:
    """key -> (quantity, sourced) of the listings among ``keys`` that have a row."""
    wanted = set(keys)
    sql = "SELECT channel, country, sku, quantity, sourced FROM insights_listings WHERE"
    rows = _select(conn, sql, "sku", [k[2] for k in wanted])
    return {(ch, ctry, sku): (qty, bool(src)) for ch, ctry, sku, qty, src in rows if (ch, ctry, sku) in wanted}


def save_listings(conn: Connection, rows: Mapping[ListingKey, tuple[int, bool]]) -> None:
    _put(conn, listings, [(*k, q, s) for k, (q, s) in rows.items()])


def add_listing_counts(conn: Connection, deltas: Mapping[tuple[str, str], tuple[int, int]]) -> None:
    """Add (sourced, zero) deltas per (channel, country)."""
    deltas = {k: v for k, v in deltas.items() if v != (0, 0)}
    if not deltas:
        return
    t = listing_counts
    query = sa.select(t.c.channel, t.c.country, t.c.sourced, t.c.zero).where(
        t.c.channel.in_(sorted({k[0] for k in deltas}))
    )
    have = {(ch, ctry): (s, z) for ch, ctry, s, z in conn.execute(query)}
    rows = []
    for key, (ds, dz) in deltas.items():
        s, z = have.get(key, (0, 0))
        rows.append({"channel": key[0], "country": key[1], "sourced": s + ds, "zero": z + dz})
    _upsert(conn, t, rows)


def unsource_all(conn: Connection) -> None:
    """Mark every listing as fed by no location and zero the counts (a re-listing follows)."""
    conn.execute(listings.update().values(sourced=False))
    conn.execute(listing_counts.delete())


def listing_count_rows(conn: Connection) -> list[tuple[str, str, int, int]]:
    """(channel, country, fed listings, fed listings at zero) per (channel, country)."""
    t = listing_counts
    query = sa.select(t.c.channel, t.c.country, t.c.sourced, t.c.zero).where(t.c.sourced > 0)
    return [tuple(r) for r in conn.execute(query.order_by(t.c.channel, t.c.country))]


# -- orders and sales -------------------------------------------------------------------------------------
OrderRow = tuple[str, str, str, date, Decimal, bool]  # channel, country, currency, day, amount, live


def order_rows(conn: Connection, ids: Sequence[int]) -> dict[int, OrderRow]:
    t = orders
    out: dict[int, OrderRow] = {}
    for part in chunks(sorted(set(ids)), 500):
        for r in conn.execute(sa.select(t).where(t.c.order_id.in_(part))):
            out[r.order_id] = (r.channel, r.country, r.currency, r.day, Decimal(r.amount), bool(r.live))
    return out


def save_orders(conn: Connection, rows: Mapping[int, OrderRow]) -> None:
    _upsert(
        conn,
        orders,
        [
            {
                "order_id": i,
                "channel": r[0],
                "country": r[1],
                "currency": r[2],
                "day": r[3],
                "amount": str(r[4]),
                "live": r[5],
            }
            for i, r in rows.items()
        ],
    )


SalesKey = tuple[str, str, str, date]  # channel, country, currency, day


def add_sales(conn: Connection, deltas: Mapping[SalesKey, tuple[int, Decimal]]) -> None:
    """Add (orders, amount) deltas to the sales cells."""
    deltas = {k: v for k, v in deltas.items() if v != (0, Decimal(0))}
    if not deltas:
        return
    t = sales
    query = sa.select(t.c.channel, t.c.country, t.c.currency, t.c.day, t.c.orders, t.c.amount).where(
        t.c.channel.in_(sorted({k[0] for k in deltas})), t.c.day.in_(sorted({k[3] for k in deltas}))
    )
    have = {(ch, ctry, cur, day): (n, Decimal(a)) for ch, ctry, cur, day, n, a in conn.execute(query)}
    rows = []
    for key, (dn, da) in deltas.items():
        n, a = have.get(key, (0, Decimal(0)))
        rows.append(
            {
                "channel": key[0],
                "country": key[1],
                "currency": key[2],
                "day": key[3],
                "orders": n + dn,
                "amount": str(a + da),
            }
        )
    _upsert(conn, t, rows)


def sales_rows(conn: Connection) -> list[tuple[str, str, str, date, int, Decimal]]:
    """Every sales cell holding orders: (channel, country, currency, day, orders, amount)."""
    t = sales
    query = sa.select(t.c.channel, t.c.country, t.c.currency, t.c.day, t.c.orders, t.c.amount).where(t.c.orders > 0)
    return [(ch, ctry, cur, day, n, Decimal(a)) for ch, ctry, cur, day, n, a in conn.execute(query)]
