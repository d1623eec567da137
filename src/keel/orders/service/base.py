"""What every order use case shares: the sourcing network, ledger rows, the timeline and status upkeep."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.channels.service import ChannelService
from keel.geo.service import PostalCodeService
from keel.inventory.service import AvailabilityService, LocationService, StockService
from keel.inventory.service.queries import InventoryQueries
from keel.orders import store
from keel.orders.model import Assigned, Status, order_status
from keel.orders.sourcing import (
    Capability,
    CostModel,
    Fulfilment,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    Plan,
    Policy,
)
from keel.orders.sourcing.spec import Sourcing, default_sourcing, parse_sourcing, with_excluded
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import NotFound, ValidationFailed
from keel.platform.events import NewEvent, SqlEventLog
from keel.sim.geography import COUNTRIES as CITIES

SOURCE = "orders"
logger = logging.getLogger("keel.orders")
# Units a node can pick per day unless its location says (``daily_capacity``): a pick line against shop staff.
DAILY_CAPACITY = {
    NodeKind.WAREHOUSE: 5000,
    NodeKind.THREE_PL: 5000,
    NodeKind.DARK_STORE: 1500,
    NodeKind.STORE: 300,
}
_KINDS = {k.value: k for k in NodeKind}
_CAPABILITIES = {c.value: c for c in Capability}
EVERY_LOCATION = 1_000_000
DEFAULT_POLICY = "*"  # the sourcing policy of every channel without its own


def city_centroid(country: str, city: str | None) -> tuple[float, float, str] | None:
    """Coordinates of the named city when the reference geography knows it, else of the country's largest
    city (good enough to rank nodes by distance), else None."""
    known = CITIES.get(country)
    if known is None:
        return None
    cities = known[1]
    for name, _region, lat, lon in cities:
        if city and name.lower() == city.strip().lower():
            return lat, lon, "city"
    return cities[0][2], cities[0][3], "country"


def only_stock_errors(exc: ValidationFailed) -> bool:
    """The ledger refused because a position had too little: a concurrent order took the stock."""
    return bool(exc.errors) and all(e.field == "quantity" for e in exc.errors)


class OrdersBase:
    def __init__(
        self,
        db: Database,
        events: SqlEventLog,
        stock: StockService,
        queries: InventoryQueries,
        locations: LocationService,
        channels: ChannelService,
        availability: AvailabilityService,
        postcodes: PostalCodeService,
    ) -> None:
        self.availability = availability
        self.postcodes = postcodes
        self.db = db
        self.events = events
        self.stock = stock
        self.queries = queries
        self.locations = locations
        self.channels = channels

    def get(self, order_id: int) -> dict[str, Any]:
        """The order as the API shows it; implemented by ``ReadOrders`` and used by every write use case."""
        raise NotImplementedError

    # -- sourcing inputs ----------------------------------------------------------------------------------
    def network(self, skus: Sequence[str], channel: str, country: str, pickup: str | None = None) -> Network:
        """Planner nodes: the active locations that feed the channel in the ship-to country (its availability
        policy's sources, so an order only takes stock the channel may sell) plus the pick-up store, with
        their available stock of ``skus`` and today's picks."""
        allowed = set(self.availability.sources_for(channel, country))
        if pickup:
            allowed.add(pickup)
        return self.network_of(skus, allowed)

    def network_of(self, skus: Sequence[str], allowed: Collection[str]) -> Network:
        """Planner nodes for the active locations among ``allowed``, with their available stock of ``skus``
        and the units they have committed today (spent capacity)."""
        locations = [loc for loc in self.locations.list(active=True, limit=EVERY_LOCATION)[0] if loc["code"] in allowed]
        stock = self.queries.available_by_location(list(skus))
        with self.db.read() as conn:
            used = self._units_today(conn)
        nodes = []
        for loc in locations:
            kind = _KINDS.get(loc["kind"])
            coords = self.coordinates(loc)
            if kind is None or coords is None:  # suppliers do not fulfil orders; a node needs a position
                continue
            nodes.append(
                Node(
                    code=loc["code"],
                    kind=kind,
                    country=loc["country"],
                    lat=coords[0],
                    lon=coords[1],
                    capabilities=frozenset(_CAPABILITIES[c] for c in loc["capabilities"] if c in _CAPABILITIES),
                    capacity=DAILY_CAPACITY[kind] if loc.get("daily_capacity") is None else loc["daily_capacity"],
                    used=used.get(loc["code"], 0),
                    stock={sku: by_loc[loc["code"]] for sku, by_loc in stock.items() if loc["code"] in by_loc},
                )
            )
        return Network(nodes)

    @staticmethod
    def coordinates(loc: dict[str, Any]) -> tuple[float, float] | None:
        if loc.get("latitude") is not None and loc.get("longitude") is not None:
            return float(loc["latitude"]), float(loc["longitude"])
        found = city_centroid(loc["country"], loc.get("city"))
        return None if found is None else (found[0], found[1])

    def _units_today(self, conn: Connection) -> dict[str, int]:
        """Units committed per node since midnight UTC: what its daily capacity has already been spent on."""
        s, sl = store.shipments, store.shipment_lines
        midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        query = (
            sa.select(s.c.location, sa.func.sum(sl.c.quantity))
            .join(sl, (sl.c.order_id == s.c.order_id) & (sl.c.number == s.c.number))
            .where(s.c.created_at >= midnight)
            .group_by(s.c.location)
        )
        return {loc: int(qty or 0) for loc, qty in conn.execute(query)}

    def sourcing_for(self, channels: Iterable[str]) -> tuple[dict[str, Policy], dict[str, CostModel]]:
        """Each channel's sourcing policy and cost model (prices and weights), from its own document, else the
        "*" default, else the built-in one: what capture, re-routing, backorders and waves plan with."""
        wanted = sorted(set(channels))
        rows = self.policy_rows(wanted)
        fallback = stored_sourcing(rows[DEFAULT_POLICY]["document"]) if DEFAULT_POLICY in rows else default_sourcing()
        chosen = {ch: stored_sourcing(rows[ch]["document"]) if ch in rows else fallback for ch in wanted}
        return {ch: s.policy for ch, s in chosen.items()}, {ch: s.model for ch, s in chosen.items()}

    def policy_for(self, channel: str, excluded: Iterable[str] = ()) -> tuple[Policy, CostModel]:
        """One channel's policy, with the nodes that rejected this order excluded, and its cost model."""
        policies, models = self.sourcing_for([channel])
        return with_excluded(policies[channel], frozenset(excluded)), models[channel]

    def policy_rows(self, channels: list[str]) -> dict[str, dict[str, Any]]:
        p = store.sourcing_policies
        with self.db.read() as conn:
            query = sa.select(p).where(p.c.channel.in_([*channels, DEFAULT_POLICY]))
            return {r.channel: dict(r._mapping) for r in conn.execute(query)}

    # -- writing ------------------------------------------------------------------------------------------
    @staticmethod
    def movement_rows(order_id: int, kind: str, pieces: Iterable[tuple[str, str, int]]) -> list[dict[str, Any]]:
        """Ledger rows for (location, sku, quantity) pieces, merged per position, with fresh ids."""
        merged: dict[tuple[str, str], int] = {}
        for location, sku, qty in pieces:
            if qty > 0:
                merged[(location, sku)] = merged.get((location, sku), 0) + qty
        tag = uuid.uuid4().hex[:12]
        return [
            {
                "id": f"ord:{order_id}:{tag}:{i}",
                "kind": kind,
                "sku": sku,
                "location": location,
                "quantity": qty,
                "reference": f"order {order_id}",
            }
            for i, ((location, sku), qty) in enumerate(sorted(merged.items()), start=1)
        ]

    def add_shipments(self, conn: Connection, order_id: int, pieces: list[Assigned], now: datetime) -> list[int]:
        """Insert one shipment per node of ``pieces``; returns their numbers."""
        s = store.shipments
        first = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(s.c.number), 0)).where(s.c.order_id == order_id)
        ).scalar_one()
        numbers: dict[str, int] = {}
        for piece in pieces:
            numbers.setdefault(piece.node, int(first) + len(numbers) + 1)
        for node, number in numbers.items():
            conn.execute(
                s.insert().values(
                    order_id=order_id,
                    number=number,
                    location=node,
                    status=Status.ALLOCATED.value,
                    created_at=now,
                    updated_at=now,
                )
            )
        if pieces:
            conn.execute(
                store.shipment_lines.insert(),
                [
                    {
                        "order_id": order_id,
                        "number": numbers[p.node],
                        "line_no": p.line_no,
                        "sku": p.sku,
                        "quantity": p.quantity,
                        "cancelled": 0,
                        "rejected": 0,
                        "moved": 0,
                    }
                    for p in pieces
                ],
            )
        return list(numbers.values())

    def note(
        self, conn: Connection, order_id: int, kind: str, message: str, data: dict[str, Any] | None = None
    ) -> None:
        """A timeline entry and the matching event, in the caller's transaction."""
        conn.execute(
            store.timeline.insert().values(order_id=order_id, at=utcnow(), kind=kind, message=message, data=data or {})
        )
        self.events.append(
            conn, [NewEvent(f"order.{kind}", f"orders/{order_id}", {"order_id": order_id, **(data or {})}, SOURCE)]
        )

    def refresh_status(self, conn: Connection, order_id: int) -> str:
        statuses = [
            Status(v)
            for v in conn.execute(
                sa.select(store.shipments.c.status).where(store.shipments.c.order_id == order_id)
            ).scalars()
        ]
        backordered = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(store.order_lines.c.backordered), 0)).where(
                store.order_lines.c.order_id == order_id
            )
        ).scalar_one()
        status = order_status(statuses, int(backordered))
        conn.execute(
            store.orders.update().where(store.orders.c.id == order_id).values(status=status, updated_at=utcnow())
        )
        return status

    def lock_order(self, conn: Connection, order_id: int) -> dict[str, Any]:
        """The order row, locked for this transaction on PostgreSQL (SQLite writers are already serial)."""
        row = conn.execute(sa.select(store.orders).where(store.orders.c.id == order_id).with_for_update()).first()
        if row is None:
            raise NotFound(f"order {order_id} does not exist")
        return dict(row._mapping)


