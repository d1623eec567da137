"""Cycle counts, inventory accuracy and the ledger rebuild (both databases)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import pytest
import sqlalchemy as sa

from keel.bootstrap import Keel
from keel.inventory import AccuracyFigures, AccuracyReport, LocationAccuracy
from keel.platform.clock import utcnow
from keel.platform.errors import Conflict, ValidationFailed
from tests.support import ST_DE, ST_FR, WH_DE, WH_FR, World, mv, position, receive, snapshot


@pytest.fixture
def stocked(keel: Keel, world: World) -> Keel:
    """SKU-1: 100 at WH-DE-1 and 3 at ST-DE-1; SKU-2: 10 at WH-DE-1."""
    receive(keel, "SKU-1", WH_DE, 100)
    receive(keel, "SKU-1", ST_DE, 3)
    receive(keel, "SKU-2", WH_DE, 10)
    return keel


def test_a_count_records_its_variance_as_a_movement(stocked: Keel) -> None:
    # when 97 are counted where the book says 100
    result = stocked.stock.record_count("SKU-1", WH_DE, 97, "c1")
    # then the count, the variance and a count_loss movement are recorded
    assert {k: v for k, v in asdict(result).items() if k != "counted_at"} == {
        "id": "c1", "sku": "SKU-1", "location": WH_DE, "book": 100, "counted": 97, "variance": -3,
        "within_tolerance": False, "tolerance_pct": 2.0,
    }  # fmt: skip
    assert position(stocked, "SKU-1", WH_DE)["on_hand"] == 97
    [m] = stocked.queries.ledger(sku="SKU-1", location=WH_DE)[-1:]
    assert (m.id, m.kind, m.quantity, m.reason) == ("count:c1", "count_loss", 3, "cycle count")


def test_a_gain_and_an_exact_count(stocked: Keel) -> None:
    stocked.stock.record_count("SKU-1", ST_DE, 5, "gain")
    assert position(stocked, "SKU-1", ST_DE)["available"] == 5
    ledger_before = stocked.queries.ledger()
    exact = stocked.stock.record_count("SKU-2", WH_DE, 10, "exact")
    assert (exact.variance, exact.within_tolerance) == (0, True)
    assert stocked.queries.ledger() == ledger_before  # no movement for a zero variance
    assert stocked.queries.ledger()[-1].id == "count:gain"


def test_a_count_below_what_is_promised_shows_the_shortage(stocked: Keel) -> None:
    stocked.stock.reserve("SKU-1", ST_DE, 3, 60, "r")
    stocked.stock.record_count("SKU-1", ST_DE, 1)
    p = position(stocked, "SKU-1", ST_DE)
    assert (p["on_hand"], p["available"], p["reserved"]) == (1, -2, 3)


def test_count_ids_are_idempotent(stocked: Keel) -> None:
    first = stocked.stock.record_count("SKU-1", WH_DE, 99, "c1")
    before = snapshot(stocked)
    assert stocked.stock.record_count("SKU-1", WH_DE, 99, "c1") == first
    assert snapshot(stocked) == before
    with pytest.raises(Conflict, match="count 'c1' exists with other content"):
        stocked.stock.record_count("SKU-1", WH_DE, 98, "c1")
    assert snapshot(stocked) == before


@pytest.mark.parametrize(
    ("sku", "location", "counted", "field"),
    [("SKU-1", WH_DE, -1, "counted"), ("bad sku", WH_DE, 1, "sku"), ("SKU-1", "NOWHERE", 1, "location")],
)
def test_invalid_counts_are_refused(stocked: Keel, sku: str, location: str, counted: int, field: str) -> None:
    before = snapshot(stocked)
    with pytest.raises(ValidationFailed) as info:
        stocked.stock.record_count(sku, location, counted)
    assert [e.field for e in info.value.errors] == [field]
    assert snapshot(stocked) == before


def test_accuracy_per_location_and_overall_uses_the_latest_count(stocked: Keel) -> None:
    assert stocked.queries.accuracy().overall == AccuracyFigures(counted=0, within_tolerance=0, accuracy=None)
    stocked.stock.record_count("SKU-1", WH_DE, 99, "c1")  # -1 of 100: within 2 %
    stocked.stock.record_count("SKU-2", WH_DE, 5, "c2")  # -5 of 10: outside
    stocked.stock.record_count("SKU-1", ST_DE, 3, "c3")  # exact
    report = stocked.queries.accuracy()
    assert report == AccuracyReport(
        tolerance_pct=2.0,
        overall=AccuracyFigures(counted=3, within_tolerance=2, accuracy=2 / 3),
        locations=(
            LocationAccuracy(location=ST_DE, counted=1, within_tolerance=1, accuracy=1.0),
            LocationAccuracy(location=WH_DE, counted=2, within_tolerance=1, accuracy=0.5),
        ),
    )
    # a wider tolerance re-judges the same counts; a location filter narrows the report
    assert stocked.queries.accuracy(tolerance_pct=50.0).overall.accuracy == 1.0
    assert stocked.queries.accuracy(location=WH_DE).overall == AccuracyFigures(
        counted=2, within_tolerance=1, accuracy=0.5
    )
    # a recount replaces the earlier count of the same position
    stocked.stock.record_count("SKU-2", WH_DE, 5, "c4")  # book is now 5: exact
    assert stocked.queries.accuracy().overall == AccuracyFigures(counted=3, within_tolerance=3, accuracy=1.0)


# -- rebuild ---------------------------------------------------------------------------------------------
@pytest.fixture
def busy(stocked: Keel) -> Keel:
    """Every kind of write: batches, reservations (released, committed, expired), counts, transfers."""
    s = stocked.stock
    s.apply_batch(
        [
            mv("b1", "expected", "SKU-3", WH_FR, 20),
            mv("b2", "received", "SKU-3", WH_FR, 12),
            mv("b3", "transfer_out", "SKU-1", WH_DE, 10),
            mv("b4", "transfer_in", "SKU-1", ST_FR, 10),
            mv("b5", "damaged", "SKU-1", WH_DE, 2, reason="dropped"),
            mv("b6", "qc_hold", "SKU-3", WH_FR, 2),
            mv("b7", "safety_held", "SKU-3", WH_FR, 1),
            mv("b8", "committed", "SKU-1", ST_FR, 4),
            mv("b9", "shipped", "SKU-1", ST_FR, 3),
        ]
    )
    s.reserve("SKU-1", WH_DE, 5, 60, "r1")
    s.reserve("SKU-1", WH_DE, 6, 60, "r2")
    s.reserve("SKU-3", WH_FR, 2, 30, "r3")
    s.release("r1")
    s.commit_reservation("r2")
    s.expire_due(now=utcnow() + timedelta(minutes=5))
    s.record_count("SKU-1", ST_DE, 1, "k1")
    s.record_count("SKU-2", WH_DE, 11, "k2")
    return stocked


def test_rebuild_of_an_untouched_projection_finds_no_difference(busy: Keel) -> None:
    before = snapshot(busy)
    report = busy.stock.rebuild(write=True)
    assert report.differences == []
    assert (report.movements, report.positions, report.applied) == (20, 5, False)
    assert snapshot(busy) == before


def test_rebuild_detects_and_repairs_a_drifted_position(busy: Keel) -> None:
    # given a position changed behind the ledger's back
    expected = position(busy, "SKU-3", WH_FR)
    with busy.db.write() as conn:
        conn.execute(sa.text("UPDATE positions SET available = available + 7 WHERE sku = 'SKU-3'"))
    drifted = snapshot(busy)
    # when checked / then the difference is reported and nothing is written
    report = busy.stock.rebuild(write=False)
    [diff] = report.differences
    assert (diff["sku"], diff["live"]["available"] - diff["ledger"]["available"]) == ("SKU-3", 7)
    assert diff["ledger"] == expected
    assert report.applied is False
    assert snapshot(busy) == drifted
    # when rebuilt / then positions equal the ledger again
    assert busy.stock.rebuild(write=True).applied is True
    assert position(busy, "SKU-3", WH_FR) == expected
    assert busy.stock.rebuild(write=False).differences == []
