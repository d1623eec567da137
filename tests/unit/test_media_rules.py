"""Ad rules: documents parsed with paths, and one pass of the engine over hand-built facts (keel.media.model)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.media.model.ads import AdState, Guardrails, Level, Platform, Status
from keel.media.model.rules import decide
from keel.media.model.rules_budget import GuardrailSet, clamp_bid, split, stricter
from keel.media.model.rules_doc import (
    BidLadder,
    Condition,
    Metric,
    Op,
    Pause,
    Rule,
    Scope,
    Step,
    Trigger,
    parse_rule,
    rule_document,
)
from keel.media.model.rules_facts import Act, AdFacts, CampaignFacts, Decision
from keel.platform.errors import FieldError

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
OPEN = GuardrailSet()
PAUSE_DOC: dict[str, Any] = {
    "name": "pause when out",
    "trigger": "stock",
    "scope": {"platforms": ["amazon"], "countries": ["DE"]},
    "when": [{"metric": "sellable", "op": "<=", "value": 0}],
    "then": {"action": "pause", "resume_when": [{"metric": "sellable", "op": ">=", "value": 5}]},
    "cooldown_minutes": 60,
}
LADDER_DOC: dict[str, Any] = {
    "name": "ladder",
    "trigger": "schedule",
    "then": {
        "action": "bid_ladder",
        "steps": [{"cover_below": 3, "factor": 0.5}, {"cover_below": 7, "factor": 0.8}],
        "above_factor": 1.1,
    },
}
SHIFT_DOC: dict[str, Any] = {
    "name": "shift",
    "trigger": "schedule",
    "then": {"action": "shift_budget", "to": "same_category", "share_pct": 50},
}
BOOST_DOC: dict[str, Any] = {
    "name": "boost",
    "trigger": "schedule",
    "then": {"action": "boost", "cover_above": 90, "bid_factor": 1.2, "budget_pct": 10},
}


def rule(doc: dict[str, Any], **changes: Any) -> Rule:
    parsed, errors = parse_rule({**doc, **changes})
    assert errors == [] and parsed is not None
    return parsed


def ad(code: str = "AD-1", **kw: Any) -> AdFacts:
    given_: dict[str, Any] = {
        "ad_group": "AG-1",
        "campaign": "C-1",
        "account": "ACC",
        "platform": Platform.AMAZON,
        "country": "DE",
        "region": "DE",
        "set_bid": 100,
        "state": AdState(Status.ENABLED, bid=100),
        "sellable": 10,
        "cover_days": 30.0,
        "category": "shoes",
    }
    return AdFacts(code=code, **{**given_, **kw})


def campaign(code: str, **kw: Any) -> CampaignFacts:
    given_: dict[str, Any] = {
        "account": "ACC",
        "platform": Platform.AMAZON,
        "country": "DE",
        "set_budget": 1000,
        "state": AdState(Status.ENABLED, budget=1000),
        "categories": frozenset({"shoes"}),
        "stocked_categories": frozenset({"shoes"}),
    }
    return CampaignFacts(code=code, **{**given_, **kw})


def applied(facts: AdFacts, decisions: list[Decision]) -> AdFacts:
    """The ad's facts after the caller applied the live decisions (state, holds, last acts)."""
    for d in decisions:
        if d.code == facts.code and d.level is Level.AD and not d.dry_run:
            held = facts.held_by if d.held_by is None else d.held_by
            facts = replace(facts, state=d.after, held_by=held, last_acted={**facts.last_acted, d.rule: NOW})
    return facts


# --- documents ---------------------------------------------------------------------------------------------


