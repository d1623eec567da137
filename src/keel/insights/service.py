"""Insights use cases: the control tower's numbers, read from the projections ``keel.insights.projector``
keeps from the event log, plus the few figures other contexts answer from indexed reads (accuracy and
fulfilment rates from ``keel.queries`` and ``keel.orders``, lag and freshness from the event log).

A snapshot reads sums per location, per (channel, country) and per (channel, country, currency, day): its
cost follows the number of locations, channels, countries and days, not of SKUs or orders. Taking one
first lets the projector catch up in the caller (a no-op when the worker keeps it current), so a page
shows every event committed before it was asked for. The picture is still cached and refreshed in the
background every ``ttl`` seconds because the home page reloads itself every few seconds in many browsers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from keel.channels import ChannelService, ChannelSync, SyncService
from keel.fx import BASE, FxService, MissingRate, RateTable
from keel.insights import store
from keel.insights.alerts import DEFAULT_RULES, Alert, AlertRule, evaluate
from keel.insights.model import (
    Converter,
    ListingCount,
    LocationStock,
    Revenue,
    SalesCell,
    SalesTotals,
    StockTotals,
    ages,
    combine,
    lag_seconds,
    revenue,
    sales_by,
    stockout_rate,
)
from keel.insights.projector import TowerProjector, every_row
from keel.inventory import (
    AccuracyReport,
    AvailabilityService,
    InventoryQueries,
    LocationService,
)
from keel.orders import Metrics, Orders
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.events import EventLog
from keel.platform.scope import Scope
from keel.platform.sources import EventSource

ANY = store.ANY


@dataclass(frozen=True)
class ChannelLag:
    """One synced channel's lag as the home page shows it (docs/sync.md)."""

    channel: str
    lag_p99_s: float | None  # change committed in Keel -> accepted by the channel, last 15 minutes
    pending: int  # values still owed
    dead: int
    paused: bool
    standards: tuple[tuple[str, str, float], ...] = ()  # (metric, status, value) of seller standards in breach
    # or projected to breach (the order metrics of the channel's health)


