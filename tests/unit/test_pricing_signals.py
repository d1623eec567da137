"""The pricing rules that read market signals: the competitor index band, the stock markdown and no discount
when stock is short; each explained with its numbers, and never below a hard floor (cost plus margin, MAP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.platform.errors import ValidationFailed
from keel.pricing.model import (
    Facts,
    Observed,
    PriceEntry,
    Rule,
    Stock,
    parse_rules,
    price,
    stock_state,
    stock_thresholds,
    tax,
)
from keel.pricing.model.documents import CompetitorPrice, parse_competitor_prices

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def rules(*raw: dict[str, object]) -> list[Rule]:
    """The parsed rules, plus an ending of one cent so the rules' own amounts show."""
    parsed, errors = parse_rules([*raw, {"rule": "ending", "endings": {"EUR": {"step": "0.01", "end": "0"}}}])
    assert errors == []
    return parsed


def seen(competitor: str, amount: int, days_old: float) -> Observed:
    at = NOW - timedelta(days=days_old)
    return Observed(competitor, amount, at, NOW - at)


def steps(priced: object) -> list[tuple[str, int, int]]:
    return [(s.rule, s.before, s.after) for s in priced.steps]  # type: ignore[attr-defined]


def test_the_competitor_band_follows_the_lowest_fresh_price_and_says_so() -> None:
    band = rules({"rule": "competitor", "within": "0.05"})
    observed = (seen("acme", 1800, 1), seen("bolt", 1700, 10), seen("corx", 2100, 0.5))
    priced = price(("base", PriceEntry("A", 2000)), band, Facts(competitors=observed), "EUR")
    # bolt's 17.00 is 10 days old (max_age_days 7 by default): acme's 18.00 is the lowest fresh; 5 % over it
    assert steps(priced) == [("price_list", 2000, 2000), ("competitor", 2000, 1890)]
    assert priced.steps[1].note == (
        "within 5% of the lowest competitor price 18.00 EUR (acme, observed 2026-11-30; 2 fresh of 3)"
    )
    # a price under the band is raised to its low end
    assert price(("base", PriceEntry("A", 1500)), band, Facts(competitors=observed), "EUR").amount == 1710


def test_the_band_around_the_median_or_an_index_and_no_step_without_fresh_prices() -> None:
    median = rules({"rule": "competitor", "within": "0", "of": "median", "max_age_days": 30})
    three = (seen("a", 1600, 1), seen("b", 1800, 1), seen("c", 2200, 1))
    assert price(("l", PriceEntry("A", 2000)), median, Facts(competitors=three), "EUR").amount == 1800
    four = (*three, seen("d", 2400, 1))  # an even count: the lower middle price, one a competitor shows
    assert price(("l", PriceEntry("A", 2000)), median, Facts(competitors=four), "EUR").amount == 1800
    under = rules({"rule": "competitor", "within": "0", "index": "0.95"})
    priced = price(("l", PriceEntry("A", 2000)), under, Facts(competitors=three), "EUR")
    assert priced.amount == 1520 and "within 0% of 95% of the lowest competitor price 16.00 EUR" in priced.steps[1].note
    stale = (seen("a", 1000, 8),)
    priced = price(("l", PriceEntry("A", 2000)), under, Facts(competitors=stale), "EUR")
    assert steps(priced) == [("price_list", 2000, 2000)]  # no fresh observation: the rule does nothing


