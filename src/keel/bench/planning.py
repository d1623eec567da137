"""``keel bench planning``: the twin's closed loop (``keel.sim.closedloop``) run three times on the same demand.

A generated twin is loaded into a fresh database with eight weeks of past sales for ``--planned`` SKUs of
Germany (``keel.sim.history``). Then ``--days`` days are simulated from the same stock and the same drawn
demand, three times:

1. ``baseline``: the twin's fixed reorder rule;
2. ``keel``: Keel replenishment. Every ``--review-days`` days, Keel plans each evening from the ledger
   (``PlanningService.run_modes``) and every suggestion is accepted, as the automation would. The loop
   writes each day's sales, acceptances and arrivals to the ledger, on the simulated clock, so that Keel
   learns only from what it can see: sales (not demand), and stockout days flagged by its ledger;
3. ``rebalance``: the same, plus rebalancing between the country's stores from the same forecast.

Keel's policies are data. The bench sets what an operator who knows the twin's supply chain would: lead
times of 1 day from a DC to a store, 2.5 days from a supplier to a store no DC of the country stocks for, and
2 days from a supplier to a DC (``LEADS``), reviews every ``--review-days``, and
the target cycle service level ``--service-level`` (the policies' default, 0.95), or a target fill rate
``--fill-rate`` that sets the safety stock instead.

Figures, each suffixed ``_baseline``, ``_keel`` or ``_rebalance``:
- ``stockout_rate``: the share of SKU-location-days with demand that the shelf could not fully serve;
- ``fill_rate``: units sold / units demanded;
- ``avg_inventory_days``: the stock on hand each night / the true expected demand, summed over series and days;
- ``lost_sales_value``: lost units x the SKU's price (EUR);
- ``transfers`` and ``purchases``: the orders each run placed.

``transfers`` (no suffix) counts the rebalancing transfers of the third run. ``plan_seconds`` is the time
Keel spent planning in its two runs, and ``seconds`` is the whole bench.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from rich.console import Console
from rich.progress import Progress

from keel.bench import report
from keel.bench.inventory import bench_database
from keel.bootstrap import Keel, bootstrap
from keel.planning import Status, SuggestionFilter
from keel.platform import migrate
from keel.platform.clock import clock_at
from keel.platform.config import load_settings
from keel.platform.errors import Conflict
from keel.sim.catalog import generate_catalog
from keel.sim.closedloop import FixedReorder, Loop, Order
from keel.sim.history import DAYS, PLANNED_COUNTRY, PastSeries, backfill, past_series, sale_rows
from keel.sim.load import load_world
from keel.sim.world import Scale, World, generate

console = Console(stderr=True)
START = date(2026, 3, 2)  # a Monday; the history runs the eight weeks before it
MODES = {"keel": ("replenish",), "rebalance": ("replenish", "rebalance")}
# The twin's lead times (keel.sim.closedloop.LEAD_HOURS) in days: a transfer lands the next morning, a
# supplier's order to a store 1-4 days on (mean 2.5, sd 0.96), to a DC 1-3 (mean 2, sd 0.71). Counted as days
# of sales missed instead (one less: an order placed after the day's sales lands before a later day's), the
# stock fell with the fill rate along a worse line (0.961 at 3.45 days against 0.978 at 3.34; docs/planning.md).
LEADS = {
    "store": {"lead_time_days": 1.0, "lead_time_sd_days": 0.3,
              "supplier_lead_time_days": 2.5, "supplier_lead_time_sd_days": 0.96},
    "dc": {"lead_time_days": 2.0, "lead_time_sd_days": 0.7},
}  # fmt: skip


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class KeelPolicy:
    """Keel plans from its ledger and every suggestion is accepted; the loop's days are written to the ledger
    on the simulated clock (sales at 14:00, decisions at 20:00, arrivals at 06:00)."""

    def __init__(self, keel: Keel, loop: Loop, country: str, modes: tuple[str, ...], review: int) -> None:
        self.keel, self.loop, self.country, self.modes, self.review = keel, loop, country, modes, review
        self.skus = sorted({s.sku for s in loop.series})
        self.seconds = 0.0

    def landed(self, day: int, orders: list[Order]) -> None:
        with clock_at(_at(self.loop.date(day), 6)):
            for order in orders:
                assert order.ref is not None
                self.keel.planning.receive(order.ref, actor="bench")

    def sold(self, day: int, sales: list[tuple[PastSeries, int]]) -> None:
        at = _at(self.loop.date(day), 14)
        rows = [row for s, units in sales
                for row in sale_rows(s.sku, s.location, units, s.till, f"loop-{s.sku}-{s.location}-{day}",
                                     at.isoformat())]  # fmt: skip
        size = self.keel.settings.max_batch
        with clock_at(at):
            for first in range(0, len(rows), size):
                self.keel.stock.apply_batch(rows[first : first + size], source="bench")

    def decide(self, day: int) -> list[Order]:
        if day % self.review:
            return []
        planning = self.keel.planning
        with clock_at(_at(self.loop.date(day), 20)):
            clock = time.perf_counter()
            reports = planning.run_modes(self.modes, country=self.country, skus=self.skus,
                                         today=self.loop.date(day + 1), trigger="bench")  # fmt: skip
            self.seconds += time.perf_counter() - clock
            where = SuggestionFilter(status=Status.PROPOSED, runs=frozenset(r.run_id for r in reports))
            found, _ = planning.suggestions(where, limit=1_000_000)
            out = []
            for s in sorted(found, key=lambda s: s.id):
                try:
                    planning.accept(s.id, actor="bench")
                except Conflict:  # the source no longer holds the units: a person would reject it too
                    self.loop.tally.refused += 1
                    continue
                source = None if s.kind == "purchase" else s.source
                out.append(Order(s.sku, s.location, source, s.quantity, s.id, s.kind == "rebalance"))
        return out


def prepare_twin(
    keel: Keel,
    world: World,
    country: str,
    planned: int,
    review: int,
    service_level: float = 0.95,
    fill_rate: float | None = None,
) -> None:
    """Load the twin before the history starts, write its past sales and set the bench's policies."""
    with clock_at(_at(START - timedelta(days=DAYS + 2), 0)):
        load_world(keel, world, catalog=False)
    with clock_at(_at(START - timedelta(days=1), 23)):
        backfill(keel, world, country, skus=planned, today=START)
        target = {"review_days": review, "service_level": service_level, "fill_rate": fill_rate}
        shops = {**target, **LEADS["store"]}
        dcs = {**target, **LEADS["dc"]}
        keel.planning.set_policies([{"kind": "store", **shops}, {"kind": "dark_store", **shops},
                                    {"kind": "warehouse", **dcs}, {"kind": "3pl", **dcs}])  # fmt: skip


