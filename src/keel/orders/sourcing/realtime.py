"""Real-time sourcing, one order at a time: single-node plans first, then the fewest splits, then lowest cost.

The search is bounded so an order costs well under a millisecond at hundreds of nodes: candidates come
from the SKU index (``Network.holders``), a greedy set cover gives the largest split size worth trying,
and each split size tries at most ``policy.search_budget`` node combinations, the most useful nodes first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from math import comb

from keel.orders.sourcing.cost import CostModel, plan_cost, split_cost
from keel.orders.sourcing.filters import Objective, Option, Policy, screen
from keel.orders.sourcing.model import Allocation, Explanation, Network, Order, OrderLine, Plan, RankedPlan

RANKING_SHOWN = 10


@dataclass(frozen=True, slots=True)
class _Scored:
    nodes: tuple[str, ...]
    allocations: tuple[Allocation, ...]
    unfilled_units: int
    late_packages: int
    cost: float


def allocate(demand: dict[str, int], options: Sequence[Option]) -> tuple[list[Allocation], dict[str, int]]:
    """Fill demand from the given nodes, cheapest per unit first, never beyond stock, limits or capacity.

    Returns the allocations and what is left unfilled per SKU. SKUs with the fewest providers go first so
    a shared node's capacity is not spent on a SKU another node could have given.
    """
    left_units = {id(o): o.units for o in options}
    allocations: list[Allocation] = []
    missing: dict[str, int] = {}
    order = sorted(demand, key=lambda s: (sum(1 for o in options if s in o.usable), s))
    ranked = sorted(options, key=lambda o: (o.cost.per_unit, o.km, o.node.code))
    for sku in order:
        need = demand[sku]
        for o in ranked:
            if need == 0:
                break
            give = min(need, o.usable.get(sku, 0), left_units[id(o)])
            if give > 0:
                allocations.append(Allocation(o.node.code, sku, give))
                left_units[id(o)] -= give
                need -= give
        if need:
            missing[sku] = need
    return allocations, missing


def _score(order: Order, demand: dict[str, int], combo: Sequence[Option], model: CostModel) -> _Scored:
    allocations, missing = allocate(demand, combo)
    by_code = {o.node.code: o for o in combo}
    units: dict[str, int] = {}
    for a in allocations:
        units[a.node] = units.get(a.node, 0) + a.qty
    cost = sum(by_code[c].cost.fixed + by_code[c].cost.per_unit * q for c, q in units.items())
    missing_units = sum(missing.values())
    cost += split_cost(order, len(units), model) + model.unfilled_per_unit * missing_units
    late = sum(1 for c in units if by_code[c].cost.is_late)
    return _Scored(tuple(units), tuple(allocations), missing_units, late, cost)


def _key(objective: Objective, s: _Scored) -> tuple[float, ...]:
    if objective is Objective.FEWEST_SPLITS_THEN_COST:
        return (s.unfilled_units, len(s.nodes), s.cost)
    return (s.unfilled_units, s.cost)


def _greedy_cover(demand: dict[str, int], options: list[Option], max_nodes: int) -> list[Option]:
    """Classic set cover: repeatedly take the node giving the most still-needed units, cheaper on ties."""
    remaining = dict(demand)
    chosen: list[Option] = []
    pool = list(options)
    while remaining and pool and len(chosen) < max_nodes:
        gain, best = max(
            ((min(o.units, sum(min(q, o.usable.get(s, 0)) for s, q in remaining.items())), o) for o in pool),
            key=lambda t: (t[0], -t[1].cost.fixed, t[1].node.code),
        )
        if gain <= 0:
            break
        chosen.append(best)
        pool.remove(best)
        _, remaining = allocate(demand, chosen)
    return chosen


def plan_order(
    order: Order,
    network: Network,
    policy: Policy | None = None,
    model: CostModel | None = None,
    *,
    explain: bool = True,
) -> Plan:
    """Source one order against the network's current stock and capacity. Nothing is changed:
    the caller commits the plan (``network.commit(plan)``) once the order is accepted."""
    policy = policy or Policy()
    model = model or CostModel()
    demand = order.demand()
    found = screen(order, network, policy, model)
    options = found.options
    bits = {sku: 1 << i for i, sku in enumerate(demand)}
    mask = {id(o): sum(bits[s] for s in o.usable) for o in options}
    reachable = 0
    for m in mask.values():
        reachable |= m
    scored: dict[frozenset[str], _Scored] = {}

    def consider(combo: Sequence[Option]) -> None:
        s = _score(order, demand, combo, model)
        if s.nodes:
            scored.setdefault(frozenset(s.nodes), s)

    for o in options:
        consider((o,))
    best_single = any(s.unfilled_units == 0 for s in scored.values())
    cover = _greedy_cover(demand, options, policy.max_nodes)
    if cover:
        consider(cover)
    fewest = policy.objective is Objective.FEWEST_SPLITS_THEN_COST
    upper = len(cover) if not best_single else 1
    if not fewest:
        upper = min(policy.max_nodes, max(upper, 1) + 1)
    useful = sorted(options, key=lambda o: (-bin(mask[id(o)]).count("1"), o.cost.fixed, o.node.code))
    for k in range(2, min(upper, policy.max_nodes) + 1):
        width = k
        while width < len(useful) and comb(width + 1, k) <= policy.search_budget:
            width += 1
        for combo in combinations(useful[:width], k):
            union = 0
            for o in combo:
                union |= mask[id(o)]
            if union == reachable:
                consider(combo)
        if fewest and any(s.unfilled_units == 0 and len(s.nodes) <= k for s in scored.values()):
            break

    ranking = sorted(scored.values(), key=lambda s: _key(policy.objective, s))
    if ranking:
        allocations = ranking[0].allocations
        taken: dict[str, int] = {}
        for a in allocations:
            taken[a.sku] = taken.get(a.sku, 0) + a.qty
        unfilled = tuple(OrderLine(s, q - taken.get(s, 0)) for s, q in demand.items() if q > taken.get(s, 0))
    else:
        allocations, unfilled = (), tuple(OrderLine(s, q) for s, q in demand.items())
    explanation = None
    if explain:
        notes = []
        if not options:
            notes.append("no candidate node passed the policy")
        elif best_single:
            notes.append("a single node can ship the whole order")
        elif ranking and ranking[0].unfilled_units == 0:
            notes.append(f"no single node holds the whole order; best plan uses {len(ranking[0].nodes)} nodes")
        elif ranking:
            notes.append("the candidate nodes do not hold enough stock; the rest is unfilled")
        explanation = Explanation(
            candidates=tuple(found.candidates),
            rejections=tuple(found.rejections),
            ranking=tuple(
                RankedPlan(s.nodes, max(0, len(s.nodes) - 1), s.unfilled_units, s.late_packages, round(s.cost, 4))
                for s in ranking[:RANKING_SHOWN]
            ),
            plans_evaluated=len(scored),
            notes=tuple(notes),
        )
    return Plan(
        order_id=order.id,
        strategy="realtime",
        allocations=allocations,
        unfilled=unfilled,
        cost=plan_cost(order, allocations, network.nodes, model),
        explanation=explanation,
    )
