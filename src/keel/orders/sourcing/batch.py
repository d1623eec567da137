"""Batch sourcing: a wave of orders optimised jointly as one mixed-integer program (OR-Tools, SCIP).

Variables exist only for (order, node) pairs that passed the policy filters, and only for the few most
useful nodes per order, which keeps a wave of hundreds of orders solvable in seconds. The objective is the
shared cost model, so the program's plans are priced exactly as the real-time and greedy plans are.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from ortools.linear_solver import pywraplp  # type: ignore[import-untyped]  # ships .pyi without py.typed

from keel.orders.sourcing.cost import CostModel, plan_cost, split_cost
from keel.orders.sourcing.filters import Objective, Option, Policy, screen
from keel.orders.sourcing.model import Allocation, Network, Order, OrderLine, Plan

# What staying on its current node is worth to an order being re-planned: a cent a package, enough to
# break ties towards the plan in place, far below any real difference in the cost model.
STAY_BONUS = 0.01


@dataclass(frozen=True)
class WaveResult:
    plans: tuple[Plan, ...]  # in the order of the input orders
    status: str  # "optimal", "feasible" (time limit hit with a solution) or the solver's failure
    objective: float
    bound: float
    seconds: float
    pairs: int  # (order, node) pairs given to the solver


def shortlist(order: Order, options: list[Option], per_order: int, always: Collection[str] = ()) -> list[Option]:
    """The nodes worth a variable: those covering the most lines cheaply, the two cheapest per SKU, and
    ``always`` (an order's current nodes, so re-planning can always keep the plan it has)."""
    ranked = sorted(options, key=lambda o: (-len(o.usable), o.cost.fixed, o.node.code))
    keep = {id(o): o for o in ranked[:per_order]}
    for o in options:
        if o.node.code in always:
            keep.setdefault(id(o), o)
    for sku in order.demand():
        holders = sorted((o for o in options if sku in o.usable), key=lambda o: (o.cost.fixed, o.node.code))
        for o in holders[:2]:
            keep.setdefault(id(o), o)
    return list(keep.values())


def _nested_limits(solver: pywraplp.Solver, entries: list[tuple[int, pywraplp.Variable]]) -> None:
    """Orders whose policies allow different amounts of one shared thing (a node's capacity after a
    headroom, a store's stock above a floor): for every limit L among them, the orders allowed at most L
    take at most L together. The strictest policy is met, and a lenient one may still use the rest."""
    for limit in sorted({limit for limit, _ in entries}):
        row = solver.Constraint(0, max(0, limit))
        for own, v in entries:
            if own <= limit:
                row.SetCoefficient(v, 1)


def plan_wave(
    orders: Sequence[Order],
    network: Network,
    policy: Policy | None = None,
    model: CostModel | None = None,
    *,
    nodes_per_order: int = 10,
    time_limit_s: float = 30.0,
    relative_gap: float = 1e-4,
    solver_name: str = "SCIP",
    incumbent: Mapping[str, Sequence[Allocation]] | None = None,
    policies: Mapping[str, Policy] | None = None,
    models: Mapping[str, CostModel] | None = None,
) -> WaveResult:
    """Plan every order of a wave jointly against the network's stock and capacity; nothing is changed.

    Demand a wave cannot meet is left unfilled at the cost model's unfilled penalty, so the program is
    always feasible. Commit the returned plans in order (``network.commit``). ``policies`` (channel code to
    policy) gives an order its channel's filters and ``models`` its channel's prices and weights; ``policy`` and
    ``model`` serve the other orders.

    ``incumbent`` (order id to its current allocations) re-plans orders that already have a plan: their
    nodes are always offered, the solver starts from that plan, and staying costs ``STAY_BONUS`` less per
    package, so an order moves only for a real saving, not for a tie.
    """
    policy = policy or Policy()
    model = model or CostModel()
    started = time.perf_counter()
    solver = pywraplp.Solver.CreateSolver(solver_name)
    if solver is None:
        raise RuntimeError(f"OR-Tools has no {solver_name} solver in this build")
    inf = solver.infinity()
    objective = solver.Objective()
    demands = [o.demand() for o in orders]
    # x per (order index, node, sku); totals per (node, sku) and per node for the shared limits.
    x: dict[tuple[int, str, str], pywraplp.Variable] = {}
    unfilled: dict[tuple[int, str], pywraplp.Variable] = {}
    stock_rows: dict[tuple[str, str], list[pywraplp.Variable]] = {}
    # (limit, variable) per node and per protected (node, sku): each order brings its own policy's limit.
    protected: dict[tuple[str, str], list[tuple[int, pywraplp.Variable]]] = {}
    units: dict[str, list[tuple[int, pywraplp.Variable]]] = {}
    pairs = 0
    current = incumbent or {}
    hint: dict[pywraplp.Variable, float] = {}
    for i, order in enumerate(orders):
        demand = demands[i]
        mine = {a.node for a in current.get(order.id, ())}
        own = (policies or {}).get(order.channel, policy)
        priced = (models or {}).get(order.channel, model)
        options = shortlist(order, screen(order, network, own, priced).options, nodes_per_order, mine)
        used: list[pywraplp.Variable] = []
        for opt in options:
            code = opt.node.code
            y = solver.BoolVar(f"y{i}_{code}")
            used.append(y)
            pairs += 1
            objective.SetCoefficient(y, opt.cost.fixed - (STAY_BONUS if code in mine else 0.0))
            if mine:
                hint[y] = 1.0 if code in mine else 0.0
            # A package only exists with units in it (else the stay bonus could buy an empty one).
            nonempty = solver.Constraint(-inf, 0)
            nonempty.SetCoefficient(y, 1)
            for sku, give in opt.usable.items():
                v = solver.IntVar(0, give, f"x{i}_{code}_{sku}")
                x[(i, code, sku)] = v
                objective.SetCoefficient(v, opt.cost.per_unit)
                nonempty.SetCoefficient(v, -1)
                link = solver.Constraint(-inf, 0)
                link.SetCoefficient(v, 1)
                link.SetCoefficient(y, -give)
                stock_rows.setdefault((code, sku), []).append(v)
                units.setdefault(code, []).append((opt.units, v))
                held = opt.node.stock.get(sku, 0)
                cap = held
                for f in own.filters:
                    cap = f.limit(order, opt.node, sku, cap)
                if cap < held:
                    # Protected stock (a store's floor) binds the protected orders together, not each alone.
                    protected.setdefault((code, sku), []).append((cap, v))
        # The policy's package limit; a channel that ranks fewest splits first never gets more packages
        # from a re-plan than it has now.
        packages = own.max_nodes
        if mine and own.objective is Objective.FEWEST_SPLITS_THEN_COST:
            packages = min(packages, len(mine))
        if len(used) > packages:
            row = solver.Constraint(0, packages)
            for y in used:
                row.SetCoefficient(y, 1)
        extra = split_cost(order, 2, priced)
        if len(used) > 1 and extra > 0:
            z = solver.NumVar(0, inf, f"z{i}")
            objective.SetCoefficient(z, extra)
            row = solver.Constraint(-inf, 1)
            row.SetCoefficient(z, -1)
            for y in used:
                row.SetCoefficient(y, 1)
        for sku, qty in demand.items():
            u = solver.NumVar(0, qty, f"u{i}_{sku}")
            unfilled[(i, sku)] = u
            objective.SetCoefficient(u, priced.unfilled_per_unit)
            met = solver.Constraint(qty, qty)
            met.SetCoefficient(u, 1)
            for opt in options:
                if (i, opt.node.code, sku) in x:
                    met.SetCoefficient(x[(i, opt.node.code, sku)], 1)
    for (code, sku), vs in stock_rows.items():
        if len(vs) > 1:
            row = solver.Constraint(0, network.nodes[code].stock.get(sku, 0))
            for v in vs:
                row.SetCoefficient(v, 1)
    for entries in [*protected.values(), *units.values()]:
        _nested_limits(solver, entries)
    for i, order in enumerate(orders):
        for a in current.get(order.id, ()):
            if (i, a.node, a.sku) in x:
                hint[x[(i, a.node, a.sku)]] = float(a.qty)
    if hint:
        solver.SetHint(list(hint), list(hint.values()))
    objective.SetMinimization()
    solver.SetTimeLimit(int(time_limit_s * 1000))
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, relative_gap)
    code = solver.Solve(params)
    status = {pywraplp.Solver.OPTIMAL: "optimal", pywraplp.Solver.FEASIBLE: "feasible"}.get(code, f"failed:{code}")
    plans: list[Plan] = []
    solved = code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
    per_order: dict[int, list[Allocation]] = {}
    if solved:
        for (i, node, sku), v in x.items():
            qty = round(v.solution_value())
            if qty > 0:
                per_order.setdefault(i, []).append(Allocation(node, sku, qty))
    for i, order in enumerate(orders):
        allocations = tuple(per_order.get(i, ()))
        taken: dict[str, int] = {}
        for a in allocations:
            taken[a.sku] = taken.get(a.sku, 0) + a.qty
        missing = tuple(OrderLine(s, q - taken.get(s, 0)) for s, q in demands[i].items() if q > taken.get(s, 0))
        cost = plan_cost(order, allocations, network.nodes, (models or {}).get(order.channel, model))
        plans.append(Plan(order.id, "batch", allocations, missing, cost))
    return WaveResult(
        plans=tuple(plans),
        status=status,
        objective=objective.Value() if solved else float("nan"),
        bound=objective.BestBound() if solved else float("nan"),
        seconds=time.perf_counter() - started,
        pairs=pairs,
    )
