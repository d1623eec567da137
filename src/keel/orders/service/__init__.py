"""Order use cases, one class each, composed by ``build_orders`` into ``Orders`` (``keel.orders``)."""

from __future__ import annotations

from dataclasses import dataclass

from keel.channels import ChannelService
from keel.inventory import AvailabilityService, InventoryQueries, LocationService, StockService
from keel.orders.service.backorders import BackorderOrders
from keel.orders.service.capture import CaptureOrders
from keel.orders.service.common import PolicyBook, Timeline
from keel.orders.service.fulfilment import FulfilOrders
from keel.orders.service.inputs import Postcodes, SourcingInputs
from keel.orders.service.policies import PolicyOrders
from keel.orders.service.reads import ReadOrders
from keel.orders.service.returns import ReturnOrders
from keel.orders.service.waves import WaveOrders
from keel.platform.db import Database
from keel.platform.events import SqlEventLog

__all__ = ["Orders", "build_orders"]


@dataclass(frozen=True)
class Orders:
    """Every order use case: ``keel.orders.capture.place(...)``, ``keel.orders.reads.get(...)``, ..."""

    capture: CaptureOrders
    fulfilment: FulfilOrders
    returns: ReturnOrders
    waves: WaveOrders
    backorders: BackorderOrders
    policies: PolicyOrders
    reads: ReadOrders


def build_orders(
    db: Database,
    events: SqlEventLog,
    stock: StockService,
    queries: InventoryQueries,
    locations: LocationService,
    channels: ChannelService,
    availability: AvailabilityService,
    postcodes: Postcodes,
) -> Orders:
    """The orders context wired to its collaborators; each use case gets only what it uses."""
    inputs = SourcingInputs(db, availability, locations, queries, channels)
    book = PolicyBook(db)
    timeline = Timeline(events)
    reads = ReadOrders(db)
    return Orders(
        capture=CaptureOrders(db, stock, inputs, postcodes, book, timeline, reads),
        fulfilment=FulfilOrders(db, stock, inputs, book, timeline, reads),
        returns=ReturnOrders(db, stock, timeline),
        waves=WaveOrders(db, stock, inputs, book, timeline),
        backorders=BackorderOrders(db, stock, inputs, book, timeline),
        policies=PolicyOrders(db, events, inputs, book),
        reads=reads,
    )
