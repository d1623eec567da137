"""What the inventory services answer and take: frozen records, one per thing a caller can hold.

Field order is the order of the public JSON documents (the API maps these with ``from_attributes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from keel.inventory.model.atp import AtpStep, Contribution, atp_quantity
from keel.platform.vocabulary import FULFILLING_KINDS, AtpRules, Capability, LocationKind


@dataclass(frozen=True, slots=True)
class Location:
    id: int
    code: str
    name: str
    kind: str
    country: str
    region: str | None
    city: str | None
    latitude: float | None
    longitude: float | None
    capabilities: tuple[str, ...]
    daily_capacity: int | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @property
    def fulfils(self) -> bool:
        """Whether it picks and ships orders (a supplier only sends stock in)."""
        return self.kind in FULFILLING_KINDS


@dataclass(frozen=True, slots=True)
class CreateLocation:
    """Command: a new location (``code`` must be new)."""

    code: str
    name: str
    kind: LocationKind | str
    country: str
    region: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    capabilities: tuple[Capability | str, ...] = ()
    daily_capacity: int | None = None


class LocationChanges(TypedDict, total=False):
    """Command: the fields of a location to change (absent: unchanged; ``active`` false deactivates)."""

    name: str | None
    kind: str | None
    country: str | None
    region: str | None
    city: str | None
    latitude: float | None
    longitude: float | None
    capabilities: list[str] | None
    daily_capacity: int | None
    active: bool | None


@dataclass(frozen=True, slots=True)
class LocationGroup:
    code: str
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Position:
    """The eight quantities of one SKU at one location (DESIGN section 3)."""

    sku: str
    on_hand: int
    available: int
    committed: int
    reserved: int
    safety_stock: int
    damaged: int
    quality_control: int
    incoming: int
    updated_at: datetime
    location: str
    country: str


@dataclass(frozen=True, slots=True)
class MovedPosition:
    """The quantities of a position a ledger range moved that sums over stock follow (on hand, available,
    incoming), without the rest of ``Position``."""

    sku: str
    location: str
    on_hand: int
    available: int
    incoming: int


@dataclass(frozen=True, slots=True)
class SkuDemand:
    """A SKU's stock and demand across locations: units available at active locations now, and units sold or
    committed (less those given back) over the last ``days`` days (``DEMAND_SIGNS``)."""

    sku: str
    sellable: int
    sold: int
    days: int


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    seq: int
    id: str
    kind: str
    sku: str
    quantity: int
    occurred_at: datetime
    recorded_at: datetime
    reason: str | None
    reference: str | None
    location: str


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    sku: str
    location_id: int
    quantity: int
    status: str
    reference: str | None
    expires_at: datetime
    created_at: datetime
    closed_at: datetime | None
    location: str


@dataclass(frozen=True, slots=True)
class StoredCount:
    """A cycle count row as stored (the service adds the tolerance verdict)."""

    id: str
    sku: str
    location_id: int
    book: int
    counted: int
    variance: int
    counted_at: datetime


@dataclass(frozen=True, slots=True)
class CountRecord:
    id: str
    sku: str
    location: str
    book: int
    counted: int
    variance: int
    within_tolerance: bool
    tolerance_pct: float
    counted_at: datetime


@dataclass(frozen=True, slots=True)
class AccuracyFigures:
    counted: int
    within_tolerance: int
    accuracy: float | None


@dataclass(frozen=True, slots=True)
class LocationAccuracy:
    location: str
    counted: int
    within_tolerance: int
    accuracy: float | None


@dataclass(frozen=True, slots=True)
class AccuracyReport:
    tolerance_pct: float
    overall: AccuracyFigures
    locations: tuple[LocationAccuracy, ...]


# Not frozen: the hottest read builds one per listing, and a frozen dataclass's __init__ costs 3x a plain
# one (0.46 us against 0.14 us here); nothing mutates these records.
@dataclass(slots=True)
class ListedQuantity:
    """What a channel was last told it may sell of one SKU in one country."""

    channel: str
    country: str
    quantity: int
    backorder: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AtpExplanation:
    """Live ATP of one (channel, country) listing, with what the channel was last told (``projected``)."""

    channel: str
    country: str
    quantity: int
    backorder: bool
    projected: int | None
    contributions: tuple[Contribution, ...]
    steps: tuple[AtpStep, ...]

    @property
    def pooled(self) -> int:
        """Units pooled from the source locations, before any rule."""
        return self.steps[0].result if self.steps else 0

    @property
    def stocked(self) -> tuple[Contribution, ...]:
        """The contributions of locations that hold (or are short of) the SKU."""
        return tuple(c for c in self.contributions if c.available or c.counted)

    @property
    def lagging(self) -> bool:
        """Whether the channel was last told another number than the live one (never told counts as 0)."""
        return self.projected != self.quantity and not (self.projected is None and not self.quantity)


@dataclass(frozen=True)
class SourcingStock:
    """What an order of some SKUs may draw on for one channel in one country, read at once: the stock of
    those SKUs where the channel may take it there (and at the pick-up location), those locations, and the
    channel's rules.

    ``locations`` holds the sources with a position of the SKUs, and the pick-up location asked for when it
    exists (in any state); ``available`` the positions of the SKUs at those locations, whatever quantity.
    """

    country: str | None  # the ship-to country the sources were resolved for (None: no pick-up location found)
    rules: AtpRules | None  # None: the channel lists nothing in that country (unknown, inactive, no sources)
    locations: Mapping[str, Location]
    available: Mapping[str, Mapping[str, int]]  # sku -> location code -> available
    sources: frozenset[str]  # the active locations feeding the channel in ``country`` that hold the SKUs
    held: frozenset[str]  # the SKUs with a position anywhere

    def known(self, sku: str) -> bool:
        """Some location holds or has held the SKU."""
        return sku in self.held

    def atp(self, sku: str) -> int:
        """What the channel may sell of ``sku`` in ``country`` now: its live ATP (the projector's arithmetic on
        these positions)."""
        if self.rules is None:
            return 0
        pooled = sum(max(0, q) for code, q in self.available.get(sku, {}).items() if code in self.sources)
        return atp_quantity(pooled, self.rules)
