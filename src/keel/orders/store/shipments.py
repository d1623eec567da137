"""Queries on shipments (one per node and routing) and the order-line pieces they hold."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.orders.model import Assigned
from keel.orders.store.tables import shipment_lines, shipments
from keel.orders.views import Piece, Shipment, ShipmentLine
from keel.platform.bulk import SMALL_BATCH, chunks, insert_rows
from keel.platform.db import any_of, dbapi_cursor, placeholder, to_micros
from keel.platform.vocabulary import DEAD_SHIPMENTS, OPEN_SHIPMENTS, ShipmentStatus

s, sl = shipments, shipment_lines
_JOIN = (s.c.order_id == sl.c.order_id) & (s.c.number == sl.c.number)
_DEAD = [st.value for st in DEAD_SHIPMENTS]
_OPEN = [st.value for st in OPEN_SHIPMENTS]
_HEAD = [c for c in s.c if c.name != "order_id"]
_HEAD_COLUMNS = ("order_id", "number", "location", "status", "created_at", "updated_at")
_LINE_COLUMNS = ("order_id", "number", "line_no", "sku", "quantity", "cancelled", "rejected", "moved")


def _shipment(row: Any, lines: Sequence[ShipmentLine] = ()) -> Shipment:
    values = {c.name: row[c.name] for c in _HEAD}
    return Shipment(**{**values, "status": ShipmentStatus(values["status"]), "lines": tuple(lines)})


def _line(row: Any) -> ShipmentLine:
    return ShipmentLine(row.number, row.line_no, row.sku, row.quantity, row.cancelled, row.rejected, row.moved)


def add(
    conn: Connection, order_id: int, pieces: Sequence[Assigned], now: datetime, *, new_order: bool = False
) -> list[int]:
    """One new allocated shipment per node of ``pieces``, numbered after the order's last (from 1 for a
    ``new_order``, which has none yet); their numbers."""
    first = 0
    if not new_order:
        first = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(s.c.number), 0)).where(s.c.order_id == order_id)
        ).scalar_one()
    numbers: dict[str, int] = {}
    for piece in pieces:
        numbers.setdefault(piece.node, int(first) + len(numbers) + 1)
    if not numbers:
        return []
    # One statement each, on the driver's cursor: order capture writes these for every order.
    at = to_micros(now)
    heads = [(order_id, number, node, ShipmentStatus.ALLOCATED.value, at, at) for node, number in numbers.items()]
    for chunk in chunks(heads, SMALL_BATCH):
        insert_rows(conn, "order_shipments", _HEAD_COLUMNS, chunk)
    for part in chunks(pieces, SMALL_BATCH):
        rows = [(order_id, numbers[p.node], p.line_no, p.sku, p.quantity, 0, 0, 0) for p in part]
        insert_rows(conn, "order_shipment_lines", _LINE_COLUMNS, rows)
    return list(numbers.values())


def get(conn: Connection, order_id: int, number: int) -> Shipment | None:
    """Shipment ``number`` of the order with its lines by line number."""
    row = conn.execute(sa.select(s).where(s.c.order_id == order_id, s.c.number == number)).mappings().first()
    if row is None:
        return None
    query = sa.select(sl).where(sl.c.order_id == order_id, sl.c.number == number).order_by(sl.c.line_no)
    return _shipment(row, [_line(r) for r in conn.execute(query)])


def of_order(conn: Connection, order_id: int) -> list[Shipment]:
    """Every shipment of the order by number, each with its lines by line number."""
    pieces: dict[int, list[ShipmentLine]] = {}
    query = sa.select(sl).where(sl.c.order_id == order_id).order_by(sl.c.number, sl.c.line_no)
    for r in conn.execute(query):
        pieces.setdefault(r.number, []).append(_line(r))
    heads = conn.execute(sa.select(s).where(s.c.order_id == order_id).order_by(s.c.number)).mappings()
    return [_shipment(r, pieces.get(r["number"], [])) for r in heads]


def statuses(conn: Connection, order_id: int) -> list[ShipmentStatus]:
    """The status of every shipment of the order, dead ones included, in no particular order."""
    return [ShipmentStatus(v) for v in conn.execute(sa.select(s.c.status).where(s.c.order_id == order_id)).scalars()]


def advance(conn: Connection, order_id: int, number: int, status: ShipmentStatus, now: datetime, **more: Any) -> None:
    """Set the shipment's status (and ``carrier``, ``tracking_number``, ``shipped_at``, ``delivered_at``)."""
    values = {"status": status.value, "updated_at": now, **more}
    conn.execute(s.update().where(s.c.order_id == order_id, s.c.number == number).values(**values))


