"""What rules saved and cost, against hand-computed hourly cases (keel.media.model.savings)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from keel.media.model.savings import AdInfo, BudgetMove, Figures, HourRow, PauseSpan, Span, savings

T0 = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)
WINDOW = Span(T0, T0 + timedelta(hours=6))


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def rows(ad: str, spend_sales: dict[int, tuple[int, int]]) -> list[HourRow]:
    return [HourRow(ad, at(h), spend, 1, sales) for h, (spend, sales) in spend_sales.items()]


AD_A = AdInfo("AD-A", "C-1", "ACC", "web-de", "DE", "EUR")
AD_D = AdInfo("AD-D", "C-2", "ACC", "web-de", "DE", "EUR")
AD_US = AdInfo("AD-US", "C-US", "ACC-US", "web-us", "US", "USD")


def test_savings_match_the_hand_computed_case_and_keep_currencies_apart() -> None:
    # given, over six hours 00:00-06:00:
    # AD-A (EUR): out of stock 02:30-04:00, paused by "pause when out" 03:00-05:00.
    #   rows: h0 100/400, h1 200/800, h2 60/0, h5 90/300 (spend/sales).
    #   clean hours (in stock, not paused): h0, h1, h5 -> 390/3 = 130 spend and 1500/3 = 500 sales an hour.
    #   wasted: h2 was half out and showing: 60 * 0.5 = 30. Out of stock: 0.5 + 1 = 1.5 hours.
    #   paused 2 hours, of which 1 (03:00-04:00) out of stock: avoided 2 * 130 = 260, avoided waste
    #   1 * 130 = 130, missed sales 1 in-stock paused hour * 500 = 500.
    # AD-US (USD): out of stock 00:00-02:00, never paused; rows h0 50/0, h1 70/0, h2 40/90.
    #   wasted 50 + 70 = 120 USD; out of stock 2 hours.
    # "shift" added 300 a day to C-2 (budget 1200 with it) 00:00-04:00: moved 300 * 4 / 24 = 50.
    #   AD-D (C-2) sold 240 + 600 + 120 in h0, h1, h3 (h4's 1000 is after the move): 960 * 300/1200 = 240.
    ads = [AD_A, AD_D, AD_US]
    hourly = [
        *rows("AD-A", {0: (100, 400), 1: (200, 800), 2: (60, 0), 5: (90, 300)}),
        *rows("AD-D", {0: (10, 240), 1: (10, 600), 3: (10, 120), 4: (10, 1000)}),
        *rows("AD-US", {0: (50, 0), 1: (70, 0), 2: (40, 90)}),
    ]
    out = {"AD-A": [Span(at(2.5), at(4))], "AD-US": [Span(at(0), at(2))]}
    paused = [PauseSpan("AD-A", "pause when out", at(3), at(5))]
    moves = [BudgetMove("shift", "C-2", "ACC", "web-de", "DE", "EUR", 300, 1200, at(0), at(4))]
    # when
    result = savings(ads, hourly, out, paused, moves, WINDOW)
    # then
    assert result.total == {
        "EUR": Figures("EUR", 30, 260, 130, 500, 50, 240, out_of_stock_hours=1.5, paused_hours=2.0),
        "USD": Figures("USD", wasted_spend=120, out_of_stock_hours=2.0),
    }
    assert result.by_rule == {
        ("pause when out", "EUR"): Figures(
            "EUR", avoided_spend=260, avoided_waste=130, missed_sales=500, paused_hours=2.0
        ),
        ("shift", "EUR"): Figures("EUR", budget_moved=50, moved_sales=240),
    }
    assert result.by_rule[("shift", "EUR")].return_on_moved == 4.8
    assert result.by_campaign == {
        ("C-1", "EUR"): Figures("EUR", 30, 260, 130, 500, out_of_stock_hours=1.5, paused_hours=2.0),
        ("C-2", "EUR"): Figures("EUR", budget_moved=50, moved_sales=240),
        ("C-US", "USD"): Figures("USD", wasted_spend=120, out_of_stock_hours=2.0),
    }
    assert result.by_account[("ACC", "EUR")] == result.total["EUR"]
    assert set(result.by_channel) == {("web-de", "EUR"), ("web-us", "USD")}
    assert result.by_region[("US", "USD")] == result.total["USD"]


def test_overlapping_holds_are_counted_once_for_the_hold_that_started_first() -> None:
    # given AD-A held by "a" 00:00-03:00 and by "b" 02:00-05:00; its only clean hour h5 spent 60 and sold 120
    # then "a" has 3 hours (avoided 3 * 60 = 180, missed 3 * 120 = 360) and "b" only 03:00-05:00
    # (avoided 2 * 60 = 120, missed 2 * 120 = 240): five paused hours in all, not six
    paused = [PauseSpan("AD-A", "b", at(2), at(5)), PauseSpan("AD-A", "a", at(0), at(3))]
    result = savings([AD_A], rows("AD-A", {5: (60, 120)}), {}, paused, [], WINDOW)
    assert result.by_rule == {
        ("a", "EUR"): Figures("EUR", avoided_spend=180, missed_sales=360, paused_hours=3.0),
        ("b", "EUR"): Figures("EUR", avoided_spend=120, missed_sales=240, paused_hours=2.0),
    }
    assert result.total["EUR"].paused_hours == 5.0


def test_money_is_rounded_once_half_even_and_hours_without_an_average_are_unpriced() -> None:
    # given AD-A's clean hours h0-h4 spent 10 + 0 + 0 + 0 + 0 = 10 (2 an hour) and sold 25 (5 an hour), and it
    # was paused for a quarter of h5 by "q" (in stock): avoided 0.25 * 2 = 0.5 -> 0 (half-even), missed
    # 0.25 * 5 = 1.25 -> 1; AD-D was paused for the whole window: no clean hour, so its 6 hours are unpriced
    paused = [PauseSpan("AD-A", "q", at(5), at(5.25)), PauseSpan("AD-D", "q", at(0), at(6))]
    result = savings([AD_A, AD_D], rows("AD-A", {0: (10, 25)}), {}, paused, [], WINDOW)
    assert result.by_rule[("q", "EUR")] == Figures(
        "EUR", avoided_spend=0, missed_sales=1, paused_hours=6.25, unpriced_hours=6.0
    )


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="whole hours"):
        savings([AD_A], [], {}, [], [], Span(at(0.5), at(2)))
    with pytest.raises(ValueError, match="rows for unknown ads: AD-X"):
        savings([AD_A], rows("AD-X", {0: (1, 1)}), {}, [], [], WINDOW)
