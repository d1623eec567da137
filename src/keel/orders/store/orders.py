"""Queries on orders, their lines and their timeline."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from keel.orders.store.tables import order_lines, orders, timeline
from keel.orders.views import LineRecord, NewOrder, OrderRecord, TimelineEntry
from keel.platform.bulk import chunks
from keel.platform.db import advisory_xact_lock
from keel.platform.vocabulary import OrderStatus

# The columns ``record`` reads: every one but the digest, which only capture's idempotency check needs.
RECORD_COLUMNS = [c for c in orders.c if c.name != "digest"]


def record(row: RowMapping) -> OrderRecord:
    """An order row (any selection holding every column but the digest) as a record."""
    values = {c.name: row[c.name] for c in RECORD_COLUMNS}
    values["excluded_nodes"] = tuple(values["excluded_nodes"])
    values["routing"] = tuple(values["routing"])
    values["status"] = OrderStatus(values["status"])
    return OrderRecord(**values)


def serialise_capture(conn: Connection, channel: str, external_id: str) -> None:
    """Transactions capturing the same (channel, external id) take turns until the end of this one."""
    advisory_xact_lock(conn, "order", f"{channel}\n{external_id}")


def find_external(conn: Connection, channel: str, external_id: str) -> tuple[int, str] | None:
    """(id, digest) of the order the channel captured under ``external_id``, if any."""
    row = conn.execute(
        sa.select(orders.c.id, orders.c.digest).where(orders.c.channel == channel, orders.c.external_id == external_id)
    ).first()
    return None if row is None else (int(row.id), str(row.digest))


def insert(conn: Connection, order: NewOrder, lines: Sequence[LineRecord]) -> int:
    """Store a new order with its lines; returns the id the database gave it."""
    values = {**vars(order), "excluded_nodes": list(order.excluded_nodes), "routing": list(order.routing)}
    order_id = int(conn.execute(orders.insert().values(**values)).inserted_primary_key[0])  # type: ignore[index]
    conn.execute(order_lines.insert(), [{"order_id": order_id, **vars(line)} for line in lines])
    return order_id


def get(conn: Connection, order_id: int, *, lock: bool = False) -> OrderRecord | None:
    """The order; with ``lock`` its row is locked for this transaction (PostgreSQL; SQLite writers are serial)."""
    query = sa.select(*RECORD_COLUMNS).where(orders.c.id == order_id)
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    return None if row is None else record(row)


def records(conn: Connection, ids: Iterable[int]) -> list[OrderRecord]:
    """The orders with these ids, in no particular order."""
    out: list[OrderRecord] = []
    for chunk in chunks(sorted(set(ids))):
        query = sa.select(*RECORD_COLUMNS).where(orders.c.id.in_(chunk))
        out += [record(r) for r in conn.execute(query).mappings()]
    return out


def set_status(conn: Connection, order_id: int, status: str, now: datetime) -> None:
    """Set the order's status (``order_status`` of its shipments) and its update time."""
    conn.execute(orders.update().where(orders.c.id == order_id).values(status=status, updated_at=now))


def set_routing(
    conn: Connection, order_id: int, routing: Sequence[dict[str, Any]], excluded: Sequence[str] | None = None
) -> None:
    """Replace the routing history (and, when given, the nodes excluded for this order)."""
    values: dict[str, Any] = {"routing": list(routing)}
    if excluded is not None:
        values["excluded_nodes"] = list(excluded)
    conn.execute(orders.update().where(orders.c.id == order_id).values(**values))


def lines(conn: Connection, order_id: int, *, backordered_only: bool = False) -> list[LineRecord]:
    """The order's lines by line number (only those still waiting for stock with ``backordered_only``)."""
    ol = order_lines
    query = sa.select(ol).where(ol.c.order_id == order_id).order_by(ol.c.line_no)
    if backordered_only:
        query = query.where(ol.c.backordered > 0)
    return [
        LineRecord(r.line_no, r.sku, r.quantity, r.unit_price, r.cancelled, r.backordered) for r in conn.execute(query)
    ]


def add_to_line(conn: Connection, order_id: int, line_no: int, *, cancelled: int = 0, backordered: int = 0) -> None:
    """Add to the line's cancelled and backordered units (negative: take away)."""
    ol = order_lines
    conn.execute(
        ol.update()
        .where(ol.c.order_id == order_id, ol.c.line_no == line_no)
        .values(cancelled=ol.c.cancelled + cancelled, backordered=ol.c.backordered + backordered)
    )


def backordered_units(conn: Connection, order_id: int) -> int:
    """Units of the order still waiting for stock, over all its lines (0 when none)."""
    ol = order_lines
    query = sa.select(sa.func.coalesce(sa.func.sum(ol.c.backordered), 0)).where(ol.c.order_id == order_id)
    return int(conn.execute(query).scalar_one())


def waiting_lines(conn: Connection) -> list[tuple[int, str, int]]:
    """(order id, sku, units) of every line with backordered units."""
    ol = order_lines
    query = sa.select(ol.c.order_id, ol.c.sku, ol.c.backordered).where(ol.c.backordered > 0)
    return [(int(o), str(sku), int(q)) for o, sku, q in conn.execute(query)]


def note(conn: Connection, order_id: int, at: datetime, kind: str, message: str, data: dict[str, Any]) -> None:
    """Append an entry to the order's timeline."""
    conn.execute(timeline.insert().values(order_id=order_id, at=at, kind=kind, message=message, data=data))


def timeline_of(conn: Connection, order_id: int) -> list[TimelineEntry]:
    """The order's timeline, oldest entry first (in the order they were written)."""
    t = timeline
    query = sa.select(t.c.at, t.c.kind, t.c.message, t.c.data).where(t.c.order_id == order_id).order_by(t.c.id)
    return [TimelineEntry(r.at, r.kind, r.message, r.data) for r in conn.execute(query)]