def routing_entry(trigger: str, plan: Plan, now: datetime, **extra: Any) -> dict[str, Any]:
    """A plan and its explanation as JSON: what the order page and API show under "routing"."""
    return {
        "trigger": trigger,
        "at": now.isoformat(),
        "strategy": plan.strategy,
        "nodes": list(plan.nodes),
        "splits": plan.splits,
        "allocations": [asdict(a) for a in plan.allocations],
        "unfilled": [asdict(line) for line in plan.unfilled],
        "cost": {**asdict(plan.cost), "total": round(plan.cost.total, 4)},
        "explanation": asdict(plan.explanation) if plan.explanation else None,
        **extra,
    }


def promise_hours(promise_at: datetime | None, now: datetime) -> float | None:
    return None if promise_at is None else max(0.0, (promise_at - now) / timedelta(hours=1))


def sourcing_order(row: Mapping[str, Any], demand: Mapping[str, int], now: datetime) -> Order:
    """The planner's view of a stored order for ``demand`` (units still to place), as of ``now``."""
    return Order(
        id=str(row["id"]),
        channel=row["channel"],
        lines=tuple(OrderLine(sku, qty) for sku, qty in demand.items()),
        lat=row["latitude"],
        lon=row["longitude"],
        country=row["country"],
        fulfilment=Fulfilment(row["fulfilment"]),
        promise_hours=promise_hours(row["promise_at"], now),
        pickup_node=row["pickup_location"],
    )


def per_sku(pieces: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Units per SKU of (sku, quantity) pairs: the planner sources SKUs, while shipments hold line pieces."""
    out: dict[str, int] = {}
    for sku, qty in pieces:
        out[sku] = out.get(sku, 0) + qty
    return out


def stored_sourcing(document: Any) -> Sourcing:
    """A saved policy document. Documents are validated when saved; one that a later version no longer
    accepts must not stop every order of the channel, so it is logged and the built-in policy applies."""
    sourcing, errors = parse_sourcing(document)
    if sourcing is None:
        logger.error("stored sourcing policy no longer valid, using the built-in one: %s", errors)
        return default_sourcing()
    return sourcing
