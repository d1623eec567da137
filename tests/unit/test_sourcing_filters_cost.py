"""Sourcing policy filters and the shared cost model (keel.orders.sourcing)."""

from __future__ import annotations

import pytest

from keel.orders.sourcing import (
    Allocation,
    Capability,
    CapabilityFilter,
    CostModel,
    ExcludedNodes,
    Fulfilment,
    LocationKind,
    MaxDistance,
    Network,
    Node,
    NodeCapacity,
    Order,
    OrderLine,
    OrderSources,
    Policy,
    SameCountry,
    StoreProtection,
    Weights,
    haversine_km,
    package_cost,
    plan_cost,
    screen,
)

SHIP = frozenset({Capability.SHIP})
STORE_SHIPS = frozenset({Capability.PICKUP, Capability.SHIP_FROM_STORE})
STORE_PICKUP = frozenset({Capability.PICKUP})


def node(
    code: str, kind: LocationKind = LocationKind.WAREHOUSE, caps: frozenset[Capability] = SHIP, **kw: object
) -> Node:
    defaults: dict[str, object] = {"country": "DE", "lat": 52.52, "lon": 13.405, "capacity": 100, "stock": {}}
    defaults.update(kw)
    return Node(code, kind, capabilities=caps, **defaults)  # type: ignore[arg-type]


def order(fulfilment: Fulfilment = Fulfilment.SHIP_STANDARD, **kw: object) -> Order:
    defaults: dict[str, object] = {
        "id": "O1",
        "channel": "web-de",
        "lines": (OrderLine("A", 1),),
        "lat": 52.52,
        "lon": 13.405,
        "country": "DE",
        "promise_hours": 72.0,
    }
    defaults.update(kw)
    return Order(fulfilment=fulfilment, **defaults)  # type: ignore[arg-type]


def test_capability_needs_a_shipping_node_for_shipped_orders() -> None:
    f = CapabilityFilter()
    assert f.reject(order(), node("WH"), 0) is None
    assert f.reject(order(), node("ST", LocationKind.STORE, STORE_SHIPS), 0) is None
    assert f.reject(order(), node("ST", LocationKind.STORE, STORE_PICKUP), 0) == "store ST cannot ship (ship_standard)"
    assert f.reject(order(Fulfilment.SAME_DAY), node("ST", LocationKind.STORE, STORE_PICKUP), 0) is not None


def test_capability_sends_collected_orders_to_their_pickup_node_only() -> None:
    f = CapabilityFilter()
    pickup = order(Fulfilment.PICKUP, pickup_node="ST")
    assert f.reject(pickup, node("ST", LocationKind.STORE, STORE_PICKUP), 0) is None
    assert f.reject(pickup, node("WH"), 0) == "pickup order is collected at ST"
    assert f.reject(order(Fulfilment.CURBSIDE, pickup_node="WH"), node("WH"), 0) == "WH does not offer pick-up"


def test_same_country() -> None:
    assert SameCountry().reject(order(), node("WH"), 0) is None
    assert SameCountry().reject(order(), node("WH", country="FR"), 0) == "node in FR, order ships to DE"


def test_max_distance_is_tighter_for_same_day() -> None:
    f = MaxDistance()
    assert f.reject(order(), node("WH"), 1500.0) is None
    assert f.reject(order(), node("WH"), 1501.0) == "1501 km away, limit 1500 km for ship_standard"
    assert f.reject(order(Fulfilment.SAME_DAY), node("WH"), 60.0) is None
    assert f.reject(order(Fulfilment.SAME_DAY), node("WH"), 61.0) == "61 km away, limit 60 km for same_day"


def test_store_protection_keeps_the_floor_and_only_for_shipped_orders() -> None:
    f = StoreProtection(min_units=2)
    store = node("ST", LocationKind.STORE, STORE_SHIPS, stock={"A": 3})
    assert f.limit(order(), store, "A", 3) == 1
    assert f.reject(order(), store, 0) is None
    low = node("ST", LocationKind.STORE, STORE_SHIPS, stock={"A": 2})
    assert f.limit(order(), low, "A", 2) == 0
    assert f.reject(order(), low, 0) == "store keeps 2 units; holds A=2"
    pickup = order(Fulfilment.PICKUP, pickup_node="ST")
    assert f.limit(pickup, low, "A", 2) == 2
    assert f.reject(pickup, low, 0) is None
    assert f.limit(order(), node("WH", stock={"A": 1}), "A", 1) == 1


def test_node_capacity_and_headroom() -> None:
    assert NodeCapacity().reject(order(), node("WH", capacity=10, used=9), 0) is None
    assert (
        NodeCapacity().reject(order(), node("WH", capacity=10, used=10), 0) == "used 10 of 10 units today (headroom 0)"
    )
    assert NodeCapacity(headroom=1).reject(order(), node("WH", capacity=10, used=9), 0) is not None
    assert NodeCapacity(headroom=3).units(node("WH", capacity=10, used=2)) == 5