def pieces_by_order(
    conn: Connection, order_ids: Collection[int], statuses: Iterable[ShipmentStatus] = OPEN_SHIPMENTS
) -> dict[int, list[Piece]]:
    """Per order, the shipment lines still holding units at their node in shipments of ``statuses`` (by
    default the open ones: not yet shipped), by shipment and line; orders holding none are absent."""
    wanted = [st.value for st in statuses]
    query = (
        sa.select(sl.c.order_id, sl.c.number, sl.c.line_no, sl.c.sku, sl.c.quantity, s.c.location, s.c.created_at)
        .join(s, _JOIN)
        .where(sl.c.order_id.in_(list(order_ids)), s.c.status.in_(wanted), sl.c.quantity > 0)
        .order_by(sl.c.order_id, sl.c.number, sl.c.line_no)
    )
    out: dict[int, list[Piece]] = {}
    for r in conn.execute(query):
        out.setdefault(r.order_id, []).append(Piece(r.number, r.line_no, r.sku, r.quantity, r.location, r.created_at))
    return out


def live_holdings(conn: Connection, order_id: int) -> set[tuple[int, int, int, ShipmentStatus]]:
    """(number, line_no, quantity, status) of every line of a live shipment still holding units."""
    query = (
        sa.select(sl.c.number, sl.c.line_no, sl.c.quantity, s.c.status)
        .join(s, _JOIN)
        .where(sl.c.order_id == order_id, s.c.status.not_in(_DEAD), sl.c.quantity > 0)
    )
    return {(int(n), int(no), int(q), ShipmentStatus(st)) for n, no, q, st in conn.execute(query)}


def take(conn: Connection, order_id: int, number: int, line_no: int, qty: int, into: str) -> None:
    """Take ``qty`` units off a shipment line into its ``into`` column (cancelled, rejected or moved)."""
    conn.execute(
        sl.update()
        .where(sl.c.order_id == order_id, sl.c.number == number, sl.c.line_no == line_no)
        .values({sl.c.quantity: sl.c.quantity - qty, sl.c[into]: sl.c[into] + qty})
    )


def close_empty(conn: Connection, order_id: int, status: ShipmentStatus, now: datetime) -> None:
    """Open shipments of the order left with no units end as ``status``."""
    remaining = (
        sa.select(sa.func.coalesce(sa.func.sum(sl.c.quantity), 0))
        .where(sl.c.order_id == s.c.order_id, sl.c.number == s.c.number)
        .scalar_subquery()
    )
    conn.execute(
        s.update()
        .where(s.c.order_id == order_id, s.c.status.in_(_OPEN), remaining == 0)
        .values(status=status.value, updated_at=now)
    )


def close(conn: Connection, order_id: int, numbers: Sequence[int], status: ShipmentStatus, now: datetime) -> None:
    """Set these shipments of the order to ``status`` (a dead one: cancelled, rejected, replanned)."""
    conn.execute(
        s.update()
        .where(s.c.order_id == order_id, s.c.number.in_(list(numbers)))
        .values(status=status.value, updated_at=now)
    )


def units_since(conn: Connection, since: datetime, locations: Sequence[str] | None = None) -> dict[str, int]:
    """Units committed per node in shipments opened since ``since``: its spent daily capacity (only at
    ``locations`` when given, which the (location, created_at) index then answers)."""
    if locations is None:
        query = (
            sa.select(s.c.location, sa.func.sum(sl.c.quantity))
            .join(sl, _JOIN)
            .where(s.c.created_at >= since)
            .group_by(s.c.location)
        )
        return {loc: int(qty or 0) for loc, qty in conn.execute(query)}
    if not locations:
        return {}
    named, params = any_of(conn, "s.location", locations)
    cur = dbapi_cursor(conn)
    cur.execute(
        "SELECT s.location, SUM(l.quantity) FROM order_shipments s JOIN order_shipment_lines l "
        "ON l.order_id = s.order_id AND l.number = s.number "
        f"WHERE {named} AND s.created_at >= {placeholder(conn)} GROUP BY s.location",
        [*params, to_micros(since)],
    )
    return {loc: int(qty or 0) for loc, qty in cur.fetchall()}


def shipped_per_line(conn: Connection, order_id: int) -> dict[int, int]:
    """Units per line in shipments that left (shipped or delivered)."""
    done = [ShipmentStatus.SHIPPED.value, ShipmentStatus.DELIVERED.value]
    query = (
        sa.select(sl.c.line_no, sa.func.sum(sl.c.quantity))
        .join(s, _JOIN)
        .where(sl.c.order_id == order_id, s.c.status.in_(done))
        .group_by(sl.c.line_no)
    )
    return {int(no): int(q or 0) for no, q in conn.execute(query)}
