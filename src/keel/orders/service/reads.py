"""Read side of orders: one order with everything about it, filtered pages and fulfilment rates."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from keel.orders.model import Delivered, Metrics, rates
from keel.orders.sourcing import Fulfilment
from keel.orders.store import orders, reads, returns, shipments
from keel.orders.store.reads import OrderFilter
from keel.orders.views import OrderLineView, OrderPage, OrderView
from keel.platform.db import Database
from keel.platform.errors import NotFound
from keel.platform.scope import Scope
from keel.platform.vocabulary import OPEN_SHIPMENTS, ShipmentStatus

_LEFT = frozenset({ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED})


@dataclass(frozen=True, slots=True)
class OrderUnits:
    """Units of a SKU that orders took from ``location`` on ``day`` (the UTC day the shipment was planned) for
    customers in ``country``: shipped to them, or (``shipped`` false) picked up there."""

    sku: str
    location: str
    country: str
    day: date
    shipped: bool
    units: int


@dataclass(frozen=True)
class OrderCart:
    """An order as a cart: where it was sold and shipped to, and its (SKU, quantity) lines."""

    order_id: int
    created_at: datetime
    channel: str
    country: str
    lines: list[tuple[str, int]]


class ReadOrders:
    """Orders and returns as people and the API see them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, order_id: int, scope: Scope = Scope.ALL) -> OrderView:
        """The order with its lines, shipments (and their lines), returns, timeline and routing history;
        ``NotFound`` also when its channel or ship-to country is outside ``scope`` (existence is not leaked)."""
        with self.db.read() as conn:
            head = orders.get(conn, order_id)
            if head is None or not (scope.sees_channel(head.channel) and scope.sees_country(head.country)):
                raise NotFound(f"order {order_id} does not exist")
            lines = orders.lines(conn, order_id)
            held = shipments.of_order(conn, order_id)
            timeline = orders.timeline_of(conn, order_id)
            rmas = returns.of_order(conn, order_id)
        views = []
        for line in lines:

            def units(statuses: frozenset[ShipmentStatus], line_no: int = line.line_no) -> int:
                return sum(p.quantity for s in held if s.status in statuses for p in s.lines if p.line_no == line_no)

            rejected = sum(p.rejected for s in held for p in s.lines if p.line_no == line.line_no)
            views.append(
                OrderLineView(**vars(line), shipped=units(_LEFT), committed=units(OPEN_SHIPMENTS), rejected=rejected)
            )
        return OrderView(
            **vars(head), lines=tuple(views), shipments=tuple(held), returns=tuple(rmas), timeline=tuple(timeline)
        )

    def list(
        self,
        *,
        channel: str | None = None,
        status: str | None = None,
        country: str | None = None,
        created_since: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
        scope: Scope = Scope.ALL,
    ) -> OrderPage:
        """A page of orders, newest first, with their unit counts and live shipment nodes, and the total;
        only orders of ``scope``'s channels and ship-to countries."""
        where = OrderFilter(channel, status, country, created_since, scope.channels, scope.countries)
        with self.db.read() as conn:
            items, total = reads.page(conn, where, limit, offset)
        return OrderPage(tuple(items), total)

    def metrics(
        self,
        *,
        channel: str | None = None,
        country: str | None = None,
        created_since: datetime | None = None,
        scope: Scope = Scope.ALL,
    ) -> Metrics:
        """Split, on-time and same-day rates of the matching orders (see ``keel.orders.model.rates``)."""
        where = OrderFilter(channel, None, country, created_since, scope.channels, scope.countries)
        with self.db.read() as conn:
            facts = reads.live_shipments(conn, where)
        per: dict[int, list[reads.ShipmentFact]] = {}
        for fact in facts:
            per.setdefault(fact.order_id, []).append(fact)
        return rates(
            Delivered(
                fulfilment=Fulfilment(mine[0].fulfilment),
                shipments=len({f.location for f in mine}),
                created_at=mine[0].created_at,
                promise_at=mine[0].promise_at,
                # Done when every live shipment was delivered: the last delivery.
                done_at=None
                if any(f.status is not ShipmentStatus.DELIVERED for f in mine)
                else max((f.delivered_at for f in mine if f.delivered_at is not None), default=None),
            )
            for mine in per.values()
        )

    def units_sold(self, since: datetime, channels: frozenset[str] | None = None) -> dict[tuple[str, str, str], int]:
        """Units ordered per (channel, ship-to country, SKU) since ``since`` (cancelled orders left out): the
        volumes a what-if weighs price changes by."""
        with self.db.read() as conn:
            return reads.units_sold(conn, since, channels)

    def recent_carts(self, since: datetime, limit: int = 2000) -> builtins.list[OrderCart]:
        """The latest ``limit`` orders since ``since`` (cancelled ones left out) as carts: channel, ship-to
        country and lines, what a promotion's what-if replays."""
        with self.db.read() as conn:
            rows = reads.recent_carts(conn, since, limit)
        carts: dict[int, OrderCart] = {}
        for order_id, at, channel, country, sku, quantity in rows:
            held = carts.setdefault(order_id, OrderCart(order_id, at, channel, country, []))
            held.lines.append((sku, quantity))
        return list(carts.values())

    def order_units(
        self, first_day: date, last_day: date, skus: Sequence[str] | None = None
    ) -> builtins.list[OrderUnits]:
        """Units of orders per SKU, fulfilling location, ship-to country and day, shipped or picked up, from
        ``first_day`` to ``last_day`` (cancelled units left out): where online demand arose, beside the node
        routing sent it to (planning attributes shipped demand to the ship-to country)."""
        with self.db.read() as conn:
            rows = reads.order_units(conn, first_day, last_day, skus)
        return [OrderUnits(*row) for row in rows]
