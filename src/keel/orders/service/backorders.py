"""Backorders: units a channel accepted without stock are sourced as soon as stock arrives.

The worker calls ``BackorderOrders.fill`` when stock has moved (receipts, transfers in, returns, releases);
operators can call it too. Oldest orders are served first, each in its own transaction through the
ledger, so a fill never takes more than is available and a race with another order only defers it.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Connection

from keel.inventory import StockService
from keel.orders.model import assign
from keel.orders.service.common import (
    SOURCE,
    PolicyBook,
    Timeline,
    locked_order,
    movement_rows,
    only_stock_errors,
    per_sku,
    refresh_status,
    routing_entry,
    sourcing_order,
)
from keel.orders.service.inputs import SourcingInputs
from keel.orders.sourcing import Fulfilment, Plan, plan_order
from keel.orders.sourcing.spec import with_excluded
from keel.orders.store import orders, shipments
from keel.orders.views import BackorderFill, BackorderReport, OrderRecord
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import FieldError, KeelError, ValidationFailed
from keel.platform.scope import Scope

MAX_FILL = 1000
ATTEMPTS_PER_FILL = 5
logger = logging.getLogger("keel.orders.backorders")


class BackorderOrders:
    """Orders waiting for stock."""

    def __init__(
        self, db: Database, stock: StockService, inputs: SourcingInputs, book: PolicyBook, timeline: Timeline
    ) -> None:
        self.db = db
        self.stock = stock
        self.inputs = inputs
        self.book = book
        self.timeline = timeline

    def fill(self, *, limit: int = 200, scope: Scope = Scope.ALL) -> BackorderReport:
        """Allocate backordered units to up to ``limit`` orders (in ``scope``), oldest first, among those with
        stock at a node they may use, trying at most ``5 x limit`` of them. Orders whose stock has not arrived
        stay backordered and do not hold back newer orders whose stock has."""
        if not 1 <= limit <= MAX_FILL:
            raise ValidationFailed("invalid backorder fill", [FieldError(None, "limit", f"between 1 and {MAX_FILL}")])
        with self.db.read() as conn:
            waiting = [
                (row, demand)
                for row, demand in self._backordered(conn)
                if scope.sees_channel(row.channel) and scope.sees_country(row.country)
            ]
        stocked = self.inputs.stock(sorted({sku for _, demand in waiting for sku in demand}))
        sources: dict[tuple[str, str], set[str]] = {}

        def can_fill(row: OrderRecord, demand: dict[str, int]) -> bool:
            # Only orders with stock at a node they may use are planned: the worker runs this every few
            # seconds, and planning orders whose stock is elsewhere would redo the same empty work each time.
            if Fulfilment(row.fulfilment).collected:
                allowed = {row.pickup_location or ""}  # collected where it was ordered, nowhere else
            else:
                key = (row.channel, row.country)
                if key not in sources:
                    sources[key] = set(self.inputs.sources(*key))
                allowed = sources[key]
            allowed = allowed - set(row.excluded_nodes)
            return any(allowed & set(stocked.get(sku, {})) for sku in demand)

        ready = [(row, demand) for row, demand in waiting if can_fill(row, demand)]
        policies, models = self.book.sourcing_for(row.channel for row, _ in ready)  # once per pass
        filled: list[BackorderFill] = []
        failed = attempts = 0
        for row, demand in ready:
            # ``limit`` counts orders that got stock, so orders whose stock is there but held back (a store's
            # floor, a full node) cannot take every slot; the attempt budget bounds one pass's work.
            if len(filled) >= limit or attempts >= ATTEMPTS_PER_FILL * limit:
                break
            attempts += 1
            try:
                network = self.inputs.network(list(demand), row.channel, row.country, row.pickup_location)
                policy = with_excluded(policies[row.channel], frozenset(row.excluded_nodes))
                plan = plan_order(sourcing_order(row, demand, utcnow()), network, policy, models[row.channel])
                if not plan.allocations:
                    continue
                with self.db.write() as conn:
                    units = self._commit(conn, row.id, plan)
            except ValidationFailed as exc:
                if not only_stock_errors(exc):
                    failed += 1
                    logger.exception("backorder fill failed for order %s", row.id)
                continue  # another order took the stock first; the next pass tries again
            except KeelError:
                failed += 1
                logger.exception("backorder fill failed for order %s", row.id)
                continue
            if units:
                filled.append(BackorderFill(row.id, units, tuple(plan.nodes)))
        return BackorderReport(
            orders_waiting=len(waiting),
            orders_with_stock=len(ready),
            orders_tried=attempts,
            orders_filled=len(filled),
            units_allocated=sum(f.units for f in filled),
            failed=failed,
            filled=tuple(filled),
        )

    @staticmethod
    def _backordered(conn: Connection) -> list[tuple[OrderRecord, dict[str, int]]]:
        """Every order with backordered units, oldest first, with what each still waits for per SKU."""
        lines: dict[int, list[tuple[str, int]]] = {}
        for order_id, sku, qty in orders.waiting_lines(conn):
            lines.setdefault(order_id, []).append((sku, qty))
        demand = {order_id: per_sku(pairs) for order_id, pairs in lines.items()}
        rows = sorted(orders.records(conn, demand), key=lambda r: (r.created_at, r.id))
        return [(r, demand[r.id]) for r in rows]

    def _commit(self, conn: Connection, order_id: int, plan: Plan) -> int:
        """Allocate the plan to the lines still backordered now (a cancellation may have come first)."""
        order = locked_order(conn, order_id)
        if set(plan.nodes) & set(order.excluded_nodes):
            return 0  # a node rejected this order while it was planned; the next pass plans again
        waiting = [(ln.line_no, ln.sku, ln.backordered) for ln in orders.lines(conn, order_id, backordered_only=True)]
        pieces, _ = assign(waiting, [(a.node, a.sku, a.qty) for a in plan.allocations])
        if not pieces:
            return 0
        now = utcnow()
        numbers = shipments.add(conn, order_id, pieces, now)
        for p in pieces:
            orders.add_to_line(conn, order_id, p.line_no, backordered=-p.quantity)
        self.stock.apply_in(
            conn, movement_rows(order_id, "committed", [(p.node, p.sku, p.quantity) for p in pieces]), SOURCE
        )
        orders.set_routing(conn, order_id, [*order.routing, routing_entry("backorder", plan, now)])
        units = sum(p.quantity for p in pieces)
        nodes = sorted({p.node for p in pieces})
        self.timeline.note(
            conn,
            order_id,
            "backorder_allocated",
            f"{units} backordered units allocated at {', '.join(nodes)}",
            {"units": units, "shipments": numbers, "nodes": nodes},
        )
        refresh_status(conn, order_id)
        return units
