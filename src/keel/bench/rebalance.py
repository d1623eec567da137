"""``keel bench rebalance``: the rebalancing MILP beside the greedy rule on the same generated instances.

One country with ``locations`` stores and ``skus`` SKUs (seeded): each SKU has a popularity, each store a
size, so a SKU's demand over the protection period at a store is their product with Poisson-like spread.
Stock is what a store was sent for a different demand than it got: its available units are its order-up-to
level times a random factor (0-2.5), so some stores sit on weeks of stock while others are about to run out
(the situation rebalancing exists for). The costs are the policy defaults (margin 10 a sale saved, 15 a
transfer, 0.5 a unit, at least 2 units).

Both planners see the same ``Site`` rows (``keel.planning.rebalance``): the MILP (one per SKU, SCIP through
OR-Tools) and the baseline rule (``greedy``: the most short store takes from the largest surplus while the
move pays for itself). Figures: ``value_*`` (margin saved minus costs, computed exactly from the loss
function, not from the MILP's segments), ``lost_units_before`` and ``lost_units_after_*`` (expected units of
demand not served over the protection period), ``transfers_*``, ``units_*``, ``seconds_*`` and
``value_ratio`` = MILP / greedy, and ``proven_optimal_share``: the SKUs whose MILP finished within its time
limit (``TIME_LIMIT_S``) with a proof of optimality; the others keep the best plan found, which starts from
the greedy plan. Pure computation: no database.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import track

from keel.planning import Move, Site, expected_lost, greedy, net_value, solve_proven

console = Console(stderr=True)
Planner = Callable[[Sequence[Site]], list[Move]]


def instances(skus: int, locations: int, seed: int) -> list[list[Site]]:
    """Per SKU, its sites at every store of the country (see the module docstring)."""
    rng = random.Random(seed)
    sizes = [rng.lognormvariate(0, 0.5) for _ in range(locations)]
    out = []
    for _ in range(skus):
        popularity = rng.lognormvariate(1.0, 0.8)
        sites = []
        for n, size in enumerate(sizes):
            demand = popularity * size * rng.lognormvariate(0, 0.4)  # units over a 4-day protection period
            sigma = math.sqrt(demand) + 0.5
            level = math.ceil(demand + 1.645 * sigma)
            available = int(level * rng.uniform(0, 2.5))
            sites.append(Site(f"ST-{n:03d}", available, 0, demand, sigma, level, 10.0, 15.0, 0.5, 2))
        out.append(sites)
    return out


def _lost(sites: Sequence[Site], moves: Sequence[Move]) -> float:
    into: dict[str, int] = {}
    for m in moves:
        into[m.destination] = into.get(m.destination, 0) + m.quantity
    return sum(expected_lost(x, x.position + into.get(x.location, 0)) for x in sites if x.surplus == 0)


def _measure(name: str, planner: Planner, cases: list[list[Site]]) -> dict[str, float]:
    started = time.perf_counter()
    plans = [planner(sites) for sites in track(cases, description=f"{name:>6}", console=console)]
    seconds = time.perf_counter() - started
    return {
        f"value_{name}": round(sum(net_value(s, p) for s, p in zip(cases, plans, strict=True)), 2),
        f"lost_units_after_{name}": round(sum(_lost(s, p) for s, p in zip(cases, plans, strict=True)), 1),
        f"transfers_{name}": sum(len(p) for p in plans),
        f"units_{name}": sum(m.quantity for p in plans for m in p),
        f"seconds_{name}": round(seconds, 3),
    }


def run(*, skus: int, locations: int, seed: int, json_out: bool) -> dict[str, Any]:
    cases = instances(skus, locations, seed)
    lost_before = sum(expected_lost(x, x.position) for sites in cases for x in sites if x.surplus == 0)
    figures: dict[str, Any] = {"skus": skus, "locations": locations, "lost_units_before": round(lost_before, 1)}
    figures |= _measure("greedy", greedy, cases)
    proven: list[bool] = []

    def milp(sites: Sequence[Site]) -> list[Move]:
        moves, optimal = solve_proven(sites)
        proven.append(optimal)
        return moves

    figures |= _measure("milp", milp, cases)
    figures["proven_optimal_share"] = round(sum(proven) / max(len(proven), 1), 3)
    figures["value_ratio"] = (
        round(figures["value_milp"] / figures["value_greedy"], 3) if figures["value_greedy"] else None
    )
    figures["ms_per_sku_milp"] = round(1000 * figures["seconds_milp"] / max(skus, 1), 2)
    console.print(
        f"rebalance {skus} SKUs x {locations} stores: expected lost units {figures['lost_units_before']:,} -> "
        f"{figures['lost_units_after_milp']:,} (MILP, value {figures['value_milp']:,}, {figures['transfers_milp']} "
        f"transfers, {figures['seconds_milp']} s) vs {figures['lost_units_after_greedy']:,} (greedy, value "
        f"{figures['value_greedy']:,}, {figures['transfers_greedy']} transfers, {figures['seconds_greedy']} s); "
        f"value ratio {figures['value_ratio']}",
        highlight=False,
    )
    if json_out:
        print(json.dumps(figures))
    return figures
