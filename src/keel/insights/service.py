"""Insights use cases: gather the control tower's numbers through the other contexts' services.

Nothing here reads another context's tables: positions and accuracy come from ``keel.queries``, listings
from ``keel.availability``, orders from ``keel.orders``, locations from ``keel.locations`` and freshness and
lag from the event log. The whole picture is cached and refreshed in the background every ``ttl`` seconds
because the home page reloads itself every few seconds in many browsers at once; order lines are cached per
order for good, since the quantities and prices of a captured order never change (only its status does, and
that is re-read).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from keel.channels import ChannelService
from keel.fx import BASE, FxService, MissingRate, RateTable
from keel.insights.model import (
    DEFAULT_RULES,
    Alert,
    AlertRule,
    Converter,
    Listing,
    OrderFigure,
    Revenue,
    SalesTotals,
    StockRow,
    ages,
    evaluate,
    lag_seconds,
    revenue,
    sales_by,
    stockout_rate,
)
from keel.inventory import (
    AccuracyReport,
    AvailabilityService,
    InventoryQueries,
    LocationService,
)
from keel.orders import Metrics, Orders, OrderSummary
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.events import EventLog
from keel.platform.scope import Scope
from keel.platform.vocabulary import DEAD_ORDERS

PAGE = 5_000  # rows per service call when walking every position or order

T = TypeVar("T")


@dataclass
class Snapshot:
    """Everything the control tower shows, taken at ``taken_at``."""

    taken_at: datetime
    stock: list[StockRow]
    listings: list[Listing]
    orders: list[OrderFigure]
    accuracy: AccuracyReport
    metrics: Metrics
    sync_lag_events: int
    sync_lag_seconds: float
    freshness: dict[str, float]  # source -> seconds since last heard from
    alerts: list[Alert] = field(default_factory=list)
    reporting_currency: str = BASE
    rates: RateTable = field(default_factory=RateTable)

    @property
    def stockout_rate(self) -> float | None:
        return stockout_rate(self.listings)

    def sales(self, key: Callable[[OrderFigure], str]) -> list[SalesTotals]:
        """Orders and revenue per group, revenue in the reporting currency at each order's day."""
        return sales_by(self.orders, key, self.converter)

    def revenue(self) -> Revenue:
        """Revenue in the reporting currency, with the per-currency figures it was converted from."""
        return revenue(self.orders, self.reporting_currency, self.converter)

    @property
    def converter(self) -> Converter:
        return converter(self.rates, self.reporting_currency)


def converter(rates: RateTable, target: str) -> Converter:
    """Amounts into ``target`` at ``rates``; None where a currency has no rate by the order's day."""

    def convert(amount: Decimal, currency: str, day: date) -> Decimal | None:
        try:
            return rates.convert(amount, currency, target, day)
        except MissingRate:
            return None

    return convert


