"""Pure KPI formulas of the control tower (standard library only, no I/O).

Every function takes plain rows and returns numbers, so each KPI can be checked on a hand-built dataset.
Rates are fractions (0.25 = 25 %) or None when there is nothing to measure yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


# -- stock ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Listing:
    """What one channel lists for one SKU in one country, and whether any location feeds it."""

    channel: str
    country: str
    sku: str
    quantity: int
    has_sources: bool = True


@dataclass(frozen=True)
class ListingCount:
    """The listings of one channel in one country that some location feeds, and how many of them show zero."""

    channel: str
    country: str
    sourced: int
    zero: int


def listing_counts(listings: Iterable[Listing]) -> list[ListingCount]:
    """Fed listings and zeros per (channel, country); a listing no location feeds cannot run out of stock,
    so it is left out of both counts."""
    counts: dict[tuple[str, str], list[int]] = {}
    for item in listings:
        if item.has_sources:
            c = counts.setdefault((item.channel, item.country), [0, 0])
            c[0] += 1
            c[1] += item.quantity <= 0
    return [ListingCount(ch, ctry, s, z) for (ch, ctry), (s, z) in sorted(counts.items())]


def stockout_rate(counts: Iterable[ListingCount]) -> float | None:
    """Share of listings at zero (or below) among the listings that have stock sources."""
    sourced = zero = 0
    for c in counts:
        sourced += c.sourced
        zero += c.zero
    return zero / sourced if sourced else None


@dataclass(frozen=True)
class StockRow:
    """One position with the place it sits in (the drill-down keys)."""

    sku: str
    location: str
    country: str
    region: str | None
    on_hand: int
    available: int
    incoming: int = 0


@dataclass(frozen=True)
class LocationStock:
    """The positions of one location summed up (what the stock pages add up per country and region)."""

    location: str
    country: str
    region: str | None
    positions: int
    on_hand: int
    available: int
    incoming: int
    out_of_stock: int  # positions with nothing available


@dataclass
class StockTotals:
    """Sums over the positions of one group (a country, a region, a location)."""

    key: str
    positions: int = 0
    on_hand: int = 0
    available: int = 0
    incoming: int = 0
    out_of_stock: int = 0  # positions with nothing available
    sku_count: int = 0  # distinct SKUs
    location_count: int = 0

    @property
    def out_of_stock_rate(self) -> float | None:
        return self.out_of_stock / self.positions if self.positions else None


def per_location(rows: Iterable[StockRow]) -> list[LocationStock]:
    """Positions summed per location (the full recomputation the projection must equal)."""
    sums: dict[str, list[int]] = {}
    place: dict[str, tuple[str, str | None]] = {}
    for r in rows:
        s = sums.setdefault(r.location, [0, 0, 0, 0, 0])
        place[r.location] = (r.country, r.region)
        s[0] += 1
        s[1] += r.on_hand
        s[2] += r.available
        s[3] += r.incoming
        s[4] += r.available <= 0
    return [LocationStock(loc, *place[loc], *s) for loc, s in sorted(sums.items())]


def combine(
    rows: Iterable[LocationStock], key: Callable[[LocationStock], str], skus: Callable[[str], int]
) -> list[StockTotals]:
    """Group location sums by ``key``; ``skus`` tells each group's distinct SKU count (it cannot be summed
    from the locations'). Groups sorted by key."""
    groups: dict[str, StockTotals] = {}
    for r in rows:
        k = key(r)
        g = groups.get(k)
        if g is None:
            g = groups[k] = StockTotals(k)
        g.positions += r.positions
        g.on_hand += r.on_hand
        g.available += r.available
        g.incoming += r.incoming
        g.out_of_stock += r.out_of_stock
        g.location_count += 1
    for k, g in groups.items():
        g.sku_count = skus(k)
    return [groups[k] for k in sorted(groups)]


# -- orders -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderFigure:
    """One order reduced to what the sales KPIs need; ``lines`` are (quantity, unit price as a string)."""

    channel: str
    country: str
    lines: tuple[tuple[int, str], ...]
    cancelled: bool = False
    currency: str = ""  # the channel's; prices are in it
    day: date | None = None  # the day it was placed (UTC): its revenue converts at that day's rates


# An amount of a currency on a day, in the reporting currency; None when no rate is known by that day.
Converter = Callable[[Decimal, str, date], Decimal | None]


def order_value(lines: Iterable[tuple[int, str]]) -> Decimal:
    """Sum of quantity x unit price, exactly (prices are decimal strings, never floats)."""
    return sum((Decimal(price) * qty for qty, price in lines), Decimal(0))


