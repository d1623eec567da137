"""The batch program against brute force on a small instance, and the bench's deterministic generator."""

from __future__ import annotations

from itertools import product

import pytest

from keel.bench.orders import bench_models, build_nodes, generate_orders
from keel.orders.sourcing import (
    Allocation,
    Capability,
    CostModel,
    ExcludedNodes,
    Fulfilment,
    LocationKind,
    Network,
    Node,
    NodeCapacity,
    Objective,
    Order,
    OrderLine,
    Policy,
    StoreProtection,
    plan_cost,
    plan_order,
    screen,
)
from keel.orders.sourcing.batch import plan_wave
from keel.sim.world import Scale, generate

SHIP = frozenset({Capability.SHIP})
STORE_SHIPS = frozenset({Capability.PICKUP, Capability.SHIP_FROM_STORE})


def network() -> Network:
    return Network(
        [
            Node("WH-BER", LocationKind.WAREHOUSE, "DE", 52.52, 13.405, SHIP, 2, 0, {"A": 1, "B": 1}),
            Node("WH-HAM", LocationKind.WAREHOUSE, "DE", 53.551, 9.994, SHIP, 10, 0, {"A": 2, "B": 1}),
            Node("ST-BER", LocationKind.STORE, "DE", 52.53, 13.40, STORE_SHIPS, 10, 0, {"A": 3}),
            Node("WH-MUC", LocationKind.WAREHOUSE, "DE", 48.137, 11.575, SHIP, 10, 0, {"B": 2}),
        ]
    )


def orders() -> list[Order]:
    def o(i: str, skus: str, fulfilment: Fulfilment, promise: float, channel: str = "web-de") -> Order:
        return Order(i, channel, tuple(OrderLine(s, 1) for s in skus), 52.5, 13.4, "DE", fulfilment, promise)

    return [
        o("O1", "AB", Fulfilment.SHIP_STANDARD, 72.0),
        o("O2", "A", Fulfilment.SHIP_EXPRESS, 12.0),
        o("O3", "AB", Fulfilment.SHIP_STANDARD, 36.0, "market-de"),
        o("O4", "B", Fulfilment.SHIP_EXPRESS, 24.0),
    ]


def brute_force(net: Network, wave: list[Order], policy: Policy, models: dict[str, CostModel]) -> float:
    """Every assignment of every unit to a permitted node or to nobody; the cheapest legal one."""
    lines = [(i, line.sku) for i, o in enumerate(wave) for line in o.lines]
    allowed = []
    for i, sku in lines:
        model = models[wave[i].channel]
        usable = {opt.node.code for opt in screen(wave[i], net, policy, model).options if sku in opt.usable}
        allowed.append([*sorted(usable), None])
    best = float("inf")
    for choice in product(*allowed):
        taken: dict[tuple[str, str], int] = {}
        units: dict[str, int] = {}
        for (_, sku), code in zip(lines, choice, strict=True):
            if code is not None:
                taken[(code, sku)] = taken.get((code, sku), 0) + 1
                units[code] = units.get(code, 0) + 1
        if any(q > net.nodes[c].stock.get(s, 0) for (c, s), q in taken.items()):
            continue
        if any(q > net.nodes[c].capacity_left for c, q in units.items()):
            continue
        if taken.get(("ST-BER", "A"), 0) > 3 - 2:  # store protection across the wave (all orders ship)
            continue
        total = 0.0
        for i, o in enumerate(wave):
            allocs = [Allocation(c, s, 1) for (j, s), c in zip(lines, choice, strict=True) if j == i and c]
            total += plan_cost(o, allocs, net.nodes, models[o.channel]).total
        best = min(best, total)
    return best


def test_the_batch_program_matches_brute_force() -> None:
    net, wave, policy = network(), orders(), Policy()
    models = bench_models(wave)  # market-de weighs lateness double
    result = plan_wave(wave, net, policy, models=models)
    assert result.status == "optimal"
    total = sum(p.cost.total for p in result.plans)
    assert total == pytest.approx(brute_force(net, wave, policy, models), abs=1e-6)
    assert result.objective == pytest.approx(total, abs=1e-6)
    for plan in result.plans:  # the plans fit the stock together
        net.commit(plan)
    assert all(qty >= 0 for n in net.nodes.values() for qty in n.stock.values())
    assert net.nodes["ST-BER"].stock["A"] >= 2


def test_real_time_plans_are_never_cheaper_than_the_batch_optimum() -> None:
    net, wave = network(), orders()
    models = bench_models(wave)
    optimum = sum(p.cost.total for p in plan_wave(wave, net.copy(), Policy(), models=models).plans)
    realtime = 0.0
    for o in wave:
        plan = plan_order(o, net, Policy(), models[o.channel])
        net.commit(plan)
        realtime += plan.cost.total
    assert realtime >= optimum - 1e-6


