"""Fulfilment: the shipment lifecycle, cancellation and re-routing when a node rejects a line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.orders import store
from keel.orders.model import OPEN, REJECTABLE, Status, assign, transition_error
from keel.orders.service.base import (
    SOURCE,
    OrdersBase,
    only_stock_errors,
    per_sku,
    routing_entry,
    sourcing_order,
)
from keel.orders.sourcing import plan_order
from keel.platform.clock import utcnow
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed


class FulfilOrders(OrdersBase):
    def advance(
        self,
        order_id: int,
        number: int,
        target: Status,
        *,
        carrier: str | None = None,
        tracking_number: str | None = None,
    ) -> dict[str, Any]:
        """Move shipment ``number`` one step (picking, packed, shipped, delivered); anything else is a
        ``Conflict``. Shipping needs a carrier and tracking number and takes the units out of stock."""
        if target is Status.SHIPPED:
            errors = [
                FieldError(None, name, "required to ship")
                for name, value in (("carrier", carrier), ("tracking_number", tracking_number))
                if not (value or "").strip()
            ]
            if errors:
                raise ValidationFailed("carrier and tracking number are required to ship", errors)
        now = utcnow()
        with self.db.write() as conn:
            self.lock_order(conn, order_id)
            shipment = self._shipment(conn, order_id, number)
            reason = transition_error(Status(shipment["status"]), target)
            if reason is not None:
                raise Conflict(f"order {order_id} shipment {number}: {reason}")
            values: dict[str, Any] = {"status": target.value, "updated_at": now}
            if target is Status.SHIPPED:
                values |= {"carrier": carrier, "tracking_number": tracking_number, "shipped_at": now}
                lines = self._shipment_lines(conn, order_id, number)
                self.stock.apply_in(
                    conn,
                    self.movement_rows(
                        order_id, "shipped", [(shipment["location"], ln["sku"], ln["quantity"]) for ln in lines]
                    ),
                    SOURCE,
                )
            if target is Status.DELIVERED:
                values["delivered_at"] = now
            s = store.shipments
            conn.execute(s.update().where(s.c.order_id == order_id, s.c.number == number).values(**values))
            via = f" with {carrier} ({tracking_number})" if target is Status.SHIPPED else ""
            self.note(
                conn,
                order_id,
                target.value,
                f"shipment {number} from {shipment['location']} {target.value}{via}",
                {"shipment": number, "location": shipment["location"]},
            )
            self.refresh_status(conn, order_id)
        return self.get(order_id)

    def cancel(self, order_id: int, lines: Sequence[tuple[int, int]] | None = None, reason: str = "") -> dict[str, Any]:
        """Cancel whole lines or part of them before they ship: backordered units first, then committed
        units, which go back to available. ``lines`` are (line_no, quantity); None cancels all that is left."""
        now = utcnow()
        with self.db.write() as conn:
            self.lock_order(conn, order_id)
            order_lines = {
                r.line_no: r
                for r in conn.execute(sa.select(store.order_lines).where(store.order_lines.c.order_id == order_id))
            }
            open_pieces = self._open_pieces(conn, order_id)
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
                no: ln.backordered + sum(p["quantity"] for p in open_pieces if p["line_no"] == no)
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
                for piece in sorted((p for p in open_pieces if p["line_no"] == no), key=lambda p: -p["number"]):
                    take = min(left, piece["quantity"])
                    if take:
                        self._reduce(conn, order_id, piece, take, "cancelled")
                        released.append((piece["location"], piece["sku"], take))
                        left -= take
                ol = store.order_lines
                conn.execute(
                    ol.update()
                    .where(ol.c.order_id == order_id, ol.c.line_no == no)
                    .values(cancelled=ol.c.cancelled + qty, backordered=ol.c.backordered - from_backorder)
                )
            self._close_empty(conn, order_id, Status.CANCELLED, now)
            self.stock.apply_in(conn, self.movement_rows(order_id, "uncommitted", released), SOURCE)
            units = sum(wanted.values())
            self.note(
                conn,
                order_id,
                "cancelled",
                f"{units} units cancelled" + (f": {reason}" if reason else ""),
                {"lines": {str(k): v for k, v in wanted.items()}, "released": sum(q for _, _, q in released)},
            )
            self.refresh_status(conn, order_id)
        return self.get(order_id)

    def reject(
        self, order_id: int, number: int, line_nos: Sequence[int] | None = None, reason: str = ""
    ) -> dict[str, Any]:
        """A node cannot fulfil lines of shipment ``number`` (stock discrepancy): release them there, exclude
        the node for this order and route the units again, committing at the new nodes. What cannot be
        re-sourced is backordered where the channel allows it, otherwise cancelled."""
        for attempt in (1, 2):
            with self.db.read() as conn:
                row = conn.execute(sa.select(store.orders).where(store.orders.c.id == order_id)).first()
                if row is None:
                    raise NotFound(f"order {order_id} does not exist")
                order = dict(row._mapping)
                shipment = self._shipment(conn, order_id, number)
                pieces = [p for p in self._shipment_lines(conn, order_id, number) if p["quantity"] > 0]
            status = Status(shipment["status"])
            if status not in REJECTABLE:
                raise Conflict(
                    f"order {order_id} shipment {number} is {status.value}; only allocated or picking can be rejected"
                )
            pieces = self._chosen(pieces, line_nos, order_id, number)
            excluded = sorted({*order["excluded_nodes"], shipment["location"]})
            demand = per_sku((p["sku"], p["quantity"]) for p in pieces)
            sourcing = sourcing_order(order, demand, utcnow())
            policy, model = self.policy_for(order["channel"], excluded)
            network = self.network(list(demand), order["channel"], order["country"], order["pickup_location"])
            plan = plan_order(sourcing, network, policy, model)
            backorder = bool(self.channels.get(order["channel"])["policy"].get("backorder"))
            try:
                with self.db.write() as conn:
                    self._reroute(conn, order, shipment, pieces, plan, excluded, backorder, reason, attempt)
                return self.get(order_id)
            except ValidationFailed as exc:
                if not only_stock_errors(exc):
                    raise
                if attempt == 2:
                    raise Conflict(f"stock moved twice while re-routing order {order_id}; try again") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # -- helpers ------------------------------------------------------------------------------------------
    def _shipment(self, conn: Connection, order_id: int, number: int) -> dict[str, Any]:
        s = store.shipments
        row = conn.execute(sa.select(s).where(s.c.order_id == order_id, s.c.number == number)).first()
        if row is None:
            raise NotFound(f"order {order_id} has no shipment {number}")
        return dict(row._mapping)

    def _shipment_lines(self, conn: Connection, order_id: int, number: int) -> list[dict[str, Any]]:
        sl = store.shipment_lines
        query = sa.select(sl).where(sl.c.order_id == order_id, sl.c.number == number).order_by(sl.c.line_no)
        return [dict(r._mapping) for r in conn.execute(query)]

    def _open_pieces(self, conn: Connection, order_id: int) -> list[dict[str, Any]]:
        """Shipment lines whose units are still committed at their node (not shipped, cancelled or rejected)."""
        s, sl = store.shipments, store.shipment_lines
        query = (
            sa.select(sl, s.c.location)
            .join(s, (s.c.order_id == sl.c.order_id) & (s.c.number == sl.c.number))
            .where(sl.c.order_id == order_id, s.c.status.in_([st.value for st in OPEN]), sl.c.quantity > 0)
        )
        return [dict(r._mapping) for r in conn.execute(query)]

    @staticmethod
    def _reduce(conn: Connection, order_id: int, piece: dict[str, Any], qty: int, column: str) -> None:
        sl = store.shipment_lines
        conn.execute(
            sl.update()
            .where(sl.c.order_id == order_id, sl.c.number == piece["number"], sl.c.line_no == piece["line_no"])
            .values({sl.c.quantity: sl.c.quantity - qty, sl.c[column]: sl.c[column] + qty})
        )

    @staticmethod
    def _close_empty(conn: Connection, order_id: int, status: Status, now: Any) -> None:
        """Open shipments left with no units end as ``status`` (cancelled or rejected)."""
        s, sl = store.shipments, store.shipment_lines
        remaining = (
            sa.select(sa.func.coalesce(sa.func.sum(sl.c.quantity), 0))
            .where(sl.c.order_id == s.c.order_id, sl.c.number == s.c.number)
            .scalar_subquery()
        )
        conn.execute(
            s.update()
            .where(s.c.order_id == order_id, s.c.status.in_([st.value for st in OPEN]), remaining == 0)
            .values(status=status.value, updated_at=now)
        )

    @staticmethod
    def _chosen(
        pieces: list[dict[str, Any]], line_nos: Sequence[int] | None, order_id: int, number: int
    ) -> list[dict[str, Any]]:
        if line_nos is None:
            chosen = pieces
        else:
            held = {p["line_no"] for p in pieces}
            errors = [
                FieldError(row, "line_no", f"shipment {number} of order {order_id} holds no units of line {no}")
                for row, no in enumerate(line_nos, start=1)
                if no not in held
            ]
            if errors:
                raise ValidationFailed("invalid rejection", errors)
            chosen = [p for p in pieces if p["line_no"] in set(line_nos)]
        if not chosen:
            raise Conflict(f"order {order_id} shipment {number} holds no units to reject")
        return chosen

    def _reroute(
        self,
        conn: Connection,
        order: dict[str, Any],
        shipment: dict[str, Any],
        pieces: list[dict[str, Any]],
        plan: Any,
        excluded: list[str],
        backorder: bool,
        reason: str,
        attempt: int,
    ) -> None:
        order_id, number, node = order["id"], shipment["number"], shipment["location"]
        now = utcnow()
        # History is extended from the locked row: a backorder fill may have routed this order meanwhile.
        locked = self.lock_order(conn, order_id)
        excluded = sorted({*locked["excluded_nodes"], *excluded})
        current = {p["line_no"]: p["quantity"] for p in self._shipment_lines(conn, order_id, number)}
        status = Status(self._shipment(conn, order_id, number)["status"])
        if status not in REJECTABLE or any(current.get(p["line_no"]) != p["quantity"] for p in pieces):
            raise Conflict(f"order {order_id} shipment {number} changed meanwhile; look again and retry")
        for p in pieces:
            self._reduce(conn, order_id, p, p["quantity"], "rejected")
        self._close_empty(conn, order_id, Status.REJECTED, now)
        new, short = assign(
            [(p["line_no"], p["sku"], p["quantity"]) for p in pieces],
            [(a.node, a.sku, a.qty) for a in plan.allocations],
        )
        numbers = self.add_shipments(conn, order_id, new, now)
        ol = store.order_lines
        for line_no, qty in short.items():
            column = ol.c.backordered if backorder else ol.c.cancelled
            conn.execute(
                ol.update().where(ol.c.order_id == order_id, ol.c.line_no == line_no).values({column: column + qty})
            )
        rows = self.movement_rows(order_id, "uncommitted", [(node, p["sku"], p["quantity"]) for p in pieces])
        rows += self.movement_rows(order_id, "committed", [(a.node, a.sku, a.quantity) for a in new])
        self.stock.apply_in(conn, rows, SOURCE)
        routing = [*locked["routing"], routing_entry("rejection", plan, now, rejected_by=node, attempt=attempt)]
        o = store.orders
        conn.execute(o.update().where(o.c.id == order_id).values(excluded_nodes=excluded, routing=routing))
        units = sum(p["quantity"] for p in pieces)
        message = f"{node} rejected {units} units of shipment {number}" + (f" ({reason})" if reason else "")
        if plan.nodes:
            message += f"; re-routed to {', '.join(plan.nodes)}"
        if short:
            message += (
                f"; {sum(short.values())} units {'backordered' if backorder else 'cancelled: no other node has them'}"
            )
        self.note(
            conn,
            order_id,
            "rerouted",
            message,
            {"shipment": number, "rejected_by": node, "new_shipments": numbers, "unsourced": sum(short.values())},
        )
        self.refresh_status(conn, order_id)
