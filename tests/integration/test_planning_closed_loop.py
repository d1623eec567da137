"""Keel in the twin's closed loop (``keel bench planning``): each simulated day's sales, Keel's accepted
suggestions and their arrivals reach the ledger on the simulated clock, and the ledger ends holding exactly
what the loop's shelves hold; with rebalancing, stores send stock to stores."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from keel.bench.planning import START, KeelPolicy, check_books, prepare_twin
from keel.bootstrap import Keel
from keel.planning import Status, SuggestionFilter
from keel.sim.closedloop import Loop
from keel.sim.history import past_series
from keel.sim.world import Scale, generate

DAYS = 4


@pytest.mark.parametrize("modes", [("replenish",), ("replenish", "rebalance")])
def test_keel_plans_from_the_ledger_each_evening_and_the_ledger_matches_the_loop(
    keel: Keel, modes: tuple[str, ...]
) -> None:
    # given a small twin with eight weeks of past sales of 8 SKUs of Germany
    world = generate(7, Scale(skus=300, locations=30, channels=6))
    prepare_twin(keel, world, "DE", planned=8, review=1)
    series = past_series(world, "DE", skus=8)
    codes = sorted({s.location for s in series})
    opening = {
        (p.sku, p.location): p.on_hand for p in keel.queries.positions_at(codes, sorted({s.sku for s in series}))
    }
    kinds = {loc["code"]: loc["kind"] for loc in world.locations}
    loop = Loop(series, kinds, opening, {}, START, DAYS, seed=5)
    # when Keel decides every evening of four simulated days and every suggestion is accepted
    policy = KeelPolicy(keel, loop, "DE", modes, review=1)
    tally = loop.run(policy)
    # then it planned once a day for the next day, and every suggestion it made was accepted or refused
    runs = keel.planning.runs(limit=100)
    assert len(runs) == DAYS * len(modes) and {r.mode for r in runs} == set(modes)
    decided, _ = keel.planning.suggestions(limit=100_000)
    statuses = Counter(s.status for s in decided)
    assert statuses[Status.PROPOSED] == tally.refused
    assert tally.transfers + tally.purchases == len(decided) - tally.refused > 0
    # and what has landed was received in the ledger, on the morning it landed
    received = [s for s in decided if s.status is Status.RECEIVED]
    assert received and all(s.received_at is not None and s.received_at.hour == 6 for s in received)
    assert all(START <= s.received_at.date() < START + timedelta(days=DAYS) for s in received if s.received_at)
    # and the days' sales are in the history Keel learns from, dated on their simulated days
    history = keel.queries.demand_history(
        codes, START, START + timedelta(days=DAYS - 1), sorted({s.sku for s in series})
    )
    assert sum(sum(h.units) for h in history) == tally.sold
    # and Keel's positions are exactly the loop's shelves (check_books raises otherwise)
    check_books(keel, loop, codes)
    if "rebalance" in modes:
        moved, _ = keel.planning.suggestions(SuggestionFilter(kind="rebalance"), limit=1000)
        assert tally.rebalancing == len([s for s in moved if s.status is not Status.PROPOSED]) > 0