def test_a_wave_with_no_stock_leaves_everything_unfilled() -> None:
    net = Network([Node("WH", LocationKind.WAREHOUSE, "DE", 52.5, 13.4, SHIP, 10, 0, {"Z": 1})])
    result = plan_wave(orders()[:1], net, Policy(), CostModel())
    assert result.plans[0].allocations == ()
    assert result.plans[0].unfilled == (OrderLine("A", 1), OrderLine("B", 1))
    assert result.plans[0].cost.total == 200.0


def test_the_order_generator_is_deterministic() -> None:
    world = generate(42, Scale(skus=500, locations=60))
    first = generate_orders(build_nodes(world), 200, seed=3)
    again = generate_orders(build_nodes(generate(42, Scale(skus=500, locations=60))), 200, seed=3)
    assert first == again
    assert len(first) == 200
    assert first != generate_orders(build_nodes(world), 200, seed=4)
    assert {o.fulfilment for o in first} == set(Fulfilment)
    assert all(1 <= len(o.lines) <= 4 for o in first)
    pickup = [o for o in first if o.fulfilment.collected]
    assert all(o.pickup_node is not None for o in pickup)


def test_an_incumbent_plan_is_always_offered_and_kept_on_ties() -> None:
    # given a Munich customer for B (held in Berlin, Hamburg and Munich) and a shortlist of one node, the
    # program sees the best node plus the two cheapest holders of B: Munich and Berlin, not Hamburg
    net = network()
    wave = [Order("K1", "web-de", (OrderLine("B", 1),), 48.137, 11.575, "DE", Fulfilment.SHIP_STANDARD, 72.0)]
    narrow = plan_wave(wave, net, nodes_per_order=1)
    # when the order already ships from Hamburg, Hamburg is offered too (a re-plan can always stay put)
    kept = plan_wave(wave, net, nodes_per_order=1, incumbent={"K1": [Allocation("WH-HAM", "B", 1)]})
    assert (narrow.pairs, kept.pairs) == (2, 3)
    assert [a.node for p in kept.plans for a in p.allocations] == ["WH-MUC"]  # a real saving still moves it


def test_a_tie_keeps_the_incumbent() -> None:
    # two identical warehouses at the same spot: whichever holds the order now keeps it
    twins = Network(
        [
            Node("WH-A", LocationKind.WAREHOUSE, "DE", 52.52, 13.405, SHIP, 10, 0, {"A": 5}),
            Node("WH-B", LocationKind.WAREHOUSE, "DE", 52.52, 13.405, SHIP, 10, 0, {"A": 5}),
        ]
    )
    wave = [Order("T1", "web-de", (OrderLine("A", 1),), 52.52, 13.405, "DE", Fulfilment.SHIP_STANDARD, 72.0)]
    for code in ("WH-A", "WH-B"):
        result = plan_wave(wave, twins, incumbent={"T1": [Allocation(code, "A", 1)]})
        assert [a.node for p in result.plans for a in p.allocations] == [code]


def test_each_order_gets_its_channels_policy() -> None:
    # the same Berlin order from two channels; only market-de excludes the Berlin warehouse
    net = network()
    line = (OrderLine("B", 1),)
    wave = [
        Order("M1", "market-de", line, 52.52, 13.405, "DE", Fulfilment.SHIP_STANDARD, 72.0),
        Order("W1", "web-de", line, 52.52, 13.405, "DE", Fulfilment.SHIP_STANDARD, 72.0),
    ]
    strict = Policy(filters=(*Policy().filters[:-1], ExcludedNodes(frozenset({"WH-BER"}))))
    result = plan_wave(wave, net, policies={"market-de": strict})
    chosen = {p.order_id: {a.node for a in p.allocations} for p in result.plans}
    assert chosen["W1"] == {"WH-BER"}
    assert "WH-BER" not in chosen["M1"] and chosen["M1"]


def _with(policy_filter: object) -> Policy:
    """The default policy with one filter replaced by ``policy_filter`` of the same type."""
    return Policy(filters=tuple(policy_filter if type(f) is type(policy_filter) else f for f in Policy().filters))  # type: ignore[misc]


