"""Revenue in the reporting currency on hand-built orders and rates: each order at its own day's rate,
per-currency figures beside the total, orders without a rate kept out of the total and counted (orders
are summed per channel, country, currency and day first, as the tower's projection keeps them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from keel.fx import Rate, RateTable
from keel.insights.model import OrderFigure, revenue, sales_by, sales_cells
from keel.insights.service import converter

MON, TUE = date(2026, 3, 2), date(2026, 3, 3)
RATES = RateTable.of(
    [
        Rate(MON, "JPY", Decimal("160")),
        Rate(TUE, "JPY", Decimal("200")),  # the yen moves a lot overnight: each order at its own day's rate
        Rate(MON, "GBP", Decimal("0.8")),
        Rate(MON, "USD", Decimal("1.25")),
    ]
)
ORDERS = [
    OrderFigure("web-de", "DE", ((2, "10.00"),), currency="EUR", day=MON),  # 20 EUR
    OrderFigure("web-jp", "JP", ((1, "3200"),), currency="JPY", day=MON),  # 3200/160 = 20 EUR
    OrderFigure("web-jp", "JP", ((1, "3200"),), currency="JPY", day=TUE),  # 3200/200 = 16 EUR
    OrderFigure("web-gb", "GB", ((1, "8.00"),), currency="GBP", day=TUE),  # Monday's rate: 10 EUR
    OrderFigure("web-gb", "GB", ((5, "99.00"),), cancelled=True, currency="GBP", day=TUE),
    OrderFigure("web-ch", "CH", ((1, "50.00"),), currency="CHF", day=MON),  # no CHF rate at all
    OrderFigure("web-us", "US", ((1, "5.00"),), currency="USD", day=date(2026, 3, 1)),  # before any USD rate
]


def test_revenue_converts_each_order_at_its_day_and_keeps_the_per_currency_figures() -> None:
    result = revenue(sales_cells(ORDERS), "EUR", converter(RATES, "EUR"))
    assert (result.currency, result.total, result.orders, result.unconverted) == ("EUR", Decimal("66"), 6, 2)
    assert [(g.currency, g.orders, g.revenue, g.converted, g.unconverted) for g in result.by_currency] == [
        ("JPY", 2, Decimal("6400"), Decimal("36"), 0),
        ("EUR", 1, Decimal("20.00"), Decimal("20.00"), 0),
        ("GBP", 1, Decimal("8.00"), Decimal("10"), 0),
        ("CHF", 1, Decimal("50.00"), Decimal("0"), 1),
        ("USD", 1, Decimal("5.00"), Decimal("0"), 1),
    ]


def test_another_reporting_currency_crosses_through_the_euro() -> None:
    result = revenue(sales_cells(ORDERS[:4]), "USD", converter(RATES, "USD"))
    # 20 + 20 + 16 + 10 EUR = 66 EUR; every order's day has a USD rate of 1.25 (Monday's, still latest Tuesday)
    assert result.total == Decimal("82.5")
    assert result.unconverted == 0


def test_sales_by_channel_in_the_reporting_currency_count_unconverted_orders() -> None:
    by_channel = sales_by(sales_cells(ORDERS), lambda o: o.channel, converter(RATES, "EUR"))
    assert [(g.key, g.orders, g.revenue, g.unconverted) for g in by_channel] == [
        ("web-jp", 2, Decimal("36"), 0),
        ("web-de", 1, Decimal("20.00"), 0),
        ("web-gb", 1, Decimal("10"), 0),
        ("web-ch", 1, Decimal("0"), 1),
        ("web-us", 1, Decimal("0"), 1),
    ]
    # without a converter the amounts stay as sold (one currency per group is then the caller's job)
    assert sales_by(sales_cells(ORDERS[1:3]), lambda o: o.currency)[0].revenue == Decimal("6400")


def test_no_rates_at_all_still_reports_the_reporting_currencys_own_orders() -> None:
    result = revenue(sales_cells(ORDERS), "EUR", converter(RateTable(), "EUR"))
    assert (result.total, result.unconverted) == (Decimal("20.00"), 5)
