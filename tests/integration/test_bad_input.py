"""Idempotency and refused batches: every refusal names row/field and leaves every table unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.inventory.service import BatchResult
from keel.platform.errors import FieldError, PayloadTooLarge, ValidationFailed
from tests.support import ST_DE, WH_DE, World, build_world, mv, snapshot


@pytest.fixture
def stocked(keel: Keel, world: World) -> Keel:
    """The world with 5 x SKU-1 at WH-DE-1 (movement ``seed``) and the projector caught up."""
    keel.stock.apply_batch([mv("seed", "received", "SKU-1", WH_DE, 5)])
    keel.availability.catch_up()
    return keel


def test_the_same_batch_twice_is_acknowledged_without_change(stocked: Keel) -> None:
    batch = [mv("a", "received", "SKU-1", WH_DE, 2), mv("b", "sold", "SKU-1", WH_DE, 6)]
    first = stocked.stock.apply_batch(batch)
    before = snapshot(stocked)
    # when the client retries the exact batch
    again = stocked.stock.apply_batch(batch)
    # then every row is a duplicate and nothing is written (no movement, no event)
    assert (first.accepted, first.duplicates) == (2, 0)
    assert again == BatchResult(accepted=0, duplicates=2)
    assert snapshot(stocked) == before


def test_a_batch_mixing_known_and_new_ids_applies_only_the_new(stocked: Keel) -> None:
    result = stocked.stock.apply_batch([mv("seed", "received", "SKU-1", WH_DE, 5), mv("n", "sold", "SKU-1", WH_DE, 1)])
    assert (result.accepted, result.duplicates) == (1, 1)
    ledger = stocked.queries.ledger()
    assert [m.id for m in ledger] == ["seed", "n"]
    # the announced range covers the new movement (it may include the seq the duplicate would have taken)
    assert result.first_seq is not None and result.last_seq is not None
    assert result.first_seq <= ledger[1].seq <= result.last_seq


@pytest.mark.parametrize(
    "changed",
    [{"quantity": 6}, {"kind": "returned"}, {"sku": "SKU-2"}, {"location": ST_DE}],
    ids=["quantity", "kind", "sku", "location"],
)
def test_a_known_id_with_other_content_is_refused(stocked: Keel, changed: dict[str, Any]) -> None:
    before = snapshot(stocked)
    with pytest.raises(ValidationFailed) as info:
        stocked.stock.apply_batch(
            [mv("new", "received", "SKU-1", WH_DE, 1), {**mv("seed", "received", "SKU-1", WH_DE, 5), **changed}]
        )
    assert info.value.errors == [FieldError(2, "id", "movement 'seed' was already recorded with other content")]
    assert snapshot(stocked) == before


BAD_BATCHES: list[tuple[str, list[dict[str, Any]], list[tuple[int | None, str]]]] = [
    ("unknown-location", [mv("x1", "received", "SKU-1", "NOWHERE", 1)], [(1, "location")]),
    ("zero-quantity", [mv("x1", "received", "SKU-1", WH_DE, 0)], [(1, "quantity")]),
    ("negative-quantity", [mv("x1", "received", "SKU-1", WH_DE, -4)], [(1, "quantity")]),
    ("text-quantity", [mv("x1", "received", "SKU-1", WH_DE, "four")], [(1, "quantity")]),
    ("unknown-kind", [mv("x1", "stolen", "SKU-1", WH_DE, 1)], [(1, "kind")]),
    ("bad-sku", [mv("x1", "received", " ", WH_DE, 1)], [(1, "sku")]),
    ("no-reason", [mv("x1", "adjusted_out", "SKU-1", WH_DE, 1)], [(1, "reason")]),
    ("duplicate-ids", [mv("x1", "received", "SKU-1", WH_DE, 1), mv("x1", "received", "SKU-1", WH_DE, 1)],
     [(2, "id")]),
    ("oversell", [mv("x1", "received", "SKU-1", WH_DE, 1), mv("x2", "sold", "SKU-1", WH_DE, 7)],
     [(2, "quantity")]),
    ("negative-other-bucket", [mv("x1", "shipped", "SKU-1", WH_DE, 1)], [(1, "quantity")]),
    ("new-position-oversold", [mv("x1", "sold", "SKU-9", ST_DE, 1)], [(1, "quantity")]),
    ("good-then-bad", [mv("x1", "received", "SKU-2", WH_DE, 9), mv("x2", "received", "SKU-2", WH_DE, 0),
                       mv("x3", "sold", "SKU-2", "NOWHERE", 1)], [(2, "quantity"), (3, "location")]),
]  # fmt: skip


@pytest.mark.parametrize(("rows", "expected"), [c[1:] for c in BAD_BATCHES], ids=[c[0] for c in BAD_BATCHES])
def test_a_bad_batch_is_refused_by_row_and_field_and_changes_nothing(
    stocked: Keel, rows: list[dict[str, Any]], expected: list[tuple[int | None, str]]
) -> None:
    # given a known state
    before = snapshot(stocked)
    # when a batch with a bad row is applied
    with pytest.raises(ValidationFailed) as info:
        stocked.stock.apply_batch(rows)
    # then the error names each refused row and field, and positions, ledger and events are unchanged
    assert [(e.row, e.field) for e in info.value.errors] == expected
    assert all(e.reason for e in info.value.errors)
    assert snapshot(stocked) == before
    # and a retry of the valid rows alone still works afterwards (nothing half-applied blocks it)
    assert stocked.stock.apply_batch([mv("after", "received", "SKU-1", WH_DE, 1)]).accepted == 1


def test_oversell_reason_names_the_quantity_left(stocked: Keel) -> None:
    with pytest.raises(ValidationFailed) as info:
        stocked.stock.apply_batch([mv("x", "sold", "SKU-1", WH_DE, 6)])
    [error] = info.value.errors
    assert error.reason == "sold of 6 would leave on_hand at -1 for SKU-1 at WH-DE-1"
    assert info.value.detail == "1 of 1 rows would drive stock negative"


def test_movements_at_a_deactivated_location_are_refused(stocked: Keel) -> None:
    stocked.locations.deactivate(WH_DE)
    before = snapshot(stocked)
    with pytest.raises(ValidationFailed) as info:
        stocked.stock.apply_batch([mv("x", "sold", "SKU-1", WH_DE, 1)])
    assert info.value.errors == [FieldError(1, "location", f"unknown or inactive location {WH_DE!r}")]
    assert snapshot(stocked) == before


def test_a_batch_over_the_limit_is_refused_whole(keel_factory: Callable[..., Keel]) -> None:
    # given a Keel that accepts at most 3 movements per batch
    small = keel_factory(max_batch=3)
    build_world(small)
    before = snapshot(small)
    rows = [mv(f"m{i}", "received", "SKU-1", WH_DE, 1) for i in range(4)]
    # when 4 arrive / then PayloadTooLarge and nothing is written
    with pytest.raises(PayloadTooLarge) as info:
        small.stock.apply_batch(rows)
    assert info.value.status == 413
    assert info.value.detail == "4 movements in one batch; the limit is 3"
    assert snapshot(small) == before
    # and exactly the limit is fine
    assert small.stock.apply_batch(rows[:3]).accepted == 3


def test_an_empty_batch_writes_nothing(stocked: Keel) -> None:
    before = snapshot(stocked)
    assert stocked.stock.apply_batch([]) == BatchResult(0, 0)
    assert snapshot(stocked) == before
