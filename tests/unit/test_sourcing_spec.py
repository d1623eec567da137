"""Sourcing policy documents: parsing, every validation error with its path, and the effective document."""

from __future__ import annotations

from typing import Any

import pytest

from keel.orders.sourcing import (
    CapabilityFilter,
    CostModel,
    ExcludedNodes,
    Fulfilment,
    LocationKind,
    MaxDistance,
    NodeCapacity,
    Objective,
    OrderSources,
    Policy,
    Rate,
    SameCountry,
    StoreProtection,
    Transit,
    Weights,
)
from keel.orders.sourcing.spec import default_sourcing, omitted_defaults, parse_sourcing, to_document, with_excluded

FULL = {
    "filters": [
        {"kind": "max_distance", "km": 800, "same_day_km": 40},
        {"kind": "store_protection", "min_units": 3},
        {"kind": "same_country"},
        {"kind": "capacity", "headroom": 20},
        {"kind": "excluded", "nodes": ["ST-DE-9"]},
    ],
    "objective": "lowest_cost",
    "max_nodes": 3,
    "weights": {"split": 2.0, "late": 1.5},
}


def test_a_document_becomes_the_policy_in_its_order_after_the_two_fixed_filters() -> None:
    sourcing, errors = parse_sourcing(FULL)
    assert errors == [] and sourcing is not None
    assert sourcing.policy.filters == (
        CapabilityFilter(),
        OrderSources(),
        MaxDistance(800.0, {Fulfilment.SAME_DAY: 40.0}),
        StoreProtection(min_units=3),
        SameCountry(),
        NodeCapacity(headroom=20),
        ExcludedNodes(frozenset({"ST-DE-9"})),
    )
    assert (sourcing.policy.objective, sourcing.policy.max_nodes) == (Objective.LOWEST_COST, 3)
    assert sourcing.weights == Weights(split=2.0, late=1.5)


def test_without_filters_the_default_filters_apply() -> None:
    sourcing, _ = parse_sourcing({"weights": {"shipping": 0.5}})
    assert sourcing is not None
    assert sourcing.policy == Policy()
    assert sourcing.weights == Weights(shipping=0.5)
    # an empty list means exactly the two fixed filters
    only, _ = parse_sourcing({"filters": []})
    assert only is not None and only.policy.filters == (CapabilityFilter(), OrderSources())


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ([], ""),
        ({"filter": []}, "filter"),
        ({"filters": {"kind": "capacity"}}, "filters"),
        ({"filters": [{"kind": "teleport"}]}, "filters[1].kind"),
        ({"filters": [{"kind": "capacity"}, {"kind": "capacity"}]}, "filters[2].kind"),
        ({"filters": [{"kind": "capacity", "headroom": 1, "speed": 2}]}, "filters[1].speed"),
        ({"filters": [{"kind": "max_distance"}]}, "filters[1].km"),
        ({"filters": [{"kind": "max_distance", "km": -5}]}, "filters[1].km"),
        ({"filters": [{"kind": "max_distance", "km": 10, "same_day_km": "far"}]}, "filters[1].same_day_km"),
        ({"filters": [{"kind": "store_protection", "min_units": 1.5}]}, "filters[1].min_units"),
        ({"filters": [{"kind": "capacity", "headroom": -1}]}, "filters[1].headroom"),
        ({"filters": [{"kind": "excluded", "nodes": "ST-1"}]}, "filters[1].nodes"),
        ({"objective": "fastest"}, "objective"),
        ({"max_nodes": 0}, "max_nodes"),
        ({"max_nodes": True}, "max_nodes"),
        ({"weights": {"speed": 1}}, "weights.speed"),
        ({"weights": {"split": -1}}, "weights.split"),
        ({"weights": [1, 2]}, "weights"),
        ({"filters": [{"kind": ["same_country"]}]}, "filters[1].kind"),
        ({"objective": ["lowest_cost"]}, "objective"),
        ({"objective": {"a": 1}}, "objective"),
    ],
)
def test_every_problem_is_reported_with_its_path(doc: Any, field: str) -> None:
    sourcing, errors = parse_sourcing(doc)
    assert sourcing is None
    assert field in [e.field for e in errors]


