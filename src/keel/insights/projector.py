"""The tower projector: an event-log consumer that keeps the control tower's tables (``keel.insights.store``)
current, so a page reads sums whose size does not grow with SKUs or orders.

Every effect is keyed state, not an increment: a ``stock.moved`` event makes it re-read the positions its
ledger range moved (as they are now) and apply the difference to what it last saw; an order event makes it
re-read the order; an ``availability.changed`` event carries the quantities a channel was told. Handing an
event over twice, or replaying the whole log over a populated projection, therefore changes nothing, and
the offset moves in the transaction of the writes (``HandlerConsumer``). Topology events (channels,
locations, groups) re-derive which listings a location feeds, and ``location.updated`` which country and
region each position counts in, from the projection's own position mirror.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from typing import TypeVar

from sqlalchemy.engine import Connection

from keel.channels import ChannelService
from keel.insights import store
from keel.insights.model import order_value
from keel.inventory import (
    AVAILABILITY_CHANGED,
    CONSUMED,
    POSITIONS_REBUILT,
    STOCK_MOVED,
    AvailabilityService,
    InventoryQueries,
    LocationService,
)
from keel.orders import Orders
from keel.platform.consumers import HandlerConsumer, OffsetMoved
from keel.platform.db import Database
from keel.platform.errors import NotFound
from keel.platform.events import Event, EventLog
from keel.platform.sources import EventSource
from keel.platform.vocabulary import DEAD_ORDERS

CONSUMER = store.CONSUMER
STOCK_EVENTS = frozenset({STOCK_MOVED, POSITIONS_REBUILT})
TOPOLOGY_EVENTS = CONSUMED - STOCK_EVENTS
# The order events after which an order's value, place or liveness may differ (a rejection can cancel).
ORDER_EVENTS = frozenset({"order.captured", "order.cancelled", "order.rerouted"})
TYPES = CONSUMED | {AVAILABILITY_CHANGED} | ORDER_EVENTS
PAGE = 5_000
T = TypeVar("T")

Key = tuple[str, str]  # sku, location


@dataclass
class Directory:
    """What the projector looks up per event: each location's place, the listings it feeds, each channel's
    currency (reloaded after a topology event)."""

    places: dict[str, tuple[str, str]]  # location -> (country, region or "")
    feeds: dict[str, list[tuple[str, str]]]  # location -> (channel, country)
    currency: dict[str, str]  # channel -> currency


class TowerProjector:
    def __init__(
        self,
        db: Database,
        events: EventLog,
        queries: InventoryQueries,
        locations: LocationService,
        channels: ChannelService,
        availability: AvailabilityService,
        orders: Orders,
        source: EventSource | None = None,
    ) -> None:
        self.db = db
        self.events = events
        self.queries = queries
        self.locations = locations
        self.channels = channels
        self.availability = availability
        self.orders = orders
        self.consumer = HandlerConsumer(CONSUMER, TYPES, self.handle, db, events, source)
        self._directory: Directory | None = None

    # -- running --------------------------------------------------------------------------------------
    def catch_up(self) -> int:
        """Consume every pending event; 0 without waiting when another instance holds the same range (the
        worker's step and a page's both catch up; one of them applies it)."""
        try:
            return self.consumer.catch_up()
        except OffsetMoved:
            return 0

    def pending(self) -> int:
        with self.db.read() as conn:
            return self.events.pending(conn, CONSUMER, set(TYPES))

    def reset(self) -> None:
        """Empty the projection and move its offset back to the start of the log (a replay follows)."""
        with self.db.write() as conn:
            store.clear(conn)
            self.events.commit_offset(conn, CONSUMER, 0)
        self._directory = None

    def rebuild(self) -> int:
        """From scratch: empty, seed every current position (ledger retention may have folded the movements
        old events name), then replay the log. Returns the events replayed."""
        self.reset()
        with self.db.write() as conn:
            self._apply_positions(conn, self._every_position())
            self._relist(conn)
        return self.catch_up()

    # -- the handler ----------------------------------------------------------------------------------
    def handle(self, conn: Connection, batch: list[Event]) -> None:
        """Apply a batch: topology events in log order, and between two of them the stock, listing and order
        events each as one group (they touch separate state, and each effect is keyed state, so their
        order within the group does not matter)."""
        for is_topology, run in groupby(batch, key=lambda e: e.type in TOPOLOGY_EVENTS):
            events = list(run)
            if is_topology:
                self._topology(conn, events)
                continue
            families: dict[str, list[Event]] = {}
            for e in events:
                families.setdefault(_family(e), []).append(e)
            self._stock(conn, families.get("stock", []))
            self._listed(conn, families.get("listing", []))
            self._orders(conn, families.get("order", []))

    def directory(self, conn: Connection) -> Directory:
        if self._directory is None:
            places = {
                loc.code: (loc.country, loc.region or "")
                for loc in every_row(lambda lim, off: self.locations.list(limit=lim, offset=off))
            }
            currency = {
                c.code: c.currency for c in every_row(lambda lim, off: self.channels.list(limit=lim, offset=off))
            }
            self._directory = Directory(places, self.availability.listings_fed_by(conn), currency)
        return self._directory

    def _stock(self, conn: Connection, events: list[Event]) -> None:
        """Re-read the positions the events' ledger ranges moved, in one read over the span they cover (a
        position moved by a later range as well is simply read as it is now)."""
        fresh: dict[Key, store.Quantities] = {}
        if any(e.type == POSITIONS_REBUILT for e in events):
            fresh.update(self._every_position())
        ranges = [(int(e.data["first_seq"]), int(e.data["last_seq"])) for e in events if e.data.get("count")]
        if ranges:
            first, last = min(r[0] for r in ranges), max(r[1] for r in ranges)
            for p in self.queries.positions_moved(first, last):
                fresh[(p.sku, p.location)] = (p.on_hand, p.available, p.incoming)
        self._apply_positions(conn, fresh)

    def _every_position(self) -> dict[Key, store.Quantities]:
        rows = every_row(lambda lim, off: self.queries.positions(limit=lim, offset=off))
        return {(p.sku, p.location): (p.on_hand, p.available, p.incoming) for p in rows}

    def _apply_positions(self, conn: Connection, fresh: Mapping[Key, store.Quantities]) -> None:
        """Bring the mirror to ``fresh`` and move every sum by the difference."""
        if not fresh:
            return
        old = store.mirrored(conn, {sku for sku, _ in fresh})
        sums: dict[str, list[int]] = {}
        changed: dict[Key, store.Quantities] = {}
        new: list[Key] = []
        for key, q in fresh.items():
            before = old.get(key)
            if before == q:
                continue
            changed[key] = q
            d = sums.setdefault(key[1], [0, 0, 0, 0, 0])
            if before is None:
                new.append(key)
                d[0] += 1
                before = (0, 0, 0)
                was_out = False
            else:
                was_out = before[1] <= 0
            d[1] += q[0] - before[0]
            d[2] += q[1] - before[1]
            d[3] += q[2] - before[2]
            d[4] += (q[1] <= 0) - was_out
        store.save_positions(conn, changed)
        store.add_location_stock(conn, sums)
        directory = self.directory(conn)
        store.add_presence(conn, _presence(new, directory.places))
        self._source(conn, new, directory)

    def _source(self, conn: Connection, new: Iterable[Key], directory: Directory) -> None:
        """Mark the listings that positions ``new`` feed as fed (a listing counts once, whatever feeds it)."""
        keys = {(ch, ctry, sku) for sku, loc in new for ch, ctry in directory.feeds.get(loc, ())}
        if not keys:
            return
        rows = store.listing_rows(conn, keys)
        changed: dict[store.ListingKey, tuple[int, bool]] = {}
        counts: Counter[tuple[str, str]] = Counter()
        zeros: Counter[tuple[str, str]] = Counter()
        for key in keys:
            quantity, sourced = rows.get(key, (0, False))
            if not sourced:
                changed[key] = (quantity, True)
                counts[key[:2]] += 1
                zeros[key[:2]] += quantity <= 0
        store.save_listings(conn, changed)
        store.add_listing_counts(conn, {k: (counts[k], zeros[k]) for k in counts})

    def _listed(self, conn: Connection, events: list[Event]) -> None:
        if not events:
            return
        told: dict[store.ListingKey, int] = {}
        for e in events:
            for change in e.data.get("changes", ()):
                told[(e.subject, change["country"], change["sku"])] = int(change["quantity"])
        rows = store.listing_rows(conn, told)
        changed: dict[store.ListingKey, tuple[int, bool]] = {}
        zeros: Counter[tuple[str, str]] = Counter()
        for key, quantity in told.items():
            before, sourced = rows.get(key, (0, False))
            if key in rows and before == quantity:
                continue
            changed[key] = (quantity, sourced)
            if sourced:
                zeros[key[:2]] += (quantity <= 0) - (before <= 0)
        store.save_listings(conn, changed)
        store.add_listing_counts(conn, {k: (0, n) for k, n in zeros.items()})

    def _topology(self, conn: Connection, events: list[Event]) -> None:
        self._directory = None
        if any(e.type == "location.updated" for e in events):
            self._regroup(conn)
        self._relist(conn)

    def _relist(self, conn: Connection) -> None:
        """Which listings some location feeds, derived again from the mirror and the current feeds."""
        store.unsource_all(conn)
        directory = self.directory(conn)
        self._source(conn, [(sku, loc) for loc, sku in store.skus_at(conn, list(directory.feeds))], directory)

    def _regroup(self, conn: Connection) -> None:
        """Distinct SKUs per place derived again (a location may have moved country or region)."""
        store.clear_presence(conn)
        keys = [(sku, loc) for sku, loc, *_ in store.all_positions(conn)]
        store.add_presence(conn, _presence(keys, self.directory(conn).places))

    def _orders(self, conn: Connection, events: list[Event]) -> None:
        if not events:
            return
        ids = sorted({int(e.data["order_id"]) for e in events})
        old = store.order_rows(conn, ids)
        currency = self.directory(conn).currency
        rows: dict[int, store.OrderRow] = {}
        deltas: dict[store.SalesKey, tuple[int, Decimal]] = {}

        def add(row: store.OrderRow, sign: int) -> None:
            if row[5]:
                n, amount = deltas.get(row[:4], (0, Decimal(0)))
                deltas[row[:4]] = (n + sign, amount + sign * row[4])

        for order_id in ids:
            try:
                view = self.orders.reads.get(order_id)
            except NotFound:
                continue
            value = order_value((ln.quantity, ln.unit_price) for ln in view.lines)
            row = (
                view.channel,
                view.country,
                currency.get(view.channel, ""),
                view.created_at.date(),
                value,
                view.status not in DEAD_ORDERS,
            )
            before = old.get(order_id)
            if before == row:
                continue
            if before is not None:
                add(before, -1)
            add(row, 1)
            rows[order_id] = row
        store.save_orders(conn, rows)
        store.add_sales(conn, deltas)


def _family(e: Event) -> str:
    if e.type in STOCK_EVENTS:
        return "stock"
    if e.type == AVAILABILITY_CHANGED:
        return "listing"
    return "order"


def _presence(keys: Sequence[Key], places: Mapping[str, tuple[str, str]]) -> Counter[tuple[str, str, str]]:
    """Positions per (country, region, sku), per (country, ``*``, sku) and per (``*``, ``*``, sku)."""
    out: Counter[tuple[str, str, str]] = Counter()
    for sku, loc in keys:
        country, region = places.get(loc, ("", ""))
        out[(country, region, sku)] += 1
        out[(country, store.ANY, sku)] += 1
        out[(store.ANY, store.ANY, sku)] += 1
    return out


def every_row(fetch: Callable[[int, int], tuple[list[T], int]]) -> Iterator[T]:
    """Every row of a paginated service read, ``PAGE`` rows a call."""
    seen = 0
    while True:
        page, total = fetch(PAGE, seen)
        yield from page
        seen += len(page)
        if not page or seen >= total:
            return
