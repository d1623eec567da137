"""Channel availability policies (keel.channels.model.parse_policy / policy_document)."""

from __future__ import annotations

from typing import Any

import pytest

from keel.channels.model import Policy, Sources, parse_policy, policy_document
from keel.platform.errors import FieldError
from keel.platform.vocabulary import AtpRules


def test_a_full_policy_parses_and_round_trips() -> None:
    raw = {
        "sources": {"DE": {"locations": ["WH-1"], "groups": ["g"]}, "FR": {"groups": ["h"]}},
        "safety_buffer": 2,
        "allocation_pct": 80,
        "max_listed": 0,
        "zero_below": 3,
        "backorder": True,
    }
    policy, errors = parse_policy(raw, ["DE", "FR"])
    assert errors == []
    assert policy == Policy(
        sources={"DE": Sources(("WH-1",), ("g",)), "FR": Sources((), ("h",))},
        rules=AtpRules(safety_buffer=2, allocation_pct=80.0, max_listed=0, zero_below=3, backorder=True),
    )
    document = policy_document(policy)
    assert document["sources"] == {
        "DE": {"locations": ["WH-1"], "groups": ["g"]},
        "FR": {"locations": [], "groups": ["h"]},
    }
    assert parse_policy(document, ["DE", "FR"]) == (policy, [])


def test_an_empty_policy_is_the_default() -> None:
    assert parse_policy({}, ["DE"]) == (Policy(), [])
    assert policy_document(Policy())["max_listed"] is None


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        ({"sources": {"FR": {"locations": ["X"]}}}, "policy.sources.FR", "not one of the channel's countries"),
        ({"sources": {"DE": {}}}, "policy.sources.DE", "name at least one location or group"),
        ({"sources": {"DE": {"locations": [], "groups": None}}}, "policy.sources.DE",
         "name at least one location or group"),
        ({"safety_buffer": -1}, "policy.safety_buffer", "must be an integer >= 0"),
        ({"safety_buffer": "3"}, "policy.safety_buffer", "must be an integer >= 0"),
        ({"safety_buffer": True}, "policy.safety_buffer", "must be an integer >= 0"),
        ({"zero_below": 1.5}, "policy.zero_below", "must be an integer >= 0"),
        ({"max_listed": -5}, "policy.max_listed", "must be an integer >= 0"),
        ({"allocation_pct": 100.5}, "policy.allocation_pct", "must be a number from 0 to 100"),
        ({"allocation_pct": -1}, "policy.allocation_pct", "must be a number from 0 to 100"),
        ({"allocation_pct": "50"}, "policy.allocation_pct", "must be a number from 0 to 100"),
        ({"allocation_pct": False}, "policy.allocation_pct", "must be a number from 0 to 100"),
        ({"backorder": "yes"}, "policy.backorder", "must be true or false"),
        ({"backorder": 1}, "policy.backorder", "must be true or false"),
    ],
)  # fmt: skip
def test_bad_policy_field(raw: dict[str, Any], field: str, reason: str) -> None:
    _, errors = parse_policy(raw, ["DE"])
    assert errors == [FieldError(None, field, reason)]


def test_all_errors_are_reported_together_and_refused_values_fall_back_to_defaults() -> None:
    raw = {"safety_buffer": -1, "allocation_pct": 120, "backorder": "no", "max_listed": -1}
    policy, errors = parse_policy(raw, ["DE"])
    assert [e.field for e in errors] == [
        "policy.safety_buffer",
        "policy.max_listed",
        "policy.allocation_pct",
        "policy.backorder",
    ]
    assert policy == Policy()
