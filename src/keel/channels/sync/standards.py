"""The marketplaces' seller standards measured on a channel's orders: what each metric counts, over which
window, which way is good, its default threshold; the projection of a metric to the end of its window; and
the order facts the feeder keeps, read from order events. Pure: no I/O (``facts_store`` holds the SQL).

Each metric is a rate ``hits / orders`` over the orders whose window column falls in the last ``window``:

============================  ===========  =======  ====================================  ==================
metric                        window col.  window   orders counted / hits                 default
============================  ===========  =======  ====================================  ==================
``cancellation_rate``         placed_at    7 d      placed / cancelled                    at most 2.5 %
``late_shipment_rate``        ship_by      10 d     not cancelled before shipping /       at most 4 %
                                                    shipped after ship_by or not shipped
``valid_tracking_rate``       shipped_at   30 d     shipped / tracking valid              at least 99 %
``on_time_delivery_rate``     delivered_at 30 d     delivered with a promise / by it      at least 90 %
``order_defect_rate``         placed_at    60 d     placed / with a defect                at most 1 %
============================  ===========  =======  ====================================  ==================

The defaults are the published seller standards of two large marketplaces (cancellation under 2.5 % over 7
days, late shipment under 4 %, order defect rate under 1 % over 60 days; the other's valid tracking 99 % and
on-time delivery 90 %); its stricter cancellation limit (2 %) is a per-channel threshold override.

**Projection.** The window is cut in ``SLICES`` equal slices, oldest to newest; the newest is the recent
pace. ``k`` slices from now the oldest ``k`` slices have left the window and ``k`` slices like the newest have
come in, so the projected rate is ``(hits in slices k.. + k * hits in the newest) / (orders in slices k.. +
k * orders in the newest)``. A metric within its threshold now that crosses it at some ``k`` (1..SLICES) is
projected to, ``k`` slices from now. Below ``MIN_ORDERS`` orders in the window a metric is not judged: one
cancellation in three orders is noise, not a breach.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

AT_MOST, AT_LEAST = "at most", "at least"
CANCELLATION = "cancellation_rate"
LATE_SHIPMENT = "late_shipment_rate"
VALID_TRACKING = "valid_tracking_rate"
ON_TIME_DELIVERY = "on_time_delivery_rate"
ORDER_DEFECT = "order_defect_rate"
# The handling time both marketplaces assume when a listing sets none: an order must ship within 2 days of
# being placed (its ship-by date).
HANDLING = timedelta(days=2)
SLICES = 7
MIN_ORDERS = 20  # fewer orders in the window: "no data" (too few to judge a rate of a few per cent)
# A tracking number a carrier can look up: 8 to 40 letters and digits (the marketplaces' validators refuse
# placeholders such as "-", "n/a" or a bare order number of a few digits, and numbers with spaces or dashes).
TRACKING = re.compile(r"[A-Za-z0-9]{8,40}")


@dataclass(frozen=True)
class OrderMetric:
    name: str
    column: str  # the fact whose time puts an order in the window (sync_order_facts' column)
    window: timedelta
    direction: str  # AT_MOST: the rate must stay at or below the threshold; AT_LEAST: at or above
    default: float


METRICS: tuple[OrderMetric, ...] = (
    OrderMetric(CANCELLATION, "placed_at", timedelta(days=7), AT_MOST, 0.025),
    OrderMetric(LATE_SHIPMENT, "ship_by", timedelta(days=10), AT_MOST, 0.04),
    OrderMetric(VALID_TRACKING, "shipped_at", timedelta(days=30), AT_LEAST, 0.99),
    OrderMetric(ON_TIME_DELIVERY, "delivered_at", timedelta(days=30), AT_LEAST, 0.90),
    OrderMetric(ORDER_DEFECT, "placed_at", timedelta(days=60), AT_MOST, 0.01),
)
BY_NAME = {m.name: m for m in METRICS}


def tracking_valid(carrier: object, tracking: object) -> bool:
    """A shipment's tracking is valid when it names a carrier and a number a carrier can look up."""
    return (
        isinstance(carrier, str)
        and bool(carrier.strip())
        and isinstance(tracking, str)
        and TRACKING.fullmatch(tracking) is not None
    )


def bounds(now: datetime, window: timedelta) -> list[datetime]:
    """The ``SLICES + 1`` boundaries of the window ending ``now``, oldest first."""
    return [now - window + window * i / SLICES for i in range(SLICES + 1)]


def crossed(rate: float, threshold: float, direction: str) -> bool:
    return rate < threshold if direction == AT_LEAST else rate > threshold


def projection(
    hits: Sequence[int], orders: Sequence[int], threshold: float, direction: str
) -> tuple[float | None, int | None]:
    """(projected rate, slices until it first crosses ``threshold``) from per-slice counts, oldest first.

    Without a crossing the rate is the one at the window's end (``SLICES`` slices on) and the slices None."""
    last: float | None = None
    for k in range(1, SLICES + 1):
        n = sum(orders[k:]) + k * orders[-1]
        if n == 0:
            continue
        last = (sum(hits[k:]) + k * hits[-1]) / n
        if crossed(last, threshold, direction):
            return last, k
    return last, None


# -- order facts from order events -------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    order_id: int
    channel: str
    external_id: str
    placed_at: datetime
    promise_at: datetime | None
    ship_by: datetime


@dataclass
class Facts:
    """What one batch of order events says about orders, one entry per order and kind (the batch's writes:
    one statement each). A time is the earliest of the batch's (the latest for deliveries)."""

    placed: dict[int, Placed] = field(default_factory=dict)
    shipped: dict[int, tuple[datetime, bool]] = field(default_factory=dict)  # first time, tracking all valid
    delivered: dict[int, datetime] = field(default_factory=dict)
    cancelled: dict[int, datetime] = field(default_factory=dict)
    defects: dict[int, datetime] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any((self.placed, self.shipped, self.delivered, self.cancelled, self.defects))


def _when(raw: object) -> datetime | None:
    """An ISO instant from event data (None when missing or unreadable: the promise is optional)."""
    if not isinstance(raw, str):
        return None
    try:
        found = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


def _first(into: dict[int, datetime], order_id: int, at: datetime) -> None:
    into[order_id] = min(at, into.get(order_id, at))


def facts_of(events: Iterable[tuple[str, dict[str, Any], datetime]], channels: frozenset[str]) -> Facts:
    """The facts of (kind, data, recorded_at) order events (kind: captured, shipped, delivered, cancelled,
    refunded). Only orders captured from ``channels`` are placed; the other kinds name any order, and only
    the orders with a fact are updated (so only the configured channels' orders)."""
    out = Facts()
    for kind, data, at in events:
        try:
            order_id = int(data["order_id"])
        except (KeyError, TypeError, ValueError):
            continue
        if kind == "captured":
            channel = data.get("channel")
            if channel in channels and order_id not in out.placed:
                promise = _when(data.get("promise_at"))
                out.placed[order_id] = Placed(
                    order_id, str(channel), str(data.get("external_id", "")), at, promise, at + HANDLING
                )
        elif kind == "shipped":
            valid = tracking_valid(data.get("carrier"), data.get("tracking_number"))
            first, all_valid = out.shipped.get(order_id, (at, True))
            out.shipped[order_id] = (min(first, at), all_valid and valid)
        elif kind == "delivered":
            out.delivered[order_id] = max(at, out.delivered.get(order_id, at))
        elif kind == "cancelled":
            _first(out.cancelled, order_id, at)
        elif kind == "refunded" and not data.get("rma"):
            _first(out.defects, order_id, at)  # a refund without a return: the nearest thing to a claim
    return out
