"""Rebalancing: which transfers between locations of a country save the most margin, from a MILP.

For one SKU, every location has a protection period H (its own lead time plus review), the forecast demand
over it (mean mu, spread sigma) and an order-up-to level S (a DC's covers its share of the stores it supplies,
as in replenishment). A location with ``available > S`` is a *source* and may give ``surplus = available - S``:
it keeps what its own forecast and safety stock need. A store whose position (available + incoming) is below S
is a *destination* (a DC never is: what it lacks is bought): with demand D ~ N(mu, sigma), the units
it is expected to miss before its own replenishment arrives are the loss function

    L(p) = E[(D - p)+] = sigma * (phi(k) - k * (1 - Phi(k))),  k = (p - mu) / sigma

so receiving x units saves ``margin * (L(p) - L(p + x))``, which grows ever more slowly with x (L is convex).
The MILP, per SKU:

    maximise  sum_d sum_j v_dj * y_dj  -  sum_(s,d) (transfer_cost_d * z_sd + handling_d * x_sd)
    where     sum_j y_dj <= sum_s x_sd           a destination saves only on what it receives
              0 <= y_dj <= w_j                   the value curve in segments, best first (concave)
              sum_d x_sd <= surplus_s            a source never gives what it needs itself
              min_transfer_d * z_sd <= x_sd <= surplus_s * z_sd,  z_sd in {0, 1},  x_sd integer

A transfer only happens when the margin it saves beats its fixed and per-unit cost, and never below the
destination's minimum transfer. Every suggested transfer keeps the numbers that justify it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

from ortools.linear_solver import pywraplp  # type: ignore[import-untyped]  # ships .pyi without py.typed

from keel.planning.model import Explanation, Level, Line, Planned, daily_of, level_of
from keel.planning.model.policy import DISTRIBUTION_KINDS

__all__ = ["REBALANCE", "Move", "Site", "expected_lost", "greedy", "net_value", "rebalance", "site_of", "solve"]

REBALANCE = "rebalance"  # the kind of suggestion a rebalancing run makes

MAX_SEGMENTS = 48  # the value curve of a destination in at most this many linear pieces
TIME_LIMIT_S = 2.0  # per SKU: many stores short and long at once can take the solver seconds to prove
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class Site:
    """One SKU at one location, as rebalancing sees it."""

    location: str
    available: int
    incoming: int
    demand: float  # mu: forecast units over the protection period
    sigma: float
    order_up_to: int  # S
    margin: float  # value of one sale saved, in the country's currency
    transfer_cost: float  # fixed cost of one transfer into this location
    handling_cost: float  # per unit moved into this location
    min_transfer: int  # the smallest transfer into this location worth making
    receives: bool = True  # False for a DC: its shortfall is bought from suppliers, not taken from stores

    @property
    def position(self) -> int:
        return self.available + self.incoming

    @property
    def surplus(self) -> int:
        """Units it can give and still cover its own protection period with its safety stock."""
        return max(self.available - self.order_up_to, 0)


@dataclass(frozen=True, slots=True)
class Move:
    """A transfer of ``quantity`` from ``source`` to ``destination`` and why."""

    source: str
    destination: str
    quantity: int
    lost_before: float  # units the destination is expected to miss without any transfer
    lost_after: float  # ... with every transfer into it in this plan
    value: float  # the share of margin saved this move brings, less its own cost


def expected_lost(site: Site, position: float) -> float:
    """L(position): expected units of demand over the protection period beyond ``position``."""
    if site.sigma <= 1e-9:
        return max(site.demand - position, 0.0)
    k = (position - site.demand) / site.sigma
    return site.sigma * (_NORMAL.pdf(k) - k * (1 - _NORMAL.cdf(k)))


def _room(site: Site) -> int:
    """The most units worth sending: up to the order-up-to level (the rest would be stock, not sales)."""
    return max(site.order_up_to - site.position, 0)


def _segments(site: Site) -> list[tuple[int, float]]:
    """(width, value per unit) pieces of the destination's saving curve, in falling value order."""
    room = _room(site)
    if room == 0:
        return []
    width = max(1, math.ceil(room / MAX_SEGMENTS))
    out, start = [], 0
    while start < room:
        w = min(width, room - start)
        saved = expected_lost(site, site.position + start) - expected_lost(site, site.position + start + w)
        out.append((w, site.margin * saved / w))
        start += w
    return out


