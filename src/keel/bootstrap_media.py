"""The media context's part of the composition root (``bootstrap`` calls ``build_media``): its ports onto
the catalog, the channels, the locations, stock and sales, and its connectors."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from keel.catalog import CatalogService
from keel.channels import ChannelService
from keel.inventory import AVAILABILITY_CHANGED, STOCK_MOVED, AvailabilityService, InventoryQueries, LocationService
from keel.media import (
    Account,
    AdConnector,
    MediaService,
    PerformanceService,
    Place,
    Sender,
    SetupService,
    Watcher,
    connector_for,
)
from keel.orders import Orders
from keel.platform.config import Settings
from keel.platform.db import Database
from keel.platform.errors import NotFound
from keel.platform.events import EventLog
from keel.platform.sources import EventSource


@dataclass
class MediaDirectory:
    """What media reads of the catalog, the channels, the locations and the stock ledger."""

    catalog: CatalogService
    channels: ChannelService
    locations: LocationService
    queries: InventoryQueries

    def known_skus(self, skus: Collection[str]) -> set[str]:
        # the catalog's SKUs, and those the ledger holds (a retailer may run Keel's stock without its catalog)
        known = set(self.catalog.tags(skus))
        rest = set(skus) - known
        return known | (set(self.queries.demand(rest)) if rest else set())

    def tags(self, skus: Collection[str]) -> dict[str, tuple[str | None, frozenset[str]]]:
        return {s: (t.brand, t.categories) for s, t in self.catalog.tags(skus).items()}

    def group_skus(self, category: str | None, brand: str | None, label: str | None) -> list[str]:
        return self.catalog.skus_tagged(category=category, brand=brand, label=label)

    def channel_countries(self, channel: str) -> tuple[str, ...] | None:
        try:
            found = self.channels.get(channel)
        except NotFound:
            return None
        return found.countries if found.active else None

    def places(self) -> list[Place]:
        found, _ = self.locations.list(active=True, limit=1_000_000)
        return [Place(p.code, p.country, p.region, p.latitude, p.longitude) for p in found]


@dataclass
class MediaStock:
    """What media reads of stock and sales."""

    availability: AvailabilityService
    queries: InventoryQueries
    orders: Orders

    def listed(self, skus: list[str]) -> dict[tuple[str, str, str], int]:
        out: dict[tuple[str, str, str], int] = {}
        for start in range(0, len(skus), 2000):
            for sku, rows in self.availability.projected(skus[start : start + 2000]).items():
                out |= {(r.channel, r.country, sku): r.quantity for r in rows}
        return out

    def available_at(self, skus: list[str]) -> dict[str, dict[str, int]]:
        return self.queries.available_by_location(skus)

    def skus_moved(self, first_seq: int, last_seq: int) -> set[str]:
        return self.queries.skus_moved(first_seq, last_seq)

    def units_sold(self, since: datetime) -> dict[tuple[str, str, str], int]:
        return self.orders.reads.units_sold(since)


def _connector(timeout_s: float) -> Callable[[Account, str | None], AdConnector | None]:
    def connect(account: Account, token: str | None) -> AdConnector | None:
        return None if account.url is None else connector_for(account.platform, account.url, token or "", timeout_s)

    return connect


def build_media(
    settings: Settings,
    db: Database,
    events: EventLog,
    source: EventSource,
    catalog: CatalogService,
    channels: ChannelService,
    locations: LocationService,
    availability: AvailabilityService,
    queries: InventoryQueries,
    orders: Orders,
) -> MediaService:
    directory = MediaDirectory(catalog, channels, locations, queries)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    sender = Sender(
        db,
        _connector(settings.media_timeout_s),
        owner,
        threads=settings.media_threads,
        backoff_base_s=settings.media_backoff_s,
    )
    watcher = Watcher(
        db,
        events,
        directory,
        MediaStock(availability, queries, orders),
        lambda: sender.run_pass(wait=False),
        (AVAILABILITY_CHANGED, STOCK_MOVED),
        source=source,
        owner=owner,
    )
    setup = SetupService(db, directory, sender.forget)
    return MediaService(db, setup, PerformanceService(db), sender, watcher)
