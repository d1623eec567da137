"""The automation guardrails by hand: each limit holds a suggestion with its own reason, the most urgent are
weighed first, the day's value counts what was accepted before; and rules are validated field by field."""

from __future__ import annotations

from keel.planning.model import ACCEPTED, HELD, Automation, Candidate, guard, parse_automation

RULE = Automation(
    "DE", enabled=True, accept_kinds=("transfer", "rebalance"), max_units=20, max_value_per_day=500.0,
    excluded_locations=("ST-X",),
)  # fmt: skip


def cand(n: int, kind: str = "transfer", qty: int = 5, value: float = 100.0, urgency: float = 0.5,
         location: str = "ST-1", source: str = "WH-1") -> Candidate:  # fmt: skip
    return Candidate(n, kind, location, source, qty, value, urgency)


def test_each_limit_holds_with_its_reason_and_the_rest_is_accepted() -> None:
    decisions = {d.suggestion: d for d in guard(RULE, [
        cand(1),
        cand(2, kind="purchase", source="supplier"),
        cand(3, location="ST-X"),
        cand(4, source="ST-X", kind="rebalance"),
        cand(5, qty=21),
        cand(6, qty=20, kind="rebalance"),
    ], spent_today=0.0)}  # fmt: skip
    assert {n: d.action for n, d in decisions.items()} == {
        1: ACCEPTED, 2: HELD, 3: HELD, 4: HELD, 5: HELD, 6: ACCEPTED}  # fmt: skip
    assert decisions[2].reason == "purchase suggestions are not accepted automatically in DE"
    assert decisions[3].reason == decisions[4].reason == "location ST-X is excluded from automation"
    assert decisions[5].reason == "21 units are over the limit of 20 per suggestion"
    assert (
        decisions[6].reason
        == "rebalance of 20 units worth 100.00 is within the limits (200.00 of 500.00 accepted today)"
    )


def test_the_daily_value_counts_earlier_acceptances_and_the_most_urgent_go_first() -> None:
    # 350 already accepted today: room for one more of 100, and the emptier store (urgency 0.1) gets it
    decisions = guard(RULE, [cand(1, urgency=0.9), cand(2, urgency=0.1), cand(3, urgency=0.5, value=60)], 350.0)
    assert [(d.suggestion, d.action) for d in decisions] == [(2, ACCEPTED), (3, HELD), (1, HELD)]
    assert decisions[1].reason == (
        "its value 60.00 would pass the daily limit of 500.00 (450.00 already accepted today)"
    )


def test_a_rule_with_no_acceptance_only_suggests() -> None:
    decisions = guard(Automation("DE", enabled=True), [cand(1), cand(2, kind="purchase")], 0.0)
    assert {d.action for d in decisions} == {HELD}


def test_rules_are_validated_field_by_field() -> None:
    rule, errors = parse_automation("DE", {"enabled": True, "every_minutes": 60, "accept_kinds": ["rebalance"],
                                           "excluded_locations": ["ST-1", "ST-1"], "max_value_per_day": 250},
                                    frozenset({"ST-1"}))  # fmt: skip
    assert errors == []
    assert (rule.every_minutes, rule.accept_kinds, rule.excluded_locations, rule.max_value_per_day) == (
        60, ("rebalance",), ("ST-1",), 250.0)  # fmt: skip
    assert (rule.replenish, rule.rebalance, rule.max_units) == (True, False, 0)  # defaults where not given
    _, errors = parse_automation("DE", {
        "colour": "red", "enabled": "yes", "every_minutes": 0, "max_units": 2**63, "top": 0,
        "max_value_per_day": float("nan"), "accept_kinds": ["gift"], "excluded_locations": ["ST-9"],
        "country": "FR",
    }, frozenset({"ST-1"}))  # fmt: skip
    assert sorted(e.field for e in errors) == sorted([
        "colour", "enabled", "every_minutes", "max_units", "top", "max_value_per_day", "accept_kinds",
        "excluded_locations", "country",
    ])  # fmt: skip
    _, errors = parse_automation("DE", {"enabled": True, "replenish": False}, frozenset())
    assert [(e.field, e.reason) for e in errors] == [
        ("replenish", "an enabled rule re-plans at least one mode (replenish or rebalance)")]  # fmt: skip