def test_a_pause_document_becomes_a_rule_and_back() -> None:
    parsed, errors = parse_rule(PAUSE_DOC)
    assert errors == []
    assert parsed == Rule(
        name="pause when out",
        then=Pause((Condition(Metric.SELLABLE, Op.GE, 5.0),)),
        trigger=Trigger.STOCK,
        when=(Condition(Metric.SELLABLE, Op.LE, 0.0),),
        scope=Scope(platforms=frozenset({Platform.AMAZON}), countries=frozenset({"DE"})),
        cooldown_minutes=60,
    )
    assert parse_rule(rule_document(parsed)) == (parsed, [])
    assert parsed.stock_out_pause is True


def test_a_ladder_document_fills_in_its_defaults() -> None:
    parsed = rule(LADDER_DOC)
    assert parsed.then == BidLadder((Step(3.0, 0.5), Step(7.0, 0.8)), 1.1)
    assert (parsed.priority, parsed.dry_run, parsed.cooldown_minutes, parsed.scope) == (100, False, 0, Scope())
    assert rule_document(parsed)["then"]["above_factor"] == 1.1


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            {
                **PAUSE_DOC,
                "when": [{"metric": "sellable", "op": "<=", "value": 0}, {"metric": "stock", "op": "<", "value": 1}],
            },
            [FieldError(None, "when[2].metric", "one of sellable, cover_days, roas_7d, acos_7d, spend_7d")],
        ),
        (
            {**PAUSE_DOC, "then": {"action": "stop"}},
            [FieldError(None, "then.action", "one of pause, bid_ladder, shift_budget, boost")],
        ),
        (
            {**PAUSE_DOC, "colour": "red"},
            [
                FieldError(
                    None,
                    "colour",
                    "unknown field; allowed: " + ", ".join(sorted(PAUSE_DOC | {"dry_run": 0, "priority": 0})),
                )
            ],
        ),
        (
            {**PAUSE_DOC, "then": {"action": "pause", "resume_after": 5}},
            [FieldError(None, "then.resume_after", "unknown field; allowed: action, resume_when")],
        ),
        (
            {**PAUSE_DOC, "when": [{"metric": "sellable", "op": "<=", "value": "0"}]},
            [FieldError(None, "when[1].value", "a number from -1e+09 to 1e+12")],
        ),
        (
            {**PAUSE_DOC, "when": [{"metric": "sellable", "op": "<=", "value": 0.5}]},
            [FieldError(None, "when[1].value", "a whole number of units")],
        ),
        (
            {**PAUSE_DOC, "when": [{"metric": "roas_7d", "op": "=<", "value": 1, "unit": "x"}]},
            [
                FieldError(None, "when[1].unit", "unknown field; allowed: metric, op, value"),
                FieldError(None, "when[1].op", "one of < <= == >= >"),
            ],
        ),
        ({**PAUSE_DOC, "name": "  "}, [FieldError(None, "name", "a name of 1 to 200 characters")]),
        (
            {**PAUSE_DOC, "cooldown_minutes": -1, "dry_run": "yes", "priority": 1.5},
            [
                FieldError(None, "cooldown_minutes", "a whole number from 0 to 10080"),
                FieldError(None, "priority", "a whole number from 0 to 1000000"),
                FieldError(None, "dry_run", "true or false"),
            ],
        ),
        (
            {**PAUSE_DOC, "scope": {"platforms": ["tiktok"], "countries": ["de"]}},
            [
                FieldError(None, "scope.platforms", "'tiktok' is not one of amazon, google, meta"),
                FieldError(None, "scope.countries", "ISO 3166-1 alpha-2 codes, e.g. DE"),
            ],
        ),
        ({**PAUSE_DOC, "when": []}, [FieldError(None, "when", "a pause needs at least one condition")]),
        ({**PAUSE_DOC, "trigger": "hourly"}, [FieldError(None, "trigger", "one of stock, schedule")]),
        (
            {
                **LADDER_DOC,
                "then": {
                    "action": "bid_ladder",
                    "steps": [{"cover_below": 7, "factor": 0.8}, {"cover_below": 3, "factor": 0}],
                },
            },
            [
                FieldError(None, "then.steps[2].factor", "a number above 0 to 10"),
                FieldError(None, "then.steps[2].cover_below", "steps go up: above the previous step's cover_below"),
            ],
        ),
        (
            {
                **SHIFT_DOC,
                "when": [{"metric": "sellable", "op": "<=", "value": 0}],
                "then": {"action": "shift_budget", "to": "same_shop", "share_pct": 150},
            },
            [
                FieldError(None, "then.to", "one of same_category, same_brand"),
                FieldError(None, "then.share_pct", "a number above 0 to 100"),
                FieldError(None, "when", "shift_budget takes no conditions"),
            ],
        ),
        (
            {**BOOST_DOC, "then": {"action": "boost", "cover_above": 90}},
            [FieldError(None, "then", "a boost changes the bid_factor, the budget_pct or both")],
        ),
        ("pause", [FieldError(None, "", "a JSON object")]),
    ],
)
def test_a_bad_document_is_refused_with_every_error_and_its_path(doc: Any, expected: list[FieldError]) -> None:
    assert parse_rule(doc) == (None, expected)


