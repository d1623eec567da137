"""The seller standards without a database: valid tracking, the facts read from order events (only configured
channels, first and latest times, validity over every shipment, a refund without a return as a defect), the
projection to the window's end, the direction of at-least metrics and the minimum of orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from keel.channels.sync.health import BREACH, NO_DATA, OK, PROJECTED, order_health
from keel.channels.sync.standards import (
    AT_LEAST,
    AT_MOST,
    BY_NAME,
    CANCELLATION,
    HANDLING,
    MIN_ORDERS,
    ON_TIME_DELIVERY,
    SLICES,
    VALID_TRACKING,
    Placed,
    bounds,
    facts_of,
    projection,
    tracking_valid,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
T1, T2, T3 = NOW - timedelta(hours=3), NOW - timedelta(hours=2), NOW - timedelta(hours=1)


def test_tracking_is_valid_with_a_carrier_and_8_to_40_letters_and_digits() -> None:
    assert tracking_valid("DHL", "00340434") and tracking_valid("UPS", "1Z999AA1" + "0" * 32)
    assert not tracking_valid("DHL", "0034043")  # 7: too short to look up
    assert not tracking_valid("DHL", "1" * 41)
    assert not tracking_valid("DHL", "0034-0434") and not tracking_valid("DHL", "0034 0434")
    assert not tracking_valid(" ", "00340434") and not tracking_valid(None, "00340434")
    assert not tracking_valid("DHL", None) and not tracking_valid("DHL", 340434123)


def test_facts_of_order_events() -> None:
    events = [
        ("captured", {"order_id": 1, "channel": "web-de", "external_id": "A-1", "promise_at": None}, T1),
        ("captured", {"order_id": 2, "channel": "pos-fr", "external_id": "B-1"}, T1),  # not configured
        ("captured", {"order_id": 3, "channel": "web-de", "external_id": "A-3", "promise_at": NOW.isoformat()}, T1),
        ("shipped", {"order_id": 1, "carrier": "DHL", "tracking_number": "00340434"}, T3),
        ("shipped", {"order_id": 1, "carrier": "DHL", "tracking_number": "n/a"}, T2),
        ("delivered", {"order_id": 1}, T2),
        ("delivered", {"order_id": 1}, T3),
        ("cancelled", {"order_id": 3, "lines": {"1": 1}}, T3),
        ("cancelled", {"order_id": 3, "lines": {"2": 1}}, T2),
        ("refunded", {"order_id": 1, "rma": "RMA-1-1"}, T3),  # a return refunded: no defect
        ("refunded", {"order_id": 3}, T3),  # a refund without a return
        ("shipped", {"order_id": "x"}, T3),  # unreadable: skipped
    ]
    facts = facts_of(events, frozenset({"web-de"}))
    assert facts.placed == {
        1: Placed(1, "web-de", "A-1", T1, None, T1 + HANDLING),
        3: Placed(3, "web-de", "A-3", T1, NOW, T1 + HANDLING),
    }
    assert facts.shipped == {1: (T2, False)}  # the first shipment's time; one invalid tracking spoils it
    assert facts.delivered == {1: T3} and facts.cancelled == {3: T2} and facts.defects == {3: T3}
    assert not facts_of([], frozenset({"web-de"}))


def test_a_clean_window_whose_newest_slice_is_bad_is_projected_to_cross() -> None:
    # given 7 slices of 10 orders, the 6 oldest without a cancellation, the newest with 1: 1 / 70 = 1.4 %
    orders, hits = [10] * SLICES, [0] * (SLICES - 1) + [1]
    rate, slices = projection(hits, orders, 0.025, AT_MOST)
    # then one slice on, at the newest slice's pace: (1 + 1) / (60 + 10) = 2.9 %, beyond 2.5 %
    assert (rate, slices) == (2 / 70, 1)
    found = order_health(BY_NAME[CANCELLATION], hits, orders, 0.025)
    assert (found.value, found.status, found.projected) == (1 / 70, PROJECTED, 2 / 70)
    assert found.projected_in_s == timedelta(days=1).total_seconds() and found.orders == 70
    assert found.direction == AT_MOST and found.window_s == timedelta(days=7).total_seconds()
    # a steady pace stays ok, with the window's end as its projection
    steady = order_health(BY_NAME[CANCELLATION], [0] * SLICES, orders, 0.025)
    assert (steady.status, steady.projected, steady.projected_in_s) == (OK, 0.0, None)


def test_at_least_metrics_breach_below_and_project_downwards() -> None:
    tracking = BY_NAME[VALID_TRACKING]
    assert tracking.direction == AT_LEAST
    # 95 of 100 valid: below 99 %
    breach = order_health(tracking, [20, 20, 20, 20, 15, 0, 0], [20, 20, 20, 20, 20, 0, 0], 0.99)
    assert (breach.value, breach.status) == (0.95, BREACH)
    # 100 % valid over 6 slices, the newest 17 of 20: 99.3 % now, falling below 99 % one slice on
    hits, orders = [60, 60, 60, 60, 60, 60, 17], [60, 60, 60, 60, 60, 60, 20]
    falling = order_health(tracking, hits, orders, 0.99)
    assert falling.status == PROJECTED and falling.value is not None and falling.value >= 0.99
    assert falling.projected is not None and falling.projected < 0.99 and falling.projected_in_s is not None
    # above the threshold is fine for an at-least metric
    assert order_health(tracking, orders, orders, 0.99).status == OK


def test_too_few_orders_are_no_data_not_an_alert() -> None:
    # 1 cancellation of 3 orders: 33 %, shown but not judged
    found = order_health(BY_NAME[CANCELLATION], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 1, 1], 0.025)
    assert (found.value, found.status, found.orders, found.projected) == (1 / 3, NO_DATA, 3, None)
    empty = order_health(BY_NAME[ON_TIME_DELIVERY], [0] * SLICES, [0] * SLICES, 0.9)
    assert (empty.value, empty.status, empty.orders) == (None, NO_DATA, 0)
    assert MIN_ORDERS == 20


def test_the_window_is_cut_in_seven_slices_ending_now() -> None:
    edges = bounds(NOW, timedelta(days=7))
    assert edges[0] == NOW - timedelta(days=7) and edges[-1] == NOW
    assert [b - a for a, b in pairwise(edges)] == [timedelta(days=1)] * SLICES
