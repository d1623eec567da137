"""Read side of orders: one order with everything about it, filtered pages and fulfilment rates."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from keel.orders import store
from keel.orders.model import DEAD, Delivered, Status, rates
from keel.orders.service.base import OrdersBase
from keel.orders.sourcing import Fulfilment
from keel.platform.errors import NotFound

_DEAD = tuple(s.value for s in DEAD)


class ReadOrders(OrdersBase):
    def get(self, order_id: int) -> dict[str, Any]:
        """The order with its lines, shipments (and their lines), returns, timeline and routing history."""
        with self.db.read() as conn:
            row = conn.execute(sa.select(store.orders).where(store.orders.c.id == order_id)).first()
            if row is None:
                raise NotFound(f"order {order_id} does not exist")
            order = {k: v for k, v in row._mapping.items() if k != "digest"}
            ol, s, sl = store.order_lines, store.shipments, store.shipment_lines
            lines = [
                dict(r._mapping)
                for r in conn.execute(sa.select(ol).where(ol.c.order_id == order_id).order_by(ol.c.line_no))
            ]
            pieces: dict[int, list[dict[str, Any]]] = {}
            for r in conn.execute(sa.select(sl).where(sl.c.order_id == order_id).order_by(sl.c.number, sl.c.line_no)):
                pieces.setdefault(r.number, []).append(
                    {k: r._mapping[k] for k in ("line_no", "sku", "quantity", "cancelled", "rejected", "moved")}
                )
            shipments = [
                {**{k: v for k, v in r._mapping.items() if k != "order_id"}, "lines": pieces.get(r.number, [])}
                for r in conn.execute(sa.select(s).where(s.c.order_id == order_id).order_by(s.c.number))
            ]
            for line in lines:
                line.pop("order_id")
                mine = [p for sh in shipments for p in sh["lines"] if p["line_no"] == line["line_no"]]
                line["shipped"] = sum(
                    p["quantity"]
                    for sh in shipments
                    if sh["status"] in ("shipped", "delivered")
                    for p in sh["lines"]
                    if p["line_no"] == line["line_no"]
                )
                line["committed"] = sum(
                    p["quantity"]
                    for sh in shipments
                    if sh["status"] in ("allocated", "picking", "packed")
                    for p in sh["lines"]
                    if p["line_no"] == line["line_no"]
                )
                line["rejected"] = sum(p["rejected"] for p in mine)
            t = store.timeline
            timeline = [
                {k: r._mapping[k] for k in ("at", "kind", "message", "data")}
                for r in conn.execute(sa.select(t).where(t.c.order_id == order_id).order_by(t.c.id))
            ]
            r_ = store.returns
            returns = [
                dict(r._mapping)
                for r in conn.execute(sa.select(r_).where(r_.c.order_id == order_id).order_by(r_.c.created_at))
            ]
        return {**order, "lines": lines, "shipments": shipments, "timeline": timeline, "returns": returns}

    def list(
        self,
        *,
        channel: str | None = None,
        status: str | None = None,
        country: str | None = None,
        created_since: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[builtins.list[dict[str, Any]], int]:
        """A page of orders, newest first, with their unit and shipment counts, and the total matching."""
        query = self._filtered(channel, status, country, created_since)
        o, ol, s = store.orders, store.order_lines, store.shipments
        with self.db.read() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
            rows = [dict(r._mapping) for r in conn.execute(query.order_by(o.c.id.desc()).limit(limit).offset(offset))]
            ids = [r["id"] for r in rows]
            per_order = sa.select(ol.c.order_id, sa.func.sum(ol.c.quantity)).where(ol.c.order_id.in_(ids))
            units = {oid: int(q or 0) for oid, q in conn.execute(per_order.group_by(ol.c.order_id))}
            nodes: dict[int, builtins.list[str]] = {}
            for oid, loc in conn.execute(
                sa.select(s.c.order_id, s.c.location)
                .where(s.c.order_id.in_(ids), s.c.status.not_in(_DEAD))
                .order_by(s.c.number)
            ):
                nodes.setdefault(oid, []).append(loc)
        items = [
            {
                **{k: v for k, v in r.items() if k not in ("digest", "routing", "excluded_nodes")},
                "units": int(units.get(r["id"], 0) or 0),
                "nodes": nodes.get(r["id"], []),
            }
            for r in rows
        ]
        return items, int(total)

    def metrics(
        self,
        *,
        channel: str | None = None,
        country: str | None = None,
        created_since: datetime | None = None,
    ) -> dict[str, float | int | None]:
        """Split, on-time and same-day rates of the matching orders (see ``keel.orders.model.rates``)."""
        o, s = store.orders, store.shipments
        matching = self._filtered(channel, None, country, created_since).with_only_columns(o.c.id).subquery()
        query = (
            sa.select(
                o.c.id,
                o.c.fulfilment,
                o.c.created_at,
                o.c.promise_at,
                s.c.location,
                s.c.status,
                s.c.delivered_at,
            )
            .join(s, s.c.order_id == o.c.id)
            .where(o.c.id.in_(sa.select(matching.c.id)), s.c.status.not_in(_DEAD))
        )
        per: dict[int, dict[str, Any]] = {}
        with self.db.read() as conn:
            for r in conn.execute(query):
                entry = per.setdefault(r.id, {"row": r, "nodes": set(), "delivered": [], "open": False})
                entry["nodes"].add(r.location)
                if r.status == Status.DELIVERED.value:
                    entry["delivered"].append(r.delivered_at)
                else:
                    entry["open"] = True
        return rates(
            Delivered(
                fulfilment=Fulfilment(e["row"].fulfilment),
                shipments=len(e["nodes"]),
                created_at=e["row"].created_at,
                promise_at=e["row"].promise_at,
                done_at=None if e["open"] or not e["delivered"] else max(e["delivered"]),
            )
            for e in per.values()
        )

    @staticmethod
    def _filtered(
        channel: str | None, status: str | None, country: str | None, created_since: datetime | None
    ) -> sa.Select[Any]:
        o = store.orders
        query = sa.select(o)
        if channel:
            query = query.where(o.c.channel == channel)
        if status:
            query = query.where(o.c.status == status)
        if country:
            query = query.where(o.c.country == country.upper())
        if created_since:
            query = query.where(o.c.created_at >= created_since)
        return query
