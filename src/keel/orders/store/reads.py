"""Queries behind the order lists, the fulfilment metrics and the wave's choice of orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.orders.sourcing.model import SHIPPED
from keel.orders.store.orders import RECORD_COLUMNS, record
from keel.orders.store.tables import order_lines, orders, shipment_lines, shipments
from keel.orders.views import OrderRecord, OrderSummary
from keel.platform.vocabulary import DEAD_SHIPMENTS, OrderStatus, ShipmentStatus

o, ol, s = orders, order_lines, shipments
_DEAD = [st.value for st in DEAD_SHIPMENTS]
_SUMMARY = [c for c in o.c if c.name not in ("digest", "routing", "excluded_nodes")]


@dataclass(frozen=True)
class OrderFilter:
    """Which orders a list or the metrics cover; None matches every value."""

    channel: str | None = None
    status: str | None = None
    country: str | None = None
    created_since: datetime | None = None
    channels: frozenset[str] | None = None  # the caller's restrictions (None: every channel)
    countries: frozenset[str] | None = None  # ship-to countries

    def where(self, query: sa.Select[Any]) -> sa.Select[Any]:
        if self.channel:
            query = query.where(o.c.channel == self.channel)
        if self.status:
            query = query.where(o.c.status == self.status)
        if self.country:
            query = query.where(o.c.country == self.country.upper())
        if self.created_since:
            query = query.where(o.c.created_at >= self.created_since)
        if self.channels is not None:
            query = query.where(o.c.channel.in_(sorted(self.channels)))
        if self.countries is not None:
            query = query.where(o.c.country.in_(sorted(self.countries)))
        return query


@dataclass(frozen=True)
class ShipmentFact:
    """One live shipment of a matching order, as the fulfilment metrics read it."""

    order_id: int
    fulfilment: str
    created_at: datetime
    promise_at: datetime | None
    location: str
    status: ShipmentStatus
    delivered_at: datetime | None


def page(conn: Connection, where: OrderFilter, limit: int, offset: int) -> tuple[list[OrderSummary], int]:
    """A page of matching orders, newest first, with units ordered and live shipment nodes; and the total."""
    query = where.where(sa.select(*_SUMMARY))
    total = int(conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one())
    rows = list(conn.execute(query.order_by(o.c.id.desc()).limit(limit).offset(offset)).mappings())
    ids = [r["id"] for r in rows]
    per_order = sa.select(ol.c.order_id, sa.func.sum(ol.c.quantity)).where(ol.c.order_id.in_(ids))
    units = {oid: int(q or 0) for oid, q in conn.execute(per_order.group_by(ol.c.order_id))}
    nodes: dict[int, list[str]] = {}
    live = sa.select(s.c.order_id, s.c.location).where(s.c.order_id.in_(ids), s.c.status.not_in(_DEAD))
    for oid, loc in conn.execute(live.order_by(s.c.number)):
        nodes.setdefault(oid, []).append(loc)
    items = [
        OrderSummary(
            **{c.name: r[c.name] for c in _SUMMARY}, units=units.get(r["id"], 0), nodes=tuple(nodes.get(r["id"], []))
        )
        for r in rows
    ]
    return items, total


def live_shipments(conn: Connection, where: OrderFilter) -> list[ShipmentFact]:
    """Every live shipment of the matching orders."""
    matching = where.where(sa.select(o.c.id)).subquery()
    query = (
        sa.select(o.c.id, o.c.fulfilment, o.c.created_at, o.c.promise_at, s.c.location, s.c.status, s.c.delivered_at)
        .join(s, s.c.order_id == o.c.id)
        .where(o.c.id.in_(sa.select(matching.c.id)), s.c.status.not_in(_DEAD))
    )
    return [ShipmentFact(r[0], r[1], r[2], r[3], r[4], ShipmentStatus(r[5]), r[6]) for r in conn.execute(query)]


def wave_candidates(conn: Connection, matching: OrderFilter, limit: int) -> list[OrderRecord]:
    """The oldest ``limit`` orders shipped to the customer whose every live shipment is still only
    allocated (none is being picked), among those ``matching``."""
    busy = sa.select(s.c.order_id).where(s.c.status.not_in([ShipmentStatus.ALLOCATED.value, *_DEAD]))
    query = (
        sa.select(*RECORD_COLUMNS)
        .where(
            o.c.status == OrderStatus.ALLOCATED.value,
            o.c.fulfilment.in_([f.value for f in SHIPPED]),
            o.c.id.not_in(busy),
        )
        .order_by(o.c.created_at, o.c.id)
        .limit(limit)
    )
    return [record(r) for r in conn.execute(matching.where(query)).mappings()]


def units_sold(
    conn: Connection, since: datetime, channels: frozenset[str] | None = None
) -> dict[tuple[str, str, str], int]:
    """Units ordered per (channel, ship-to country, SKU) since ``since``, cancelled orders left out."""
    query = (
        sa.select(o.c.channel, o.c.country, ol.c.sku, sa.func.sum(ol.c.quantity))
        .join(ol, ol.c.order_id == o.c.id)
        .where(o.c.created_at >= since, o.c.status != OrderStatus.CANCELLED.value)
        .group_by(o.c.channel, o.c.country, ol.c.sku)
    )
    if channels is not None:
        query = query.where(o.c.channel.in_(sorted(channels)))
    return {(ch, k, sku): int(n) for ch, k, sku, n in conn.execute(query)}


def recent_carts(conn: Connection, since: datetime, limit: int) -> list[tuple[int, datetime, str, str, str, int]]:
    """The lines (order id, created at, channel, country, SKU, quantity) of the latest ``limit`` orders since ``since``,
    cancelled ones left out: what a what-if replays as carts."""
    latest = (
        sa.select(o.c.id)
        .where(o.c.created_at >= since, o.c.status != OrderStatus.CANCELLED.value)
        .order_by(o.c.created_at.desc(), o.c.id.desc())
        .limit(limit)
        .subquery()
    )
    query = (
        sa.select(o.c.id, o.c.created_at, o.c.channel, o.c.country, ol.c.sku, ol.c.quantity)
        .join(ol, ol.c.order_id == o.c.id)
        .where(o.c.id.in_(sa.select(latest.c.id)))
        .order_by(o.c.id, ol.c.line_no)
    )
    return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in conn.execute(query)]


DAY_US = 86_400 * 1_000_000
EPOCH = date(1970, 1, 1)


def order_units(
    conn: Connection, first_day: date, last_day: date, skus: Sequence[str] | None
) -> list[tuple[str, str, str, date, bool, int]]:
    """Units of orders per (SKU, fulfilling location, ship-to country, UTC day the shipment was planned, shipped
    to the customer or not: picked up), from ``first_day`` to ``last_day``; cancelled units left out."""
    sl = shipment_lines
    micros = sa.type_coerce(s.c.created_at, sa.BigInteger)  # the stored integer, not a datetime
    day = (micros // DAY_US).label("day")
    shipped = o.c.fulfilment.in_(sorted(f.value for f in SHIPPED)).label("shipped")
    query = (
        sa.select(sl.c.sku, s.c.location, o.c.country, day, shipped, sa.func.sum(sl.c.quantity))
        .join(s, (s.c.order_id == sl.c.order_id) & (s.c.number == sl.c.number))
        .join(o, o.c.id == sl.c.order_id)
        .where(
            micros >= (first_day - EPOCH).days * DAY_US,
            micros < (last_day - EPOCH).days * DAY_US + DAY_US,
            sl.c.quantity > 0,
        )
        .group_by(sl.c.sku, s.c.location, o.c.country, day, shipped)
    )
    out: list[tuple[str, str, str, date, bool, int]] = []
    for part in [None] if skus is None else [list(skus[i : i + 500]) for i in range(0, len(skus), 500)]:
        stmt = query if part is None else query.where(sl.c.sku.in_(part))
        out += [
            (sku, loc, k, EPOCH + timedelta(days=int(d)), bool(ship), int(n))
            for sku, loc, k, d, ship, n in conn.execute(stmt)
        ]
    return out
