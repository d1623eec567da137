"""The pure order domain (``keel.orders.model``): capture validation, the shipment lifecycle, order status,
fulfilment rates and the spreading of a plan over order lines. No I/O: hand-built data, exact answers."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keel.orders.model import (
    DEFAULT_PROMISE,
    MAX_LINES,
    NEXT,
    REJECTABLE,
    Assigned,
    Delivered,
    Outcome,
    assign,
    order_status,
    parse_capture,
    rates,
    transition_error,
)
from keel.orders.sourcing import Fulfilment
from keel.platform.errors import FieldError
from keel.platform.vocabulary import OPEN_SHIPMENTS as OPEN
from keel.platform.vocabulary import ShipmentStatus

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
COUNTRIES = frozenset({"DE", "FR"})


def doc(**extra: Any) -> dict[str, Any]:
    """A valid ship_standard capture document; keyword arguments replace top-level keys."""
    body: dict[str, Any] = {
        "channel": "web-de",
        "external_id": "W-1",
        "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "12.5"}],
        "customer": {"name": "Ann", "email": "ann@example.com"},
        "ship_to": {"country": "de", "city": "Berlin", "postal_code": "10115", "latitude": 52.5, "longitude": 13.4},
    }
    body.update(extra)
    return body


def errors_of(raw: dict[str, Any]) -> list[FieldError]:
    capture, errors = parse_capture(raw, COUNTRIES, NOW)
    assert capture is None
    return errors


# -- capture validation ---------------------------------------------------------------------------------------
def test_a_valid_capture_is_normalised() -> None:
    capture, errors = parse_capture(doc(), COUNTRIES, NOW)
    assert errors == []
    assert capture is not None
    assert (capture.channel, capture.external_id, capture.fulfilment) == ("web-de", "W-1", Fulfilment.SHIP_STANDARD)
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in capture.lines] == [("SKU-1", 2, "12.50")]
    assert (capture.country, capture.city, capture.postal_code) == ("DE", "Berlin", "10115")
    assert (capture.latitude, capture.longitude) == (52.5, 13.4)
    assert capture.promise_at == NOW + timedelta(days=3)
    assert capture.promise_given is False
    assert capture.customer_email == "ann@example.com"


@pytest.mark.parametrize(
    ("fulfilment", "delta"),
    [
        ("ship_standard", timedelta(days=3)),
        ("ship_express", timedelta(days=1)),
        ("same_day", timedelta(hours=8)),
        ("pickup", timedelta(hours=4)),
        ("curbside", timedelta(hours=2)),
    ],
)
def test_default_promise_per_fulfilment(fulfilment: str, delta: timedelta) -> None:
    extra: dict[str, Any] = {"fulfilment": fulfilment}
    if fulfilment in ("pickup", "curbside"):
        extra |= {"pickup_location": "ST-DE-1", "ship_to": None}
    capture, errors = parse_capture(doc(**extra), COUNTRIES, NOW)
    assert errors == [] and capture is not None
    assert capture.promise_at == NOW + delta == NOW + DEFAULT_PROMISE[Fulfilment(fulfilment)]


@pytest.mark.parametrize(
    ("given", "expected"),
    [("19.99", "19.99"), ("7", "7.00"), (7, "7.00"), ("0", "0.00"), (" 3.5 ", "3.50"), ("1.500", "1.50")],
)
def test_prices_are_two_decimal_strings(given: Any, expected: str) -> None:
    capture, errors = parse_capture(doc(lines=[{"sku": "S", "quantity": 1, "unit_price": given}]), COUNTRIES, NOW)
    assert errors == [] and capture is not None
    assert capture.lines[0].unit_price == expected


@pytest.mark.parametrize("price", ["19.999", "-1", "abc", "NaN", "Infinity", 19.99, True, None, ""])
def test_bad_prices_are_refused(price: Any) -> None:
    errors = errors_of(doc(lines=[{"sku": "S", "quantity": 1, "unit_price": price}]))
    assert errors == [FieldError(1, "unit_price", 'a decimal string with at most 2 decimals, e.g. "19.99"')]


def test_line_errors_carry_their_row() -> None:
    errors = errors_of(
        doc(
            lines=[
                {"sku": "OK-1", "quantity": 1, "unit_price": "1.00"},
                {"sku": "-bad", "quantity": 0, "unit_price": "1.00"},
                "not an object",
                {"sku": "OK-2", "quantity": True, "unit_price": "1.00"},
                {"sku": "OK-3", "quantity": 100_001, "unit_price": "1.00"},
            ]
        )
    )
    assert errors == [
        FieldError(2, "sku", "required: 1-64 letters, digits or ._/- starting alphanumeric"),
        FieldError(2, "quantity", "a whole number from 1 to 100000"),
        FieldError(3, "", "a line is an object with sku, quantity and unit_price"),
        FieldError(4, "quantity", "a whole number from 1 to 100000"),
        FieldError(5, "quantity", "a whole number from 1 to 100000"),
    ]


def test_order_level_errors_are_all_reported_at_once() -> None:
    errors = errors_of(
        {
            "external_id": "-x",
            "lines": [],
            "fulfilment": "teleport",
            "customer": {"email": "nope"},
            "ship_to": {"country": "XX", "latitude": 91},
            "promise_at": "tomorrow",
        }
    )
    assert errors == [
        FieldError(None, "channel", "required"),
        FieldError(None, "external_id", "required: 1-100 letters, digits or ._:/#- starting alphanumeric"),
        FieldError(None, "lines", "at least one line"),
        FieldError(None, "fulfilment", "one of ship_standard, ship_express, pickup, curbside, same_day"),
        FieldError(None, "customer.name", "required"),
        FieldError(None, "customer.email", "not an e-mail address"),
        FieldError(None, "ship_to.country", "an ISO 3166-1 alpha-2 country code"),
        FieldError(None, "ship_to.postal_code", "required for a ship_standard order"),
        FieldError(None, "ship_to.latitude", "a number from -90 to 90"),
        FieldError(None, "promise_at", "an ISO 8601 date-time"),
    ]


def test_coordinates_come_in_pairs() -> None:
    ship_to = {"country": "DE", "postal_code": "10115", "latitude": 52.5}
    assert errors_of(doc(ship_to=ship_to)) == [
        FieldError(None, "ship_to", "give both latitude and longitude, or neither")
    ]
    ship_to = {"country": "DE", "postal_code": "10115", "latitude": 52.5, "longitude": "13.4"}
    assert errors_of(doc(ship_to=ship_to)) == [
        FieldError(None, "ship_to.longitude", "a number from -180 to 180"),
        FieldError(None, "ship_to", "give both latitude and longitude, or neither"),
    ]


def test_too_many_lines() -> None:
    lines = [{"sku": f"S-{i}", "quantity": 1, "unit_price": "1"} for i in range(MAX_LINES + 1)]
    assert errors_of(doc(lines=lines)) == [FieldError(None, "lines", "at most 500 lines")]


def test_shipped_orders_need_an_address_and_no_pickup_location() -> None:
    assert errors_of(doc(ship_to=None, fulfilment="same_day")) == [
        FieldError(None, "ship_to", "required for a same_day order")
    ]
    assert errors_of(doc(pickup_location="ST-DE-1")) == [
        FieldError(None, "pickup_location", "only pickup and curbside orders name one")
    ]


def test_collected_orders_need_a_pickup_location() -> None:
    assert errors_of(doc(fulfilment="curbside", ship_to=None)) == [
        FieldError(None, "pickup_location", "required for a curbside order")
    ]
    capture, errors = parse_capture(doc(fulfilment="pickup", ship_to=None, pickup_location="ST-DE-1"), COUNTRIES, NOW)
    assert errors == [] and capture is not None
    assert (capture.pickup_location, capture.country, capture.latitude) == ("ST-DE-1", "", None)
    # an address on a pick-up order is optional, but its country must still be a real one
    assert errors_of(doc(fulfilment="pickup", pickup_location="ST-DE-1", ship_to={"country": "XX"})) == [
        FieldError(None, "ship_to.country", "an ISO 3166-1 alpha-2 country code")
    ]


@pytest.mark.parametrize(
    ("promise", "reason"),
    [
        ("2026-05-05T10:00:00", "include a time zone offset, e.g. 2026-05-01T18:00:00Z"),
        ("2026-05-04T10:00:00+00:00", "must be in the future"),
        ("2026-05-01T00:00:00Z", "must be in the future"),
    ],
)
def test_bad_promises(promise: str, reason: str) -> None:
    assert errors_of(doc(promise_at=promise)) == [FieldError(None, "promise_at", reason)]


def test_a_given_promise_is_kept() -> None:
    capture, _ = parse_capture(doc(promise_at="2026-05-06T18:00:00+02:00"), COUNTRIES, NOW)
    assert capture is not None and capture.promise_given
    assert capture.promise_at == datetime(2026, 5, 6, 16, 0, tzinfo=UTC)


def test_digest_ignores_a_defaulted_promise_but_not_content() -> None:
    first, _ = parse_capture(doc(), COUNTRIES, NOW)
    retry, _ = parse_capture(doc(), COUNTRIES, NOW + timedelta(minutes=5))  # a retry: another default promise
    same_price, _ = parse_capture(doc(lines=[{"sku": "SKU-1", "quantity": 2, "unit_price": "12.50"}]), COUNTRIES, NOW)
    more, _ = parse_capture(doc(lines=[{"sku": "SKU-1", "quantity": 3, "unit_price": "12.50"}]), COUNTRIES, NOW)
    promised, _ = parse_capture(doc(promise_at="2026-05-06T18:00:00Z"), COUNTRIES, NOW)
    assert first is not None and retry is not None and same_price is not None
    assert more is not None and promised is not None
    assert first.digest() == retry.digest() == same_price.digest()
    assert len({first.digest(), more.digest(), promised.digest()}) == 3


def test_demand_merges_duplicate_skus() -> None:
    capture, _ = parse_capture(
        doc(
            lines=[
                {"sku": "A", "quantity": 2, "unit_price": "1"},
                {"sku": "B", "quantity": 1, "unit_price": "1"},
                {"sku": "A", "quantity": 3, "unit_price": "2"},
            ]
        ),
        COUNTRIES,
        NOW,
    )
    assert capture is not None
    assert capture.demand() == {"A": 5, "B": 1}


# -- the shipment lifecycle -----------------------------------------------------------------------------------
LEGAL = [
    (ShipmentStatus.ALLOCATED, ShipmentStatus.PICKING),
    (ShipmentStatus.PICKING, ShipmentStatus.PACKED),
    (ShipmentStatus.PACKED, ShipmentStatus.SHIPPED),
    (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED),
]


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_transitions(current: ShipmentStatus, target: ShipmentStatus) -> None:
    assert transition_error(current, target) is None


@pytest.mark.parametrize(
    ("current", "target"),
    [(c, t) for c in ShipmentStatus for t in ShipmentStatus if (c, t) not in LEGAL],
)
def test_every_other_transition_is_illegal(current: ShipmentStatus, target: ShipmentStatus) -> None:
    reason = transition_error(current, target)
    assert reason is not None
    assert reason.startswith(f"shipment is {current.value}, it cannot become {target.value}")


def test_illegal_transition_messages() -> None:
    assert transition_error(ShipmentStatus.ALLOCATED, ShipmentStatus.SHIPPED) == (
        "shipment is allocated, it cannot become shipped; the next step is picking"
    )
    assert transition_error(ShipmentStatus.DELIVERED, ShipmentStatus.SHIPPED) == (
        "shipment is delivered, it cannot become shipped (it is final)"
    )
    assert transition_error(ShipmentStatus.CANCELLED, ShipmentStatus.PICKING) == (
        "shipment is cancelled, it cannot become picking (it is final)"
    )


def test_open_and_rejectable_states() -> None:
    assert {ShipmentStatus.ALLOCATED, ShipmentStatus.PICKING, ShipmentStatus.PACKED} == OPEN
    assert {ShipmentStatus.ALLOCATED, ShipmentStatus.PICKING} == REJECTABLE
    assert set(NEXT) == {
        ShipmentStatus.ALLOCATED,
        ShipmentStatus.PICKING,
        ShipmentStatus.PACKED,
        ShipmentStatus.SHIPPED,
    }
    assert [o.value for o in Outcome] == ["returned", "returned_damaged", "returned_qc"]


# -- order status ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("statuses", "backordered", "expected"),
    [
        ([ShipmentStatus.ALLOCATED], 0, "allocated"),
        ([ShipmentStatus.SHIPPED, ShipmentStatus.PICKING], 0, "picking"),
        ([ShipmentStatus.DELIVERED, ShipmentStatus.SHIPPED], 0, "shipped"),
        ([ShipmentStatus.DELIVERED, ShipmentStatus.DELIVERED], 0, "delivered"),
        ([ShipmentStatus.DELIVERED, ShipmentStatus.CANCELLED], 0, "delivered"),
        ([ShipmentStatus.REJECTED, ShipmentStatus.PACKED], 0, "packed"),
        ([ShipmentStatus.CANCELLED, ShipmentStatus.REJECTED], 0, "cancelled"),
        ([], 0, "cancelled"),
        ([], 3, "backordered"),
        ([ShipmentStatus.REJECTED], 2, "backordered"),
        ([ShipmentStatus.DELIVERED], 1, "partially_backordered"),
    ],
)
def test_order_status(statuses: list[ShipmentStatus], backordered: int, expected: str) -> None:
    assert order_status(statuses, backordered) == expected


# -- fulfilment rates -----------------------------------------------------------------------------------------
DAY = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def delivered(
    fulfilment: Fulfilment = Fulfilment.SHIP_STANDARD,
    shipments: int = 1,
    promise: timedelta | None = timedelta(days=3),
    done: timedelta | None = timedelta(days=2),
) -> Delivered:
    return Delivered(
        fulfilment=fulfilment,
        shipments=shipments,
        created_at=DAY,
        promise_at=None if promise is None else DAY + promise,
        done_at=None if done is None else DAY + done,
    )


def test_rates_with_nothing_to_measure() -> None:
    assert asdict(rates([])) == {
        "routed": 0,
        "delivered": 0,
        "split_rate": None,
        "on_time_rate": None,
        "same_day_rate": None,
    }
    # a backordered order has no shipment: not routed, not delivered
    assert rates([delivered(shipments=0, done=None)]).routed == 0


def test_split_rate_counts_routed_orders() -> None:
    orders = [
        delivered(shipments=1, done=None),
        delivered(shipments=2, done=None),
        delivered(shipments=3, done=None),
        delivered(shipments=1, done=None),
        delivered(shipments=0, done=None),
    ]
    assert asdict(rates(orders)) == {
        "routed": 4,
        "delivered": 0,
        "split_rate": 0.5,
        "on_time_rate": None,
        "same_day_rate": None,
    }


def test_on_time_rate_counts_delivered_orders() -> None:
    orders = [
        delivered(done=timedelta(days=3)),  # exactly at the promise: on time
        delivered(done=timedelta(days=3, seconds=1)),  # a second late
        delivered(done=timedelta(hours=5)),
        delivered(promise=None, done=timedelta(days=30)),  # no promise: never late
        delivered(done=None),  # not delivered yet: not measured
    ]
    result = rates(orders)
    assert (result.routed, result.delivered) == (5, 4)
    assert result.on_time_rate == 0.75
    assert result.same_day_rate is None


def test_same_day_rate_uses_the_calendar_day() -> None:
    same_day = Fulfilment.SAME_DAY
    orders = [
        delivered(same_day, promise=timedelta(hours=8), done=timedelta(hours=6)),  # 15:00 same day
        delivered(same_day, promise=timedelta(hours=8), done=timedelta(hours=14, minutes=59)),  # 23:59 same day
        delivered(same_day, promise=timedelta(hours=20), done=timedelta(hours=15)),  # 00:00 the next day
        delivered(same_day, done=None),
        delivered(Fulfilment.SHIP_EXPRESS, done=timedelta(hours=2)),  # not a same-day order
    ]
    result = rates(orders)
    assert result.delivered == 4
    assert result.same_day_rate == pytest.approx(2 / 3)
    assert result.on_time_rate == 0.75  # the 23:59 delivery missed its 8-hour promise


# -- spreading a plan over order lines ------------------------------------------------------------------------
def test_assign_spreads_allocations_lowest_line_first() -> None:
    lines = [(1, "A", 3), (2, "B", 1), (3, "A", 2)]
    pieces, short = assign(lines, [("N1", "A", 4), ("N2", "A", 1), ("N2", "B", 1)])
    assert pieces == [
        Assigned("N1", 1, "A", 3),
        Assigned("N1", 3, "A", 1),
        Assigned("N2", 3, "A", 1),
        Assigned("N2", 2, "B", 1),
    ]
    assert short == {}


def test_assign_reports_what_each_line_lacks() -> None:
    pieces, short = assign([(1, "A", 3), (2, "B", 2), (3, "A", 1)], [("N1", "A", 2)])
    assert pieces == [Assigned("N1", 1, "A", 2)]
    assert short == {1: 1, 2: 2, 3: 1}


def test_assign_adds_up_a_line_given_in_pieces() -> None:
    # a line held at two nodes comes as two pieces; moving it whole must keep both units
    pieces, short = assign([(1, "A", 1), (1, "A", 1), (2, "B", 1)], [("N1", "A", 2), ("N1", "B", 1)])
    assert pieces == [Assigned("N1", 1, "A", 2), Assigned("N1", 2, "B", 1)]
    assert short == {}
