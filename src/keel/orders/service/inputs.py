"""What order planning reads from the inventory, channels and geo contexts, in one place: the planner's
network (active locations that may serve a channel, their stock and spent capacity), channel terms,
SKU and location checks, and positions of places."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from keel.channels import ChannelService
from keel.geo import city_centroid
from keel.inventory import AvailabilityService, InventoryQueries, Location, LocationService
from keel.orders.sourcing import Network, Node
from keel.orders.store import shipments
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import NotFound
from keel.platform.vocabulary import Capability, LocationKind

# Units a node can pick per day unless its location says (``daily_capacity``): a pick line against shop staff.
DAILY_CAPACITY = {
    LocationKind.WAREHOUSE: 5000,
    LocationKind.THREE_PL: 5000,
    LocationKind.DARK_STORE: 1500,
    LocationKind.STORE: 300,
}
_CAPABILITIES = {c.value: c for c in Capability}
EVERY_LOCATION = 1_000_000


class Area(Protocol):
    @property
    def latitude(self) -> float: ...
    @property
    def longitude(self) -> float: ...
    @property
    def exact(self) -> bool: ...


class Postcodes(Protocol):
    """The geo context's postal-code centroids (``PostalCodeService``)."""

    def centroid(self, country: str, code: str) -> Area | None:
        """The position of the postal code (or of its outward part) in ``country``; None when unknown."""
        ...


@dataclass(frozen=True)
class ChannelTerms:
    """What orders need to know of a channel."""

    code: str
    active: bool
    countries: frozenset[str]
    backorder: bool  # its policy accepts orders beyond stock


@dataclass(frozen=True)
class Place:
    """A location as orders see it: active, country, capabilities and position (None: unknown)."""

    code: str
    active: bool
    country: str
    capabilities: frozenset[str]
    position: tuple[float, float] | None


def position(loc: Location) -> tuple[float, float] | None:
    """A location's own coordinates, else its city's, else None."""
    if loc.latitude is not None and loc.longitude is not None:
        return float(loc.latitude), float(loc.longitude)
    found = city_centroid(loc.country, loc.city)
    return None if found is None else (found[0], found[1])


class SourcingInputs:
    """Reads of other contexts for order planning and checks; the only module of orders that knows their
    result shapes."""

    def __init__(
        self,
        db: Database,
        availability: AvailabilityService,
        locations: LocationService,
        queries: InventoryQueries,
        channels: ChannelService,
    ) -> None:
        self.db = db
        self.availability = availability
        self.locations = locations
        self.queries = queries
        self.channels = channels

    def network(self, skus: Sequence[str], channel: str, country: str, pickup: str | None = None) -> Network:
        """Planner nodes: the active locations that feed the channel in the ship-to country (its availability
        policy's sources, so an order only takes stock the channel may sell) plus the pick-up store, with
        their available stock of ``skus`` and today's picks."""
        allowed = set(self.sources(channel, country))
        if pickup:
            allowed.add(pickup)
        return self.network_of(skus, allowed)

    def network_of(self, skus: Sequence[str], allowed: Collection[str]) -> Network:
        """Planner nodes for the active locations among ``allowed``, with their available stock of ``skus``
        and the units they have committed today (spent capacity)."""
        locations = [loc for loc in self.locations.list(active=True, limit=EVERY_LOCATION)[0] if loc.code in allowed]
        stock = self.stock(skus)
        midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        with self.db.read() as conn:
            used = shipments.units_since(conn, midnight)
        nodes = []
        for loc in locations:
            coords = position(loc)
            if not loc.fulfils or coords is None:  # suppliers do not fulfil orders; a node needs a position
                continue
            kind = LocationKind(loc.kind)
            nodes.append(
                Node(
                    code=loc.code,
                    kind=kind,
                    country=loc.country,
                    lat=coords[0],
                    lon=coords[1],
                    capabilities=frozenset(_CAPABILITIES[c] for c in loc.capabilities if c in _CAPABILITIES),
                    capacity=DAILY_CAPACITY[kind] if loc.daily_capacity is None else loc.daily_capacity,
                    used=used.get(loc.code, 0),
                    stock={sku: by_loc[loc.code] for sku, by_loc in stock.items() if loc.code in by_loc},
                )
            )
        return Network(nodes)

    def sources(self, channel: str, country: str) -> list[str]:
        """The locations whose stock the channel may sell in ``country``."""
        return list(self.availability.sources_for(channel, country))

    def stock(self, skus: Sequence[str]) -> dict[str, dict[str, int]]:
        """Available units per SKU and location."""
        return dict(self.queries.available_by_location(list(skus)))

    def atp(self, sku: str, channel: str, country: str) -> int:
        """What the channel may sell of ``sku`` in ``country`` now (its live ATP)."""
        rows = self.availability.explain(sku, channel, country)
        return rows[0].quantity if rows else 0

    def sku_known(self, sku: str) -> bool:
        """Some location holds or has held the SKU (there is no catalog yet)."""
        return bool(self.queries.positions(sku=sku, limit=1)[1])

    def channel(self, code: str) -> ChannelTerms:
        """The channel's terms; ``NotFound`` when there is no such channel."""
        found = self.channels.get(code)
        return ChannelTerms(
            code=code,
            active=found.active,
            countries=frozenset(found.countries),
            backorder=found.policy.rules.backorder,
        )

    def place(self, code: str) -> Place | None:
        """The location, or None when there is none."""
        try:
            loc = self.locations.get(code)
        except NotFound:
            return None
        return Place(loc.code, loc.active, loc.country, frozenset(loc.capabilities), position(loc))

    def location_codes(self) -> set[str]:
        """Every location's code, active or not."""
        return {loc.code for loc in self.locations.list(limit=EVERY_LOCATION)[0]}