class InsightsService:
    def __init__(
        self,
        db: Database,
        events: EventLog,
        queries: InventoryQueries,
        locations: LocationService,
        channels: ChannelService,
        availability: AvailabilityService,
        orders: Orders,
        *,
        rules: Iterable[AlertRule] = DEFAULT_RULES,
        ttl: float = 5.0,
        max_stale: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        fx: FxService | None = None,
        reporting_currency: str = BASE,
    ) -> None:
        self.db = db
        self.events = events
        self.queries = queries
        self.locations = locations
        self.channels = channels
        self.availability = availability
        self.orders = orders
        self.rules = tuple(rules)
        self.ttl = ttl
        self.max_stale = max_stale
        self.clock = clock
        self.fx = fx
        self.reporting_currency = reporting_currency
        self._lock = threading.Lock()
        self._cached: tuple[float, Snapshot] | None = None
        self._refreshing = False
        self._lines: dict[int, tuple[tuple[int, str], ...]] = {}

    def snapshot(self, scope: Scope = Scope.ALL) -> Snapshot:
        """The current KPIs, aggregates and alerts (of ``scope``'s channels and countries only, see ``_narrow``).

        The first call computes them; later calls answer from the cache at once and, once it is older than
        ``ttl`` seconds, refresh it in a background thread (stale while revalidating), so a page render does
        not wait for the whole picture while people are watching. A cache older than ``max_stale`` (nobody
        looked for a while) is computed afresh before answering: the first view after a quiet spell shows
        current figures, not those of the last visit. ``ttl=0`` always computes afresh (tests, one-off reads).
        """
        whole = self._whole()
        return whole if not scope.restricted else self._narrow(whole, scope)

    def _whole(self) -> Snapshot:
        if self.ttl <= 0:
            return self._take()
        with self._lock:
            cached = self._cached
            if cached is None or self.clock() - cached[0] >= self.max_stale:
                snap = self._take()
                self._cached = (self.clock(), snap)
                return snap
            if self.clock() - cached[0] >= self.ttl and not self._refreshing:
                self._refreshing = True
                threading.Thread(target=self._refresh, name="insights-refresh", daemon=True).start()
            return cached[1]

    def _narrow(self, whole: Snapshot, scope: Scope) -> Snapshot:
        """The snapshot as a restricted identity may see it: positions at locations in its countries,
        listings and orders of its channels and (ship-to) countries, accuracy and fulfilment rates read again
        with the restriction. Sync lag and source freshness stay whole: they say how current the figures are,
        not what they hold."""
        snap = replace(
            whole,
            stock=[r for r in whole.stock if scope.sees_country(r.country)],
            listings=[x for x in whole.listings if scope.sees_channel(x.channel) and scope.sees_country(x.country)],
            orders=[o for o in whole.orders if scope.sees_channel(o.channel) and scope.sees_country(o.country)],
            accuracy=self.queries.accuracy(scope=scope),
            metrics=self.orders.reads.metrics(scope=scope),
            alerts=[],
        )
        snap.alerts = evaluate(self.rules, alert_metrics(snap))
        return snap

    def _refresh(self) -> None:
        try:
            snap = self._take()
            with self._lock:
                self._cached = (self.clock(), snap)
        finally:
            self._refreshing = False

    def _take(self) -> Snapshot:
        now = utcnow()
        stock = self._stock()
        with self.db.read() as conn:
            backlog = self.availability.backlog(conn)
            oldest_pending = self.availability.oldest_pending_at(conn)
            last_seen = self.events.freshness(conn)
            feeds = self.availability.listings_fed_by(conn)
        listings = self._listings(stock, feeds)
        accuracy = self.queries.accuracy()
        snap = Snapshot(
            taken_at=now,
            stock=stock,
            listings=listings,
            orders=self._orders(),
            accuracy=accuracy,
            metrics=self.orders.reads.metrics(),
            sync_lag_events=backlog,
            sync_lag_seconds=lag_seconds(oldest_pending, now),
            freshness=ages(last_seen, now),
            reporting_currency=self.reporting_currency,
            rates=self.fx.table() if self.fx else RateTable(),
        )
        snap.alerts = evaluate(self.rules, alert_metrics(snap))
        return snap

    def _listings(self, stock: list[StockRow], feeds: dict[str, list[tuple[str, str]]]) -> list[Listing]:
        """Every (channel, country, SKU) whose source locations hold or have held the SKU, with what the
        channel lists for it now. Channels are not told about zeros they never listed, so a listing missing
        from ``projected`` lists zero."""
        keys: set[tuple[str, str, str]] = set()
        for r in stock:
            for channel, country in feeds.get(r.location, ()):
                keys.add((channel, country, r.sku))
        listed = {
            (row.channel, row.country, sku): row.quantity
            for sku, rows in self.availability.projected(sorted({k[2] for k in keys})).items()
            for row in rows
        }
        return [Listing(ch, ctry, sku, listed.get((ch, ctry, sku), 0)) for ch, ctry, sku in sorted(keys)]

    def _stock(self) -> list[StockRow]:
        regions = {
            loc.code: loc.region for loc in self._all(lambda lim, off: self.locations.list(limit=lim, offset=off))
        }
        rows = self._all(lambda lim, off: self.queries.positions(limit=lim, offset=off))
        return [
            StockRow(r.sku, r.location, r.country, regions.get(r.location), r.on_hand, r.available, r.incoming)
            for r in rows
        ]

    def _orders(self) -> list[OrderFigure]:
        currency = {c.code: c.currency for c in self._all(lambda lim, off: self.channels.list(limit=lim, offset=off))}
        out = []
        for o in self._every_order():
            lines = self._lines.get(o.id)
            if lines is None:
                full = self.orders.reads.get(o.id)
                lines = self._lines[o.id] = tuple((ln.quantity, ln.unit_price) for ln in full.lines)
            dead = o.status in DEAD_ORDERS
            figure = OrderFigure(o.channel, o.country, lines, dead, currency.get(o.channel, ""), o.created_at.date())
            out.append(figure)
        return out

    def _every_order(self) -> list[OrderSummary]:
        def page(limit: int, offset: int) -> tuple[list[OrderSummary], int]:
            found = self.orders.reads.list(limit=limit, offset=offset)
            return list(found.items), found.total

        return self._all(page)

    @staticmethod
    def _all(fetch: Callable[[int, int], tuple[list[T], int]]) -> list[T]:
        """Every row of a paginated service read, ``PAGE`` rows a call."""
        out: list[T] = []
        while True:
            page, total = fetch(PAGE, len(out))
            out.extend(page)
            if not page or len(out) >= total:
                return out


def alert_metrics(snap: Snapshot) -> dict[str, dict[str, float | None]]:
    """The figures alert rules can name, per subject ("" for global figures)."""
    stockout = snap.stockout_rate
    acc = snap.accuracy.overall.accuracy
    return {
        "sync_lag_events": {"": float(snap.sync_lag_events)},
        "sync_lag_seconds": {"": snap.sync_lag_seconds},
        "source_age_minutes": {src: age / 60 for src, age in snap.freshness.items()},
        "stockout_pct": {"": None if stockout is None else stockout * 100},
        "accuracy_pct": {"": None if acc is None else acc * 100},
    }