def _smallest_paying(d: Site) -> int | None:
    """The smallest lane capacity with which a transfer into ``d`` alone saves more than it costs (None: no
    capacity does). A lane below it never helps in a plan either: with other units arriving, each unit saves
    less. The saving less handling rises while a unit saves more than its handling, then falls, so the best
    transfer of at most ``top`` units is worth a non-decreasing amount as ``top`` grows."""
    before, best = expected_lost(d, d.position), -math.inf
    for q in range(1, _room(d) + 1):
        lost = expected_lost(d, d.position + q)
        if q >= d.min_transfer:
            best = max(best, d.margin * (before - lost) - d.handling_cost * q)
            if best > d.transfer_cost:
                return q
        if q >= d.min_transfer and d.margin * (lost - expected_lost(d, d.position + q + 1)) <= d.handling_cost:
            return None  # the next unit saves less than it costs to move, and every later one less still
    return None


def net_value(sites: Sequence[Site], moves: Sequence[Move]) -> float:
    """The plan's worth, computed exactly (not from the segments): margin saved minus transfer costs."""
    by_code = {s.location: s for s in sites}
    received: dict[str, int] = {}
    cost = 0.0
    for m in moves:
        dest = by_code[m.destination]
        received[m.destination] = received.get(m.destination, 0) + m.quantity
        cost += dest.transfer_cost + dest.handling_cost * m.quantity
    saved = sum(
        by_code[d].margin
        * (expected_lost(by_code[d], by_code[d].position) - expected_lost(by_code[d], by_code[d].position + q))
        for d, q in received.items()
    )
    return saved - cost


def _moves(sites: Sequence[Site], flows: dict[tuple[str, str], int]) -> list[Move]:
    by_code = {s.location: s for s in sites}
    into: dict[str, int] = {}
    for (_, d), q in flows.items():
        into[d] = into.get(d, 0) + q
    out = []
    for (s, d), q in sorted(flows.items()):
        dest = by_code[d]
        before = expected_lost(dest, dest.position)
        after = expected_lost(dest, dest.position + into[d])
        share = q / into[d]  # a destination fed from several sources: the saving split by units
        value = dest.margin * (before - after) * share - dest.transfer_cost - dest.handling_cost * q
        out.append(Move(s, d, q, round(before, 3), round(after, 3), round(value, 2)))
    return out


def solve(sites: Sequence[Site], time_limit_s: float = TIME_LIMIT_S, solver_name: str = "SCIP") -> list[Move]:
    """The best transfers between ``sites`` (one SKU, one country) by the MILP of the module docstring."""
    return solve_proven(sites, time_limit_s, solver_name)[0]


def solve_proven(
    sites: Sequence[Site], time_limit_s: float = TIME_LIMIT_S, solver_name: str = "SCIP"
) -> tuple[list[Move], bool]:
    """``solve``, and whether the plan is proven optimal (False: the best found within ``time_limit_s``)."""
    sources = [s for s in sites if s.surplus > 0]
    dests = [d for d in sites if d.receives and d.surplus == 0 and _segments(d)]
    if not sources or not dests:
        return [], True
    solver = pywraplp.Solver.CreateSolver(solver_name)
    if solver is None:
        raise RuntimeError(f"OR-Tools has no {solver_name} solver in this build")
    solver.SetTimeLimit(int(time_limit_s * 1000))
    objective = solver.Objective()
    objective.SetMaximization()
    x: dict[tuple[str, str], pywraplp.Variable] = {}
    z: dict[tuple[str, str], pywraplp.Variable] = {}
    paying = {d.location: _smallest_paying(d) for d in dests}
    for s in sources:
        for d in dests:
            top, least = min(s.surplus, _room(d)), paying[d.location]
            if least is None or top < least:
                continue
            xv = solver.IntVar(0, top, f"x[{s.location},{d.location}]")
            zv = solver.BoolVar(f"z[{s.location},{d.location}]")
            solver.Add(xv <= top * zv)
            solver.Add(xv >= d.min_transfer * zv)
            objective.SetCoefficient(xv, -d.handling_cost)
            objective.SetCoefficient(zv, -d.transfer_cost)
            x[(s.location, d.location)], z[(s.location, d.location)] = xv, zv
    if not x:
        return [], True
    for s in sources:
        given = [v for (src, _), v in x.items() if src == s.location]
        if given:
            solver.Add(solver.Sum(given) <= s.surplus)
    for d in dests:
        received = [v for (_, dst), v in x.items() if dst == d.location]
        if not received:
            continue
        pieces = []
        for j, (width, value) in enumerate(_segments(d)):
            yv = solver.NumVar(0, width, f"y[{d.location},{j}]")
            objective.SetCoefficient(yv, value)
            pieces.append(yv)
        solver.Add(solver.Sum(pieces) <= solver.Sum(received))
        solver.Add(solver.Sum(received) <= _room(d))  # beyond S - position it would be stock, not sales
    # Start from the greedy rule's plan (every lane it uses pays alone, so each is in the model), and keep it
    # if the solver's plan is worth less when valued exactly: cut short by the time limit, or when pieces
    # wider than a unit (room above MAX_SEGMENTS) undervalue the curve.
    fallback = greedy(sites)
    start = {(m.source, m.destination): m.quantity for m in fallback if (m.source, m.destination) in x}
    solver.SetHint([x[k] for k in start] + [z[k] for k in start], [*start.values()] + [1] * len(start))
    status = solver.Solve()
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return fallback, False
    flows = {k: round(v.solution_value()) for k, v in x.items() if round(v.solution_value()) > 0}
    found = _moves(sites, flows)
    if net_value(sites, fallback) > net_value(sites, found) + 1e-9:
        return fallback, False
    return found, status == pywraplp.Solver.OPTIMAL


