"""Composition root: builds every service once, wired to one database and one event log."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.channels.service import ChannelService
from keel.geo.service import PostalCodeService
from keel.inventory import store as inventory_store
from keel.inventory.consumers import AvailabilityProjector, reservation_sweeper
from keel.inventory.service import AvailabilityService, LocationService, StockService
from keel.inventory.service.queries import InventoryQueries
from keel.orders import BackorderFiller, Orders, build_orders
from keel.platform.config import Settings, load_settings
from keel.platform.consumers import ConsumerRegistry
from keel.platform.db import Database
from keel.platform.events import SqlEventLog


class _LocationDirectory:
    """Adapter giving the channels context the location codes it may reference."""

    def known_codes(self, conn: Connection) -> tuple[set[str], set[str]]:
        locs = set(conn.execute(sa.select(inventory_store.locations.c.code)).scalars())
        groups = set(conn.execute(sa.select(inventory_store.location_groups.c.code)).scalars())
        return locs, groups


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
    consumers: ConsumerRegistry

    def close(self) -> None:
        self.db.dispose()


def bootstrap(settings: Settings | None = None, *, database_url: str | None = None) -> Keel:
    settings = settings or load_settings()
    db = Database(database_url or settings.database_url)
    events = SqlEventLog()
    locations = LocationService(db, events)
    channels = ChannelService(db, events, _LocationDirectory())
    stock = StockService(db, events, locations, settings)
    queries = InventoryQueries(db, settings)
    availability = AvailabilityService(db, events, channels, locations)
    postcodes = PostalCodeService(db, events)
    orders = build_orders(db, events, stock, queries, locations, channels, availability, postcodes)
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
        consumers=_consumers(settings, db, events, stock, availability, orders),
    )


def _consumers(
    settings: Settings,
    db: Database,
    events: SqlEventLog,
    stock: StockService,
    availability: AvailabilityService,
    orders: Orders,
) -> ConsumerRegistry:
    """Every event-log consumer and periodic job, in the order one worker pass runs them: availability
    first, so a backorder pass sees the listings the same stock produced."""
    registry = ConsumerRegistry()
    registry.add_job(reservation_sweeper(stock, settings.sweep_interval_s))
    registry.add(AvailabilityProjector(availability))
    registry.add(BackorderFiller(db, events, orders.backorders, settings.backorder_interval_s))
    return registry
