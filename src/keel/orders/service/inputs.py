"""What order planning reads from the inventory, channels and geo contexts, in one place: the planner's
network (active locations that may serve a channel, their stock and spent capacity), channel terms and
positions of places; and capture's ``CaptureSnapshot``, all of that for one order, read once inside the
capture's own transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Connection

from keel.channels import Channel, ChannelService
from keel.geo import city_centroid
from keel.inventory import AvailabilityService, InventoryQueries, Location, LocationService, SourcingStock
from keel.orders.sourcing import Network, Node
from keel.orders.store import shipments
from keel.platform.clock import utcnow
from keel.platform.db import Database, Later
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

    def find_centroid(self, conn: Connection, country: str, code: str) -> Later[Area | None]:
        """The position of the postal code (or of its outward part) in ``country``; None when unknown. Read in
        ``conn``'s transaction, sent now."""
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


def _place(loc: Location) -> Place:
    return Place(loc.code, loc.active, loc.country, frozenset(loc.capabilities), position(loc))


def _terms(found: Channel) -> ChannelTerms:
    return ChannelTerms(
        code=found.code,
        active=found.active,
        countries=frozenset(found.countries),
        backorder=found.policy.rules.backorder,
    )


def _node(loc: Location, stock: dict[str, int], used: int) -> Node | None:
    """The planner's node for an active location, or None when it cannot fulfil (a supplier, no position)."""
    coords = position(loc)
    if not loc.fulfils or coords is None:  # suppliers do not fulfil orders; a node needs a position
        return None
    kind = LocationKind(loc.kind)
    return Node(
        code=loc.code,
        kind=kind,
        country=loc.country,
        lat=coords[0],
        lon=coords[1],
        capabilities=frozenset(_CAPABILITIES[c] for c in loc.capabilities if c in _CAPABILITIES),
        capacity=DAILY_CAPACITY[kind] if loc.daily_capacity is None else loc.daily_capacity,
        used=used,
        stock=stock,
    )


class CaptureSnapshot:
    """What capturing one order reads of other contexts, once, in its own transaction: the channel's terms,
    the stock of the order's SKUs where the channel may take it (and at the pick-up node), and its ATP."""

    def __init__(self, channel: ChannelTerms | None, stock: SourcingStock, pickup: str | None) -> None:
        self.channel = channel  # None: no such channel
        self.country = stock.country  # where the sources were resolved (the pick-up node's for a pick-up order)
        self._stock = stock
        self._pickup = pickup

    def known(self, sku: str) -> bool:
        """Some location holds or has held the SKU (there is no catalog yet)."""
        return self._stock.known(sku)

    def atp(self, sku: str) -> int:
        """What the channel may sell of ``sku`` in ``country`` now (its live ATP)."""
        return self._stock.atp(sku)

    def place(self, code: str) -> Place | None:
        """A location the snapshot read (the pick-up node, or a source holding the SKUs), or None."""
        found = self._stock.locations.get(code)
        return None if found is None else _place(found)

    def candidates(self) -> list[str]:
        """Codes of the nodes the planner may use: active locations feeding the channel that hold stock of
        the SKUs, and the pick-up node."""
        codes = {
            code
            for by_location in self._stock.available.values()
            for code, qty in by_location.items()
            if qty > 0 and code in self._stock.sources
        }
        if self._pickup is not None and self._pickup in self._stock.locations:
            codes.add(self._pickup)
        return sorted(c for c in codes if self._stock.locations[c].active)

    def network(self, used: Mapping[str, int]) -> Network:
        """The planner's network of the candidate nodes, with their available stock of the SKUs and the units
        they have committed today (``used``)."""
        nodes = []
        for code in self.candidates():
            stock = {sku: by_loc[code] for sku, by_loc in self._stock.available.items() if by_loc.get(code, 0) > 0}
            node = _node(self._stock.locations[code], stock, used.get(code, 0))
            if node is not None:
                nodes.append(node)
        return Network(nodes)


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
            held = {sku: by_loc[loc.code] for sku, by_loc in stock.items() if loc.code in by_loc}
            node = _node(loc, held, used.get(loc.code, 0))
            if node is not None:
                nodes.append(node)
        return Network(nodes)

    def find_channel(self, conn: Connection, code: str) -> Later[Channel | None]:
        """The channel, read in capture's transaction and sent now (``for_capture`` takes it)."""
        return self.channels.find(conn, code)

    def for_capture(
        self,
        conn: Connection,
        channel: Later[Channel | None],
        country: str | None,
        skus: Sequence[str],
        pickup: str | None,
    ) -> CaptureSnapshot:
        """One read, in the capture's write transaction, of the stock of ``skus`` where the ``channel`` (sent by
        ``find_channel``) may take it in ``country`` (None: the pick-up node's country) and at ``pickup``. The
        ledger stays locked until that transaction ends, so the plan made on it commits as it is."""
        found = channel()
        stock = self.queries.sourcing_stock(conn, skus, found, country, pickup, hold=True)
        return CaptureSnapshot(None if found is None else _terms(found), stock, pickup)

    def sources(self, channel: str, country: str) -> list[str]:
        """The locations whose stock the channel may sell in ``country``."""
        return list(self.availability.sources_for(channel, country))

    def stock(self, skus: Sequence[str]) -> dict[str, dict[str, int]]:
        """Available units per SKU and location."""
        return dict(self.queries.available_by_location(list(skus)))

    def channel(self, code: str) -> ChannelTerms:
        """The channel's terms; ``NotFound`` when there is no such channel."""
        return _terms(self.channels.get(code))

    def location_codes(self) -> set[str]:
        """Every location's code, active or not."""
        return {loc.code for loc in self.locations.list(limit=EVERY_LOCATION)[0]}