# --- pause and resume --------------------------------------------------------------------------------------


def test_pause_holds_at_the_threshold_and_not_above_it() -> None:
    # given a pause at sellable <= 0
    pause = rule(PAUSE_DOC)
    # when one ad has exactly 0 and another 1
    decisions = decide([pause], [ad("AD-0", sellable=0), ad("AD-1", sellable=1)], [], OPEN, NOW)
    # then only the first is paused, with its numbers
    assert decisions == [
        Decision(
            rule="pause when out",
            act=Act.PAUSE,
            level=Level.AD,
            code="AD-0",
            account="ACC",
            before=AdState(Status.ENABLED, bid=100),
            after=AdState(Status.PAUSED, bid=100),
            reason="paused AD-0 in DE: sellable 0 <= 0; resumes when sellable >= 5",
            numbers={"sellable": 0, "sellable_threshold": 0.0},
            held_by=frozenset({"pause when out"}),
        )
    ]


def test_hysteresis_does_not_flap_between_one_and_four_units() -> None:
    # given an ad that runs out, then trickles back in one unit at a time
    pause = rule(PAUSE_DOC, cooldown_minutes=0)
    facts = ad(sellable=3)
    acts = []
    for units in (3, 0, 1, 2, 4, 1, 4, 5, 6, 4, 1, 0):
        facts = replace(facts, sellable=units)
        decisions = decide([pause], [facts], [], OPEN, NOW)
        acts.append([d.act for d in decisions])
        facts = applied(facts, decisions)
    # then it pauses once at 0, resumes only at 5 and pauses again only at 0
    assert acts == [[], [Act.PAUSE], [], [], [], [], [], [Act.RESUME], [], [], [], [Act.PAUSE]]


def test_a_person_s_pause_is_never_lifted_by_a_rule() -> None:
    # given an ad a person paused while the rule also held it
    pause = rule(PAUSE_DOC)
    facts = ad(
        sellable=8, operator_status=Status.PAUSED, state=AdState(Status.PAUSED, 100), held_by=frozenset({pause.name})
    )
    # when stock comes back above the resume bound
    [decision] = decide([pause], [facts], [], OPEN, NOW)
    # then the rule lets go, but the ad stays paused
    assert (decision.act, decision.after, decision.held_by) == (Act.RELEASE, AdState(Status.PAUSED, 100), frozenset())
    assert decision.reason == "let go of AD-1 in DE (sellable 8 >= 5); it stays paused: paused by a person"