def test_excluded_nodes() -> None:
    f = ExcludedNodes(frozenset({"WH"}))
    assert f.reject(order(), node("WH"), 0) == "WH is excluded by policy"
    assert f.reject(order(), node("WH2"), 0) is None


def test_order_sources_limit_nodes_only_when_the_order_names_some() -> None:
    f = OrderSources()
    assert f.reject(order(), node("WH"), 0) is None  # no sources named: any node of the network
    narrowed = order(sources=frozenset({"WH"}))
    assert f.reject(narrowed, node("WH"), 0) is None
    assert f.reject(narrowed, node("WH2"), 0) == "WH2 is not a source of web-de in DE for this order"
    # and it is part of the default policy, ahead of the distance and stock rules
    net = Network([node("WH", stock={"A": 5}), node("WH2", stock={"A": 5})])
    found = screen(narrowed, net, Policy(), CostModel())
    assert [o.node.code for o in found.options] == ["WH"]
    assert [(r.node, r.filter) for r in found.rejections] == [("WH2", "sources")]


def test_screen_reports_the_first_filter_in_policy_order_and_no_stock() -> None:
    net = Network(
        [
            node("FR-STORE", LocationKind.STORE, STORE_PICKUP, country="FR", stock={"A": 5}),
            node("WH-EMPTY", stock={"A": 1}),
            node("WH", stock={"A": 5}),
        ]
    )
    net.nodes["WH-EMPTY"].stock["A"] = 0  # sold out since the index was built: still a candidate, then rejected
    found = screen(order(lines=(OrderLine("A", 2),)), net, Policy(), CostModel())
    assert [(r.node, r.filter) for r in found.rejections] == [("FR-STORE", "capability"), ("WH-EMPTY", "stock")]
    assert [(o.node.code, o.usable) for o in found.options] == [("WH", {"A": 2})]
    reordered = Policy(filters=(SameCountry(), CapabilityFilter()))
    found = screen(order(lines=(OrderLine("A", 2),)), net, reordered, CostModel())
    assert found.rejections[0].filter == "same_country"


def test_haversine() -> None:
    assert haversine_km(52.52, 13.405, 52.52, 13.405) == 0.0
    assert round(haversine_km(52.52, 13.405, 48.137, 11.575)) == 504  # Berlin - Munich
    assert round(haversine_km(0, 0, 0, 1), 3) == 111.195


def test_package_cost_components() -> None:
    model = CostModel()
    pc = package_cost(order(promise_hours=24.0), node("WH"), 100.0, model)
    assert pc.shipping == pytest.approx(4.0 + 0.4)
    assert pc.handling == 2.0
    assert pc.per_unit == 0.3
    assert pc.transit_hours == pytest.approx(28.0)
    assert pc.late == pytest.approx(10.0 + 0.25 * 4)
    on_time = package_cost(order(promise_hours=48.0), node("WH"), 100.0, model)
    assert on_time.late == 0.0
    express = package_cost(order(Fulfilment.SHIP_EXPRESS, promise_hours=24.0), node("WH"), 600.0, model)
    assert express.transit_hours == pytest.approx(16.0)
    assert express.shipping == pytest.approx(8.0 + 4.8)
    store = package_cost(
        order(Fulfilment.PICKUP, pickup_node="ST"), node("ST", LocationKind.STORE, STORE_PICKUP), 0, model
    )
    assert (store.shipping, store.handling, store.per_unit, store.late) == (0.0, 6.0, 1.2, 0.0)


def test_a_models_weights_scale_its_components() -> None:
    model = CostModel(weights=Weights(late=2.0))
    late = package_cost(order(channel="market-de", promise_hours=24.0), node("WH"), 100.0, model)
    assert late.late == pytest.approx(2 * 11.0)
    assert late.shipping == pytest.approx(CostModel().rates[Fulfilment.SHIP_STANDARD].base + 0.4)


def test_plan_cost_adds_packages_handling_split_and_unfilled() -> None:
    nodes = {"WH": node("WH"), "ST": node("ST", LocationKind.STORE, STORE_SHIPS)}
    o = order(lines=(OrderLine("A", 2), OrderLine("B", 1), OrderLine("C", 1)))
    cost = plan_cost(o, [Allocation("WH", "A", 2), Allocation("ST", "B", 1)], nodes, CostModel())
    assert cost.shipping == pytest.approx(8.0)  # two packages, zero km
    assert cost.handling == pytest.approx(2.0 + 0.6 + 6.0 + 1.2)
    assert cost.split == 3.0
    assert cost.late == 0.0
    assert cost.unfilled == 100.0
    assert cost.total == pytest.approx(8.0 + 9.8 + 3.0 + 100.0)
    assert plan_cost(o, [], nodes, CostModel()).total == 400.0
