"""Inventory: locations, the stock ledger, positions, reservations, counts and channel availability (ATP).

The public face: other contexts, the web pages, the API/CLI composition and the benches import only these.
"""

from keel.inventory.consumers import AvailabilityProjector, reservation_sweeper
from keel.inventory.diagnostics import ledger_phase_timers
from keel.inventory.model import (
    KIND_CODES,
    AccuracyFigures,
    AccuracyReport,
    AtpExplanation,
    AtpStep,
    Contribution,
    CountRecord,
    CreateLocation,
    DemandSeries,
    Kind,
    LedgerEntry,
    ListedQuantity,
    Location,
    LocationAccuracy,
    LocationChanges,
    LocationGroup,
    MovedPosition,
    Position,
    Reservation,
    SkuDemand,
    SourcingStock,
)
from keel.inventory.service import AvailabilityService, BatchResult, LocationService, StockService
from keel.inventory.service.availability import AVAILABILITY_CHANGED, caused_latencies
from keel.inventory.service.history import FoldReport
from keel.inventory.service.ledger import POSITIONS_REBUILT, STOCK_MOVED, RebuildReport

# The event types the availability projector consumes (stock, topology, rebuilds): what may change ATP.
from keel.inventory.service.projector import CONSUMED
from keel.inventory.service.queries import InventoryQueries

__all__ = [
    "AVAILABILITY_CHANGED",
    "CONSUMED",
    "KIND_CODES",
    "POSITIONS_REBUILT",
    "STOCK_MOVED",
    "AccuracyFigures",
    "AccuracyReport",
    "AtpExplanation",
    "AtpStep",
    "AvailabilityProjector",
    "AvailabilityService",
    "BatchResult",
    "Contribution",
    "CountRecord",
    "CreateLocation",
    "DemandSeries",
    "FoldReport",
    "InventoryQueries",
    "Kind",
    "LedgerEntry",
    "ListedQuantity",
    "Location",
    "LocationAccuracy",
    "LocationChanges",
    "LocationGroup",
    "LocationService",
    "MovedPosition",
    "Position",
    "RebuildReport",
    "Reservation",
    "SkuDemand",
    "SourcingStock",
    "StockService",
    "caused_latencies",
    "ledger_phase_timers",
    "reservation_sweeper",
]