def test_a_markdown_applies_above_its_days_of_cover_with_its_numbers() -> None:
    markdown = rules({"rule": "markdown", "cover_days_above": 90, "percent": "0.20"})
    # 300 sellable, 56 sold in 28 days: 2 a day, 150 days of cover
    priced = price(("l", PriceEntry("A", 2000)), markdown, Facts(stock=Stock(300, 56)), "EUR")
    assert steps(priced) == [("price_list", 2000, 2000), ("markdown", 2000, 1600)]
    assert priced.steps[1].note == (
        "markdown 20%: 150.0 days of cover (300 sellable, 56 sold in 28 days: 2.00 a day), above 90"
    )
    # 60 days of cover: no markdown; no stock facts (inventory does not know the SKU): no markdown either
    assert price(("l", PriceEntry("A", 2000)), markdown, Facts(stock=Stock(120, 56)), "EUR").amount == 2000
    assert price(("l", PriceEntry("A", 2000)), markdown, Facts(), "EUR").amount == 2000
    # stock with no sale in the window has unbounded cover: marked down
    priced = price(("l", PriceEntry("A", 2000)), markdown, Facts(stock=Stock(5, 0)), "EUR")
    assert priced.amount == 1600 and "unbounded days of cover" in priced.steps[1].note


def test_short_stock_drops_the_compare_at_price_and_blocks_a_markdown() -> None:
    short = rules({"rule": "markdown", "cover_days_above": 3, "percent": "0.10"},
                  {"rule": "no_discount_when_short", "cover_days_below": 7})  # fmt: skip
    # 10 sellable at 2 a day: 5 days of cover, under 7 (and above the markdown's 3: short wins)
    priced = price(("l", PriceEntry("A", 2000, compare_at=2500)), short, Facts(stock=Stock(10, 56)), "EUR")
    assert (priced.amount, priced.compare_at) == (2000, None)
    assert steps(priced) == [("price_list", 2000, 2000), ("no_discount_when_short", 2000, 2000)]
    assert priced.steps[1].note == (
        "stock short: 5.0 days of cover (10 sellable, 56 sold in 28 days: 2.00 a day), under 7: "
        "no markdown, no compare-at price, no promotion"
    )
    assert priced.floor == 2000  # the price is its own floor: a cart's promotion takes nothing off it
    # nothing sellable is 0 days of cover: short
    assert price(("l", PriceEntry("A", 2000, 2500)), short, Facts(stock=Stock(0, 0)), "EUR").compare_at is None
    # enough stock: the compare-at price stays and nothing is said
    plenty = price(("l", PriceEntry("A", 2000, 2500)), short[1:], Facts(stock=Stock(100, 56)), "EUR")
    assert (plenty.compare_at, steps(plenty)) == (2500, [("price_list", 2000, 2000)])


def test_hard_floors_win_over_a_markdown_and_the_competitor_band() -> None:
    chain = rules(
        {"rule": "cost_plus", "margin_floor": "0.20"},
        {"rule": "map", "list": "map-eu"},
        {"rule": "competitor", "within": "0.05"},
        {"rule": "markdown", "cover_days_above": 90, "percent": "0.50"},
    )
    facts = Facts(cost=1000, rate=Decimal("0.19"), map_prices={"map-eu": 1400},
                  competitors=(seen("acme", 1000, 1),), stock=Stock(1000, 28))  # fmt: skip
    priced = price(("l", PriceEntry("A", 2000)), chain, facts, "EUR")
    # the margin floor: net 12.50, 14.87 with 19 % VAT; MAP 14.00 under it. The band takes 20.00 to 10.50 and
    # the markdown to 5.25; the floor raises it back to 14.87
    assert priced.floor == 1487 and priced.amount == 1487
    assert [s.rule for s in priced.steps] == ["price_list", "competitor", "markdown", "floor"]


@given(
    base=st.integers(1, 10**7),
    cost=st.none() | st.integers(0, 10**7),
    map_price=st.none() | st.integers(0, 10**7),
    competitor=st.none() | st.integers(0, 10**7),
    sellable=st.integers(-5, 10**5),
    sold=st.integers(0, 10**5),
    currency=st.sampled_from(["EUR", "JPY", "CHF"]),
)
def test_no_signal_rule_sells_below_cost_plus_margin_or_map(
    base: int, cost: int | None, map_price: int | None, competitor: int | None, sellable: int, sold: int, currency: str
) -> None:
    chain, errors = parse_rules([
        {"rule": "cost_plus", "margin_floor": "0.25"},
        {"rule": "map", "list": "m"},
        {"rule": "competitor", "within": "0.02", "index": "0.9"},
        {"rule": "markdown", "cover_days_above": 30, "percent": "0.40"},
        {"rule": "no_discount_when_short", "cover_days_below": 7},
    ])  # fmt: skip
    assert errors == []
    facts = Facts(cost=cost, rate=Decimal("0.2"), map_prices={} if map_price is None else {"m": map_price},
                  competitors=() if competitor is None else (seen("x", competitor, 1),),
                  stock=Stock(sellable, sold))  # fmt: skip
    priced = price(("l", PriceEntry("A", base)), chain, facts, currency)
    assert priced.amount >= max(priced.floor, 0) and priced.amount >= (map_price or 0)
    if cost is not None:
        assert tax(priced.amount, Decimal("0.2"), True).net * Decimal("0.75") >= cost


