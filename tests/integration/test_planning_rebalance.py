"""Rebalancing runs on both databases: a store running out takes stock from a slow store of its country, the
transfer is explained, a DC keeps what its stores need, accepting and receiving write exactly its movements,
and a rebalancing run and a replenishment run never supersede each other's proposals."""

from __future__ import annotations

from datetime import date

import pytest

from keel.bootstrap import Keel
from keel.planning import Status, SuggestionFilter
from keel.platform.errors import ValidationFailed
from keel.platform.scope import OutOfScope, Scope
from tests.support import ST_DE, WH_DE, World, position, snapshot
from tests.support_planning import SLOW_STORE, seed_slow_store

TODAY = date(2026, 11, 30)


def seed(keel: Keel) -> None:
    """Munich (ST-DE-1) sold 6 SKU-R a day for four weeks and has 1 left; Augsburg (ST-DE-2) sold 1 a day and
    still holds 60."""
    seed_slow_store(keel, "SKU-R", TODAY)


def test_a_short_store_takes_from_a_slow_location_with_every_number_kept(keel: Keel, world: World) -> None:
    seed(keel)
    # when DE is rebalanced
    report = keel.planning.rebalance(country="DE", today=TODAY)
    # then one transfer from Augsburg to Munich, worth more than it costs, and Augsburg keeps its own level
    assert (report.mode, report.country, report.suggestions, report.transfers, report.purchases) == (
        "rebalance", "DE", 1, 1, 0)  # fmt: skip
    [s] = keel.planning.suggestions(SuggestionFilter(kind="rebalance"))[0]
    assert (s.kind, s.source, s.location, s.status) == ("rebalance", SLOW_STORE, ST_DE, Status.PROPOSED)
    e = s.explanation
    assert e.position == 1 and s.quantity <= e.order_up_to - e.position
    assert e.lost_before is not None and e.lost_after is not None and e.lost_before > e.lost_after
    assert e.value is not None and e.value > 0
    assert keel.planning.policy_of("SKU-R", ST_DE).transfer_cost == 15.0  # the store default
    assert any(f"{SLOW_STORE} holds 60" in n for n in e.notes)
    assert keel.planning.runs()[0].mode == "rebalance"


def test_accepting_and_receiving_a_rebalancing_transfer_writes_exactly_its_movements(keel: Keel, world: World) -> None:
    seed(keel)
    keel.planning.rebalance(country="DE", today=TODAY)
    [s] = keel.planning.suggestions(SuggestionFilter(kind="rebalance"))[0]
    # when accepted: Augsburg sends the units, Munich expects them
    keel.planning.accept(s.id, "ops")
    assert position(keel, "SKU-R", SLOW_STORE)["on_hand"] == 60 - s.quantity
    assert position(keel, "SKU-R", ST_DE)["incoming"] == s.quantity
    moved = sorted((m.kind, m.location, m.quantity) for m in keel.queries.ledger(sku="SKU-R", limit=1000)
                   if m.reference == s.reference)  # fmt: skip
    assert moved == [("expected", ST_DE, s.quantity), ("transfer_out", SLOW_STORE, s.quantity)]
    # and when received: transfer_in settles the incoming quantity
    keel.planning.receive(s.id, "ops")
    store_now = position(keel, "SKU-R", ST_DE)
    assert (store_now["on_hand"], store_now["incoming"]) == (1 + s.quantity, 0)
    # the same calls again change nothing
    before = snapshot(keel)
    keel.planning.receive(s.id, "ops")
    assert snapshot(keel) == before


def test_rebalancing_and_replenishment_leave_each_other_s_proposals_alone(keel: Keel, world: World) -> None:
    seed(keel)
    replenished = keel.planning.plan(country="DE", today=TODAY)
    assert replenished.suggestions > 0
    rebalanced = keel.planning.rebalance(country="DE", today=TODAY)
    assert rebalanced.superseded == 0
    open_ = keel.planning.suggestions(SuggestionFilter(status=Status.PROPOSED), limit=1000)[0]
    assert {s.kind for s in open_} >= {"rebalance"} and len(open_) == replenished.suggestions + 1
    # a second rebalancing run replaces the first one's proposal only
    again = keel.planning.rebalance(country="DE", today=TODAY)
    assert again.superseded == 1
    assert len(keel.planning.suggestions(SuggestionFilter(status=Status.PROPOSED), limit=1000)[0]) == len(open_)