def test_an_ad_held_by_two_rules_resumes_only_when_both_let_go() -> None:
    # given a stock pause and a performance pause over the same ad
    stock = rule(PAUSE_DOC, cooldown_minutes=0)
    poor = rule(
        PAUSE_DOC,
        name="poor roas",
        when=[{"metric": "roas_7d", "op": "<", "value": 1}],
        then={"action": "pause", "resume_when": [{"metric": "roas_7d", "op": ">=", "value": 2}]},
        scope={},
        cooldown_minutes=0,
    )
    facts = ad(sellable=0, roas_7d=0.5)
    # when both conditions hold
    first = decide([stock, poor], [facts], [], OPEN, NOW)
    # then one pauses and the other adds its hold
    assert [(d.rule, d.act, d.held_by) for d in first] == [
        ("pause when out", Act.PAUSE, frozenset({"pause when out"})),
        ("poor roas", Act.HOLD, frozenset({"pause when out", "poor roas"})),
    ]
    assert first[1].before == first[1].after == AdState(Status.PAUSED, 100)
    # when stock returns but the roas is still poor
    facts = replace(applied(facts, first), sellable=9)
    second = decide([stock, poor], [facts], [], OPEN, NOW)
    assert [(d.act, d.after.status, d.held_by) for d in second] == [
        (Act.RELEASE, Status.PAUSED, frozenset({"poor roas"}))
    ]
    assert second[0].reason == "let go of AD-1 in DE (sellable 9 >= 5); it stays paused: held by poor roas"
    # when the roas recovers too, the ad shows again
    facts = replace(applied(facts, second), roas_7d=2.5)
    [third] = decide([stock, poor], [facts], [], OPEN, NOW)
    assert (third.rule, third.act, third.after.status, third.held_by) == (
        "poor roas",
        Act.RESUME,
        Status.ENABLED,
        frozenset(),
    )


def test_a_pause_without_resume_when_resumes_when_its_condition_stops_holding() -> None:
    plain = rule(PAUSE_DOC, then={"action": "pause"})
    held = ad(sellable=1, state=AdState(Status.PAUSED, 100), held_by=frozenset({plain.name}))
    [decision] = decide([plain], [held], [], OPEN, NOW)
    assert (decision.act, decision.reason) == (Act.RESUME, "resumed AD-1 in DE: sellable 1 <= 0")
    assert decide([plain], [replace(held, sellable=0)], [], OPEN, NOW) == []


# --- cooldown, dry run, exclusion, priority, trigger ----------------------------------------------------------


def test_a_stock_out_pause_is_not_delayed_by_any_cooldown() -> None:
    # given the pause rule resumed the ad ten minutes ago and the ladder changed its bid five minutes ago
    pause, ladder = rule(PAUSE_DOC), rule(LADDER_DOC, cooldown_minutes=60)
    recent = {pause.name: NOW - timedelta(minutes=10), ladder.name: NOW - timedelta(minutes=5)}
    # when it runs out again, it is paused at once
    [decision] = decide([pause, ladder], [ad(sellable=0, cover_days=0.0, last_acted=recent)], [], OPEN, NOW)
    assert (decision.rule, decision.act) == ("pause when out", Act.PAUSE)


def test_a_cooldown_delays_a_resume_and_a_bid_change_of_its_own_rule_only() -> None:
    pause, ladder = rule(PAUSE_DOC), rule(LADDER_DOC, cooldown_minutes=60)
    held = ad(sellable=9, state=AdState(Status.PAUSED, 100), held_by=frozenset({pause.name}))
    assert decide([pause], [replace(held, last_acted={pause.name: NOW - timedelta(minutes=59)})], [], OPEN, NOW) == []
    [resumed] = decide([pause], [replace(held, last_acted={pause.name: NOW - timedelta(minutes=60)})], [], OPEN, NOW)
    assert resumed.act is Act.RESUME
    low = ad(cover_days=2.0)
    assert decide([ladder], [replace(low, last_acted={ladder.name: NOW - timedelta(minutes=30)})], [], OPEN, NOW) == []
    [bid] = decide([ladder], [replace(low, last_acted={"other": NOW - timedelta(minutes=1)})], [], OPEN, NOW)
    assert bid.after.bid == 50