def test_the_stock_thresholds_of_a_policy_and_which_side_a_sku_is_on() -> None:
    chain = rules({"rule": "markdown", "cover_days_above": 90, "percent": "0.2"},
                  {"rule": "no_discount_when_short", "cover_days_below": 7})  # fmt: skip
    thresholds = stock_thresholds(chain)
    assert thresholds == (("above", 90), ("below", 7))
    assert stock_state(Stock(300, 56), thresholds) == (True, False)  # 150 days
    assert stock_state(Stock(100, 56), thresholds) == (False, False)  # 50 days
    assert stock_state(Stock(10, 56), thresholds) == (False, True)  # 5 days
    assert stock_thresholds(rules({"rule": "competitor", "within": "0.1"})) == ()


def test_bad_signal_rules_are_refused_row_by_row() -> None:
    _, errors = parse_rules([
        {"rule": "competitor", "within": "1.5", "of": "average", "index": "0", "max_age_days": 0, "extra": 1},
        {"rule": "competitor"},
        {"rule": "markdown", "cover_days_above": "90", "percent": "0.99"},
        {"rule": "markdown", "cover_days_above": True, "percent": "-0.1"},
        {"rule": "no_discount_when_short", "cover_days_below": 4000},
        {"rule": "no_discount_when_short", "percent": "0.1"},
    ])  # fmt: skip
    assert {(e.row, e.field) for e in errors} == {
        (1, "within"), (1, "of"), (1, "index"), (1, "max_age_days"), (1, "extra"),
        (2, "within"),
        (3, "cover_days_above"), (3, "percent"),
        (4, "cover_days_above"), (4, "percent"),
        (5, "cover_days_below"),
        (6, "cover_days_below"), (6, "percent"),
    }  # fmt: skip


def test_competitor_price_documents_are_checked_row_by_row() -> None:
    good = {"competitor": "acme", "country": "DE", "sku": "SKU-1", "currency": "JPY", "amount": "1980",
            "observed_at": "2026-12-01T08:00:00+01:00"}  # fmt: skip
    assert parse_competitor_prices([good], NOW) == [
        CompetitorPrice("acme", "DE", "SKU-1", "JPY", 1980, datetime(2026, 12, 1, 7, tzinfo=UTC))
    ]
    with pytest.raises(ValidationFailed) as refused:
        parse_competitor_prices(
            [
                {**good, "currency": "EURO"},
                {**good, "country": "de", "amount": "-1"},
                {**good, "currency": "EUR", "amount": "1.999", "price": "1"},
                {**good, "observed_at": "2026-12-01T08:00:00"},
                {**good, "observed_at": "2026-12-02T08:00:00Z"},
                {**good, "competitor": "Acme Inc"},
                good,
                good,
                "acme",
            ],
            NOW,
        )
    assert {(e.row, e.field) for e in refused.value.errors} == {
        (1, "currency"), (2, "country"), (2, "amount"), (3, "amount"), (3, "price"), (4, "observed_at"),
        (5, "observed_at"), (6, "competitor"), (8, "sku"), (9, ""),
    }  # fmt: skip
    for document in ([], {}, [good] * 10_001):
        with pytest.raises(ValidationFailed):
            parse_competitor_prices(document, NOW)
