"""Composition root: builds every service once, wired to one database and one event log."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from keel.access import AccessService, RateLimiter
from keel.audit import AuditService
from keel.bootstrap_media import build_media
from keel.catalog import LISTING_CHANGED, CatalogService
from keel.channels import (
    ChannelService,
    FeedTypes,
    OrderUpdate,
    SyncService,
    sync_drift,
    sync_feeder,
    sync_fulfilled,
    sync_orders,
    sync_pump,
)
from keel.fx import FxService, MissingRate
from keel.geo import PostalCodeService
from keel.insights import InsightsService, TowerConsumer
from keel.inventory import (
    AVAILABILITY_CHANGED,
    AvailabilityProjector,
    AvailabilityService,
    CreateLocation,
    InventoryQueries,
    LocationService,
    StockService,
    reservation_sweeper,
)
from keel.media import MediaService, drift_job, rules_job, send_job
from keel.orders import BackorderFiller, OrderCart, Orders, build_orders, capture_command
from keel.planning import PlanningAutomation, PlanningService, automation_job
from keel.platform.clock import utcnow
from keel.platform.config import Settings, load_settings
from keel.platform.consumers import ConsumerRegistry
from keel.platform.db import Database
from keel.platform.errors import KeelError, NotFound
from keel.platform.events import SqlEventLog
from keel.platform.scope import Scope
from keel.platform.sources import DatabaseSource, EventSource
from keel.pricing import (
    PRICE_CHANGED,
    RUN_RATE_DAYS,
    Market,
    PricingService,
    PromotionService,
    Stock,
    StockRepricer,
    windows_job,
)


@dataclass
class Keel:
    settings: Settings
    db: Database
    events: SqlEventLog
    locations: LocationService
    stock: StockService
    queries: InventoryQueries
    channels: ChannelService
    availability: AvailabilityService
    orders: Orders
    postcodes: PostalCodeService
    fx: FxService
    catalog: CatalogService
    insights: InsightsService
    audit: AuditService
    access: AccessService
    sync: SyncService
    pricing: PricingService
    promotions: PromotionService
    media: MediaService
    planning: PlanningService
    automation: PlanningAutomation  # planning on a schedule, within guardrails
    consumers: ConsumerRegistry
    source: EventSource  # where the consumers read the event log (the database's own, or JetStream)

    def close(self) -> None:
        self.source.close()
        self.media.sender.close()
        self.sync.close()
        self.db.dispose()


def bootstrap(settings: Settings | None = None, *, database_url: str | None = None) -> Keel:
    settings = settings or load_settings()
    db = Database(database_url or settings.database_url)
    events = SqlEventLog()
    source = event_source(settings, events)
    locations = LocationService(db, events)
    channels = ChannelService(db, events, locations)  # the inventory locations are its directory
    stock = StockService(db, events, locations, settings)
    queries = InventoryQueries(db, settings)
    availability = AvailabilityService(db, events, channels, locations, source)
    postcodes = PostalCodeService(db, events)
    fx = FxService(db, events)
    orders = build_orders(db, events, stock, queries, locations, channels, availability, postcodes)
    catalog = CatalogService(db, events, channel_exists=channels.exists, max_batch=settings.max_batch)
    pricing = PricingService(
        db,
        events,
        markets=_markets(channels),
        conversion=_conversion(fx),
        stock=_stock_cover(queries),
        volumes=orders.reads.units_sold,
        tags=catalog.tags,
    )
    sync = SyncService(
        db,
        channels.exists,
        availability.listed_of,
        priced=pricing.priced_of,
        threads=settings.sync_threads,
        lease_s=settings.sync_lease_s,
        capture=_capture(orders),
        order_update=_order_update(orders),
        book=_book_fulfilled(locations, stock, queries),
    )
    media = build_media(settings, db, events, source, catalog, channels, locations, availability, queries, orders)
    insights = InsightsService(
        db,
        events,
        queries,
        locations,
        channels,
        availability,
        orders,
        fx=fx,
        reporting_currency=settings.reporting_currency,
        source=source,
        sync=sync,
    )
    shipped = orders.reads.order_units  # where orders shipped to: planning forecasts online demand there
    planning = PlanningService(db, events, locations, queries, stock, settings.forecast_scheduler, shipped)
    automation = PlanningAutomation(db, events, planning, locations, queries)
    consumers = _consumers(
        settings, db, events, source, stock, availability, orders, insights, sync, pricing, queries, media
    )
    consumers.add_job(automation_job(automation, settings.planning_automation_interval_s))
    return Keel(
        settings=settings,
        db=db,
        events=events,
        locations=locations,
        stock=stock,
        queries=queries,
        channels=channels,
        availability=availability,
        orders=orders,
        postcodes=postcodes,
        fx=fx,
        catalog=catalog,
        insights=insights,
        audit=AuditService(db, events),
        access=AccessService(
            db,
            settings.session_hours,
            RateLimiter(settings.login_failures_per_minute / 60, settings.login_failure_burst),
        ),
        sync=sync,
        pricing=pricing,
        promotions=PromotionService(
            db,
            market=_market(channels),
            tags=catalog.tags,
            recent=orders.reads.recent_carts,
            order=_order_cart(orders),
            reprice=pricing.reprice_promotion,
            quote=pricing.quote,
        ),
        media=media,
        planning=planning,
        automation=automation,
        consumers=consumers,
        source=source,
    )


def _markets(channels: ChannelService) -> Callable[[], list[Market]]:
    """Pricing's view of the channels: each active one with its countries and currency."""

    def markets() -> list[Market]:
        found, _ = channels.list(active=True, limit=1_000_000)
        return [Market(c.code, c.countries, c.currency) for c in found]

    return markets


