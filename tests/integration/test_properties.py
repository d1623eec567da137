"""Property: any sequence of batches, accepted or refused, keeps the stored invariants on both databases."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.bootstrap import Keel
from keel.inventory.model import Kind, identity_holds
from keel.platform.errors import ValidationFailed
from tests.support import ST_FR, WH_DE, WH_FR, World, mv

QTY = ("on_hand", "available", "committed", "reserved", "safety_stock", "damaged", "quality_control", "incoming")
KINDS = [k for k in Kind if k not in (Kind.ADJUSTED_IN, Kind.ADJUSTED_OUT, Kind.DAMAGED, Kind.DISPOSED)]
movement = st.tuples(
    st.sampled_from([Kind.RECEIVED, Kind.RECEIVED, *KINDS, Kind.DAMAGED, Kind.DISPOSED]),
    st.sampled_from(["SKU-1", "SKU-2"]),
    st.sampled_from([WH_DE, WH_FR, ST_FR]),
    st.integers(min_value=1, max_value=12),
)
IDS = itertools.count()
batches = st.lists(st.lists(movement, min_size=1, max_size=6), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=batches)
def test_random_batches_keep_positions_equal_to_the_ledger(
    keel: Keel, world: World, batches: list[list[tuple[Kind, str, str, int]]]
) -> None:
    # the database persists across examples: ids come from one module-wide counter, checks are invariants
    for batch in batches:
        rows: list[dict[str, Any]] = [
            mv(f"p{next(IDS)}", kind.value, sku, loc, qty, reason="property test") for kind, sku, loc, qty in batch
        ]
        ledger_before = len(keel.queries.ledger(limit=1000))
        try:
            result = keel.stock.apply_batch(rows)
        except ValidationFailed as exc:
            assert {e.field for e in exc.errors} == {"quantity"}  # only stock refusals: rows are well formed
            assert len(keel.queries.ledger(limit=1000)) == ledger_before
        else:
            assert result.accepted == len(rows)
            assert len(keel.queries.ledger(limit=1000)) == ledger_before + len(rows)
    positions, _ = keel.queries.positions(limit=1000)
    for p in positions:
        values = [getattr(p, f) for f in QTY]
        assert identity_holds(values), p
        # only a count_loss may leave available below zero (it records a shortage)
        assert all(v >= 0 for f, v in zip(QTY, values, strict=True) if f != "available"), p
    assert keel.stock.rebuild(write=False).differences == []
    keel.availability.catch_up()
    for sku in ("SKU-1", "SKU-2"):
        for row in keel.availability.explain(sku):
            assert (row.projected or 0) == row.quantity, row
