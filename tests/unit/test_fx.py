"""Exchange rates on hand-built data: the ECB file format, latest-on-or-before lookup, cross rates, rounding."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from keel.fx import MissingRate, Rate, RateTable, round_to
from keel.fx.model import parse_ecb_csv

KNOWN = frozenset({"USD", "JPY", "GBP", "SEK", "EUR", "CHF"})
# The historical file as the ECB publishes it: newest day first, a trailing comma, N/A before a currency existed.
HIST = (
    "Date,USD,JPY,GBP,SEK,\n"
    "2026-03-03,1.0850,162.10,0.8400,11.2000,\n"
    "2026-03-02,1.0800,161.00,0.8350,N/A,\n"
    "2026-02-27,1.0700,160.00,0.8300,11.1000,\n"
)


def test_the_historical_file_parses_with_na_cells_skipped() -> None:
    rates, errors = parse_ecb_csv(HIST, KNOWN)
    assert errors == []
    assert len(rates) == 11  # 12 cells, one N/A
    assert Rate(date(2026, 3, 2), "JPY", Decimal("161.00")) in rates
    assert not any(r.currency == "SEK" and r.day == date(2026, 3, 2) for r in rates)


def test_the_daily_file_without_trailing_comma_parses() -> None:
    rates, errors = parse_ecb_csv("Date, USD, JPY\n2026-03-03, 1.0850, 162.10\n", KNOWN)
    assert errors == []
    assert sorted((r.currency, r.rate) for r in rates) == [("JPY", Decimal("162.10")), ("USD", Decimal("1.0850"))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(None, "", "the file is empty; expected a header Date,USD,JPY,...")]),
        ("Day,USD\n2026-01-01,1.1\n", [(1, "Date", "the first column must be Date (the ECB reference-rate format)")]),
        ("Date,USD,XXQ,USD,EUR\n", [
            (1, "XXQ", "not an ISO 4217 currency code"),
            (1, "USD", "the currency appears twice"),
            (1, "EUR", "rates are per 1 EUR; EUR itself is no column"),
        ]),
        ("Date,USD\n", [(None, "", "the file has a header but no dated rows")]),
        (
            "Date,USD,JPY\n2026-13-01,1.1,160\n2026-01-02,1.1\n2026-01-03,-1,160\n2026-01-04,1e3,abc\n"
            "2026-01-03,1.1,160\n",
            [
                (2, "Date", "'2026-13-01' is not a date (YYYY-MM-DD)"),
                (3, "", "2 cells; the header has 3"),
                (4, "USD", "'-1' is not a positive decimal rate"),
                (5, "USD", "'1e3' is not a positive decimal rate"),
                (5, "JPY", "'abc' is not a positive decimal rate"),
                (6, "Date", "2026-01-03 appears again (first on row 4)"),
            ],
        ),
        ("Date,USD\n2026-01-01,0\n", [(2, "USD", "'0' is not a positive decimal rate")]),
        ("Date,USD\n2026-01-01,1.1\x00\n", [(2, "", "the file contains a NUL character")]),
    ],
)  # fmt: skip
def test_bad_files_are_refused_row_by_row(text: str, expected: list[tuple[int | None, str, str]]) -> None:
    rates, errors = parse_ecb_csv(text, KNOWN)
    assert rates == []
    assert [(e.row, e.field, e.reason) for e in errors] == expected


TABLE = RateTable.of(parse_ecb_csv(HIST, KNOWN)[0])


def test_the_rate_of_a_day_is_the_latest_on_or_before_it() -> None:
    assert TABLE.rate("USD", date(2026, 3, 2)) == Decimal("1.0800")
    assert TABLE.rate("USD", date(2026, 3, 1)) == Decimal("1.0700")  # Sunday: Friday's fixing
    assert TABLE.rate("SEK", date(2026, 3, 2)) == Decimal("11.1000")  # N/A that day: the one before
    assert TABLE.rate("EUR", date(1990, 1, 1)) == 1


def test_a_missing_rate_is_a_clear_error() -> None:
    with pytest.raises(MissingRate, match=r"no USD rate is known on or before 2026-02-26"):
        TABLE.rate("USD", date(2026, 2, 26))
    with pytest.raises(MissingRate, match="no CHF rate"):
        TABLE.convert(Decimal(10), "CHF", "EUR", date(2026, 3, 2))
    assert MissingRate("CHF", date(2026, 3, 2)).status == 404


def test_conversion_goes_through_the_euro_exactly() -> None:
    day = date(2026, 3, 2)
    assert TABLE.convert(Decimal("108.00"), "USD", "EUR", day) == Decimal("100")
    assert TABLE.convert(Decimal("100"), "EUR", "JPY", day) == Decimal("16100.00")
    # 161 JPY = 1 EUR = 1.08 USD: a cross rate, never a float
    assert TABLE.convert(Decimal("16100"), "JPY", "USD", day) == Decimal("108.0000")
    assert TABLE.convert(Decimal("5"), "GBP", "GBP", day) == Decimal("5")
    assert round_to(TABLE.convert(Decimal("10"), "GBP", "USD", day), 2) == Decimal("12.93")  # 10/0.835*1.08