def _market(channels: ChannelService) -> Callable[[str], Market | None]:
    """Pricing's view of one channel (a cart's): where it sells and in which currency, None when it is not an
    active channel."""

    def market(code: str) -> Market | None:
        try:
            found = channels.get(code)
        except NotFound:
            return None
        return Market(found.code, found.countries, found.currency) if found.active else None

    return market


def _order_cart(orders: Orders) -> Callable[[int, Scope], OrderCart]:
    """Pricing's view of a captured order: its channel, ship-to country and lines (``NotFound`` when the
    caller's scope does not see it)."""

    def order(order_id: int, scope: Scope) -> OrderCart:
        view = orders.reads.get(order_id, scope)
        return OrderCart(
            view.id, view.created_at, view.channel, view.country, [(ln.sku, ln.quantity) for ln in view.lines]
        )

    return order


def _conversion(fx: FxService) -> Callable[[], Callable[[str, str], Decimal | None]]:
    """Pricing's way to bring a cost into a channel's currency: the stored rates of today, read once per
    computation (None: no rate for that pair, so the cost is not used)."""

    def snapshot() -> Callable[[str, str], Decimal | None]:
        table, today = fx.table(), utcnow().date()

        def factor(source: str, target: str) -> Decimal | None:
            try:
                return table.convert(Decimal(1), source, target, today)
            except MissingRate:
                return None

        return factor

    return snapshot


def _stock_cover(queries: InventoryQueries) -> Callable[[set[str] | None], dict[str, Stock]]:
    """Pricing's view of stock for days of cover: per SKU, units available at active locations and units sold
    or committed over the last 28 days, from inventory's ledger (planning's forecasts do not exist yet)."""

    def cover(skus: set[str] | None) -> dict[str, Stock]:
        found = queries.demand(skus, RUN_RATE_DAYS)
        return {sku: Stock(d.sellable, d.sold, d.days) for sku, d in found.items()}

    return cover


def _capture(orders: Orders) -> Callable[[dict[str, Any]], tuple[int, bool]]:
    """The sync engine's way into order capture: a channel's order document in, its id and whether it is new
    out (a refusal raises, as ``POST /orders`` refuses)."""

    def capture(document: dict[str, Any]) -> tuple[int, bool]:
        captured = orders.capture.place(capture_command(document))
        return captured.order.id, captured.created

    return capture


# the order events whose news goes back to the order's channel (timeline kinds of keel.orders)
ORDER_UPDATES = frozenset({"order.shipped", "order.cancelled", "order.refunded"})
# the order events the sync engine keeps its channels' order facts from (the seller standards)
ORDER_FACTS = frozenset({"order.captured", "order.shipped", "order.delivered", "order.cancelled", "order.refunded"})


def _order_update(orders: Orders) -> Callable[[str, dict[str, Any], int], tuple[str, OrderUpdate] | None]:
    """The sync engine's reading of an order event: the order's channel and the update it owes it (None:
    nothing to tell, e.g. an order or shipment no longer there)."""

    def update(kind: str, data: dict[str, Any], seq: int) -> tuple[str, OrderUpdate] | None:
        try:
            order = orders.reads.get(int(data["order_id"]))
        except KeelError:
            return None
        if kind == "shipped":
            shipment = order.shipment(int(data["shipment"]))
            if shipment is None:
                return None
            lines = tuple((line.sku, line.quantity) for line in shipment.lines)
            key = f"shipped:{order.external_id}:{shipment.number}"
            return order.channel, OrderUpdate(
                order.external_id, kind, lines, key, shipment.carrier, shipment.tracking_number
            )
        by_no = {line.line_no: line for line in order.lines}
        if kind == "refunded":
            # a refund names its return: the channel is told the returned lines and what they were sold for
            try:
                returned = orders.returns.get(str(data["rma"]))
            except (KeelError, KeyError):
                return None
            pieces = [(by_no[r.line_no], r.quantity) for r in returned.lines if r.line_no in by_no]
            amount = sum((Decimal(line.unit_price) * q for line, q in pieces), Decimal(0))
            lines = tuple((line.sku, q) for line, q in pieces)
            key = f"refunded:{order.external_id}:{returned.rma}"
            return order.channel, OrderUpdate(order.external_id, kind, lines, key, amount=f"{amount:.2f}")
        cancelled = data.get("lines", {})
        lines = tuple((by_no[int(no)].sku, int(q)) for no, q in cancelled.items() if int(no) in by_no)
        return order.channel, OrderUpdate(order.external_id, kind, lines, f"{kind}:{order.external_id}:{seq}")

    return update


