"""Capture: validate, source against live stock and commit it with the order, all in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from keel.channels import Channel
from keel.geo import city_centroid
from keel.inventory import StockService
from keel.orders.model import Assigned, Capture, assign, order_status, parse_capture
from keel.orders.service.common import (
    SOURCE,
    PolicyBook,
    Timeline,
    movement_rows,
    only_stock_errors,
    promise_hours,
    routing_entry,
)
from keel.orders.service.inputs import Area, CaptureSnapshot, Postcodes, SourcingInputs
from keel.orders.service.reads import ReadOrders
from keel.orders.sourcing import CostModel, Order, OrderLine, Plan, Policy, plan_order
from keel.orders.store import orders, shipments
from keel.orders.views import (
    Captured,
    LineRecord,
    NewOrder,
    OrderLineView,
    OrderView,
    Shipment,
    ShipmentLine,
    TimelineEntry,
)
from keel.platform.clock import utcnow
from keel.platform.db import Database, Later, from_micros, pipelined, to_micros
from keel.platform.errors import Conflict, FieldError, InsufficientStock, ValidationFailed
from keel.platform.geo import COUNTRIES
from keel.platform.scope import Scope
from keel.platform.vocabulary import OrderStatus, ShipmentStatus


def capture_command(raw: Mapping[str, Any]) -> Capture:
    """A capture document (as POST /orders takes it) validated into the command; ``ValidationFailed``
    lists every problem, lines with their 1-based ``row``."""
    capture, errors = parse_capture(raw, COUNTRIES, utcnow())
    if capture is None:
        raise ValidationFailed("invalid order", errors)
    return capture


@dataclass(frozen=True)
class _Sent:
    """What capture reads before it knows whether the order is new, sent together (one round trip on
    PostgreSQL): the order under its external id, the channel, the ship-to postal code and the policy."""

    existing: Later[tuple[int, str] | None]
    channel: Later[Channel | None]
    area: Later[Area | None]
    policy: Later[tuple[Policy, CostModel]]


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

        One write transaction reads what the order needs once (the channel, the stock of its SKUs where the
        channel may take it, the policy, today's picks), with the ledger locked so the plan made on it
        commits as it is; the answer is built from what was written, not read back.
        """
        scope.check_channel(capture.channel)
        if capture.country:
            scope.check_country(capture.country, "the ship-to country")
        digest = capture.digest()
        try:
            with self.db.write() as conn:
                with pipelined(conn):
                    # Two transactions capturing the same external id take turns (PostgreSQL; SQLite writers
                    # are serial), so the second finds the first's order instead of failing on the unique index.
                    orders.serialise_capture(conn, capture.channel, capture.external_id)
                    sent = self._send(conn, capture)
                found = self._existing(sent.existing(), capture, digest)
                if found is None:
                    return Captured(self._capture(conn, capture, digest, scope, sent), True)
        except ValidationFailed as exc:
            # The ledger refused a position: only if something wrote stock without the ledger lock.
            if not only_stock_errors(exc):
                raise
            raise InsufficientStock(
                "stock ran out while the order was being committed; nothing was oversold",
                skus=sorted(capture.demand()),
            ) from exc
        return Captured(self.reads.get(found), False)

    # -- steps --------------------------------------------------------------------------------------------
    def _send(self, conn: Connection, capture: Capture) -> _Sent:
        """Send the reads that need nothing but the capture document (see ``_Sent``)."""
        by_postcode = capture.pickup_location is None and capture.latitude is None and bool(capture.postal_code)
        return _Sent(
            existing=orders.find_external(conn, capture.channel, capture.external_id),
            channel=self.inputs.find_channel(conn, capture.channel),
            area=(
                self.postcodes.find_centroid(conn, capture.country, capture.postal_code or "")
                if by_postcode
                else Later(lambda: None)
            ),
            policy=self.book.find_policy(conn, capture.channel),
        )

    @staticmethod
    def _existing(found: tuple[int, str] | None, capture: Capture, digest: str) -> int | None:
        if found is None:
            return None
        order_id, stored = found
        if stored != digest:
            raise Conflict(
                f"order {capture.external_id!r} of channel {capture.channel!r} was already captured with other content",
                order_id=order_id,
            )
        return order_id

    def _capture(self, conn: Connection, capture: Capture, digest: str, scope: Scope, sent: _Sent) -> OrderView:
        """Check, plan and write a new order in ``conn``'s transaction; the order as written."""
        pickup = capture.pickup_location
        snapshot = self.inputs.for_capture(
            conn, sent.channel, None if pickup else capture.country, sorted(capture.demand()), pickup
        )
        backorder = self._check_references(capture, snapshot)
        where = self._locate(capture, snapshot, sent.area())
        scope.check_country(where.country, "the ship-to country")  # a pick-up order ships to its store's
        if not backorder:
            self._within_atp(capture, snapshot, where.country)
        now = from_micros(to_micros(utcnow()))  # as the database stores it: the answer equals a read back
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        candidates = snapshot.candidates()
        network = snapshot.network(shipments.units_since(conn, midnight, candidates))
        policy, model = sent.policy()
        plan = plan_order(self._sourcing_order(capture, where, now), network, policy, model)
        if plan.unfilled and not backorder:
            raise self._short(plan)
        return self._save(conn, capture, digest, plan, where, now)

    @staticmethod
    def _check_references(capture: Capture, snapshot: CaptureSnapshot) -> bool:
        """Channel, SKUs and pick-up location exist; returns whether the channel accepts backorders."""
        errors: list[FieldError] = []
        backorder = False
        channel = snapshot.channel
        if channel is None:
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
            if not snapshot.known(line.sku):
                errors.append(FieldError(row, "sku", f"unknown SKU {line.sku!r}: no location holds it"))
        if capture.pickup_location is not None:
            place = snapshot.place(capture.pickup_location)
            if place is None or not place.active:
                errors.append(FieldError(None, "pickup_location", f"unknown location {capture.pickup_location!r}"))
            elif "pickup" not in place.capabilities:
                errors.append(FieldError(None, "pickup_location", f"{capture.pickup_location} offers no pick-up"))
        if errors:
            raise ValidationFailed("invalid order", errors)
        return backorder

    @staticmethod
    def _locate(capture: Capture, snapshot: CaptureSnapshot, area: Area | None) -> _Where:
        """Where the goods go: the pick-up node, given coordinates, the postal code's centroid (``area``, the
        operator-loaded ones of ``keel geo import-postcodes``), or a known city of the country."""
        if capture.pickup_location is not None:
            place = snapshot.place(capture.pickup_location)
            coords = None if place is None else place.position
            if place is None or coords is None:
                raise ValidationFailed(
                    "invalid order",
                    [FieldError(None, "pickup_location", f"{capture.pickup_location} has no known position")],
                )
            return _Where(coords[0], coords[1], "pickup", place.country)
        if capture.latitude is not None and capture.longitude is not None:
            return _Where(capture.latitude, capture.longitude, "given", capture.country)
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
    def _sourcing_order(capture: Capture, where: _Where, now: datetime) -> Order:
        return Order(
            id=f"{capture.channel}/{capture.external_id}",
            channel=capture.channel,
            lines=tuple(OrderLine(sku, qty) for sku, qty in capture.demand().items()),
            lat=where.lat,
            lon=where.lon,
            country=where.country,
            fulfilment=capture.fulfilment,
            promise_hours=promise_hours(capture.promise_at, now),
            pickup_node=capture.pickup_location,
        )

    @staticmethod
    def _within_atp(capture: Capture, snapshot: CaptureSnapshot, country: str) -> None:
        """Refuse quantities beyond what the channel may sell in that country (its live ATP: sources, buffer,
        allocation, cap), so a marketplace held back by its policy cannot take the reserved share anyway.
        Physical stock is then enforced by the ledger at commit."""
        over = []
        for sku, qty in sorted(capture.demand().items()):
            atp = snapshot.atp(sku)
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

    def _save(
        self, conn: Connection, capture: Capture, digest: str, plan: Plan, where: _Where, now: datetime
    ) -> OrderView:
        """Write the order, its lines and shipments, the stock it commits and its timeline; return it as written."""
        numbered = [(no, line.sku, line.quantity) for no, line in enumerate(capture.lines, start=1)]
        pieces, short = assign(numbered, [(a.node, a.sku, a.qty) for a in plan.allocations])
        nodes = list(dict.fromkeys(p.node for p in pieces))  # shipment numbers follow first appearance
        backordered = sum(short.values())
        head = NewOrder(
            channel=capture.channel,
            external_id=capture.external_id,
            digest=digest,
            status=order_status([ShipmentStatus.ALLOCATED] * len(nodes), backordered).value,
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
            promise_at=None if capture.promise_at is None else from_micros(to_micros(capture.promise_at)),
            excluded_nodes=(),
            routing=(routing_entry("capture", plan, now, attempt=1),),
            created_at=now,
            updated_at=now,
        )
        lines = [
            LineRecord(no, sku, qty, capture.lines[no - 1].unit_price, 0, short.get(no, 0)) for no, sku, qty in numbered
        ]
        message = f"routed to {', '.join(plan.nodes)}" if plan.nodes else "nothing could be sourced"
        if short:
            message += f"; {backordered} units backordered"
        units = sum(q for _, _, q in numbered)
        notes = (
            TimelineEntry(
                now,
                "captured",
                f"captured from {capture.channel} as {capture.external_id}",
                {
                    "channel": capture.channel,
                    "external_id": capture.external_id,
                    "units": units,
                    # for consumers that judge delivery against the promise (the sync engine's standards)
                    "promise_at": None if head.promise_at is None else head.promise_at.isoformat(),
                },
            ),
            TimelineEntry(
                now, "routed", message, {"nodes": list(plan.nodes), "splits": plan.splits, "backordered": backordered}
            ),
        )
        with pipelined(conn):  # on PostgreSQL: the id comes back, then everything else in one round trip
            order_id = orders.insert(conn, head, lines)
            shipments.add(conn, order_id, pieces, now, new_order=True)
            events = self.timeline.write(conn, order_id, notes)
        # The order's events go out with the stock it commits, in one append (stock.moved first).
        rows = movement_rows(order_id, "committed", [(p.node, p.sku, p.quantity) for p in pieces])
        self.stock.apply_in(conn, rows, SOURCE, announce_with=events)
        return written_order(order_id, head, lines, pieces, nodes, notes)


