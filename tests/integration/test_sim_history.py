"""The twin's past sales: eight weeks of daily demand written before the demo, today's stock unchanged, the
planted stockout streaks seen as stockout days, and a first plan made from them; and the twin's automation,
whose first pass the worker makes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from keel.bootstrap import Keel
from keel.planning import SuggestionFilter
from keel.sim.history import automate, backfill, import_erp, past_series
from keel.sim.load import load_world
from keel.sim.world import Scale, generate
from keel.worker import run_once

TODAY = date(2026, 11, 30)


def test_backfill_writes_past_sales_leaves_stock_and_plants_stockouts(keel: Keel) -> None:
    # given a small twin, loaded
    world = generate(7, Scale(skus=300, locations=30, channels=6))
    load_world(keel, world, catalog=False)
    country = "DE"
    codes = [loc["code"] for loc in world.locations if loc["country"] == country]
    before = {(p.sku, p.location): p.available for p in keel.queries.positions_at(codes)}
    # when 8 weeks of the 20 best-stocked SKUs' sales are written, twice (the second changes nothing)
    written = backfill(keel, world, country, skus=20, today=TODAY)
    assert written > 20 * 56
    assert backfill(keel, world, country, skus=20, today=TODAY) == written
    # then today's stock is what the twin loaded plus at most a week's cover, and only for the chosen SKUs
    after = {(p.sku, p.location): p.available for p in keel.queries.positions_at(codes)}
    grown = {key for key in after if after[key] != before.get(key, 0)}
    assert all(after[key] > before.get(key, 0) for key in grown)
    assert len({sku for sku, _ in grown}) <= 20
    # and the history has sales on most days, and some four-day streaks of stockout days with no sales
    history = keel.queries.demand_history(codes, TODAY - timedelta(days=56), TODAY - timedelta(days=1))
    sold = [h for h in history if sum(h.units)]
    assert len({h.sku for h in sold}) == 20
    # (the last day is left out: a local hit sells its last backfilled unit then, see below)
    streaks = [h for h in sold if sum(h.stockout[:-1]) > 1]
    assert streaks
    # (a local hit sold its last backfilled unit yesterday: one stockout day, the last)
    assert [h for h in sold if sum(h.stockout) == 1 and h.stockout[-1]]
    for h in streaks:
        out = [i for i, flag in enumerate(h.stockout[:-1]) if flag]
        assert all(h.units[i] == 0 for i in out[1:])  # the day it ran out may sell; none after
        assert 4 <= len(out) <= 5  # four days empty, and perhaps the day it sold out
    # and a plan of the country makes suggestions with their reasons
    report = keel.planning.plan(country=country, top=20, today=TODAY)
    assert report.series == len(sold) and report.suggestions > 0
    # and the SKUs planted uneven between two stores give rebalancing transfers from a slow store to a hit one
    moved = keel.planning.rebalance(country=country, top=20, today=TODAY)
    assert moved.transfers > 0
    store_kinds = {loc["code"] for loc in world.locations if loc["kind"] in ("store", "dark_store")}
    for s in keel.planning.suggestions(SuggestionFilter(kind="rebalance"), limit=100)[0]:
        assert s.source in store_kinds and s.location in store_kinds and s.explanation.value


def test_the_twin_automates_its_planned_country_and_the_worker_makes_the_first_plan(keel: Keel) -> None:
    # given a small twin with its past sales, written up to today (the automation plans for today)
    world = generate(7, Scale(skus=300, locations=30, channels=6))
    load_world(keel, world, catalog=False)
    today = datetime.now(UTC).date()
    backfill(keel, world, "DE", skus=20, today=today)
    # when the twin sets its automation and the worker makes a pass
    automate(keel, "DE")
    rule = keel.automation.rule("DE")
    assert (rule.enabled, rule.replenish, rule.rebalance, rule.every_minutes) == (True, True, True, 10)
    assert rule.accept_kinds == ("transfer", "rebalance") and len(rule.excluded_locations) == 1
    run_once(keel)
    # then both modes ran on the schedule, and each suggestion was accepted or held with its reason
    assert {(r.mode, r.trigger) for r in keel.planning.runs()} == {("replenish", "schedule"), ("rebalance", "schedule")}
    actions, _ = keel.automation.actions(limit=1000)
    suggested = sum(r.suggestions for r in keel.planning.runs())
    assert len([a for a in actions if a.action in ("accepted", "held", "failed")]) == suggested > 0
    accepted = [a for a in actions if a.action == "accepted"]
    assert accepted and sum(a.value for a in accepted) <= 5000
    assert all(keel.planning.get(a.suggestion_id or 0).decided_by == "automation" for a in accepted)


def test_the_twin_imports_the_erp_weeks_before_its_backfill_and_planning_reads_them(keel: Keel) -> None:
    # given a small twin with its eight backfilled weeks, up to today (history reads the real calendar)
    world = generate(7, Scale(skus=300, locations=30, channels=6))
    load_world(keel, world, catalog=False)
    today = datetime.now(UTC).date()
    backfill(keel, world, "DE", skus=10, today=today)
    # when the ERP's eight weeks before them are imported, twice
    report = import_erp(keel, world, "DE", skus=10, today=today)
    series = len(past_series(world, "DE", skus=10))
    assert (report.rows, report.series, report.changed) == (series * 56, series, series * 56)
    assert (report.first_day, report.last_day) == (today - timedelta(days=112), today - timedelta(days=57))
    assert import_erp(keel, world, "DE", skus=10, today=today).changed == 0
    # then a series' 16 weeks are the ERP's 8 and the ledger's 8, the ledger's untouched
    first = past_series(world, "DE", skus=10)[0]
    ledger = keel.queries.demand_history([first.location], today - timedelta(days=56), today - timedelta(days=1),
                                         [first.sku])[0]  # fmt: skip
    both = keel.planning.history(first.sku, first.location, 112)
    assert both.units[56:] == ledger.units and both.stockout[56:] == ledger.stockout
    assert sum(both.units[:56]) > 0 and not any(both.stockout[:56])
