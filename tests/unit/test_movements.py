"""Movement kinds and their effect on a position (keel.inventory.model), including property tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.inventory.model import (
    EFFECTS,
    FIELDS,
    INCOMING,
    Kind,
    Movement,
    apply,
    empty_position,
    identity_holds,
    plan_batch,
)
from keel.platform.errors import FieldError

# What each kind does, written out independently of EFFECTS: the specification from DESIGN section 3.
EXPECTED: dict[Kind, dict[str, int]] = {
    Kind.RECEIVED: {"on_hand": 1, "available": 1},
    Kind.EXPECTED: {"incoming": 1},
    Kind.EXPECTED_CANCELLED: {"incoming": -1},
    Kind.SOLD: {"on_hand": -1, "available": -1},
    Kind.COMMITTED: {"available": -1, "committed": 1},
    Kind.UNCOMMITTED: {"committed": -1, "available": 1},
    Kind.SHIPPED: {"committed": -1, "on_hand": -1},
    Kind.RESERVED: {"available": -1, "reserved": 1},
    Kind.RELEASED: {"reserved": -1, "available": 1},
    Kind.RESERVATION_COMMITTED: {"reserved": -1, "committed": 1},
    Kind.ADJUSTED_IN: {"on_hand": 1, "available": 1},
    Kind.ADJUSTED_OUT: {"on_hand": -1, "available": -1},
    Kind.COUNT_GAIN: {"on_hand": 1, "available": 1},
    Kind.COUNT_LOSS: {"on_hand": -1, "available": -1},
    Kind.TRANSFER_OUT: {"on_hand": -1, "available": -1},
    Kind.TRANSFER_IN: {"on_hand": 1, "available": 1},
    Kind.RETURNED: {"on_hand": 1, "available": 1},
    Kind.RETURNED_DAMAGED: {"on_hand": 1, "damaged": 1},
    Kind.RETURNED_QC: {"on_hand": 1, "quality_control": 1},
    Kind.DAMAGED: {"available": -1, "damaged": 1},
    Kind.DISPOSED: {"damaged": -1, "on_hand": -1},
    Kind.QC_HOLD: {"available": -1, "quality_control": 1},
    Kind.QC_RELEASED: {"quality_control": -1, "available": 1},
    Kind.QC_REJECTED: {"quality_control": -1, "damaged": 1},
    Kind.SAFETY_HELD: {"available": -1, "safety_stock": 1},
    Kind.SAFETY_RELEASED: {"safety_stock": -1, "available": 1},
}


def stocked() -> list[int]:
    """100 in every component (on_hand 600) and 100 incoming."""
    return [600, 100, 100, 100, 100, 100, 100, 100]


def test_every_kind_is_specified() -> None:
    assert set(EXPECTED) == set(Kind) == set(EFFECTS)


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_each_kind_moves_exactly_its_quantities_and_keeps_the_identity(kind: Kind) -> None:
    # given a position with stock in every bucket
    position = stocked()
    # when 7 units move
    refusal = apply(position, kind, 7)
    # then only the specified buckets changed, by 7, and on_hand still equals the sum of its parts
    assert refusal is None
    deltas = {f: after - before for f, after, before in zip(FIELDS, position, stocked(), strict=True)}
    expected = {f: 7 * EXPECTED[kind].get(f, 0) for f in FIELDS}
    if kind in (Kind.RECEIVED, Kind.TRANSFER_IN):
        expected["incoming"] = -7  # arrivals settle what was announced as incoming
    assert deltas == expected
    assert identity_holds(position)


@pytest.mark.parametrize(
    ("incoming", "received", "left"), [(10, 4, 6), (3, 5, 0), (0, 5, 0)], ids=["part", "more", "none"]
)
def test_received_settles_incoming_up_to_what_was_announced(incoming: int, received: int, left: int) -> None:
    position = empty_position()
    if incoming:
        assert apply(position, Kind.EXPECTED, incoming) is None
    assert apply(position, Kind.RECEIVED, received) is None
    assert position[INCOMING] == left
    assert position[:2] == [received, received]


def test_refused_movement_leaves_the_position_untouched() -> None:
    # given 5 available
    position = empty_position()
    apply(position, Kind.RECEIVED, 5)
    before = list(position)
    # when 6 are sold
    refusal = apply(position, Kind.SOLD, 6)
    # then it is refused with the reason and nothing changed
    assert refusal == "sold of 6 would leave on_hand at -1"
    assert position == before


def test_count_loss_may_drive_available_negative_but_not_on_hand() -> None:
    # given 5 on hand, all reserved
    position = empty_position()
    apply(position, Kind.RECEIVED, 5)
    apply(position, Kind.RESERVED, 5)
    # when a count finds 3 missing
    assert apply(position, Kind.COUNT_LOSS, 3) is None
    # then available shows the shortage and the identity still holds
    assert position[:4] == [2, -3, 0, 5]
    assert identity_holds(position)
    # and losing more than is on hand is refused
    assert apply(position, Kind.COUNT_LOSS, 3) == "count_loss of 3 would leave on_hand at -1"


def test_an_already_negative_available_may_recover() -> None:
    position = [2, -3, 0, 5, 0, 0, 0, 0]
    assert apply(position, Kind.RECEIVED, 1) is None
    assert position[:2] == [3, -2]
    assert apply(position, Kind.SOLD, 1) == "sold of 1 would leave available at -3"


def test_identity_rejects_negative_incoming_and_unbalanced_positions() -> None:
    assert identity_holds([0] * 8)
    assert not identity_holds([1, 0, 0, 0, 0, 0, 0, 0])
    assert not identity_holds([0, 0, 0, 0, 0, 0, 0, -1])


def test_plan_batch_applies_in_order_and_reports_rows_that_go_negative() -> None:
    # given a receipt of 3 then sales of 2 and 2 in one batch
    batch = [
        (1, Movement("a", Kind.RECEIVED, "SKU-1", 1, 3)),
        (2, Movement("b", Kind.SOLD, "SKU-1", 1, 2)),
        (3, Movement("c", Kind.SOLD, "SKU-1", 1, 2)),
    ]
    positions: dict[tuple[str, int], list[int]] = {}
    # when planned
    errors = plan_batch(batch, positions)
    # then the third row is refused and the rest applied
    assert errors == [FieldError(3, "quantity", "sold of 2 would leave on_hand at -1 for SKU-1 at #1")]
    assert positions == {("SKU-1", 1): [1, 1, 0, 0, 0, 0, 0, 0]}


# -- properties ------------------------------------------------------------------------------------------
kinds = st.sampled_from([Kind.RECEIVED, Kind.EXPECTED, Kind.RETURNED_QC, *Kind])
sequences = st.lists(st.tuples(kinds, st.integers(min_value=1, max_value=40)), max_size=80)


@settings(max_examples=300, deadline=None)
@given(sequences)
def test_any_sequence_keeps_identity_and_replays_to_the_same_position(seq: list[tuple[Kind, int]]) -> None:
    position = empty_position()
    accepted: list[tuple[Kind, int]] = []
    for kind, quantity in seq:
        before = list(position)
        refusal = apply(position, kind, quantity)
        if refusal is None:
            accepted.append((kind, quantity))
        else:
            assert position == before
        assert identity_holds(position)
        negative = {FIELDS[i] for i, value in enumerate(position) if value < 0}
        assert negative <= {"available"}
        if negative:
            assert any(k == Kind.COUNT_LOSS for k, _ in accepted)
    # folding only the accepted movements again from empty gives the live result, with no refusal
    replay = empty_position()
    assert [apply(replay, kind, quantity) for kind, quantity in accepted] == [None] * len(accepted)
    assert replay == position


@settings(max_examples=200, deadline=None)
@given(sequences)
def test_plan_batch_agrees_with_applying_one_by_one(seq: list[tuple[Kind, int]]) -> None:
    rows = [(i, Movement(f"m{i}", k, "SKU", 1, q)) for i, (k, q) in enumerate(seq, start=1)]
    positions: dict[tuple[str, int], list[int]] = {}
    errors = plan_batch(rows, positions)
    one_by_one = empty_position()
    refused = [row for row, m in rows if apply(one_by_one, m.kind, m.quantity) is not None]
    assert [e.row for e in errors] == refused
    assert positions.get(("SKU", 1), empty_position()) == one_by_one