@contextmanager
def _keel(url: str) -> Iterator[Keel]:
    keel = bootstrap(load_settings(), database_url=url)
    try:
        migrate.upgrade(keel.db)
        yield keel
    finally:
        keel.close()


def run(
    database_url: str | None,
    *,
    skus: int,
    locations: int,
    planned: int,
    days: int,
    review: int,
    service_level: float,
    seed: int,
    json_out: bool,
    fill_rate: float | None = None,
) -> dict[str, Any]:
    clock = time.perf_counter()
    country = PLANNED_COUNTRY
    world = generate(seed, Scale(skus=skus, locations=locations, channels=6))
    series = past_series(world, country, skus=planned)
    kinds = {loc["code"]: loc["kind"] for loc in world.locations if loc["country"] == country}
    price = {p.sku: float(p.price) for p in generate_catalog(world.skus, seed)}
    figures: dict[str, Any] = {"days": days, "service_level": service_level, "fill_rate_target": fill_rate,
                               "skus": len({s.sku for s in series}),
                               "locations": len({s.location for s in series}), "series": len(series)}  # fmt: skip
    opening: dict[tuple[str, str], int] = {}
    plan_seconds = 0.0
    with Progress(console=console, transient=True) as bar:
        for name in ("keel", "rebalance"):
            with bench_database(database_url) as url, _keel(url) as keel:
                prepare_twin(keel, world, country, planned, review, service_level, fill_rate)
                codes = sorted({s.location for s in series})
                for p in keel.queries.positions_at(codes, sorted({s.sku for s in series})):
                    opening[(p.sku, p.location)] = p.on_hand
                if name == "keel":  # the baseline starts from the very same stock
                    baseline = Loop(series, kinds, opening, price, START, days, seed)
                    task = bar.add_task("baseline: the twin's fixed reorder rule", total=days)
                    tally = baseline.run(FixedReorder(baseline, seed), partial(bar.advance, task))
                    figures |= tally.figures("baseline")
                loop = Loop(series, kinds, opening, price, START, days, seed)
                policy = KeelPolicy(keel, loop, country, MODES[name], review)
                task = bar.add_task(f"{name}: Keel plans every {review} day(s)", total=days)
                tally = loop.run(policy, partial(bar.advance, task))
                figures |= tally.figures(name) | {f"refused_{name}": tally.refused}
                plan_seconds += policy.seconds
                if name == "rebalance":
                    figures["transfers"] = tally.rebalancing
                check_books(keel, loop, codes)
    figures |= {"plan_seconds": round(plan_seconds, 1), "seconds": round(time.perf_counter() - clock, 1)}
    report(figures, json_out)
    return figures


def check_books(keel: Keel, loop: Loop, codes: list[str]) -> None:
    """Keel's ledger must hold what the loop's shelves hold, or Keel planned from other facts than the truth."""
    held = {
        (p.sku, p.location): p.on_hand for p in keel.queries.positions_at(codes, sorted({s.sku for s in loop.series}))
    }
    wrong = {k: (held.get(k), v) for k, v in loop.stock.items() if held.get(k, 0) != v}
    if wrong:
        raise AssertionError(
            f"the ledger and the loop disagree on {len(wrong)} positions, e.g. {next(iter(wrong.items()))}"
        )
