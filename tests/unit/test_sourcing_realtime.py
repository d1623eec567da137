"""Real-time sourcing on hand-built networks with known best answers, and the greedy baseline."""

from __future__ import annotations

import pytest

from keel.orders.sourcing import (
    Allocation,
    Capability,
    CostModel,
    Fulfilment,
    LocationKind,
    Network,
    Node,
    Objective,
    Order,
    OrderLine,
    Plan,
    Policy,
    Rejection,
    describe,
    plan_cost,
    plan_greedy,
    plan_order,
)

BERLIN = (52.52, 13.405)
HAMBURG = (53.551, 9.994)  # ~255 km from Berlin
MUNICH = (48.137, 11.575)  # ~504 km from Berlin
PARIS = (48.857, 2.352)


def wh(
    code: str, at: tuple[float, float], stock: dict[str, int], country: str = "DE", capacity: int = 1000, used: int = 0
) -> Node:
    return Node(
        code, LocationKind.WAREHOUSE, country, at[0], at[1], frozenset({Capability.SHIP}), capacity, used, stock
    )


def store(code: str, at: tuple[float, float], stock: dict[str, int], ships: bool = True) -> Node:
    caps = {Capability.PICKUP} | ({Capability.SHIP_FROM_STORE} if ships else set())
    return Node(code, LocationKind.STORE, "DE", at[0], at[1], frozenset(caps), 100, 0, dict(stock))


def order(*lines: tuple[str, int], fulfilment: Fulfilment = Fulfilment.SHIP_STANDARD, **kw: object) -> Order:
    return Order(
        str(kw.get("id", "O1")),
        str(kw.get("channel", "web-de")),
        tuple(OrderLine(s, q) for s, q in lines),
        BERLIN[0],
        BERLIN[1],
        "DE",
        fulfilment,
        kw.get("promise_hours", 72.0),  # type: ignore[arg-type]
        kw.get("pickup_node"),  # type: ignore[arg-type]
    )


def rejected(plan: Plan) -> dict[str, str]:
    assert plan.explanation is not None
    return {r.node: r.filter for r in plan.explanation.rejections}


def test_a_single_node_beats_a_split_of_nearer_nodes() -> None:
    net = Network(
        [wh("WH-MUC", MUNICH, {"A": 5, "B": 5}), wh("WH-BER", BERLIN, {"A": 5}), wh("WH-HAM", HAMBURG, {"B": 5})]
    )
    plan = plan_order(order(("A", 1), ("B", 1)), net)
    assert plan.allocations == (Allocation("WH-MUC", "A", 1), Allocation("WH-MUC", "B", 1))
    assert plan.splits == 0 and plan.complete
    assert plan.explanation is not None
    assert plan.explanation.ranking[0].nodes == ("WH-MUC",)
    assert plan.explanation.notes == ("a single node can ship the whole order",)
    assert {c.node for c in plan.explanation.candidates} == {"WH-MUC", "WH-BER", "WH-HAM"}
    assert plan.cost == plan_cost(order(("A", 1), ("B", 1)), plan.allocations, net.nodes, CostModel())


def test_fewest_splits_first_but_lowest_cost_objective_may_split() -> None:
    net = Network(
        [wh("WH-MUC", MUNICH, {"A": 5, "B": 5}), wh("WH-BER", BERLIN, {"A": 5}), wh("WH-BER2", BERLIN, {"B": 5})]
    )
    tight = order(("A", 1), ("B", 1), promise_hours=36.0)  # Munich standard transit is 44 h: late
    assert plan_order(tight, net).nodes == ("WH-MUC",)
    cheapest = plan_order(tight, net, Policy(objective=Objective.LOWEST_COST))
    assert set(cheapest.nodes) == {"WH-BER", "WH-BER2"}
    assert cheapest.cost.total < plan_order(tight, net).cost.total


def test_no_single_node_gives_the_fewest_splits() -> None:
    net = Network(
        [
            wh("WH-BER", BERLIN, {"A": 5}),
            wh("WH-HAM", HAMBURG, {"B": 5, "C": 5}),
            wh("WH-MUC", MUNICH, {"C": 5}),
            wh("WH-MUC2", MUNICH, {"A": 5}),
        ]
    )
    plan = plan_order(order(("A", 1), ("B", 1), ("C", 1)), net)
    assert set(plan.nodes) == {"WH-BER", "WH-HAM"}  # the other 2-node covers are further away
    assert plan.splits == 1
    assert plan.explanation is not None
    assert plan.explanation.notes == ("no single node holds the whole order; best plan uses 2 nodes",)


def test_store_protection_rejects_a_store_at_its_floor() -> None:
    net = Network([store("ST-BER", BERLIN, {"A": 2}), wh("WH-MUC", MUNICH, {"A": 10})])
    plan = plan_order(order(("A", 1)), net)
    assert plan.nodes == ("WH-MUC",)
    assert plan.explanation is not None
    assert Rejection("ST-BER", "store_protection", "store keeps 2 units; holds A=2") in plan.explanation.rejections