def test_a_dry_run_rule_is_marked_and_does_not_stop_live_rules() -> None:
    # given a dry-run ladder ahead of a live one
    trial = rule(LADDER_DOC, name="trial", dry_run=True, priority=1)
    live = rule(
        LADDER_DOC, name="live", priority=2, then={"action": "bid_ladder", "steps": [{"cover_below": 3, "factor": 0.7}]}
    )
    decisions = decide([live, trial], [ad(cover_days=2.0)], [], OPEN, NOW)
    # then both decide from the same state; only the live one is for sending
    assert [(d.rule, d.dry_run, d.before.bid, d.after.bid) for d in decisions] == [
        ("trial", True, 100, 50),
        ("live", False, 100, 70),
    ]


def test_excluded_campaigns_are_never_acted_on() -> None:
    guard = GuardrailSet({"ACC": Guardrails(excluded_campaigns=("C-1",))})
    facts = [ad("AD-1", sellable=0), ad("AD-2", sellable=0, campaign="C-2")]
    assert [d.code for d in decide([rule(PAUSE_DOC)], facts, [], guard, NOW)] == ["AD-2"]
    global_only = GuardrailSet(everywhere=Guardrails(excluded_campaigns=("C-2",)))
    assert [d.code for d in decide([rule(PAUSE_DOC)], facts, [], global_only, NOW)] == ["AD-1"]


def test_the_first_rule_by_priority_owns_the_bid_even_when_it_changes_nothing() -> None:
    # given a ladder (priority 10) that keeps the bid as it is, and a boost (priority 20)
    keep = rule(
        LADDER_DOC,
        name="keep",
        priority=10,
        then={"action": "bid_ladder", "steps": [{"cover_below": 3, "factor": 0.5}]},
    )
    boost = rule(BOOST_DOC, priority=20, then={"action": "boost", "cover_above": 90, "bid_factor": 1.5})
    overstock = ad(cover_days=200.0)
    # then the boost does not change the bid, so the two never undo each other
    assert decide([boost, keep], [overstock], [], OPEN, NOW) == []
    # and with the priorities the other way round the boost decides
    [bid] = decide([replace(boost, priority=5), keep], [overstock], [], OPEN, NOW)
    assert (bid.rule, bid.after.bid) == ("boost", 150)


def test_no_decision_repeats_the_current_state() -> None:
    pause, ladder = rule(PAUSE_DOC), rule(LADDER_DOC)
    held = ad(sellable=0, state=AdState(Status.PAUSED, 100), held_by=frozenset({pause.name}))
    assert decide([pause], [held], [], OPEN, NOW) == []
    assert decide([ladder], [ad(cover_days=5.0, state=AdState(Status.ENABLED, 80))], [], OPEN, NOW) == []


def test_a_trigger_selects_the_rules_of_a_pass() -> None:
    both = [rule(PAUSE_DOC), rule(LADDER_DOC)]
    out = ad(sellable=0, cover_days=1.0)
    assert [d.rule for d in decide(both, [out], [], OPEN, NOW, trigger=Trigger.STOCK)] == ["pause when out"]
    assert [d.rule for d in decide(both, [out], [], OPEN, NOW, trigger=Trigger.SCHEDULE)] == ["ladder"]


def test_scope_limits_a_rule_to_its_platforms_and_countries() -> None:
    facts = [
        ad("AD-FR", sellable=0, country="FR"),
        ad("AD-G", sellable=0, platform=Platform.GOOGLE),
        ad("AD-DE", sellable=0),
    ]
    assert [d.code for d in decide([rule(PAUSE_DOC)], facts, [], OPEN, NOW)] == ["AD-DE"]


# --- bids ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cover", "bid"),
    [(0.0, 50), (2.99, 50), (3.0, 80), (6.5, 80), (7.0, 110), (None, 110)],
)
def test_the_ladder_sets_the_bid_by_days_of_cover(cover: float | None, bid: int) -> None:
    [decision] = decide([rule(LADDER_DOC)], [ad(cover_days=cover)], [], OPEN, NOW)
    assert decision.after == AdState(Status.ENABLED, bid=bid)


