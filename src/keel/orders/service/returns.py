"""Returns: an RMA for shipped units, receipt at any location with an inspection outcome, refund status."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from keel.inventory import StockService
from keel.orders.model import Outcome
from keel.orders.service.common import SOURCE, Timeline, check_order_scope, locked_order, movement_rows
from keel.orders.store import orders, returns, shipments
from keel.orders.views import CreateReturn, ReceiveReturn, ReturnRecord, ReturnView
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from keel.platform.scope import Scope


def _locked(conn: Connection, rma: str, scope: Scope) -> ReturnRecord:
    found = returns.get(conn, rma, lock=True)
    if found is None:
        raise NotFound(f"return {rma!r} does not exist")
    order = orders.get(conn, found.order_id)
    if order is not None:
        check_order_scope(order, scope)
    return found


def _sees(order: Any, scope: Scope) -> bool:
    return scope.sees_channel(order.channel) and scope.sees_country(order.country)


class ReturnOrders:
    """Units coming back after they shipped."""

    def __init__(self, db: Database, stock: StockService, timeline: Timeline) -> None:
        self.db = db
        self.stock = stock
        self.timeline = timeline

    def open(self, command: CreateReturn, scope: Scope = Scope.ALL) -> ReturnView:
        """Open an RMA for (line_no, quantity) pairs; each quantity at most what shipped and is not yet
        being returned. No stock moves until the parcel is received."""
        order_id = command.order_id
        now = utcnow()
        with self.db.write() as conn:
            locked_order(conn, order_id, scope)
            returnable = shipments.shipped_per_line(conn, order_id)
            for no, q in returns.returned_per_line(conn, order_id).items():
                returnable[no] = returnable.get(no, 0) - q
            skus = {ln.line_no: ln.sku for ln in orders.lines(conn, order_id)}
            wanted: dict[int, int] = {}
            errors: list[FieldError] = []
            if not command.lines:
                errors.append(FieldError(None, "lines", "name at least one line to return"))
            for row, (line_no, qty) in enumerate(command.lines, start=1):
                if line_no not in skus:
                    errors.append(FieldError(row, "line_no", f"order {order_id} has no line {line_no}"))
                elif qty <= 0:
                    errors.append(FieldError(row, "quantity", "a whole number above 0"))
                elif wanted.get(line_no, 0) + qty > returnable.get(line_no, 0):
                    errors.append(
                        FieldError(
                            row, "quantity", f"line {line_no} has {returnable.get(line_no, 0)} shipped units to return"
                        )
                    )
                else:
                    wanted[line_no] = wanted.get(line_no, 0) + qty
            if errors:
                raise ValidationFailed("invalid return", errors)
            rma = f"RMA-{order_id}-{returns.count_of_order(conn, order_id) + 1}"
            returns.insert(
                conn, rma, order_id, command.reason or None, now, {no: (skus[no], q) for no, q in wanted.items()}
            )
            self.timeline.note(
                conn, order_id, "return_opened", f"{rma} opened for {sum(wanted.values())} units", {"rma": rma}
            )
        return self.get(rma)

    def receive(self, command: ReceiveReturn, scope: Scope = Scope.ALL) -> ReturnView:
        """Receive an RMA at ``location``; each line goes back to available, damaged or quality control
        (``outcomes`` per line_no, default available) through the ledger."""
        rma, location, outcomes = command.rma, command.location, command.outcomes or {}
        now = utcnow()
        with self.db.write() as conn:
            head = _locked(conn, rma, scope)
            if head.status != "open":
                raise Conflict(f"{rma} was already received at {head.location}")
            lines = returns.lines(conn, rma)
            unknown = sorted(set(outcomes) - {ln.line_no for ln in lines})
            if unknown:
                raise ValidationFailed(
                    "invalid receipt",
                    [FieldError(None, "outcomes", f"{rma} does not return line {no}") for no in unknown],
                )
            chosen = {ln.line_no: outcomes.get(ln.line_no, Outcome.AVAILABLE) for ln in lines}
            rows: list[dict[str, Any]] = []
            for ln in lines:
                rows += movement_rows(head.order_id, chosen[ln.line_no].value, [(location, ln.sku, ln.quantity)])
            try:
                self.stock.apply_in(conn, rows, SOURCE)
            except ValidationFailed as exc:
                if any(e.field == "location" for e in exc.errors):
                    raise ValidationFailed(
                        "invalid receipt", [FieldError(None, "location", f"unknown or inactive location {location!r}")]
                    ) from exc
                raise
            returns.received(conn, rma, location, {no: o.value for no, o in chosen.items()}, now)
            summary = ", ".join(f"line {no}: {o.value}" for no, o in chosen.items())
            self.timeline.note(
                conn, head.order_id, "return_received", f"{rma} received at {location} ({summary})", {"rma": rma}
            )
        return self.get(rma)

    def refund(self, rma: str, scope: Scope = Scope.ALL) -> ReturnView:
        """Mark a received RMA refunded (the payment itself happens in the payment provider)."""
        with self.db.write() as conn:
            head = _locked(conn, rma, scope)
            if head.status != "received":
                raise Conflict(f"{rma} has not been received yet; refund after receipt")
            if head.refund_status == "refunded":
                raise Conflict(f"{rma} was already refunded")
            returns.refunded(conn, rma, utcnow())
            self.timeline.note(conn, head.order_id, "refunded", f"{rma} refunded", {"rma": rma})
        return self.get(rma)

    def get(self, rma: str, scope: Scope = Scope.ALL) -> ReturnView:
        """The RMA with its lines; ``NotFound`` also when its order is outside ``scope``."""
        with self.db.read() as conn:
            head = returns.get(conn, rma)
            order = None if head is None else orders.get(conn, head.order_id)
            if head is None or (order is not None and not _sees(order, scope)):
                raise NotFound(f"return {rma!r} does not exist")
            lines = returns.lines(conn, rma)
        return ReturnView(**vars(head), lines=tuple(lines))