def _book_fulfilled(
    locations: LocationService, stock: StockService, queries: InventoryQueries
) -> Callable[[str, str, dict[str, int]], None]:
    """The sync engine's way into the ledger for stock a marketplace holds for its channel: one location per
    (channel, country), ``<channel>.fulfilled.<country>`` (a 3PL that Keel does not ship from: no
    capabilities, so sourcing never routes to it), whose on-hand is moved to what the marketplace reports by
    ``adjusted_in``/``adjusted_out`` movements (a SKU it no longer reports goes to 0)."""

    def book(channel: str, country: str, units: dict[str, int]) -> None:
        code = f"{channel}.fulfilled.{country}"
        try:
            locations.get(code)
        except KeelError:
            locations.create(CreateLocation(code, f"{channel} fulfilled stock ({country})", "3pl", country))
        held: dict[str, int] = {}
        offset = 0
        while True:
            page, total = queries.positions(location=code, limit=1000, offset=offset)
            held |= {p.sku: p.on_hand for p in page}
            offset += len(page)
            if not page or offset >= total:
                break
        stamp = uuid.uuid4().hex[:12]
        moves = []
        for sku in sorted(set(units) | set(held)):
            delta = units.get(sku, 0) - held.get(sku, 0)
            if delta:
                kind = "adjusted_in" if delta > 0 else "adjusted_out"
                move = {"id": f"fulfilled:{stamp}:{sku}", "kind": kind, "sku": sku, "location": code}
                moves.append(move | {"quantity": abs(delta), "reason": f"{channel} reports {units.get(sku, 0)}"})
        if moves:
            stock.apply_batch(moves)

    return book


def event_source(settings: Settings, events: SqlEventLog) -> EventSource:
    """The database's own log, or the JetStream stream ``keel relay`` fills (``event_source = "nats"``)."""
    if settings.event_source == "nats":
        from keel.platform.bus import BusConfig, JetStreamSource  # only a worker on the bus needs NATS

        return JetStreamSource(BusConfig.from_settings(settings), events)
    return DatabaseSource(events)


def _consumers(
    settings: Settings,
    db: Database,
    events: SqlEventLog,
    source: EventSource,
    stock: StockService,
    availability: AvailabilityService,
    orders: Orders,
    insights: InsightsService,
    sync: SyncService,
    pricing: PricingService,
    queries: InventoryQueries,
    media: MediaService,
) -> ConsumerRegistry:
    """Every event-log consumer and periodic job, in the order one worker pass runs them: availability
    first, so a backorder pass sees the listings the same stock produced (and the tower the listings)."""
    registry = ConsumerRegistry()
    registry.add_job(reservation_sweeper(stock, settings.sweep_interval_s))
    registry.add(AvailabilityProjector(availability))
    registry.add(
        BackorderFiller(db, events, orders.backorders, source), every_s=settings.backorder_interval_s, audited=True
    )
    registry.add(TowerConsumer(insights.projector))
    # before the sync feeder, so the prices a stock change moved reach the channels in the same pass
    registry.add(
        StockRepricer(db, events, pricing, queries.skus_moved, source), every_s=settings.pricing_stock_interval_s
    )
    registry.add_job(windows_job(pricing, settings.pricing_windows_interval_s))
    registry.add(
        sync_feeder(
            sync,
            db,
            events,
            source,
            FeedTypes(AVAILABILITY_CHANGED, LISTING_CHANGED, PRICE_CHANGED, ORDER_UPDATES, ORDER_FACTS),
        )
    )
    registry.add_job(sync_pump(sync, settings.sync_interval_s))
    registry.add_job(sync_drift(sync, settings.sync_drift_interval_s))
    registry.add_job(sync_orders(sync, settings.sync_orders_interval_s))
    registry.add_job(sync_fulfilled(sync, settings.sync_fulfilled_interval_s))
    # after availability (the listings it reads), its sender at once after it: a stock-out's pause leaves
    registry.add(media.watcher)  # its decisions are in its own action log (media_actions), with reasons
    registry.add_job(send_job(media, settings.media_send_interval_s))
    registry.add_job(rules_job(media, settings.media_rules_interval_s))
    registry.add_job(drift_job(media, settings.media_drift_interval_s))
    return registry
