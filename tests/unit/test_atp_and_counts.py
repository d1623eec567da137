"""ATP arithmetic (atp_quantity, explain_atp) and cycle-count variance / accuracy."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.inventory.model import (
    Atp,
    AtpRules,
    AtpStep,
    Contribution,
    accuracy,
    atp_quantity,
    count_variance,
    explain_atp,
)

MARKET = AtpRules(safety_buffer=2, allocation_pct=50, max_listed=20, zero_below=3)


def test_explain_lists_contributions_and_what_each_rule_removed() -> None:
    # given 30 + 4 available and -5 (a count shortage) at three locations
    atp = explain_atp([("A", 30), ("B", 4), ("C", -5)], MARKET)
    # then negatives count as zero, and 34 -> 32 -> 16 -> 16 -> 16
    assert atp == Atp(
        quantity=16,
        backorder=False,
        contributions=(Contribution("A", 30, 30), Contribution("B", 4, 4), Contribution("C", -5, 0)),
        steps=(
            AtpStep("pooled from source locations", 0, 34),
            AtpStep("safety buffer 2", 2, 32),
            AtpStep("allocation 50%", 16, 16),
            AtpStep("maximum listed 20", 0, 16),
        ),
    )


def test_cap_and_zero_below() -> None:
    assert explain_atp([("A", 100)], MARKET).steps[-1] == AtpStep("maximum listed 20", 29, 20)
    low = explain_atp([("A", 7)], MARKET)  # 7 -> 5 -> 2 -> 2 -> below 3 -> 0
    assert low.quantity == 0
    assert low.steps[-1] == AtpStep("zero below 3", 2, 0)


def test_buffer_never_goes_below_zero_and_backorder_is_carried() -> None:
    atp = explain_atp([("A", 1)], AtpRules(safety_buffer=5, backorder=True))
    assert (atp.quantity, atp.backorder) == (0, True)
    assert atp.steps[1] == AtpStep("safety buffer 5", 1, 0)


def test_no_sources_means_zero() -> None:
    assert explain_atp([], AtpRules()).steps == (
        AtpStep("pooled from source locations", 0, 0),
        AtpStep("safety buffer 0", 0, 0),
        AtpStep("allocation 100%", 0, 0),
    )


@pytest.mark.parametrize(
    ("pooled", "rules", "expected"),
    [
        (10, AtpRules(), 10),
        (10, AtpRules(allocation_pct=33.3), 3),
        (3, AtpRules(allocation_pct=50), 1),
        (10, AtpRules(max_listed=0), 0),
        (5, AtpRules(zero_below=5), 5),
        (4, AtpRules(zero_below=5), 0),
        (0, AtpRules(allocation_pct=0), 0),
    ],
)
def test_atp_quantity_examples(pooled: int, rules: AtpRules, expected: int) -> None:
    assert atp_quantity(pooled, rules) == expected


rules_strategy = st.builds(
    AtpRules,
    safety_buffer=st.integers(0, 50),
    allocation_pct=st.one_of(st.integers(0, 100).map(float), st.floats(0, 100, allow_nan=False)),
    max_listed=st.none() | st.integers(0, 200),
    zero_below=st.integers(0, 30),
    backorder=st.booleans(),
)
stock_strategy = st.lists(st.tuples(st.text("ABC", min_size=1, max_size=3), st.integers(-50, 500)), max_size=8)


@settings(max_examples=400, deadline=None)
@given(stock_strategy, rules_strategy)
def test_explain_agrees_with_atp_quantity(stock: list[tuple[str, int]], rules: AtpRules) -> None:
    atp = explain_atp(stock, rules)
    pooled = sum(max(0, a) for _, a in stock)
    assert atp.quantity == atp_quantity(pooled, rules)
    assert atp.backorder is rules.backorder
    assert [c.counted for c in atp.contributions] == [max(0, a) for _, a in stock]
    # every step removes a non-negative amount from the previous result, ending at the quantity
    assert atp.steps[0].result == pooled
    for previous, step in zip(atp.steps, atp.steps[1:], strict=False):
        assert step.removed >= 0
        assert step.result == previous.result - step.removed
    assert atp.steps[-1].result == atp.quantity
    assert 0 <= atp.quantity <= pooled
    if rules.max_listed is not None:
        assert atp.quantity <= rules.max_listed


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000), rules_strategy)
def test_atp_is_monotonic_in_stock(a: int, b: int, rules: AtpRules) -> None:
    low, high = sorted((a, b))
    assert atp_quantity(low, rules) <= atp_quantity(high, rules)


# -- counts ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("book", "counted", "pct", "variance", "within"),
    [
        (100, 100, 2.0, 0, True),
        (100, 98, 2.0, -2, True),
        (100, 102, 2.0, 2, True),
        (100, 97, 2.0, -3, False),
        (100, 103, 2.0, 3, False),
        (0, 0, 2.0, 0, True),
        (0, 1, 2.0, 1, False),
        (50, 49, 0.0, -1, False),
        (-4, 0, 100.0, 4, True),
    ],
)
def test_count_variance(book: int, counted: int, pct: float, variance: int, within: bool) -> None:
    result = count_variance(book, counted, pct)
    assert (result.book, result.counted, result.variance, result.within_tolerance) == (
        book,
        counted,
        variance,
        within,
    )


def test_accuracy_is_the_share_within_tolerance() -> None:
    assert accuracy(0, 0) is None
    assert accuracy(3, 4) == 0.75
    assert accuracy(5, 5) == 1.0