def test_the_ladder_explains_its_step_and_skips_paused_ads() -> None:
    [decision] = decide([rule(LADDER_DOC)], [ad(cover_days=2.5)], [], OPEN, NOW)
    assert decision.reason == "bid 100 -> 50 for AD-1: cover 2.5 days < 3 (0.5 x set bid 100)"
    assert decision.numbers == {
        "cover_days": 2.5,
        "cover_below": 3.0,
        "factor": 0.5,
        "set_bid": 100,
        "bid_before": 100,
        "bid_after": 50,
        "max_bid_factor": 2.0,
    }
    assert decide([rule(LADDER_DOC)], [ad(cover_days=2.5, state=AdState(Status.PAUSED, 100))], [], OPEN, NOW) == []


def test_the_bid_is_clamped_by_the_stricter_max_bid_factor() -> None:
    # given an account band of 1.5x and a global band of 1.25x: the stricter (1.25) holds
    guard = GuardrailSet({"ACC": Guardrails(max_bid_factor=1.5)}, Guardrails(max_bid_factor=1.25))
    [decision] = decide([rule(LADDER_DOC)], [ad(cover_days=1.0)], [], guard, NOW)
    # then 0.5 x 100 = 50 is held at ceil(100 / 1.25) = 80
    assert decision.after.bid == 80
    assert decision.reason == "bid 100 -> 80 for AD-1: cover 1 days < 3 (0.5 x set bid 100, held to 1.25x)"
    assert clamp_bid(101, 3.0, Guardrails(max_bid_factor=2.0)) == (202, True)
    assert clamp_bid(1, 0.1, Guardrails()) == (1, True)


# --- budgets ------------------------------------------------------------------------------------------------


def test_a_shift_moves_budget_within_the_day_cap_to_in_stock_substitutes() -> None:
    # given C-OUT (all ads paused, set 1000), two shoe campaigns in stock, one shoe campaign without stock,
    # one in another country and one of bags
    out = campaign("C-OUT", all_ads_paused=True)
    fellows = [
        campaign("C-A"),
        campaign("C-B", moved_today=250),
        campaign("C-NOSTOCK", stocked_categories=frozenset()),
        campaign("C-FR", country="FR"),
        campaign("C-BAGS", categories=frozenset({"bags"}), stocked_categories=frozenset({"bags"})),
    ]
    # when the rule wants 50% of 1000 = 500 moved, the day cap is 30% = 300
    decisions = decide([rule(SHIFT_DOC)], [], [out, *fellows], OPEN, NOW)
    # then 300 leaves C-OUT: C-B has 300 - 250 = 50 room left, C-A takes the other 250
    assert [(d.code, d.before.budget, d.after.budget, d.needs_approval) for d in decisions] == [
        ("C-OUT", 1000, 700, False),
        ("C-A", 1000, 1250, False),
        ("C-B", 1000, 1050, False),
    ]
    assert decisions[0].reason == (
        "budget 1000 -> 700 for C-OUT: every ad paused by rules; 300 moved to C-A, C-B (50% of the set budget at most)"
    )
    assert decisions[1].numbers["moved"] == 250 and decisions[0].numbers["day_cap"] == 300


def test_a_shift_stops_at_the_minimum_budget_and_at_what_moved_today() -> None:
    strict = GuardrailSet(everywhere=Guardrails(max_budget_change_pct=100, min_budget=800))
    out, fellow = campaign("C-OUT", all_ads_paused=True), campaign("C-A")
    [give, take] = decide([rule(SHIFT_DOC)], [], [out, fellow], strict, NOW)
    assert (give.after.budget, take.after.budget) == (800, 1200)
    # given 300 already taken today under a 30% cap, nothing more moves
    spent = replace(out, state=AdState(Status.ENABLED, budget=700), moved_today=-300)
    assert decide([rule(SHIFT_DOC)], [], [spent, fellow], OPEN, NOW) == []


