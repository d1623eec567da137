"""Fulfilment: the shipment lifecycle, cancellation and re-routing when a node rejects a line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from keel.inventory import StockService
from keel.orders.model import REJECTABLE, assign, transition_error
from keel.orders.service.common import (
    SOURCE,
    PolicyBook,
    Timeline,
    check_order_scope,
    locked_order,
    movement_rows,
    only_stock_errors,
    per_sku,
    refresh_status,
    routing_entry,
    sourcing_order,
)
from keel.orders.service.inputs import SourcingInputs
from keel.orders.service.reads import ReadOrders
from keel.orders.sourcing import Plan, plan_order
from keel.orders.store import orders, shipments
from keel.orders.views import (
    AdvanceShipment,
    CancelOrder,
    OrderRecord,
    OrderView,
    RejectShipment,
    Shipment,
    ShipmentLine,
)
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from keel.platform.scope import Scope
from keel.platform.vocabulary import ShipmentStatus


def _shipment(conn: Connection, order_id: int, number: int) -> Shipment:
    found = shipments.get(conn, order_id, number)
    if found is None:
        raise NotFound(f"order {order_id} has no shipment {number}")
    return found


class FulfilOrders:
    """What happens to an order after capture, up to delivery."""

    def __init__(
        self,
        db: Database,
        stock: StockService,
        inputs: SourcingInputs,
        book: PolicyBook,
        timeline: Timeline,
        reads: ReadOrders,
    ) -> None:
        self.db = db
        self.stock = stock
        self.inputs = inputs
        self.book = book
        self.timeline = timeline
        self.reads = reads

    def advance(self, command: AdvanceShipment, scope: Scope = Scope.ALL) -> OrderView:
        """Move the shipment one step (picking, packed, shipped, delivered); anything else is a ``Conflict``.
        Shipping needs a carrier and tracking number and takes the units out of stock."""
        self.step(command, scope)
        return self.reads.get(command.order_id)

    def step(self, command: AdvanceShipment, scope: Scope = Scope.ALL) -> None:
        """``advance`` without reading the order back: for a caller that plays many steps and needs no
        answer (the retail twin's warehouses and carriers), the read back would cost as much as the write."""
        order_id, number, target = command.order_id, command.number, command.target
        carrier, tracking_number = command.carrier, command.tracking_number
        if target is ShipmentStatus.SHIPPED:
            errors = [
                FieldError(None, name, "required to ship")
                for name, value in (("carrier", carrier), ("tracking_number", tracking_number))
                if not (value or "").strip()
            ]
            if errors:
                raise ValidationFailed("carrier and tracking number are required to ship", errors)
        now = utcnow()
        with self.db.write() as conn:
            locked_order(conn, order_id, scope)
            shipment = _shipment(conn, order_id, number)
            reason = transition_error(shipment.status, target)
            if reason is not None:
                raise Conflict(f"order {order_id} shipment {number}: {reason}")
            more: dict[str, Any] = {}
            if target is ShipmentStatus.SHIPPED:
                more = {"carrier": carrier, "tracking_number": tracking_number, "shipped_at": now}
                left = [(shipment.location, ln.sku, ln.quantity) for ln in shipment.lines]
                self.stock.apply_in(conn, movement_rows(order_id, "shipped", left), SOURCE)
            if target is ShipmentStatus.DELIVERED:
                more["delivered_at"] = now
            shipments.advance(conn, order_id, number, target, now, **more)
            shipped = target is ShipmentStatus.SHIPPED
            via = f" with {carrier} ({tracking_number})" if shipped else ""
            data: dict[str, Any] = {"shipment": number, "location": shipment.location}
            if shipped:  # what the channel's seller standards judge (valid tracking)
                data |= {"carrier": carrier, "tracking_number": tracking_number}
            self.timeline.note(
                conn, order_id, target.value, f"shipment {number} from {shipment.location} {target.value}{via}", data
            )
            refresh_status(conn, order_id)

    def cancel(self, command: CancelOrder, scope: Scope = Scope.ALL) -> OrderView:
        """Cancel whole lines or part of them before they ship: backordered units first, then committed
        units, which go back to available. ``lines`` are (line_no, quantity); None cancels all that is left."""
        order_id, lines = command.order_id, command.lines
        now = utcnow()
        with self.db.write() as conn:
            locked_order(conn, order_id, scope)
            order_lines = {ln.line_no: ln for ln in orders.lines(conn, order_id)}
            open_pieces = shipments.pieces_by_order(conn, [order_id]).get(order_id, [])
            wanted: dict[int, int] = {}
            errors: list[FieldError] = []
            if lines is not None and not lines:
                errors.append(FieldError(None, "lines", "name at least one line, or omit lines to cancel everything"))
            for row, (line_no, qty) in enumerate(lines or [], start=1):
                if line_no not in order_lines:
                    errors.append(FieldError(row, "line_no", f"order {order_id} has no line {line_no}"))
                elif qty <= 0:
                    errors.append(FieldError(row, "quantity", "a whole number above 0"))
                else:
                    wanted[line_no] = wanted.get(line_no, 0) + qty
            if errors:
                raise ValidationFailed("invalid cancellation", errors)
            cancellable = {
                no: ln.backordered + sum(p.quantity for p in open_pieces if p.line_no == no)
                for no, ln in order_lines.items()
            }
            if lines is None:
                wanted = {no: q for no, q in cancellable.items() if q}
                if not wanted:
                    raise Conflict(
                        f"order {order_id} has nothing left to cancel: every unit has shipped or is cancelled"
                    )
            too_many = [
                f"line {no}: {q} asked, {cancellable[no]} cancellable"
                for no, q in wanted.items()
                if q > cancellable[no]
            ]
            if too_many:
                raise Conflict(f"order {order_id} cannot cancel that much before shipping: {'; '.join(too_many)}")
            released: list[tuple[str, str, int]] = []
            for no, qty in wanted.items():
                from_backorder = min(qty, order_lines[no].backordered)
                left = qty - from_backorder
                for piece in sorted((p for p in open_pieces if p.line_no == no), key=lambda p: -p.number):
                    take = min(left, piece.quantity)
                    if take:
                        shipments.take(conn, order_id, piece.number, piece.line_no, take, "cancelled")
                        released.append((piece.location, piece.sku, take))
                        left -= take
                orders.add_to_line(conn, order_id, no, cancelled=qty, backordered=-from_backorder)
            shipments.close_empty(conn, order_id, ShipmentStatus.CANCELLED, now)
            self.stock.apply_in(conn, movement_rows(order_id, "uncommitted", released), SOURCE)
            units = sum(wanted.values())
            self.timeline.note(
                conn,
                order_id,
                "cancelled",
                f"{units} units cancelled" + (f": {command.reason}" if command.reason else ""),
                {"lines": {str(k): v for k, v in wanted.items()}, "released": sum(q for _, _, q in released)},
            )
            refresh_status(conn, order_id)
        return self.reads.get(order_id)

    def reject(self, command: RejectShipment, scope: Scope = Scope.ALL) -> OrderView:
        """A node cannot fulfil lines of the shipment (stock discrepancy): release them there, exclude the
        node for this order and route the units again, committing at the new nodes. What cannot be
        re-sourced is backordered where the channel allows it, otherwise cancelled."""
        order_id, number = command.order_id, command.number
        for attempt in (1, 2):
            with self.db.read() as conn:
                order = orders.get(conn, order_id)
                if order is None:
                    raise NotFound(f"order {order_id} does not exist")
                check_order_scope(order, scope)
                shipment = _shipment(conn, order_id, number)
            pieces = [p for p in shipment.lines if p.quantity > 0]
            if shipment.status not in REJECTABLE:
                raise Conflict(
                    f"order {order_id} shipment {number} is {shipment.status.value}; only allocated or picking can"
                    " be rejected"
                )
            pieces = _chosen(pieces, command.line_nos, order_id, number)
            excluded = sorted({*order.excluded_nodes, shipment.location})
            demand = per_sku((p.sku, p.quantity) for p in pieces)
            sourcing = sourcing_order(order, demand, utcnow())
            policy, model = self.book.policy_for(order.channel, excluded)
            network = self.inputs.network(list(demand), order.channel, order.country, order.pickup_location)
            plan = plan_order(sourcing, network, policy, model)
            backorder = self.inputs.channel(order.channel).backorder
            try:
                with self.db.write() as conn:
                    self._reroute(conn, order, shipment, pieces, plan, excluded, backorder, command.reason, attempt)
                return self.reads.get(order_id)
            except ValidationFailed as exc:
                if not only_stock_errors(exc):
                    raise
                if attempt == 2:
                    raise Conflict(f"stock moved twice while re-routing order {order_id}; try again") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _reroute(
        self,
        conn: Connection,
        order: OrderRecord,
        shipment: Shipment,
        pieces: list[ShipmentLine],
        plan: Plan,
        excluded: list[str],
        backorder: bool,
        reason: str,
        attempt: int,
    ) -> None:
        order_id, number, node = order.id, shipment.number, shipment.location
        now = utcnow()
        # History is extended from the locked row: a backorder fill may have routed this order meanwhile.
        locked = locked_order(conn, order_id)
        excluded = sorted({*locked.excluded_nodes, *excluded})
        now_held = _shipment(conn, order_id, number)
        current = {p.line_no: p.quantity for p in now_held.lines}
        if now_held.status not in REJECTABLE or any(current.get(p.line_no) != p.quantity for p in pieces):
            raise Conflict(f"order {order_id} shipment {number} changed meanwhile; look again and retry")
        for p in pieces:
            shipments.take(conn, order_id, number, p.line_no, p.quantity, "rejected")
        shipments.close_empty(conn, order_id, ShipmentStatus.REJECTED, now)
        new, short = assign(
            [(p.line_no, p.sku, p.quantity) for p in pieces], [(a.node, a.sku, a.qty) for a in plan.allocations]
        )
        numbers = shipments.add(conn, order_id, new, now)
        for line_no, qty in short.items():
            if backorder:
                orders.add_to_line(conn, order_id, line_no, backordered=qty)
            else:
                orders.add_to_line(conn, order_id, line_no, cancelled=qty)
        rows = movement_rows(order_id, "uncommitted", [(node, p.sku, p.quantity) for p in pieces])
        rows += movement_rows(order_id, "committed", [(a.node, a.sku, a.quantity) for a in new])
        self.stock.apply_in(conn, rows, SOURCE)
        routing = [*locked.routing, routing_entry("rejection", plan, now, rejected_by=node, attempt=attempt)]
        orders.set_routing(conn, order_id, routing, excluded)
        units = sum(p.quantity for p in pieces)
        message = f"{node} rejected {units} units of shipment {number}" + (f" ({reason})" if reason else "")
        if plan.nodes:
            message += f"; re-routed to {', '.join(plan.nodes)}"
        if short:
            message += (
                f"; {sum(short.values())} units {'backordered' if backorder else 'cancelled: no other node has them'}"
            )
        self.timeline.note(
            conn,
            order_id,
            "rerouted",
            message,
            {"shipment": number, "rejected_by": node, "new_shipments": numbers, "unsourced": sum(short.values())},
        )
        refresh_status(conn, order_id)


def _chosen(
    pieces: list[ShipmentLine], line_nos: Sequence[int] | None, order_id: int, number: int
) -> list[ShipmentLine]:
    if line_nos is None:
        chosen = pieces
    else:
        held = {p.line_no for p in pieces}
        errors = [
            FieldError(row, "line_no", f"shipment {number} of order {order_id} holds no units of line {no}")
            for row, no in enumerate(line_nos, start=1)
            if no not in held
        ]
        if errors:
            raise ValidationFailed("invalid rejection", errors)
        chosen = [p for p in pieces if p.line_no in set(line_nos)]
    if not chosen:
        raise Conflict(f"order {order_id} shipment {number} holds no units to reject")
    return chosen
