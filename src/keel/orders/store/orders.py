"""Queries on orders, their lines and their timeline."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from keel.orders.store.tables import order_lines, orders, timeline
from keel.orders.views import LineRecord, NewOrder, OrderRecord, TimelineEntry
from keel.platform.bulk import SMALL_BATCH, chunks, insert_rows
from keel.platform.db import Later, advisory_xact_lock, dbapi_cursor, placeholder, send, to_micros
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


# Order capture's statements go to the driver's cursor: SQLAlchemy's statement handling cost more than the
# statements themselves on that path (measured: about 40 us each on SQLite).
_ORDER_COLUMNS = [c.name for c in orders.c if c.name != "id"]
_LINE_COLUMNS = [c.name for c in order_lines.c]


def find_external(conn: Connection, channel: str, external_id: str) -> Later[tuple[int, str] | None]:
    """(id, digest) of the order the channel captured under ``external_id``, if any (sent now, see ``Later``)."""
    ph = placeholder(conn)

    def take(cur: Any) -> tuple[int, str] | None:
        row = cur.fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    sql = f"SELECT id, digest FROM orders WHERE channel = {ph} AND external_id = {ph}"
    return send(conn, sql, (channel, external_id), take)


def insert(conn: Connection, order: NewOrder, lines: Sequence[LineRecord]) -> int:
    """Store a new order with its lines; returns the id the database gave it."""
    ph = placeholder(conn)
    cur = dbapi_cursor(conn)
    values = {
        **vars(order),
        "excluded_nodes": json.dumps(list(order.excluded_nodes)),
        "routing": json.dumps(list(order.routing)),
        "promise_at": None if order.promise_at is None else to_micros(order.promise_at),
        "created_at": to_micros(order.created_at),
        "updated_at": to_micros(order.updated_at),
    }
    marks = ", ".join([ph] * len(_ORDER_COLUMNS))
    cur.execute(
        f"INSERT INTO orders ({', '.join(_ORDER_COLUMNS)}) VALUES ({marks}) RETURNING id",
        [values[c] for c in _ORDER_COLUMNS],
    )
    order_id = int(cur.fetchone()[0])
    for chunk in chunks(lines, SMALL_BATCH):
        rows = [[order_id, *(getattr(line, c) for c in _LINE_COLUMNS[1:])] for line in chunk]
        insert_rows(conn, "order_lines", _LINE_COLUMNS, rows)
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


def note_many(conn: Connection, order_id: int, entries: Sequence[TimelineEntry]) -> None:
    """Append entries to the order's timeline, in one statement, in their order."""
    for chunk in chunks(entries, SMALL_BATCH):
        rows = [(order_id, to_micros(e.at), e.kind, e.message, json.dumps(e.data)) for e in chunk]
        insert_rows(conn, "order_timeline", ("order_id", "at", "kind", "message", "data"), rows)


def timeline_of(conn: Connection, order_id: int) -> list[TimelineEntry]:
    """The order's timeline, oldest entry first (in the order they were written)."""
    t = timeline
    query = sa.select(t.c.at, t.c.kind, t.c.message, t.c.data).where(t.c.order_id == order_id).order_by(t.c.id)
    return [TimelineEntry(r.at, r.kind, r.message, r.data) for r in conn.execute(query)]
