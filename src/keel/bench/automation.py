"""``keel bench automation``: the worker's incremental re-plan beside a full re-plan of the same country.

A generated twin (``--skus`` SKUs, ``--locations`` locations) is loaded into a fresh database and eight weeks of
past sales are written for ``--planned`` SKUs of Germany (``keel.sim.history``: stockout streaks, SKUs uneven
between two stores). Germany's automation rule is the demo's: replenish and rebalance, accept transfers and
rebalancing of at most 24 units and 5,000 of goods value a day, one store excluded. Then:

1. the first automatic run: every planned SKU (``series_first``, ``seconds_first``);
2. a second run re-plans what the first run's own acceptances moved (``moved_settle``, ``seconds_settle``);
3. ``--changed`` of the planned SKUs sell one unit at a store; the third run re-plans only them
   (``moved_skus``, ``series_incremental``, ``seconds_incremental``);
4. the baseline, in the same process on the same data: a full re-plan of both modes over every planned SKU
   (``series_full``, ``seconds_full``), what a scheduler without change tracking does each time.

``speedup`` = ``seconds_full`` / ``seconds_incremental``. What the guardrails did in the first run:
``accepted``, ``held`` (and the reasons counted in ``held_by``), ``failed``, ``accepted_value``.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from keel.bench import report
from keel.bench.inventory import bench_database
from keel.bootstrap import bootstrap
from keel.platform import migrate
from keel.platform.config import load_settings
from keel.sim.history import PLANNED_COUNTRY, automate, backfill
from keel.sim.load import load_world
from keel.sim.world import Scale, generate

console = Console(stderr=True)


def _reason_kind(reason: str) -> str:
    for words, kind in (("not accepted automatically", "kind"), ("excluded", "location"),
                        ("units are over", "units"), ("daily limit", "value")):  # fmt: skip
        if words in reason:
            return kind
    return "other"


def run(
    database_url: str | None, *, skus: int, locations: int, planned: int, changed: float, seed: int, json_out: bool
) -> dict[str, Any]:
    country = PLANNED_COUNTRY
    with bench_database(database_url) as url:
        keel = bootstrap(load_settings(), database_url=url)
        migrate.upgrade(keel.db)
        try:
            with console.status("loading the twin and its past sales"):
                world = generate(seed, Scale(skus=skus, locations=locations, channels=6))
                load_world(keel, world, catalog=False)
                backfill(keel, world, country, skus=planned, today=datetime.now(UTC).date())
                automate(keel, country, top=planned)
            with console.status("first automatic run: every planned SKU"):
                first = keel.automation.run(country, trigger="schedule")
            with console.status("second run: what the first run's acceptances moved"):
                settle = keel.automation.run(country, trigger="schedule")
            sold = _sell_some(keel, country, changed, seed)
            with console.status(f"third run: {sold} SKUs sold since"):
                clock = time.perf_counter()
                third = keel.automation.run(country, trigger="schedule")
                incremental = time.perf_counter() - clock
            with console.status("baseline: a full re-plan of both modes"):
                clock = time.perf_counter()
                full = keel.planning.run_modes(
                    ("replenish", "rebalance"), country=country, top=planned, trigger="bench"
                )
                full_seconds = time.perf_counter() - clock
            actions, _ = keel.automation.actions(country=country, limit=100_000)
            first_runs = {r.run_id for r in first.runs}
            held_by = Counter(_reason_kind(a.reason) for a in actions if a.action == "held" and a.run_id in first_runs)
        finally:
            keel.close()
    figures: dict[str, Any] = {
        "skus": skus, "locations": locations, "planned": planned, "country": country,
        "series_first": first.runs[0].series if first.runs else 0,
        "seconds_first": round(sum(r.seconds for r in first.runs), 3),
        "moved_settle": settle.moved_skus, "seconds_settle": round(sum(r.seconds for r in settle.runs), 3),
        "moved_skus": third.moved_skus, "series_incremental": third.runs[0].series if third.runs else 0,
        "seconds_incremental": round(incremental, 3),
        "series_full": full[0].series, "seconds_full": round(full_seconds, 3),
        "speedup": round(full_seconds / incremental, 2) if incremental else None,
        "accepted": first.accepted, "held": first.held, "failed": first.failed,
        "accepted_value": first.accepted_value, "held_by": dict(sorted(held_by.items())),
    }  # fmt: skip
    report(figures, json_out)
    return figures


def _sell_some(keel: Any, country: str, share: float, seed: int) -> int:
    """One unit sold at a store of ``country`` for ``share`` of the SKUs with sales history there."""
    stores = {loc.code for loc in keel.locations.list(limit=1_000_000)[0] if loc.country == country
              and loc.kind == "store"}  # fmt: skip
    today = datetime.now(UTC).date()
    sold = {
        h.sku for h in keel.queries.demand_history(sorted(stores), today - timedelta(days=56), today) if sum(h.units)
    }
    held: dict[str, str] = {}
    for p in keel.queries.positions_at(sorted(stores), sorted(sold)):
        if p.available > 0:
            held.setdefault(p.sku, p.location)
    planned = sorted(held)
    picked = random.Random(seed).sample(planned, max(1, round(len(planned) * share))) if planned else []
    rows = [{"id": f"bench-sale-{sku}", "kind": "sold", "sku": sku, "location": held[sku], "quantity": 1}
            for sku in picked]  # fmt: skip
    if rows:
        keel.stock.apply_batch(rows, source="bench")
    return len(rows)