@dataclass
class Snapshot:
    """Everything the control tower shows, taken at ``taken_at``."""

    taken_at: datetime
    stock: list[LocationStock]
    skus: dict[tuple[str, str], int]  # distinct SKUs per (country, region ""=none); region "*": the country
    listings: list[ListingCount]
    orders: list[SalesCell]
    accuracy: AccuracyReport
    metrics: Metrics
    sync_lag_events: int
    sync_lag_seconds: float
    freshness: dict[str, float]  # source -> seconds since last heard from
    alerts: list[Alert] = field(default_factory=list)
    reporting_currency: str = BASE
    rates: RateTable = field(default_factory=RateTable)
    total_skus: int = 0  # distinct SKUs in every country the snapshot covers
    channel_sync: list[ChannelLag] = field(default_factory=list)  # channels the sync engine pushes to

    @property
    def slowest_channel(self) -> ChannelLag | None:
        """The synced channel with the highest lag p99 (None: no channel has pushed in the window)."""
        timed = [c for c in self.channel_sync if c.lag_p99_s is not None]
        return max(timed, key=lambda c: c.lag_p99_s or 0.0) if timed else None

    @property
    def stockout_rate(self) -> float | None:
        return stockout_rate(self.listings)

    @property
    def sourced(self) -> int:
        """Listings some location feeds (what the stockout rate counts among)."""
        return sum(c.sourced for c in self.listings)

    def sales(self, key: Callable[[SalesCell], str]) -> list[SalesTotals]:
        """Orders and revenue per group, revenue in the reporting currency at each order's day."""
        return sales_by(self.orders, key, self.converter)

    def revenue(self) -> Revenue:
        """Revenue in the reporting currency, with the per-currency figures it was converted from."""
        return revenue(self.orders, self.reporting_currency, self.converter)

    def distinct_skus(self, country: str | None = None, region: str | None = None) -> int:
        """Distinct SKUs held overall, in ``country``, or in its ``region`` ("" for locations with none)."""
        if country is None:
            return self.total_skus
        return self.skus.get((country, ANY if region is None else region), 0)

    def rollup(
        self, key: Callable[[LocationStock], str], rows: Iterable[LocationStock] | None = None
    ) -> list[StockTotals]:
        """The locations' sums (of ``rows``, default all) grouped by country, region or location."""
        rows = self.stock if rows is None else list(rows)
        members: dict[str, list[LocationStock]] = {}
        for r in rows:
            members.setdefault(key(r), []).append(r)

        def skus(group: str) -> int:
            mine = members[group]
            places = {(r.country, r.region or "") for r in mine}
            countries = {r.country for r in mine}
            if len(mine) == 1:
                return mine[0].positions  # one position per SKU at a location
            if len(places) == 1:
                return self.distinct_skus(*next(iter(places)))
            if len(countries) == 1:
                return self.distinct_skus(next(iter(countries)))
            return self.total_skus

        return combine(rows, key, skus)

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
        source: EventSource | None = None,
        sync: SyncService | None = None,
    ) -> None:
        self.db = db
        self.sync = sync
        self.events = events
        self.queries = queries
        self.locations = locations
        self.availability = availability
        self.orders = orders
        self.projector = TowerProjector(db, events, queries, locations, channels, availability, orders, source)
        self.rules = tuple(rules)
        self.ttl = ttl
        self.max_stale = max_stale
        self.clock = clock
        self.fx = fx
        self.reporting_currency = reporting_currency
        self._lock = threading.Lock()
        self._cached: tuple[float, Snapshot] | None = None
        self._refreshing = False

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
        """The snapshot as a restricted identity may see it: stock at locations in its countries, listings
        and sales of its channels and (ship-to) countries, accuracy and fulfilment rates read again with the
        restriction. Sync lag and source freshness stay whole: they say how current the figures are, not what
        they hold."""
        countries = sorted({r.country for r in whole.stock if scope.sees_country(r.country)})
        if len(countries) == 1:
            total = whole.skus.get((countries[0], ANY), 0)
        else:
            with self.db.read() as conn:
                total = store.distinct_skus_in(conn, countries) if countries else 0
        snap = replace(
            whole,
            stock=[r for r in whole.stock if scope.sees_country(r.country)],
            skus={k: n for k, n in whole.skus.items() if k[0] != ANY and scope.sees_country(k[0])},
            listings=[x for x in whole.listings if scope.sees_channel(x.channel) and scope.sees_country(x.country)],
            orders=[o for o in whole.orders if scope.sees_channel(o.channel) and scope.sees_country(o.country)],
            accuracy=self.queries.accuracy(scope=scope),
            metrics=self.orders.reads.metrics(scope=scope),
            alerts=[],
            total_skus=total,
            channel_sync=[c for c in whole.channel_sync if scope.sees_channel(c.channel)],
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
        if self.projector.pending():  # a read first: catching up takes the write lock even when idle
            self.projector.catch_up()
        now = utcnow()
        places = {
            loc.code: (loc.country, loc.region)
            for loc in every_row(lambda lim, off: self.locations.list(limit=lim, offset=off))
        }
        with self.db.read() as conn:
            backlog = self.availability.backlog(conn)
            oldest_pending = self.availability.oldest_pending_at(conn)
            last_seen = self.events.freshness(conn)
            stock = [
                LocationStock(loc, *places.get(loc, ("", None)), *figures)
                for loc, *figures in store.location_stock_rows(conn)
            ]
            skus = store.sku_count_rows(conn)
            listings = [ListingCount(*row) for row in store.listing_count_rows(conn)]
            cells = [SalesCell(*row) for row in store.sales_rows(conn)]
        snap = Snapshot(
            taken_at=now,
            stock=stock,
            skus=skus,
            listings=listings,
            orders=cells,
            accuracy=self.queries.accuracy(),
            metrics=self.orders.reads.metrics(),
            sync_lag_events=backlog,
            sync_lag_seconds=lag_seconds(oldest_pending, now),
            freshness=ages(last_seen, now),
            reporting_currency=self.reporting_currency,
            rates=self.fx.table() if self.fx else RateTable(),
            total_skus=skus.get((ANY, ANY), 0),
            channel_sync=[lag_of(c) for c in self.sync.status()] if self.sync is not None else [],
        )
        snap.alerts = evaluate(self.rules, alert_metrics(snap))
        return snap


def lag_of(c: ChannelSync) -> ChannelLag:
    """A synced channel as the home page and its alerts see it."""
    alarming = tuple(
        (h.metric, h.status, h.value)
        for h in c.health
        if h.orders is not None and h.value is not None and h.status in ("breach", "projected")
    )
    return ChannelLag(c.channel, c.lag_p99_s, c.pending, c.dead, c.paused, alarming)


def _standards(snap: Snapshot) -> dict[str, float | None]:
    """``<channel> <metric>`` -> the metric in per cent, of the seller standards in breach or projected to be."""
    return {f"{c.channel} {m}": v * 100 for c in snap.channel_sync for m, _, v in c.standards}


def alert_metrics(snap: Snapshot) -> dict[str, dict[str, float | None]]:
    """The figures alert rules can name, per subject ("" for global figures)."""
    stockout = snap.stockout_rate
    acc = snap.accuracy.overall.accuracy
    return {
        "sync_lag_events": {"": float(snap.sync_lag_events)},
        "sync_lag_seconds": {"": snap.sync_lag_seconds},
        "channel_sync_p99_s": {c.channel: c.lag_p99_s for c in snap.channel_sync if c.lag_p99_s is not None},
        "seller_standards": _standards(snap),
        "source_age_minutes": {src: age / 60 for src, age in snap.freshness.items()},
        "stockout_pct": {"": None if stockout is None else stockout * 100},
        "accuracy_pct": {"": None if acc is None else acc * 100},
    }