@dataclass(frozen=True)
class SalesCell:
    """The live orders of one channel, ship-to country, currency and day: how many, and their value (in the
    currency). Revenue converts a cell at its day's rates, so converting costs one rate per cell."""

    channel: str
    country: str
    currency: str
    day: date
    orders: int
    amount: Decimal


def sales_cells(orders: Iterable[OrderFigure]) -> list[SalesCell]:
    """Live orders summed per (channel, country, currency, day); cancelled ones and orders with no day
    count nothing."""
    cells: dict[tuple[str, str, str, date], list[Any]] = {}
    for o in orders:
        if o.cancelled or o.day is None:
            continue
        c = cells.setdefault((o.channel, o.country, o.currency, o.day), [0, Decimal(0)])
        c[0] += 1
        c[1] += order_value(o.lines)
    return [SalesCell(*k, n, amount) for k, (n, amount) in sorted(cells.items())]


@dataclass
class SalesTotals:
    key: str
    orders: int = 0
    revenue: Decimal = Decimal(0)
    unconverted: int = 0  # orders counted whose revenue could not be converted (no rate by their day)


def sales_by(
    cells: Iterable[SalesCell], key: Callable[[SalesCell], str], convert: Converter | None = None
) -> list[SalesTotals]:
    """Order count and revenue per group, biggest revenue first.

    Without ``convert`` revenue is summed as it stands (the caller keeps one currency per group); with it,
    every cell's value is converted at its day first, and a cell with no rate adds its orders to
    ``unconverted``, not to revenue.
    """
    groups: dict[str, SalesTotals] = {}
    for c in cells:
        g = groups.setdefault(key(c), SalesTotals(key(c)))
        g.orders += c.orders
        value = c.amount if convert is None else convert(c.amount, c.currency, c.day)
        if value is None:
            g.unconverted += c.orders
        else:
            g.revenue += value
    return sorted(groups.values(), key=lambda g: (-g.revenue, -g.orders, g.key))


@dataclass
class CurrencyTotals:
    """The orders of one currency: their revenue as sold, and what it is in the reporting currency."""

    currency: str
    orders: int = 0
    revenue: Decimal = Decimal(0)  # in ``currency``
    converted: Decimal = Decimal(0)  # in the reporting currency, of the orders that had a rate
    unconverted: int = 0


@dataclass(frozen=True)
class Revenue:
    """Revenue in the reporting currency, converted at each order's day, and the per-currency figures it
    comes from. ``unconverted`` orders (no rate by their day) are in no total but their own currency's."""

    currency: str
    total: Decimal
    orders: int
    unconverted: int
    by_currency: tuple[CurrencyTotals, ...]


def revenue(cells: Iterable[SalesCell], reporting: str, convert: Converter) -> Revenue:
    """Revenue of the live orders in ``reporting``; per currency, biggest converted share first."""
    groups: dict[str, CurrencyTotals] = {}
    for c in cells:
        g = groups.setdefault(c.currency, CurrencyTotals(c.currency))
        g.orders += c.orders
        g.revenue += c.amount
        value = convert(c.amount, c.currency, c.day)
        if value is None:
            g.unconverted += c.orders
        else:
            g.converted += value
    rows = sorted(groups.values(), key=lambda g: (-g.converted, g.currency))
    return Revenue(
        currency=reporting,
        total=sum((g.converted for g in rows), Decimal(0)),
        orders=sum(g.orders for g in rows),
        unconverted=sum(g.unconverted for g in rows),
        by_currency=tuple(rows),
    )


# -- time -------------------------------------------------------------------------------------------------
# What each event source is, in an operator's words (the codes are what writers stamp on their events).
SOURCE_LABELS = {
    "api": "Stock movements sent to the HTTP API",
    "import": "Stock files imported (keel inventory import)",
    "sim": "Retail twin's live stream",
    "orders": "Orders: capture, fulfilment and returns",
    "availability": "Channel availability updates",
    "keel": "Set-up changes: locations, groups, channels, policies",
    "counts": "Cycle counts",
    "reservations": "Reservations committed or released",
    "geo": "Postal-code imports",
    "rebuild": "Position rebuilds from the ledger",
}


def source_label(source: str) -> str:
    """The operator's name of an event source; an unknown one (a connector's own) keeps its code."""
    return SOURCE_LABELS.get(source, source)


def ages(last_seen: Mapping[str, datetime], now: datetime) -> dict[str, float]:
    """Seconds since each source was last heard from (data freshness), never negative."""
    return {src: max(0.0, (now - at).total_seconds()) for src, at in sorted(last_seen.items())}


def lag_seconds(oldest_pending: datetime | None, now: datetime) -> float:
    """Seconds the oldest event a consumer has not read yet has been waiting (0 when it is caught up)."""
    return 0.0 if oldest_pending is None else max(0.0, (now - oldest_pending).total_seconds())
