"""Returns: an RMA for shipped units, receipt at any location with an inspection outcome, refund status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.orders import store
from keel.orders.model import Outcome, Status
from keel.orders.service.base import SOURCE, OrdersBase
from keel.platform.clock import utcnow
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed


class ReturnOrders(OrdersBase):
    def create_return(self, order_id: int, lines: Sequence[tuple[int, int]], reason: str = "") -> dict[str, Any]:
        """Open an RMA for (line_no, quantity) pairs; each quantity at most what shipped and is not yet
        being returned. No stock moves until the parcel is received."""
        now = utcnow()
        with self.db.write() as conn:
            self.lock_order(conn, order_id)
            returnable = self._returnable(conn, order_id)
            ol = store.order_lines
            skus: dict[int, str] = dict(
                conn.execute(sa.select(ol.c.line_no, ol.c.sku).where(ol.c.order_id == order_id)).all()
            )
            wanted: dict[int, int] = {}
            errors: list[FieldError] = []
            if not lines:
                errors.append(FieldError(None, "lines", "name at least one line to return"))
            for row, (line_no, qty) in enumerate(lines, start=1):
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
            count = conn.execute(
                sa.select(sa.func.count()).select_from(store.returns).where(store.returns.c.order_id == order_id)
            ).scalar_one()
            rma = f"RMA-{order_id}-{int(count) + 1}"
            conn.execute(
                store.returns.insert().values(
                    rma=rma,
                    order_id=order_id,
                    status="open",
                    refund_status="pending",
                    reason=reason or None,
                    created_at=now,
                )
            )
            conn.execute(
                store.return_lines.insert(),
                [
                    {"rma": rma, "line_no": no, "sku": skus[no], "quantity": q, "outcome": None}
                    for no, q in wanted.items()
                ],
            )
            self.note(conn, order_id, "return_opened", f"{rma} opened for {sum(wanted.values())} units", {"rma": rma})
        return self.get_return(rma)

    def receive_return(self, rma: str, location: str, outcomes: Mapping[int, Outcome] | None = None) -> dict[str, Any]:
        """Receive an RMA at ``location``; each line goes back to available, damaged or quality control
        (``outcomes`` per line_no, default available) through the ledger."""
        now = utcnow()
        with self.db.write() as conn:
            head = self._lock_return(conn, rma)
            if head["status"] != "open":
                raise Conflict(f"{rma} was already received at {head['location']}")
            lines = self._return_lines(conn, rma)
            unknown = sorted(set(outcomes or {}) - {ln["line_no"] for ln in lines})
            if unknown:
                raise ValidationFailed(
                    "invalid receipt",
                    [FieldError(None, "outcomes", f"{rma} does not return line {no}") for no in unknown],
                )
            chosen = {ln["line_no"]: (outcomes or {}).get(ln["line_no"], Outcome.AVAILABLE) for ln in lines}
            rows: list[dict[str, Any]] = []
            for ln in lines:
                rows += self.movement_rows(
                    head["order_id"], chosen[ln["line_no"]].value, [(location, ln["sku"], ln["quantity"])]
                )
                rl = store.return_lines
                conn.execute(
                    rl.update()
                    .where(rl.c.rma == rma, rl.c.line_no == ln["line_no"])
                    .values(outcome=chosen[ln["line_no"]].value)
                )
            try:
                self.stock.apply_in(conn, rows, SOURCE)
            except ValidationFailed as exc:
                if any(e.field == "location" for e in exc.errors):
                    raise ValidationFailed(
                        "invalid receipt", [FieldError(None, "location", f"unknown or inactive location {location!r}")]
                    ) from exc
                raise
            r = store.returns
            conn.execute(r.update().where(r.c.rma == rma).values(status="received", location=location, received_at=now))
            summary = ", ".join(f"line {no}: {o.value}" for no, o in chosen.items())
            self.note(
                conn, head["order_id"], "return_received", f"{rma} received at {location} ({summary})", {"rma": rma}
            )
        return self.get_return(rma)

    def refund(self, rma: str) -> dict[str, Any]:
        """Mark a received RMA refunded (the payment itself happens in the payment provider)."""
        with self.db.write() as conn:
            head = self._lock_return(conn, rma)
            if head["status"] != "received":
                raise Conflict(f"{rma} has not been received yet; refund after receipt")
            if head["refund_status"] == "refunded":
                raise Conflict(f"{rma} was already refunded")
            r = store.returns
            conn.execute(r.update().where(r.c.rma == rma).values(refund_status="refunded", refunded_at=utcnow()))
            self.note(conn, head["order_id"], "refunded", f"{rma} refunded", {"rma": rma})
        return self.get_return(rma)

    def get_return(self, rma: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = conn.execute(sa.select(store.returns).where(store.returns.c.rma == rma)).first()
            if row is None:
                raise NotFound(f"return {rma!r} does not exist")
            return {**dict(row._mapping), "lines": self._return_lines(conn, rma)}

    # -- helpers ------------------------------------------------------------------------------------------
    def _lock_return(self, conn: Connection, rma: str) -> dict[str, Any]:
        row = conn.execute(sa.select(store.returns).where(store.returns.c.rma == rma).with_for_update()).first()
        if row is None:
            raise NotFound(f"return {rma!r} does not exist")
        return dict(row._mapping)

    @staticmethod
    def _return_lines(conn: Connection, rma: str) -> list[dict[str, Any]]:
        rl = store.return_lines
        return [dict(r._mapping) for r in conn.execute(sa.select(rl).where(rl.c.rma == rma).order_by(rl.c.line_no))]

    @staticmethod
    def _returnable(conn: Connection, order_id: int) -> dict[int, int]:
        """Per line: units shipped (or delivered) less units already on an RMA."""
        s, sl, r, rl = store.shipments, store.shipment_lines, store.returns, store.return_lines
        shipped = conn.execute(
            sa.select(sl.c.line_no, sa.func.sum(sl.c.quantity))
            .join(s, (s.c.order_id == sl.c.order_id) & (s.c.number == sl.c.number))
            .where(sl.c.order_id == order_id, s.c.status.in_([Status.SHIPPED.value, Status.DELIVERED.value]))
            .group_by(sl.c.line_no)
        )
        out = {int(no): int(q or 0) for no, q in shipped}
        returned = conn.execute(
            sa.select(rl.c.line_no, sa.func.sum(rl.c.quantity))
            .join(r, r.c.rma == rl.c.rma)
            .where(r.c.order_id == order_id)
            .group_by(rl.c.line_no)
        )
        for no, q in returned:
            out[int(no)] = out.get(int(no), 0) - int(q or 0)
        return out