def test_a_big_shift_waits_for_approval_and_is_not_counted_as_applied() -> None:
    guard = GuardrailSet({"ACC": Guardrails(approval_above=200)})
    decisions = decide([rule(SHIFT_DOC)], [], [campaign("C-OUT", all_ads_paused=True), campaign("C-A")], guard, NOW)
    assert [(d.code, d.after.budget, d.needs_approval) for d in decisions] == [
        ("C-OUT", 700, True),
        ("C-A", 1300, True),
    ]
    assert decisions[0].reason.endswith("; waits for approval above 200")


def test_a_shift_goes_by_brand_when_asked() -> None:
    by_brand = rule(SHIFT_DOC, then={"action": "shift_budget", "to": "same_brand", "share_pct": 10})
    out = campaign("C-OUT", all_ads_paused=True, brands=frozenset({"acme"}))
    same = campaign("C-ACME", categories=frozenset({"bags"}), stocked_brands=frozenset({"acme"}))
    decisions = decide([by_brand], [], [out, same, campaign("C-SHOES")], OPEN, NOW)
    assert [(d.code, d.after.budget) for d in decisions] == [("C-OUT", 900), ("C-ACME", 1100)]


def test_a_shift_is_undone_by_its_rule_once_the_ads_show_again() -> None:
    shift = rule(SHIFT_DOC)
    earlier = {shift.name: NOW - timedelta(hours=2)}
    back = campaign("C-OUT", state=AdState(Status.ENABLED, budget=700), moved_today=-300, last_acted=earlier)
    fed = campaign("C-A", state=AdState(Status.ENABLED, budget=1300), moved_today=300, last_acted=earlier)
    decisions = decide([shift], [], [back, fed], OPEN, NOW)
    assert [(d.code, d.after.budget) for d in decisions] == [("C-A", 1000), ("C-OUT", 1000)]
    # a campaign a later rule changed is not this rule's to undo
    later = {**earlier, "other": NOW - timedelta(minutes=5)}
    assert decide([shift], [], [replace(back, last_acted=later), replace(fed, last_acted=later)], OPEN, NOW) == []


def test_a_boost_raises_bid_and_budget_of_overstocked_ads_and_undoes_itself() -> None:
    boost = rule(BOOST_DOC)
    decisions = decide([boost], [ad(cover_days=120.0), ad("AD-2", cover_days=None)], [campaign("C-1")], OPEN, NOW)
    assert [(d.act, d.code, d.after) for d in decisions] == [
        (Act.BID, "AD-1", AdState(Status.ENABLED, bid=120)),
        (Act.BID, "AD-2", AdState(Status.ENABLED, bid=120)),
        (Act.BUDGET, "C-1", AdState(Status.ENABLED, budget=1100)),
    ]
    assert decisions[0].reason == "bid 100 -> 120 for AD-1: overstock: cover 120 days > 90 (1.2 x set bid 100)"
    # when cover falls back, the rule that boosted (and made the latest change) takes it back
    acted = {boost.name: NOW - timedelta(days=1)}
    boosted = ad(cover_days=60.0, state=AdState(Status.ENABLED, 120), last_acted=acted)
    raised = campaign("C-1", state=AdState(Status.ENABLED, budget=1100), last_acted=acted)
    undone = decide([boost], [boosted], [raised], OPEN, NOW)
    assert [(d.code, d.after.bid, d.after.budget) for d in undone] == [("AD-1", 100, None), ("C-1", None, 1000)]


