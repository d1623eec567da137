"""Demand history from the ledger, planning runs, and accepting, rejecting and receiving suggestions, on both
databases: every accepted suggestion writes exactly its movements, a refusal writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from keel.bootstrap import Keel
from keel.planning import Status
from keel.platform.errors import Conflict, NotFound, ValidationFailed
from keel.platform.scope import OutOfScope, Scope
from tests.support import ST_DE, WH_DE, WH_FR, World, mv, position, snapshot

TODAY = date(2026, 11, 30)  # a Monday: every default policy orders


def at(days_ago: int, hour: int = 12) -> str:
    return datetime.combine(TODAY - timedelta(days=days_ago), datetime.min.time(), UTC).replace(hour=hour).isoformat()


def sell_daily(keel: Keel, sku: str, location: str, per_day: int, days: int, stock: int) -> None:
    """Receive ``stock`` ``days`` + 1 days ago, then sell ``per_day`` every day since (POS sales)."""
    rows = [mv(f"r-{sku}-{location}", "received", sku, location, stock, occurred_at=at(days + 1, 8))]
    rows += [
        mv(f"s-{sku}-{location}-{d}", "sold", sku, location, per_day, occurred_at=at(d)) for d in range(days, 0, -1)
    ]
    keel.stock.apply_batch(rows)


def test_history_counts_sales_per_day_and_flags_a_planted_stockout(keel: Keel, world: World) -> None:
    # given 4 units at the store 6 days ago, 2 sold 5 and 4 days ago (empty), 3 received 2 days ago, 1 sold today
    keel.stock.apply_batch(
        [
            mv("r1", "received", "SKU-H", ST_DE, 4, occurred_at=at(6, 8)),
            mv("s1", "sold", "SKU-H", ST_DE, 2, occurred_at=at(5)),
            mv("s2", "sold", "SKU-H", ST_DE, 2, occurred_at=at(4)),
            mv("r2", "received", "SKU-H", ST_DE, 3, occurred_at=at(2, 8)),
            mv("s3", "sold", "SKU-H", ST_DE, 1, occurred_at=at(0)),
        ]
    )
    # when the history of the last 6 complete days is read
    (series,) = keel.queries.demand_history([ST_DE], TODAY - timedelta(days=6), TODAY - timedelta(days=1), ["SKU-H"])
    # then units per day, and days 4 (ended empty) and 3 (empty all day) and 2 (started empty) are stockouts
    assert series.first_day == TODAY - timedelta(days=6)
    assert series.units == (0, 2, 2, 0, 0, 0)
    assert series.stockout == (True, False, True, True, True, False)


def test_a_plan_suggests_a_transfer_and_a_purchase_and_accepting_writes_the_ledger(keel: Keel, world: World) -> None:
    # given a store selling 4 a day for four weeks and almost empty, and its DC holding 30 with no demand
    sell_daily(keel, "SKU-P", ST_DE, 4, 28, 4 * 28 + 2)
    keel.stock.apply_batch([mv("dc", "received", "SKU-P", WH_DE, 30, occurred_at=at(30))])
    # when DE is planned for today
    report = keel.planning.plan(country="DE", today=TODAY)
    # then the store gets a transfer from the DC (4 a day over 1.5 + 2 days, plus safety stock, less 2 on hand)
    items, total = keel.planning.suggestions()
    assert report.series == 2 and report.suggestions == total
    transfer = next(s for s in items if s.kind == "transfer")
    assert (transfer.location, transfer.source, transfer.status) == (ST_DE, WH_DE, Status.PROPOSED)
    e = transfer.explanation
    assert e.protection_days == 4 and e.available == 2 and e.position == 2
    assert e.needed == e.order_up_to - 2 and transfer.quantity == e.needed
    assert 4 * 4 * 0.8 <= e.forecast_units <= 4 * 4 * 1.2  # about 4 a day
    # when it is accepted
    accepted = keel.planning.accept(transfer.id, actor="planner")
    # then the DC sent it and the store expects it: exactly two movements with the suggestion's reference
    assert accepted.status is Status.ACCEPTED and accepted.decided_by == "planner"
    ledger = keel.queries.ledger(sku="SKU-P")
    moved = [(m.kind, m.location, m.quantity) for m in ledger if m.reference == transfer.reference]
    assert sorted(moved) == sorted([("transfer_out", WH_DE, transfer.quantity), ("expected", ST_DE, transfer.quantity)])
    assert position(keel, "SKU-P", WH_DE)["available"] == 30 - transfer.quantity
    assert position(keel, "SKU-P", ST_DE)["incoming"] == transfer.quantity
    # when accepted again: nothing more is written
    before = snapshot(keel)
    assert keel.planning.accept(transfer.id).status is Status.ACCEPTED
    assert snapshot(keel) == before
    # when the goods arrive: transfer_in settles the incoming quantity
    arrived = keel.planning.receive(transfer.id)
    assert arrived.status is Status.RECEIVED and arrived.received_at is not None
    pos = position(keel, "SKU-P", ST_DE)
    assert (pos["incoming"], pos["available"]) == (0, 2 + transfer.quantity)
    # and a rejected suggestion cannot be accepted
    with pytest.raises(Conflict):
        keel.planning.reject(transfer.id)


def test_a_purchase_order_is_expected_then_received(keel: Keel, world: World) -> None:
    # given a DC selling 5 a day, nearly out of stock
    sell_daily(keel, "SKU-W", WH_FR, 5, 28, 5 * 28 + 3)
    keel.planning.plan(country="FR", today=TODAY)
    (po,) = [s for s in keel.planning.suggestions()[0] if s.location == WH_FR]
    assert po.kind == "purchase" and po.source == "supplier"
    assert po.explanation.protection_days == 12  # lead 5 + review 7
    keel.planning.accept(po.id)
    assert position(keel, "SKU-W", WH_FR)["incoming"] == po.quantity
    keel.planning.receive(po.id)
    pos = position(keel, "SKU-W", WH_FR)
    assert (pos["incoming"], pos["available"]) == (0, 3 + po.quantity)


def test_a_new_run_supersedes_the_open_suggestions_and_rejecting_writes_no_stock(keel: Keel, world: World) -> None:
    sell_daily(keel, "SKU-W", WH_FR, 5, 28, 5 * 28 + 3)
    first = keel.planning.plan(country="FR", today=TODAY)
    (old,) = keel.planning.suggestions()[0]
    second = keel.planning.plan(country="FR", today=TODAY)
    assert second.superseded == 1 and second.run_id > first.run_id
    assert keel.planning.get(old.id).status is Status.SUPERSEDED
    with pytest.raises(Conflict):
        keel.planning.accept(old.id)
    (new,) = [s for s in keel.planning.suggestions()[0] if s.status is Status.PROPOSED]
    stock_before = position(keel, "SKU-W", WH_FR)
    assert keel.planning.reject(new.id, actor="planner").status is Status.REJECTED
    assert position(keel, "SKU-W", WH_FR) == stock_before
    with pytest.raises(Conflict):
        keel.planning.receive(new.id)


def test_scope_hides_and_refuses_other_countries(keel: Keel, world: World) -> None:
    sell_daily(keel, "SKU-W", WH_FR, 5, 28, 5 * 28 + 3)
    keel.planning.plan(country="FR", today=TODAY)
    (po,) = keel.planning.suggestions()[0]
    germany = Scope.of(None, ["DE"])
    assert keel.planning.suggestions(scope=germany) == ([], 0)
    with pytest.raises(NotFound):
        keel.planning.accept(po.id, scope=germany)
    with pytest.raises(OutOfScope):
        keel.planning.plan(country="FR", scope=germany)
    with pytest.raises(OutOfScope):
        keel.planning.set_policies([{"kind": "store", "review_days": 3}], scope=germany)


def test_policies_are_validated_before_anything_is_written_and_are_idempotent(keel: Keel, world: World) -> None:
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as refused:
        keel.planning.set_policies([{"location": ST_DE, "pack_size": 6}, {"location": "NOWHERE", "moq": 1}])
    assert [(e.row, e.field) for e in refused.value.errors] == [(2, "location")]
    assert snapshot(keel) == before
    assert keel.planning.set_policies([{"location": ST_DE, "pack_size": 6}, {"kind": "warehouse", "moq": 10}]) == 2
    assert keel.planning.set_policies([{"location": ST_DE, "pack_size": 6}]) == 0
    assert keel.planning.policy_of("SKU-1", ST_DE).pack_size == 6
    assert keel.planning.policy_of("SKU-1", WH_DE).moq == 10
