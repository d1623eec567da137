"""Marketplace health of a channel's sync: each metric against a threshold, and whether its trend would cross
the threshold soon.

The metrics are the ones the sync engine measures itself over the last 15 minutes (``HEALTH_WINDOW``):

- ``lag_p99_s``: change committed in Keel -> accepted by the channel, 99th percentile (default <= 60 s);
- ``error_rate``: requests that failed as a whole / requests sent (default <= 5 %);
- ``backlog_age_s``: how long the oldest value still owed has waited (default <= 300 s).

**Projection.** The window is split into halves. For lag and error rate the metric is computed on each half;
the change from the first half to the second is taken as the trend per half-window, and the projected value
is the second half's plus that change: where the metric will be half a window from now if it keeps moving
the same way (a straight line through the two halves). For the backlog's age, when nothing was accepted in
the second half the backlog is not moving and its age simply grows: projected = age now + half a window.
A metric within its threshold whose projection is beyond it is ``projected`` (an early alert); beyond it now
is ``breach``; with no data (no request in the window) it is ``no data``.

Beside them, the seller standards measured on the channel's orders (``keel.channels.sync.standards``:
cancellation, late shipment, valid tracking, on-time delivery, order defect rate), each a rate over days
with a direction: at most for the bad ones, at least for the good ones. Their projection looks to the end
of their window, slice by slice, and says when it first crosses; below ``MIN_ORDERS`` orders they are ``no
data``.

Thresholds are data: ``DEFAULTS`` for every channel, overridden per channel by a small stored document
(``SyncService.set_thresholds``). A rate's threshold is a share between 0 and 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from keel.channels.sync.standards import AT_MOST, METRICS, MIN_ORDERS, OrderMetric, crossed, projection

LAG_P99 = "lag_p99_s"
ERROR_RATE = "error_rate"
BACKLOG_AGE = "backlog_age_s"
DEFAULTS: Mapping[str, float] = {
    LAG_P99: 60.0,
    ERROR_RATE: 0.05,
    BACKLOG_AGE: 300.0,
    **{m.name: m.default for m in METRICS},
}
RATES = frozenset({ERROR_RATE, *(m.name for m in METRICS)})  # shares: a threshold between 0 and 1
OK, BREACH, PROJECTED, NO_DATA = "ok", "breach", "projected", "no data"


@dataclass(frozen=True)
class Health:
    metric: str
    value: float | None
    threshold: float  # the metric must stay at or below it (at least: at or above it)
    status: str  # ok, breach, projected, no data
    projected: float | None  # where the trend takes it (request metrics: half a window on; orders: see module)
    direction: str = AT_MOST
    window_s: float = 0.0  # the window the value is measured over
    orders: int | None = None  # order metrics: orders in the window (None: a request metric)
    projected_in_s: float | None = None  # order metrics: seconds until the projection first crosses


@dataclass(frozen=True)
class Request:
    """What health needs of one request sent: when, whether it failed as a whole, the accepted lags."""

    at: datetime
    error: bool
    lags_ms: Sequence[int]


def percentile(values: Sequence[int], share: float) -> float | None:
    """The ``share`` percentile of millisecond values, in seconds (nearest rank)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)] / 1000


def _lag(requests: Sequence[Request]) -> float | None:
    return percentile([lag for r in requests for lag in r.lags_ms], 0.99)


def _errors(requests: Sequence[Request]) -> float | None:
    return sum(1 for r in requests if r.error) / len(requests) if requests else None


def _trend(first: float | None, second: float | None) -> float | None:
    if first is None or second is None:
        return None
    return max(0.0, second + (second - first))


def judge(
    metric: str, value: float | None, threshold: float, projected: float | None, direction: str = AT_MOST
) -> Health:
    if value is None:
        status = NO_DATA
    elif crossed(value, threshold, direction):
        status = BREACH
    elif projected is not None and crossed(projected, threshold, direction):
        status = PROJECTED
    else:
        status = OK
    return Health(metric, value, threshold, status, projected, direction)


def thresholds_of(doc: Mapping[str, float] | None) -> dict[str, float]:
    return {**DEFAULTS, **(doc or {})}


def problems(doc: object) -> list[tuple[str, str]]:
    """(field, reason) problems of a thresholds document (metric -> a non-negative number; a rate's at most 1)."""
    if not isinstance(doc, dict):
        return [("", "must be an object")]
    out = []
    for key, value in doc.items():
        top, said = (1.0, "1") if key in RATES else (1e9, "1e9")
        if key not in DEFAULTS:
            out.append((str(key)[:100], f"must be one of {', '.join(DEFAULTS)}"))
        elif isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= top:
            out.append((key, f"must be a number between 0 and {said}"))
    return out


def health(
    requests: Sequence[Request],
    oldest_pending_at: datetime | None,
    now: datetime,
    window: timedelta,
    thresholds: Mapping[str, float],
) -> tuple[Health, ...]:
    """Each metric of one channel over ``window`` ending ``now`` against ``thresholds``."""
    middle = now - window / 2
    first = [r for r in requests if r.at < middle]
    second = [r for r in requests if r.at >= middle]
    age = max(0.0, (now - oldest_pending_at).total_seconds()) if oldest_pending_at is not None else 0.0
    stuck = oldest_pending_at is not None and not any(r.lags_ms for r in second)
    found = (
        judge(LAG_P99, _lag(requests), thresholds[LAG_P99], _trend(_lag(first), _lag(second))),
        judge(ERROR_RATE, _errors(requests), thresholds[ERROR_RATE], _trend(_errors(first), _errors(second))),
        judge(BACKLOG_AGE, age, thresholds[BACKLOG_AGE], age + (window / 2).total_seconds() if stuck else None),
    )
    return tuple(replace(h, window_s=window.total_seconds()) for h in found)


def order_health(metric: OrderMetric, hits: Sequence[int], orders: Sequence[int], threshold: float) -> Health:
    """One seller standard of one channel from its per-slice counts (oldest first; see ``standards``)."""
    total = sum(orders)
    value = sum(hits) / total if total else None
    window_s = metric.window.total_seconds()
    if total < MIN_ORDERS:  # too few to judge: the value is shown, nothing is alerted
        return Health(metric.name, value, threshold, NO_DATA, None, metric.direction, window_s, total)
    projected, slices = projection(hits, orders, threshold, metric.direction)
    judged = judge(metric.name, value, threshold, projected, metric.direction)
    when = slices * window_s / len(orders) if slices is not None and judged.status == PROJECTED else None
    return replace(judged, window_s=window_s, orders=total, projected_in_s=when)