def greedy(sites: Sequence[Site]) -> list[Move]:
    """The baseline rebalancing rule: the destination expected to lose most takes from the largest surplus, as
    long as the move saves more than it costs. The MILP starts from its plan; ``keel bench rebalance`` compares
    the two."""
    spare = {s.location: s.surplus for s in sites if s.surplus > 0}
    flows: dict[tuple[str, str], int] = {}
    for d in sorted((d for d in sites if d.receives and d.surplus == 0), key=lambda d: -expected_lost(d, d.position)):
        need, got = _room(d), 0
        while need > 0 and spare:
            source = max(sorted(spare), key=lambda c: spare[c])
            q = min(need, spare[source])
            if q < d.min_transfer:
                break
            saved = d.margin * (expected_lost(d, d.position + got) - expected_lost(d, d.position + got + q))
            if saved <= d.transfer_cost + d.handling_cost * q:
                break
            flows[(source, d.location)] = flows.get((source, d.location), 0) + q
            spare[source] -= q
            need, got = need - q, got + q
            if spare[source] == 0:
                del spare[source]
    return _moves(sites, flows)


def site_of(line: Line, served: Sequence[Line] = (), share: float = 1.0) -> tuple[Site, Level]:
    """A planning line as rebalancing sees it, and its order-up-to arithmetic. A DC's level covers, beside its
    own demand, its ``share`` of the stores ``served`` (the country's DCs serve them in equal shares, as
    replenishment plans it), so a DC gives only what neither it nor the stores it supplies will need."""
    mean, upper, extra = list(line.mean), list(line.upper), 0.0
    for store in served:
        own = level_of(store.policy, store.mean, store.upper)
        extra += (own.sigma * share) ** 2
        for d, m in enumerate(store.mean[: len(mean)]):
            mean[d] += m * share
            upper[d] += m * share
    level = level_of(line.policy, mean, upper, extra)
    p = line.policy
    site = Site(line.location, line.available, line.incoming, level.demand, level.sigma, level.order_up_to,
                p.unit_margin, p.transfer_cost, p.handling_cost, p.min_transfer,
                line.kind not in DISTRIBUTION_KINDS)  # fmt: skip
    return site, level


def rebalance(lines: Sequence[Line], time_limit_s: float = TIME_LIMIT_S) -> list[Planned]:
    """Transfer suggestions between the locations of each SKU's country, one MILP per SKU and country, each
    explained by the destination's numbers, the source's surplus and the money it saves."""
    groups: dict[tuple[str, str], list[Line]] = {}
    for line in lines:
        groups.setdefault((line.sku, line.country), []).append(line)
    out: list[Planned] = []
    for key in sorted(groups):
        dcs = [x for x in groups[key] if x.kind in DISTRIBUTION_KINDS]
        shops = [x for x in groups[key] if x.kind not in DISTRIBUTION_KINDS and x.policy.source == "warehouse"]
        share = 1 / max(len(dcs), 1)
        known = {
            x.location: (x, *site_of(x, shops if x.kind in DISTRIBUTION_KINDS else (), share)) for x in groups[key]
        }
        for move in solve([site for _, site, _ in known.values()], time_limit_s):
            line, dest, level = known[move.destination]
            source = known[move.source][1]
            notes = (
                f"{move.source} holds {source.available}, {source.surplus} above its own level of "
                f"{source.order_up_to} (its forecast and safety stock), which it keeps",
                f"expected lost sales here over {level.days} days: {move.lost_before:g} units without the "
                f"run's transfers, {move.lost_after:g} with them",
                f"value {move.value:.2f}: margin {dest.margin:g} per sale saved, less {dest.transfer_cost:g} a "
                f"transfer and {dest.handling_cost:g} a unit",
            )
            position = line.available + line.incoming
            out.append(Planned(REBALANCE, line.sku, line.location, move.source, move.quantity, Explanation(
                round(level.demand, 3), level.days, line.policy.service_level, round(level.z, 4),
                round(level.sigma, 3), round(level.safety_stock, 3), level.order_up_to, line.on_hand,
                line.available, line.committed, line.incoming, position, level.order_up_to - position,
                move.quantity, notes, move.lost_before, move.lost_after, move.value, daily_of(line, level.days),
                fill_rate=line.policy.fill_rate,
            )))  # fmt: skip
    return out