def written_order(
    order_id: int,
    head: NewOrder,
    lines: Sequence[LineRecord],
    pieces: Sequence[Assigned],
    nodes: Sequence[str],
    notes: Sequence[TimelineEntry],
) -> OrderView:
    """A newly captured order as ``ReadOrders.get`` would read it back, from what capture wrote."""
    number = {node: n for n, node in enumerate(nodes, start=1)}
    held: dict[str, list[ShipmentLine]] = {node: [] for node in nodes}
    committed: dict[int, int] = {}
    for p in sorted(pieces, key=lambda p: p.line_no):
        held[p.node].append(ShipmentLine(number[p.node], p.line_no, p.sku, p.quantity, 0, 0, 0))
        committed[p.line_no] = committed.get(p.line_no, 0) + p.quantity
    status = ShipmentStatus.ALLOCATED
    at = head.created_at
    record = {k: v for k, v in vars(head).items() if k != "digest"}
    return OrderView(
        **{**record, "id": order_id, "status": OrderStatus(head.status)},
        lines=tuple(
            OrderLineView(**vars(line), shipped=0, committed=committed.get(line.line_no, 0), rejected=0)
            for line in lines
        ),
        shipments=tuple(
            Shipment(number[node], node, status, None, None, at, at, None, None, tuple(held[node])) for node in nodes
        ),
        returns=(),
        timeline=tuple(notes),
    )