def test_a_boost_never_lowers_a_budget_and_stays_within_the_day_cap() -> None:
    raised = campaign("C-1", state=AdState(Status.ENABLED, budget=1300))
    assert [d.act for d in decide([rule(BOOST_DOC)], [ad(cover_days=120.0)], [raised], OPEN, NOW)] == [Act.BID]
    # given 95 of a 100 cap (10% of 1000) already added today, only 5 more may go on
    tight = GuardrailSet(everywhere=Guardrails(max_budget_change_pct=10))
    nearly = campaign("C-1", moved_today=95)
    decisions = decide([rule(BOOST_DOC)], [ad(cover_days=120.0)], [nearly], tight, NOW)
    assert [(d.act, d.after) for d in decisions] == [
        (Act.BID, AdState(Status.ENABLED, bid=120)),
        (Act.BUDGET, AdState(Status.ENABLED, budget=1005)),
    ]


def test_a_boost_leaves_campaigns_without_ad_facts_alone() -> None:
    acted = {"boost": NOW - timedelta(days=1)}
    raised = campaign("C-9", state=AdState(Status.ENABLED, budget=1100), last_acted=acted)
    assert decide([rule(BOOST_DOC)], [ad(cover_days=10.0)], [raised], OPEN, NOW) == []


# --- guardrails and arithmetic ------------------------------------------------------------------------------


def test_the_stricter_guardrails_hold() -> None:
    a = Guardrails(
        max_budget_change_pct=50, min_budget=100, approval_above=None, max_bid_factor=3, excluded_campaigns=("X",)
    )
    b = Guardrails(
        max_budget_change_pct=20, min_budget=300, approval_above=5000, max_bid_factor=4, excluded_campaigns=("Y",)
    )
    assert stricter(a, b) == Guardrails(20, 300, 5000, 3, ("X", "Y"))
    assert GuardrailSet().of("ACC") == Guardrails()
    assert GuardrailSet({"ACC": a}).of("ACC") == a


def test_split_fills_the_smallest_rooms_first_and_never_overfills() -> None:
    assert split(300, [50, 1000]) == [50, 250]
    assert split(7, [1, 3, 3]) == [1, 3, 3]
    assert split(5, [10, 10]) == [2, 3]
    assert split(100, [10, 20]) == [10, 20]


@settings(max_examples=200, deadline=None)
@given(
    set_budget=st.integers(0, 100_000),
    budget=st.integers(0, 150_000),
    moved=st.integers(-50_000, 50_000),
    pct=st.floats(0, 100),
    floor=st.integers(0, 20_000),
    share=st.floats(0.01, 100),
    others=st.lists(st.tuples(st.integers(0, 100_000), st.integers(-50_000, 50_000)), min_size=1, max_size=4),
)
def test_a_shift_never_breaks_the_floor_nor_the_day_cap(
    set_budget: int, budget: int, moved: int, pct: float, floor: int, share: float, others: list[tuple[int, int]]
) -> None:
    guard = GuardrailSet(everywhere=Guardrails(max_budget_change_pct=pct, min_budget=floor))
    donor = campaign(
        "C-OUT", set_budget=set_budget, state=AdState(Status.ENABLED, budget), moved_today=moved, all_ads_paused=True
    )
    fellows = [
        campaign(f"C-{i}", set_budget=s, state=AdState(Status.ENABLED, s + m), moved_today=m)
        for i, (s, m) in enumerate(others)
    ]
    shift = rule(SHIFT_DOC, then={"action": "shift_budget", "to": "same_category", "share_pct": share})
    decisions = decide([shift], [], [donor, *fellows], guard, NOW)
    by_code = {c.code: c for c in [donor, *fellows]}
    assert sum((d.after.budget or 0) - (d.before.budget or 0) for d in decisions) == 0
    for d in decisions:
        c, delta = by_code[d.code], (d.after.budget or 0) - (d.before.budget or 0)
        cap = math.floor(Decimal(c.set_budget) * Decimal(str(pct)) / 100)
        assert delta != 0 and abs(c.moved_today + delta) <= max(cap, abs(c.moved_today))
        if delta < 0:
            assert (d.after.budget or 0) >= floor
