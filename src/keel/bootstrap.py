"""Composition root: builds every service once, wired to one database and one event log."""

from __future__ import annotations

from dataclasses import dataclass

from keel.channels import ChannelService
from keel.geo import PostalCodeService
from keel.inventory import AvailabilityService, InventoryQueries, LocationService, StockService
from keel.orders.service import OrdersService
from keel.platform.config import Settings, load_settings
from keel.platform.db import Database
from keel.platform.events import SqlEventLog


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
    orders: OrdersService
    postcodes: PostalCodeService

    def close(self) -> None:
        self.db.dispose()


def bootstrap(settings: Settings | None = None, *, database_url: str | None = None) -> Keel:
    settings = settings or load_settings()
    db = Database(database_url or settings.database_url)
    events = SqlEventLog()
    locations = LocationService(db, events)
    channels = ChannelService(db, events, locations)  # the inventory locations are its directory
    stock = StockService(db, events, locations, settings)
    queries = InventoryQueries(db, settings)
    availability = AvailabilityService(db, events, channels, locations)
    postcodes = PostalCodeService(db, events)
    return Keel(
        settings=settings,
        db=db,
        events=events,
        locations=locations,
        stock=stock,
        queries=queries,
        channels=channels,
        availability=availability,
        orders=OrdersService(db, events, stock, queries, locations, channels, availability, postcodes),
        postcodes=postcodes,
    )