def test_all_problems_at_once() -> None:
    _, errors = parse_sourcing({"objective": "x", "max_nodes": 99, "filters": [{"kind": "nope"}]})
    assert [e.field for e in errors] == ["filters[1].kind", "objective", "max_nodes"]


def test_the_effective_document_round_trips() -> None:
    for doc in (FULL, {}, {"filters": [{"kind": "capacity"}]}):
        sourcing, _ = parse_sourcing(doc)
        assert sourcing is not None
        again, errors = parse_sourcing(to_document(sourcing))
        assert errors == [] and again == sourcing
    assert to_document(default_sourcing())["filters"][0] == {"kind": "same_country"}


def test_with_excluded_adds_to_the_policy_exclusions() -> None:
    sourcing, _ = parse_sourcing(FULL)
    assert sourcing is not None
    policy = with_excluded(sourcing.policy, frozenset({"WH-1"}))
    assert [f for f in policy.filters if isinstance(f, ExcludedNodes)] == [
        ExcludedNodes(frozenset({"ST-DE-9", "WH-1"}))
    ]
    assert with_excluded(Policy(), frozenset()) == Policy()


def test_leaving_out_a_built_in_filter_is_pointed_out() -> None:
    assert omitted_defaults({"weights": {"split": 2}}) == []  # no list: the built-in filters apply
    warned = omitted_defaults({"filters": [{"kind": "same_country"}, {"kind": "capacity", "headroom": 5}]})
    assert warned == [
        "max_distance is not listed: no distance limit",
        "store_protection is not listed: stores may ship their last units",
    ]


def test_prices_override_only_what_they_name() -> None:
    doc = {
        "weights": {"split": 2},
        "prices": {
            "rates": {"ship_express": {"base": 6.5, "per_km": 0.006}},
            "transit": {"ship_express": {"dispatch_hours": 4, "km_per_hour": 70}},
            "handling": {"store": {"package": 4.0, "unit": 0.8}},
            "split_penalty": 5,
        },
    }
    sourcing, errors = parse_sourcing(doc)
    assert errors == [] and sourcing is not None
    model, built_in = sourcing.model, CostModel()
    assert model.rates[Fulfilment.SHIP_EXPRESS] == Rate(6.5, 0.006)
    assert model.rates[Fulfilment.SHIP_STANDARD] == built_in.rates[Fulfilment.SHIP_STANDARD]
    assert model.transit[Fulfilment.SHIP_EXPRESS] == Transit(4.0, 70.0)
    assert (model.handling_per_package[LocationKind.STORE], model.handling_per_unit[LocationKind.STORE]) == (4.0, 0.8)
    assert model.handling_per_package[LocationKind.WAREHOUSE] == built_in.handling_per_package[LocationKind.WAREHOUSE]
    assert (model.split_penalty, model.late_penalty) == (5.0, built_in.late_penalty)
    assert model.weights == Weights(split=2.0)  # the channel's weights come with its prices
    again, _ = parse_sourcing(to_document(sourcing))
    assert again == sourcing


@pytest.mark.parametrize(
    ("prices", "field"),
    [
        ([], "prices"),
        ({"discounts": {}}, "prices.discounts"),
        ({"rates": {"pickup": {"base": 1, "per_km": 0}}}, "prices.rates.pickup"),
        ({"rates": {"ship_standard": {"base": 1}}}, "prices.rates.ship_standard"),
        ({"rates": {"ship_standard": {"base": -1, "per_km": 0}}}, "prices.rates.ship_standard.base"),
        ({"transit": {"same_day": {"dispatch_hours": 1, "km_per_hour": 0}}}, "prices.transit.same_day.km_per_hour"),
        ({"handling": {"moon_base": {"package": 1, "unit": 1}}}, "prices.handling.moon_base"),
        ({"late_penalty": "high"}, "prices.late_penalty"),
    ],
)
def test_bad_prices_are_reported_with_their_path(prices: Any, field: str) -> None:
    sourcing, errors = parse_sourcing({"prices": prices})
    assert sourcing is None
    assert field in [e.field for e in errors]