def test_capacity_rejects_a_full_node_and_limits_a_nearly_full_one() -> None:
    net = Network(
        [
            wh("WH-BER", BERLIN, {"A": 10}, capacity=5, used=5),
            wh("WH-BER2", BERLIN, {"A": 10}, capacity=5, used=4),
            wh("WH-HAM", HAMBURG, {"A": 10}),
        ]
    )
    plan = plan_order(order(("A", 3)), net)
    assert plan.allocations == (Allocation("WH-HAM", "A", 3),)
    assert rejected(plan) == {"WH-BER": "capacity"}


def test_express_lateness_changes_the_choice() -> None:
    net = Network([store("ST-BER", (52.53, 13.40), {"A": 10}), wh("WH-MUC", MUNICH, {"A": 10})])
    standard = plan_order(order(("A", 1), promise_hours=72.0), net)
    relaxed = plan_order(order(("A", 1), fulfilment=Fulfilment.SHIP_EXPRESS, promise_hours=24.0), net)
    tight = plan_order(order(("A", 1), fulfilment=Fulfilment.SHIP_EXPRESS, promise_hours=12.0), net)
    assert standard.nodes == ("WH-MUC",)
    assert relaxed.nodes == ("WH-MUC",)  # 6 h + 504 km at 60 km/h = 14.4 h: on time
    assert tight.nodes == ("ST-BER",)  # the warehouse would miss a 12 h promise
    assert tight.explanation is not None
    assert [(p.nodes, p.late_packages) for p in tight.explanation.ranking] == [(("ST-BER",), 0), (("WH-MUC",), 1)]


def test_the_explanation_names_the_rejecting_filter() -> None:
    net = Network(
        [
            wh("WH-PAR", PARIS, {"A": 10}, country="FR"),
            store("ST-BER", BERLIN, {"A": 10}, ships=False),
            wh("WH-MUC", MUNICH, {"A": 10}),
        ]
    )
    plan = plan_order(order(("A", 1)), net, Policy())
    assert rejected(plan) == {"WH-PAR": "same_country", "ST-BER": "capability"}
    text = "\n".join(describe(plan))
    assert "rejected WH-PAR: same_country: node in FR, order ships to DE" in text
    assert "rejected ST-BER: capability: store ST-BER cannot ship (ship_standard)" in text


def test_never_more_than_stock_and_the_rest_unfilled() -> None:
    net = Network([wh("WH-BER", BERLIN, {"A": 3}), wh("WH-HAM", HAMBURG, {"A": 3})])
    plan = plan_order(order(("A", 5)), net)
    assert plan.allocations == (Allocation("WH-BER", "A", 3), Allocation("WH-HAM", "A", 2))
    short = plan_order(order(("A", 8)), net)
    assert sum(a.qty for a in short.allocations) == 6
    assert short.unfilled == (OrderLine("A", 2),)
    assert short.cost.unfilled == 200.0


def test_planning_changes_nothing_and_commit_is_all_or_nothing() -> None:
    net = Network([wh("WH-BER", BERLIN, {"A": 3, "B": 1}, capacity=10)])
    plan = plan_order(order(("A", 2), ("B", 1)), net)
    assert net.nodes["WH-BER"].stock == {"A": 3, "B": 1} and net.nodes["WH-BER"].used == 0
    net.commit(plan)
    assert net.nodes["WH-BER"].stock == {"A": 1, "B": 0} and net.nodes["WH-BER"].used == 3
    with pytest.raises(ValueError, match="beyond its stock"):
        net.commit(plan)
    assert net.nodes["WH-BER"].stock == {"A": 1, "B": 0} and net.nodes["WH-BER"].used == 3


def test_pickup_is_served_by_the_pickup_store_without_shipping() -> None:
    net = Network([store("ST-BER", BERLIN, {"A": 1}, ships=False), wh("WH-BER", BERLIN, {"A": 9})])
    plan = plan_order(order(("A", 1), fulfilment=Fulfilment.PICKUP, pickup_node="ST-BER", promise_hours=4.0), net)
    assert plan.allocations == (Allocation("ST-BER", "A", 1),)
    assert plan.cost.shipping == 0.0
    assert rejected(plan) == {"WH-BER": "capability"}


def test_greedy_takes_each_line_from_the_nearest_node_holding_it() -> None:
    net = Network(
        [
            store("ST-BER", (52.53, 13.40), {"A": 5}),
            wh("WH-HAM", HAMBURG, {"B": 5}),
            wh("WH-MUC", MUNICH, {"A": 5, "B": 5}),
            wh("WH-BER", BERLIN, {"A": 1}),
        ]
    )
    o = order(("A", 2), ("B", 1))
    greedy = plan_greedy(o, net)
    assert greedy.allocations == (Allocation("ST-BER", "A", 2), Allocation("WH-HAM", "B", 1))
    assert greedy.cost == plan_cost(o, greedy.allocations, net.nodes, CostModel())
    assert plan_order(o, net).nodes == ("WH-MUC",)
    assert plan_order(o, net).cost.total < greedy.cost.total
