"""Batch validation (validate_batch / parse_movement) and location field validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.inventory.model import (
    Kind,
    Movement,
    _parse_slow,
    parse_movement,
    validate_batch,
    validate_location_fields,
)
from keel.platform.errors import FieldError
from tests.support import mv

LOCATIONS = {"WH-1": 1, "ST-2": 2}


def errors_of(rows: list[Any]) -> list[tuple[int | None, str, str]]:
    _, errors = validate_batch(rows, LOCATIONS)
    return [(e.row, e.field, e.reason) for e in errors]


def test_valid_rows_become_movements() -> None:
    # given CSV-like strings and JSON values / when validated / then typed movements come out in order
    rows = [
        mv("m-1", "received", "SKU-1", "WH-1", "12", occurred_at="2026-01-31T10:00:00Z", reference="PO-7"),
        mv("m-2", "adjusted_out", "sku.2/b", "ST-2", 3, reason="broken shelf"),
    ]
    movements, errors = validate_batch(rows, LOCATIONS)
    assert errors == []
    assert movements == [
        Movement("m-1", Kind.RECEIVED, "SKU-1", 1, 12, datetime(2026, 1, 31, 10, tzinfo=UTC), None, "PO-7"),
        Movement("m-2", Kind.ADJUSTED_OUT, "sku.2/b", 2, 3, None, "broken shelf", None),
    ]


def test_offset_timestamps_are_kept_with_their_offset() -> None:
    movements, _ = validate_batch([mv("m", "sold", "S", "WH-1", 1, occurred_at="2026-01-31T12:00:00+02:00")], LOCATIONS)
    assert movements[0].occurred_at == datetime(2026, 1, 31, 10, tzinfo=UTC)
    assert movements[0].occurred_at.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (mv("m", "teleported", "S", "WH-1", 1), [(1, "kind", "unknown movement kind 'teleported'")]),
        (mv("m", None, "S", "WH-1", 1), [(1, "kind", "unknown movement kind None")]),
        (mv("m", "sold", "S", "WH-1", 0), [(1, "quantity", "must be > 0, got 0")]),
        (mv("m", "sold", "S", "WH-1", -3), [(1, "quantity", "must be > 0, got -3")]),
        (mv("m", "sold", "S", "WH-1", "-3"), [(1, "quantity", "must be > 0, got -3")]),
        (mv("m", "sold", "S", "WH-1", 2.5), [(1, "quantity", "must be an integer, got 2.5")]),
        (mv("m", "sold", "S", "WH-1", "2.5"), [(1, "quantity", "must be an integer, got '2.5'")]),
        (mv("m", "sold", "S", "WH-1", "ten"), [(1, "quantity", "must be an integer, got 'ten'")]),
        (mv("m", "sold", "S", "WH-1", None), [(1, "quantity", "must be an integer, got None")]),
        (mv("m", "sold", "S", "WH-1", True), [(1, "quantity", "must be an integer, got None")]),
        (mv("m", "sold", "S", "XX-9", 1), [(1, "location", "unknown or inactive location 'XX-9'")]),
        (mv("m", "sold", "S", None, 1), [(1, "location", "unknown or inactive location None")]),
        (mv("m", "adjusted_out", "S", "WH-1", 1), [(1, "reason", "required for adjusted_out")]),
        (mv("m", "damaged", "S", "WH-1", 1, reason="  "), [(1, "reason", "required for damaged")]),
        (mv("m", "sold", "S", "WH-1", 1, occurred_at="yesterday"),
         [(1, "occurred_at", "not an ISO 8601 timestamp: 'yesterday'")]),
        (mv("m", "sold", "S", "WH-1", 1, occurred_at="2026-01-31T10:00:00"),
         [(1, "occurred_at", "needs a UTC offset, e.g. 2026-01-31T10:00:00Z")]),
        ("not an object", [(1, "", "each movement must be an object")]),
    ],
    ids=[
        "unknown-kind", "missing-kind", "zero", "negative", "negative-text", "float", "float-text", "text",
        "missing-quantity", "bool-quantity", "unknown-location", "missing-location", "no-reason",
        "blank-reason", "bad-timestamp", "naive-timestamp", "not-object",
    ],
)  # fmt: skip
def test_a_bad_field_is_reported_with_row_field_and_reason(row: Any, expected: list[Any]) -> None:
    assert errors_of([row]) == expected


SKU_REASON = "required: 1-64 letters, digits or ._/- starting alphanumeric"
ID_REASON = "required: 1-128 letters, digits or ._:/- starting alphanumeric"


@pytest.mark.parametrize("sku", ["", None, "-starts-with-dash", "has space", "x" * 65, "ümlaut"])
def test_bad_sku_is_refused(sku: Any) -> None:
    assert errors_of([mv("m", "sold", sku, "WH-1", 1)]) == [(1, "sku", SKU_REASON)]


@pytest.mark.parametrize("mid", ["", None, ":colon-first", "a b", "x" * 129])
def test_bad_id_is_refused(mid: Any) -> None:
    assert errors_of([mv(mid, "sold", "S", "WH-1", 1)]) == [(1, "id", ID_REASON)]


def test_duplicate_ids_within_a_batch_are_refused_by_row() -> None:
    rows = [mv("a", "received", "S", "WH-1", 1), mv("b", "sold", "S", "WH-1", 1), mv("a", "sold", "S", "WH-1", 1)]
    movements, errors = validate_batch(rows, LOCATIONS)
    assert errors == [FieldError(3, "id", "duplicate of row 1 in the same batch")]
    assert [m.id for m in movements] == ["a", "b"]


def test_every_problem_of_every_row_is_reported() -> None:
    rows = [
        mv("ok", "received", "S", "WH-1", 1),
        {"id": "bad", "kind": "nope", "sku": "", "location": "XX", "quantity": 0},
    ]
    assert errors_of(rows) == [
        (2, "kind", "unknown movement kind 'nope'"),
        (2, "sku", SKU_REASON),
        (2, "location", "unknown or inactive location 'XX'"),
        (2, "quantity", "must be > 0, got 0"),
    ]


# -- locations -------------------------------------------------------------------------------------------
COUNTRIES = frozenset({"DE", "FR"})
GOOD = {"code": "WH-1", "name": "Berlin", "kind": "warehouse", "country": "DE", "capabilities": ["ship"]}


def test_valid_location_fields_have_no_errors() -> None:
    assert validate_location_fields({**GOOD, "latitude": 90, "longitude": -180}, COUNTRIES) == []


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"code": "-x"}, "code", "1-64 letters, digits or ._- starting alphanumeric"),
        ({"name": " "}, "name", "must not be empty"),
        ({"kind": "castle"}, "kind", "one of warehouse, store, dark_store, 3pl, supplier"),
        ({"country": "XX"}, "country", "not an ISO 3166-1 alpha-2 code: 'XX'"),
        ({"latitude": 91}, "latitude", "must be between -90 and 90"),
        ({"longitude": -181.5}, "longitude", "must be between -180 and 180"),
        ({"capabilities": ["ship", "teleport", "fly"]}, "capabilities", "unknown: fly, teleport"),
    ],
)
def test_bad_location_field(change: dict[str, Any], field: str, reason: str) -> None:
    assert validate_location_fields({**GOOD, **change}, COUNTRIES) == [FieldError(None, field, reason)]


def test_partial_update_checks_only_present_fields() -> None:
    assert validate_location_fields({"city": "anything"}, COUNTRIES) == []


# -- the fast path for well-typed rows must decide exactly like the full checks ----------------------------
row_strategy = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["m-1", "", " m", "a b", "x" * 129, None]),
        "kind": st.sampled_from([*(k.value for k in Kind), "bogus", None]),
        "sku": st.sampled_from(["SKU-1", "", "-x", "s" * 65, None]),
        "location": st.sampled_from(["WH-1", "ST-2", "XX", None]),
        "quantity": st.one_of(st.integers(-2, 5), st.sampled_from(["3", "x", 1.5, None, True])),
    },
    optional={"reason": st.sampled_from([None, "", "  ", "broken"])},
)


@settings(max_examples=500, deadline=None)
@given(row_strategy)
def test_fast_and_full_validation_agree(row: dict[str, Any]) -> None:
    fast_errors: list[FieldError] = []
    full_errors: list[FieldError] = []
    fast = parse_movement(row, 1, LOCATIONS, fast_errors)
    full = _parse_slow(row, 1, LOCATIONS, full_errors)
    assert (fast is None) == (full is None)
    assert fast_errors == full_errors
    if fast is not None and full is not None:
        assert (fast.id, fast.kind, fast.sku, fast.location_id, fast.quantity) == (
            full.id,
            full.kind,
            full.sku,
            full.location_id,
            full.quantity,
        )