def test_a_wave_keeps_the_channels_package_limit() -> None:
    # one node holds both lines; two nearer nodes hold one line each
    net = Network(
        [
            Node("WH-MUC", LocationKind.WAREHOUSE, "DE", 48.137, 11.575, SHIP, 100, 0, {"A": 5, "B": 5}),
            Node("WH-A", LocationKind.WAREHOUSE, "DE", 52.52, 13.405, SHIP, 100, 0, {"A": 5}),
            Node("WH-B", LocationKind.WAREHOUSE, "DE", 52.52, 13.405, SHIP, 100, 0, {"B": 5}),
        ]
    )
    lines = (OrderLine("A", 1), OrderLine("B", 1))
    late = Order("O1", "one-parcel", lines, 52.52, 13.405, "DE", Fulfilment.SHIP_STANDARD, 30.0)
    whole = [Allocation("WH-MUC", "A", 1), Allocation("WH-MUC", "B", 1)]
    # lowest cost with no limit would split into the two Berlin nodes (the Munich parcel is late)
    free = plan_wave([late], net, policies={"one-parcel": Policy(objective=Objective.LOWEST_COST)})
    assert set(free.plans[0].nodes) == {"WH-A", "WH-B"}
    for policy in (Policy(max_nodes=1, objective=Objective.LOWEST_COST), Policy()):
        # a one-parcel channel, or one ranking fewest splits first with a one-parcel plan in place, stays whole
        kept = plan_wave([late], net, policies={"one-parcel": policy}, incumbent={"O1": whole})
        assert kept.plans[0].nodes == ("WH-MUC",)


def test_mixed_capacity_headrooms_in_one_wave() -> None:
    # a node that may pick 25 units today; one channel keeps 20 of them back, the other none
    net = Network([Node("WH", LocationKind.WAREHOUSE, "DE", 52.52, 13.405, SHIP, 25, 0, {"A": 100})])
    lenient = Order("L", "h0", (OrderLine("A", 10),), 52.52, 13.405, "DE", Fulfilment.SHIP_STANDARD, 72.0)
    strict = Order("S", "h20", (OrderLine("A", 10),), 52.52, 13.405, "DE", Fulfilment.SHIP_STANDARD, 72.0)
    policies = {"h0": _with(NodeCapacity(headroom=0)), "h20": _with(NodeCapacity(headroom=20))}
    for wave in ([lenient, strict], [strict, lenient]):  # the order of the wave does not matter
        got = {p.order_id: sum(a.qty for a in p.allocations) for p in plan_wave(wave, net, policies=policies).plans}
        assert got == {"L": 10, "S": 5}


def test_mixed_store_floors_in_one_wave() -> None:
    # a store with 10 units; one channel keeps 8 on the shelf, the other 2
    ships = frozenset({Capability.SHIP_FROM_STORE})
    net = Network([Node("ST", LocationKind.STORE, "DE", 52.52, 13.405, ships, 300, 0, {"A": 10})])
    low = Order("L", "lo", (OrderLine("A", 5),), 52.52, 13.405, "DE", Fulfilment.SHIP_STANDARD, 72.0)
    high = Order("H", "hi", (OrderLine("A", 2),), 52.52, 13.405, "DE", Fulfilment.SHIP_STANDARD, 72.0)
    policies = {"lo": _with(StoreProtection(min_units=2)), "hi": _with(StoreProtection(min_units=8))}
    for wave in ([low, high], [high, low]):
        got = {p.order_id: sum(a.qty for a in p.allocations) for p in plan_wave(wave, net, policies=policies).plans}
        # the strict channel may take only what is above its floor of 8 (2 units); both fit under the lenient
        # floor together, as if the strict order had picked first
        assert got == {"L": 5, "H": 2}
    greedy_high = Order("H", "hi", (OrderLine("A", 4),), 52.52, 13.405, "DE", Fulfilment.SHIP_STANDARD, 72.0)
    got = {
        p.order_id: sum(a.qty for a in p.allocations) for p in plan_wave([greedy_high], net, policies=policies).plans
    }
    assert got == {"H": 2}


def test_each_order_is_priced_by_its_channels_model() -> None:
    # the same Berlin order for A from two channels; one channel's contract makes warehouses dear, so it
    # ships from the Berlin store while the other ships from the Berlin warehouse
    net = network()
    line = (OrderLine("A", 1),)
    wave = [
        Order("D1", "dear-de", line, 52.52, 13.405, "DE", Fulfilment.SHIP_STANDARD, 72.0),
        Order("W1", "web-de", line, 52.52, 13.405, "DE", Fulfilment.SHIP_STANDARD, 72.0),
    ]
    dear = CostModel(handling_per_package={**CostModel().handling_per_package, LocationKind.WAREHOUSE: 50.0})
    result = plan_wave(wave, net, models={"dear-de": dear})
    chosen = {p.order_id: {a.node for a in p.allocations} for p in result.plans}
    assert chosen == {"D1": {"ST-BER"}, "W1": {"WH-BER"}}
