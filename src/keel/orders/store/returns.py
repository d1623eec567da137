"""Queries on returns (RMAs) and their lines."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.orders.store.tables import return_lines, returns
from keel.orders.views import ReturnLine, ReturnRecord

r, rl = returns, return_lines


def _record(row: Any) -> ReturnRecord:
    return ReturnRecord(**{c.name: row[c.name] for c in r.c})


def get(conn: Connection, rma: str, *, lock: bool = False) -> ReturnRecord | None:
    """The RMA; with ``lock`` its row is locked for this transaction."""
    query = sa.select(r).where(r.c.rma == rma)
    row = conn.execute(query.with_for_update() if lock else query).mappings().first()
    return None if row is None else _record(row)


def of_order(conn: Connection, order_id: int) -> list[ReturnRecord]:
    """The order's RMAs, oldest first."""
    query = sa.select(r).where(r.c.order_id == order_id).order_by(r.c.created_at)
    return [_record(row) for row in conn.execute(query).mappings()]


def lines(conn: Connection, rma: str) -> list[ReturnLine]:
    """The RMA's lines by order line number."""
    query = sa.select(rl).where(rl.c.rma == rma).order_by(rl.c.line_no)
    return [ReturnLine(x.rma, x.line_no, x.sku, x.quantity, x.outcome) for x in conn.execute(query)]


def count_of_order(conn: Connection, order_id: int) -> int:
    """How many RMAs the order has (numbers the next one)."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(r).where(r.c.order_id == order_id)).scalar_one())


def returned_per_line(conn: Connection, order_id: int) -> dict[int, int]:
    """Units per order line already on an RMA of the order."""
    query = (
        sa.select(rl.c.line_no, sa.func.sum(rl.c.quantity))
        .join(r, r.c.rma == rl.c.rma)
        .where(r.c.order_id == order_id)
        .group_by(rl.c.line_no)
    )
    return {int(no): int(q or 0) for no, q in conn.execute(query)}


def insert(
    conn: Connection, rma: str, order_id: int, reason: str | None, now: datetime, lines: Mapping[int, tuple[str, int]]
) -> None:
    """An open RMA awaiting its refund, returning (sku, quantity) per line number."""
    conn.execute(
        r.insert().values(
            rma=rma, order_id=order_id, status="open", refund_status="pending", reason=reason, created_at=now
        )
    )
    conn.execute(
        rl.insert(),
        [{"rma": rma, "line_no": no, "sku": sku, "quantity": q, "outcome": None} for no, (sku, q) in lines.items()],
    )


def received(conn: Connection, rma: str, location: str, outcomes: Mapping[int, str], now: datetime) -> None:
    """The RMA arrived at ``location``; each line's inspection outcome."""
    for line_no, outcome in outcomes.items():
        conn.execute(rl.update().where(rl.c.rma == rma, rl.c.line_no == line_no).values(outcome=outcome))
    conn.execute(r.update().where(r.c.rma == rma).values(status="received", location=location, received_at=now))


def refunded(conn: Connection, rma: str, now: datetime) -> None:
    """Mark the RMA refunded at ``now``."""
    conn.execute(r.update().where(r.c.rma == rma).values(refund_status="refunded", refunded_at=now))
