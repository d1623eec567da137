"""Capture: validate, source against live stock and commit it with the order in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from keel.geo import city_centroid
from keel.inventory import StockService
from keel.orders.model import Capture, assign, parse_capture
from keel.orders.service.common import (
    SOURCE,
    PolicyBook,
    Timeline,
    movement_rows,
    only_stock_errors,
    promise_hours,
    refresh_status,
    routing_entry,
)
from keel.orders.service.inputs import Postcodes, SourcingInputs
from keel.orders.service.reads import ReadOrders
from keel.orders.sourcing import Order, OrderLine, Plan, plan_order
from keel.orders.store import orders, shipments
from keel.orders.views import Captured, LineRecord, NewOrder
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, FieldError, InsufficientStock, NotFound, ValidationFailed
from keel.platform.geo import COUNTRIES
from keel.platform.scope import Scope
from keel.platform.vocabulary import OrderStatus


def capture_command(raw: Mapping[str, Any]) -> Capture:
    """A capture document (as POST /orders takes it) validated into the command; ``ValidationFailed``
    lists every problem, lines with their 1-based ``row``."""
    capture, errors = parse_capture(raw, COUNTRIES, utcnow())
    if capture is None:
        raise ValidationFailed("invalid order", errors)
    return capture


@dataclass(frozen=True)
class _Where:
    lat: float
    lon: float
    how: str  # given, city, country (a known city of the country), pickup
    country: str


class CaptureOrders:
    """Orders coming in from channels."""

    def __init__(
        self,
        db: Database,
        stock: StockService,
        inputs: SourcingInputs,
        postcodes: Postcodes,
        book: PolicyBook,
        timeline: Timeline,
        reads: ReadOrders,
    ) -> None:
        self.db = db
        self.stock = stock
        self.inputs = inputs
        self.postcodes = postcodes
        self.book = book
        self.timeline = timeline
        self.reads = reads

    def place(self, capture: Capture, scope: Scope = Scope.ALL) -> Captured:
        """Capture an order from a channel; returns the order and whether it was created now.

        Idempotent by (channel, external id): the same content again returns the existing order, other
        content raises ``Conflict``. Bad input raises ``ValidationFailed`` (nothing written). Stock is
        committed atomically with the order; when it runs out, the order is refused with
        ``InsufficientStock`` unless the channel's policy allows backorders, which then records the rest.
        A channel or ship-to country outside ``scope`` raises ``OutOfScope`` (403) before anything else.
        """
        scope.check_channel(capture.channel)
        if capture.country:
            scope.check_country(capture.country, "the ship-to country")
        with self.db.read() as conn:
            found = self._existing(conn, capture)
        if found is not None:
            return Captured(self.reads.get(found), False)
        backorder = self._check_references(capture)
        where = self._locate(capture)
        scope.check_country(where.country, "the ship-to country")  # a pick-up order ships to its store's
        if not backorder:
            self._within_atp(capture, where.country)
        for attempt in (1, 2):
            network = self.inputs.network(
                list(capture.demand()), capture.channel, where.country, capture.pickup_location
            )
            plan = plan_order(self._sourcing_order(capture, where), network, *self.book.policy_for(capture.channel))
            if plan.unfilled and not backorder:
                raise self._short(plan)
            try:
                with self.db.write() as conn:
                    self._serialise(conn, capture)
                    found = self._existing(conn, capture)
                    if found is not None:  # a concurrent retry of the same order won
                        return Captured(self.reads.get(found), False)
                    order_id = self._save(conn, capture, plan, where, attempt)
                return Captured(self.reads.get(order_id), True)
            except ValidationFailed as exc:
                # Another order took the stock between planning and committing: plan again with fresh
                # stock once; a second refusal means the stock really is gone.
                if not only_stock_errors(exc):
                    raise
                if attempt == 2:
                    raise InsufficientStock(
                        "stock ran out while the order was being committed; nothing was oversold",
                        skus=sorted(capture.demand()),
                    ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # -- steps --------------------------------------------------------------------------------------------
    @staticmethod
    def _existing(conn: Connection, capture: Capture) -> int | None:
        found = orders.find_external(conn, capture.channel, capture.external_id)
        if found is None:
            return None
        order_id, digest = found
        if digest != capture.digest():
            raise Conflict(
                f"order {capture.external_id!r} of channel {capture.channel!r} was already captured with other content",
                order_id=order_id,
            )
        return order_id

    @staticmethod
    def _serialise(conn: Connection, capture: Capture) -> None:
        """Two PostgreSQL transactions capturing the same external id take turns, so the second one finds
        the first's order instead of failing on the unique index."""
        orders.serialise_capture(conn, capture.channel, capture.external_id)

    def _check_references(self, capture: Capture) -> bool:
        """Channel, SKUs and pick-up location exist; returns whether the channel accepts backorders."""
        errors: list[FieldError] = []
        backorder = False
        try:
            channel = self.inputs.channel(capture.channel)
        except NotFound:
            errors.append(FieldError(None, "channel", f"unknown channel {capture.channel!r}"))
        else:
            backorder = channel.backorder
            if not channel.active:
                errors.append(FieldError(None, "channel", f"channel {capture.channel!r} is inactive"))
            if capture.country and capture.country not in channel.countries:
                errors.append(
                    FieldError(
                        None, "ship_to.country", f"channel {capture.channel!r} does not sell to {capture.country}"
                    )
                )
        for row, line in enumerate(capture.lines, start=1):
            if not self.inputs.sku_known(line.sku):
                errors.append(FieldError(row, "sku", f"unknown SKU {line.sku!r}: no location holds it"))
        if capture.pickup_location is not None:
            place = self.inputs.place(capture.pickup_location)
            if place is None or not place.active:
                errors.append(FieldError(None, "pickup_location", f"unknown location {capture.pickup_location!r}"))
            elif "pickup" not in place.capabilities:
                errors.append(FieldError(None, "pickup_location", f"{capture.pickup_location} offers no pick-up"))
        if errors:
            raise ValidationFailed("invalid order", errors)
        return backorder

    def _locate(self, capture: Capture) -> _Where:
        """Where the goods go: the pick-up node, given coordinates, the postal code's centroid, or a known
        city of the country."""
        if capture.pickup_location is not None:
            place = self.inputs.place(capture.pickup_location)
            coords = None if place is None else place.position
            if place is None or coords is None:
                raise ValidationFailed(
                    "invalid order",
                    [FieldError(None, "pickup_location", f"{capture.pickup_location} has no known position")],
                )
            return _Where(coords[0], coords[1], "pickup", place.country)
        if capture.latitude is not None and capture.longitude is not None:
            return _Where(capture.latitude, capture.longitude, "given", capture.country)
        if capture.postal_code:
            # The operator-loaded postal-code centroids (keel geo import-postcodes), before any city.
            area = self.postcodes.centroid(capture.country, capture.postal_code)
            if area is not None:
                how = "postal_code" if area.exact else "postal_area"
                return _Where(area.latitude, area.longitude, how, capture.country)
        found = city_centroid(capture.country, capture.city)
        if found is None:
            raise ValidationFailed(
                "invalid order",
                [
                    FieldError(
                        None,
                        "ship_to.latitude",
                        f"no coordinates given and no reference city is known in {capture.country}: send latitude"
                        " and longitude",
                    )
                ],
            )
        return _Where(found[0], found[1], found[2], capture.country)

    @staticmethod
    def _sourcing_order(capture: Capture, where: _Where) -> Order:
        return Order(
            id=f"{capture.channel}/{capture.external_id}",
            channel=capture.channel,
            lines=tuple(OrderLine(sku, qty) for sku, qty in capture.demand().items()),
            lat=where.lat,
            lon=where.lon,
            country=where.country,
            fulfilment=capture.fulfilment,
            promise_hours=promise_hours(capture.promise_at, utcnow()),
            pickup_node=capture.pickup_location,
        )

    def _within_atp(self, capture: Capture, country: str) -> None:
        """Refuse quantities beyond what the channel may sell in that country (its live ATP: sources, buffer,
        allocation, cap), so a marketplace held back by its policy cannot take the reserved share anyway.
        Physical stock is then enforced by the ledger at commit."""
        over = []
        for sku, qty in sorted(capture.demand().items()):
            atp = self.inputs.atp(sku, capture.channel, country)
            if qty > atp:
                over.append({"sku": sku, "requested": qty, "available_to_promise": atp})
        if over:
            names = ", ".join(f"{o['sku']} ({o['requested']} > {o['available_to_promise']})" for o in over)
            raise InsufficientStock(
                f"channel {capture.channel!r} may not sell that much in {country}: {names}", skus=over
            )

    @staticmethod
    def _short(plan: Plan) -> InsufficientStock:
        missing = [{"sku": line.sku, "unfilled": line.qty} for line in plan.unfilled]
        reasons = [f"{r.node}: {r.reason}" for r in plan.explanation.rejections] if plan.explanation else []
        names = ", ".join(f"{m['unfilled']} x {m['sku']}" for m in missing)
        return InsufficientStock(
            f"not enough stock to fulfil the order: {names} cannot be sourced", skus=missing, rejections=reasons[:20]
        )

    def _save(self, conn: Connection, capture: Capture, plan: Plan, where: _Where, attempt: int) -> int:
        now = utcnow()
        numbered = [(no, line.sku, line.quantity) for no, line in enumerate(capture.lines, start=1)]
        pieces, short = assign(numbered, [(a.node, a.sku, a.qty) for a in plan.allocations])
        order_id = orders.insert(
            conn,
            NewOrder(
                channel=capture.channel,
                external_id=capture.external_id,
                digest=capture.digest(),
                status=OrderStatus.ALLOCATED.value,
                fulfilment=capture.fulfilment.value,
                customer_name=capture.customer_name,
                customer_email=capture.customer_email,
                country=where.country,
                city=capture.city,
                postal_code=capture.postal_code,
                latitude=where.lat,
                longitude=where.lon,
                geocoded=where.how,
                pickup_location=capture.pickup_location,
                promise_at=capture.promise_at,
                excluded_nodes=(),
                routing=(routing_entry("capture", plan, now, attempt=attempt),),
                created_at=now,
                updated_at=now,
            ),
            [
                LineRecord(no, sku, qty, capture.lines[no - 1].unit_price, 0, short.get(no, 0))
                for no, sku, qty in numbered
            ],
        )
        shipments.add(conn, order_id, pieces, now)
        self.stock.apply_in(
            conn, movement_rows(order_id, "committed", [(p.node, p.sku, p.quantity) for p in pieces]), SOURCE
        )
        self.timeline.note(
            conn,
            order_id,
            "captured",
            f"captured from {capture.channel} as {capture.external_id}",
            {"channel": capture.channel, "external_id": capture.external_id, "units": sum(q for _, _, q in numbered)},
        )
        message = f"routed to {', '.join(plan.nodes)}" if plan.nodes else "nothing could be sourced"
        if short:
            message += f"; {sum(short.values())} units backordered"
        self.timeline.note(
            conn,
            order_id,
            "routed",
            message,
            {"nodes": list(plan.nodes), "splits": plan.splits, "backordered": sum(short.values())},
        )
        refresh_status(conn, order_id)
        return order_id
