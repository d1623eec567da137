"""Pure order domain: capture validation, the shipment lifecycle, order status and fulfilment metrics.

Standard library and platform value types only; the service loads and saves, this module decides.
Prices are decimal strings in the channel's currency (``"19.99"``), kept as text so no float ever
rounds a price; they are normalised to two decimals so equal prices compare equal for idempotency.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from keel.orders.sourcing.model import SHIPPED as SHIPPED_TYPES
from keel.orders.sourcing.model import Fulfilment
from keel.platform.errors import FieldError
from keel.platform.vocabulary import DEAD_SHIPMENTS, EXTERNAL_ID_RE, SKU_RE, SKU_RULE, OrderStatus, ShipmentStatus

EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_LINES = 500
MAX_QTY = 100_000
MAX_PRICE = Decimal(10) ** 12  # fits the String(20) column; quantizing it stays inside Decimal's precision
# When the caller names no promise, the customer was promised what the service level usually means.
DEFAULT_PROMISE = {
    Fulfilment.SHIP_STANDARD: timedelta(days=3),
    Fulfilment.SHIP_EXPRESS: timedelta(days=1),
    Fulfilment.SAME_DAY: timedelta(hours=8),
    Fulfilment.PICKUP: timedelta(hours=4),
    Fulfilment.CURBSIDE: timedelta(hours=2),
}


NEXT: dict[ShipmentStatus, ShipmentStatus] = {
    ShipmentStatus.ALLOCATED: ShipmentStatus.PICKING,
    ShipmentStatus.PICKING: ShipmentStatus.PACKED,
    ShipmentStatus.PACKED: ShipmentStatus.SHIPPED,
    ShipmentStatus.SHIPPED: ShipmentStatus.DELIVERED,
}
REJECTABLE = frozenset({ShipmentStatus.ALLOCATED, ShipmentStatus.PICKING})
# The live statuses from first to last, as ``NEXT`` walks them.
PROGRESS: tuple[ShipmentStatus, ...] = (*NEXT, ShipmentStatus.DELIVERED)


def short_of(status: ShipmentStatus, step: ShipmentStatus) -> bool:
    """Whether a live shipment in ``status`` has yet to reach ``step``; a dead one reaches nothing more (False)."""
    return status in PROGRESS and PROGRESS.index(status) < PROGRESS.index(step)


class Outcome(StrEnum):
    """Inspection outcome of a returned line; the value is the ledger movement kind it writes."""

    AVAILABLE = "returned"
    DAMAGED = "returned_damaged"
    QC = "returned_qc"


def transition_error(current: ShipmentStatus, target: ShipmentStatus) -> str | None:
    """Why a shipment may not move from ``current`` to ``target`` (None: it may)."""
    if NEXT.get(current) == target:
        return None
    allowed = NEXT.get(current)
    then = f"; the next step is {allowed.value}" if allowed else " (it is final)"
    return f"shipment is {current.value}, it cannot become {target.value}{then}"


@dataclass(frozen=True)
class CaptureLine:
    sku: str
    quantity: int
    unit_price: str


@dataclass(frozen=True)
class Capture:
    """A validated capture request, normalised so that equal content gives an equal ``digest``."""

    channel: str
    external_id: str
    lines: tuple[CaptureLine, ...]
    fulfilment: Fulfilment
    customer_name: str
    customer_email: str | None
    country: str
    city: str | None
    postal_code: str | None
    latitude: float | None
    longitude: float | None
    pickup_location: str | None
    promise_at: datetime | None
    promise_given: bool  # False: defaulted from the capture time, which a retry does not repeat

    def digest(self) -> str:
        body = {k: v for k, v in self.__dict__.items() if k != "lines"}
        if not self.promise_given:
            body["promise_at"] = None
        body["lines"] = [line.__dict__ for line in self.lines]
        raw = json.dumps(body, default=str, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()

    def demand(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.sku] = out.get(line.sku, 0) + line.quantity
        return out


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    return str(value).strip() or None


def _price(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or not 0 <= amount < MAX_PRICE or amount != amount.quantize(Decimal("0.01")):
        return None
    return str(amount.quantize(Decimal("0.01")))


def _coordinate(raw: Mapping[str, Any], key: str, bound: float, errors: list[FieldError]) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not -bound <= value <= bound:
        errors.append(FieldError(None, f"ship_to.{key}", f"a number from -{bound:g} to {bound:g}"))
        return None
    return float(value)


def parse_capture(
    raw: Mapping[str, Any], countries: frozenset[str], now: datetime
) -> tuple[Capture | None, list[FieldError]]:
    """Validate a capture document; lines are reported with their 1-based ``row``."""
    errors: list[FieldError] = []
    channel = _text(raw, "channel")
    if channel is None:
        errors.append(FieldError(None, "channel", "required"))
    external_id = _text(raw, "external_id")
    if external_id is None or not EXTERNAL_ID_RE.fullmatch(external_id):
        errors.append(
            FieldError(None, "external_id", "required: 1-100 letters, digits or ._:/#- starting alphanumeric")
        )
    lines: list[CaptureLine] = []
    raw_lines = raw.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.append(FieldError(None, "lines", "at least one line"))
        raw_lines = []
    elif len(raw_lines) > MAX_LINES:
        errors.append(FieldError(None, "lines", f"at most {MAX_LINES} lines"))
        raw_lines = []
    for row, line in enumerate(raw_lines, start=1):
        if not isinstance(line, Mapping):
            errors.append(FieldError(row, "", "a line is an object with sku, quantity and unit_price"))
            continue
        sku = _text(line, "sku")
        if sku is None or not SKU_RE.fullmatch(sku):
            errors.append(FieldError(row, "sku", f"required: {SKU_RULE}"))
        qty = line.get("quantity")
        if isinstance(qty, bool) or not isinstance(qty, int) or not 0 < qty <= MAX_QTY:
            errors.append(FieldError(row, "quantity", f"a whole number from 1 to {MAX_QTY}"))
        price = _price(line.get("unit_price"))
        if price is None:
            errors.append(FieldError(row, "unit_price", 'a decimal string with at most 2 decimals, e.g. "19.99"'))
        if sku and isinstance(qty, int) and price is not None:
            lines.append(CaptureLine(sku, qty, price))
    try:
        fulfilment = Fulfilment(raw.get("fulfilment", Fulfilment.SHIP_STANDARD.value))
    except ValueError:
        errors.append(FieldError(None, "fulfilment", f"one of {', '.join(f.value for f in Fulfilment)}"))
        fulfilment = Fulfilment.SHIP_STANDARD
    raw_customer = raw.get("customer")
    customer: Mapping[str, Any] = raw_customer if isinstance(raw_customer, Mapping) else {}
    name = _text(customer, "name")
    if name is None:
        errors.append(FieldError(None, "customer.name", "required"))
    email = _text(customer, "email")
    if email is not None and not EMAIL_RE.fullmatch(email):
        errors.append(FieldError(None, "customer.email", "not an e-mail address"))
    ship_to = raw.get("ship_to")
    address: Mapping[str, Any] = ship_to if isinstance(ship_to, Mapping) else {}
    country = (_text(address, "country") or "").upper()
    pickup = _text(raw, "pickup_location")
    if fulfilment in SHIPPED_TYPES:
        if not address:
            errors.append(FieldError(None, "ship_to", f"required for a {fulfilment.value} order"))
        elif country not in countries:
            errors.append(FieldError(None, "ship_to.country", "an ISO 3166-1 alpha-2 country code"))
        if address and _text(address, "postal_code") is None:
            errors.append(FieldError(None, "ship_to.postal_code", f"required for a {fulfilment.value} order"))
        if pickup is not None:
            errors.append(FieldError(None, "pickup_location", "only pickup and curbside orders name one"))
    elif pickup is None:
        errors.append(FieldError(None, "pickup_location", f"required for a {fulfilment.value} order"))
    if address and country and country not in countries and fulfilment not in SHIPPED_TYPES:
        errors.append(FieldError(None, "ship_to.country", "an ISO 3166-1 alpha-2 country code"))
    latitude = _coordinate(address, "latitude", 90.0, errors)
    longitude = _coordinate(address, "longitude", 180.0, errors)
    if (latitude is None) != (longitude is None):
        errors.append(FieldError(None, "ship_to", "give both latitude and longitude, or neither"))
    promise_at = _promise(raw.get("promise_at"), fulfilment, now, errors)
    if errors or channel is None or external_id is None or name is None:
        return None, errors
    capture = Capture(
        channel=channel,
        external_id=external_id,
        lines=tuple(lines),
        fulfilment=fulfilment,
        customer_name=name,
        customer_email=email,
        country=country,
        city=_text(address, "city"),
        postal_code=_text(address, "postal_code"),
        latitude=latitude,
        longitude=longitude,
        pickup_location=pickup,
        promise_at=promise_at,
        promise_given=raw.get("promise_at") is not None,
    )
    return capture, []


def _promise(value: Any, fulfilment: Fulfilment, now: datetime, errors: list[FieldError]) -> datetime:
    if value is None:
        return now + DEFAULT_PROMISE[fulfilment]
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            errors.append(FieldError(None, "promise_at", "an ISO 8601 date-time"))
            return now
    if parsed.tzinfo is None:
        errors.append(FieldError(None, "promise_at", "include a time zone offset, e.g. 2026-05-01T18:00:00Z"))
        return now
    if parsed <= now:
        errors.append(FieldError(None, "promise_at", "must be in the future"))
    return parsed


def order_status(statuses: Iterable[ShipmentStatus], backordered: int) -> OrderStatus:
    """One word for the whole order: the least advanced live shipment, or what is left when none is live."""
    live = [s for s in statuses if s not in DEAD_SHIPMENTS]
    if not live:
        return OrderStatus.BACKORDERED if backordered else OrderStatus.CANCELLED
    if backordered:
        return OrderStatus.PARTIALLY_BACKORDERED
    return OrderStatus(min(live, key=PROGRESS.index).value)


# Every word ``order_status`` may give (what a filter by order status offers).
ORDER_STATUSES = frozenset(OrderStatus)


@dataclass(frozen=True)
class Delivered:
    """What the fulfilment metrics need of one order."""

    fulfilment: Fulfilment
    shipments: int
    created_at: datetime
    promise_at: datetime | None
    done_at: datetime | None  # when the last live shipment was delivered (None: not yet)


@dataclass(frozen=True)
class Metrics:
    """Split rate over routed orders; on-time and same-day rates over delivered orders (None: nothing to
    measure yet)."""

    routed: int
    delivered: int
    split_rate: float | None
    on_time_rate: float | None
    same_day_rate: float | None


def rates(orders: Iterable[Delivered]) -> Metrics:
    """Split rate over routed orders; on-time and same-day rates over delivered orders.

    On time: the last shipment was delivered by the promise. Same day: a same_day order delivered on
    the calendar day (UTC) it was placed. None where there is nothing to measure yet.
    """
    routed = split = delivered = on_time = same_day_total = same_day_hit = 0
    for o in orders:
        if o.shipments:
            routed += 1
            split += o.shipments > 1
        if o.done_at is None:
            continue
        delivered += 1
        on_time += o.promise_at is None or o.done_at <= o.promise_at
        if o.fulfilment is Fulfilment.SAME_DAY:
            same_day_total += 1
            same_day_hit += o.done_at.date() == o.created_at.date()
    return Metrics(
        routed=routed,
        delivered=delivered,
        split_rate=split / routed if routed else None,
        on_time_rate=on_time / delivered if delivered else None,
        same_day_rate=same_day_hit / same_day_total if same_day_total else None,
    )


@dataclass(frozen=True)
class Assigned:
    """Part of an order line committed at one node."""

    node: str
    line_no: int
    sku: str
    quantity: int


def assign(
    lines: Iterable[tuple[int, str, int]], allocations: Iterable[tuple[str, str, int]]
) -> tuple[list[Assigned], dict[int, int]]:
    """Spread a plan's per-SKU allocations over the order lines holding that SKU, lowest line first.

    ``lines`` are (line_no, sku, quantity) and ``allocations`` (node, sku, quantity). Returns the pieces and
    what each line still lacks (the planner sources SKUs; people and carriers talk about lines).
    """
    left: dict[int, int] = {}
    by_sku: dict[str, list[int]] = {}
    for no, sku, qty in lines:
        # A line may come in several pieces (held at several nodes): its quantities add up.
        left[no] = left.get(no, 0) + qty
        if no not in by_sku.setdefault(sku, []):
            by_sku[sku].append(no)
    out: list[Assigned] = []
    for node, sku, qty in allocations:
        for no in by_sku.get(sku, []):
            give = min(qty, left[no])
            if give:
                out.append(Assigned(node, no, sku, give))
                left[no] -= give
                qty -= give
            if not qty:
                break
    return out, {no: q for no, q in left.items() if q}