def test_rebalancing_needs_one_country_in_the_caller_s_scope(keel: Keel, world: World) -> None:
    seed(keel)
    before = snapshot(keel)
    with pytest.raises(ValidationFailed):
        keel.planning.rebalance(country=None, today=TODAY)
    with pytest.raises(ValidationFailed):  # the run's country column holds two letters: refused, not a DB error
        keel.planning.rebalance(country="DEU", today=TODAY)
    with pytest.raises(OutOfScope):
        keel.planning.rebalance(country="DE", today=TODAY, scope=Scope.of(None, ["FR"]))
    assert snapshot(keel) == before


def test_a_dc_keeps_what_the_stores_it_supplies_need(keel: Keel, world: World) -> None:
    # given the Berlin DC holding 40 SKU-R it does not sell itself, the stores selling 7 a day between them
    seed(keel)
    keel.stock.apply_batch([{"id": "r-dc", "kind": "received", "sku": "SKU-R", "location": WH_DE, "quantity": 40}])
    # when DE is rebalanced
    keel.planning.rebalance(country="DE", today=TODAY)
    # then the DC gives nothing: 40 is less than its stores' demand over its 12-day protection period
    moved = keel.planning.suggestions(SuggestionFilter(kind="rebalance"))[0]
    assert [s.source for s in moved] == [SLOW_STORE]


def test_both_modes_in_one_call_share_one_forecast(keel: Keel, world: World) -> None:
    seed(keel)
    replenished, rebalanced = keel.planning.run_modes(("replenish", "rebalance"), country="DE")
    assert (replenished.mode, rebalanced.mode) == ("replenish", "rebalance")
    assert replenished.forecast_seconds > 0 and rebalanced.forecast_seconds == 0.0
    assert rebalanced.series == replenished.series and rebalanced.transfers == 1
    kinds = {s.kind for s in keel.planning.suggestions(SuggestionFilter(status=Status.PROPOSED))[0]}
    assert "rebalance" in kinds and kinds & {"purchase", "transfer"}
    with pytest.raises(ValidationFailed):  # rebalancing plans one country
        keel.planning.run_modes(("replenish", "rebalance"), country=None)


def test_a_run_of_some_skus_supersedes_only_their_proposals(keel: Keel, world: World) -> None:
    seed(keel)
    seed_slow_store(keel, "SKU-Q", TODAY, fast_per_day=5)  # a second SKU of the same stores
    keel.planning.rebalance(country="DE", today=TODAY)
    before = {s.sku: s.id for s in keel.planning.suggestions(SuggestionFilter(status=Status.PROPOSED))[0]}
    assert set(before) == {"SKU-R", "SKU-Q"}
    # re-planning SKU-Q alone replaces SKU-Q's proposal and leaves SKU-R's
    report = keel.planning.rebalance(country="DE", skus=["SKU-Q"], today=TODAY)
    assert report.superseded == 1
    after = {s.sku: s.id for s in keel.planning.suggestions(SuggestionFilter(status=Status.PROPOSED))[0]}
    assert after["SKU-R"] == before["SKU-R"] and after["SKU-Q"] != before["SKU-Q"]


def test_a_country_restricted_caller_sees_only_the_runs_of_its_countries(keel: Keel, world: World) -> None:
    seed(keel)
    keel.planning.rebalance(country="DE", today=TODAY)
    keel.planning.plan(country="FR", today=TODAY)
    keel.planning.plan(today=TODAY)  # every country
    assert [(r.mode, r.country) for r in keel.planning.runs()] == [
        ("replenish", None), ("replenish", "FR"), ("rebalance", "DE")]  # fmt: skip
    assert [r.country for r in keel.planning.runs(scope=Scope.of(None, ["FR"]))] == ["FR"]
