"""The ECB rate import through the FX service, on both databases: good files, bad rows, idempotency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from keel.bootstrap import Keel
from keel.fx import RATES_IMPORTED, MissingRate, RateFilter
from keel.platform.errors import ValidationFailed
from tests.support import events_after, last_seq, snapshot

HIST = (
    "Date,USD,JPY,GBP,SEK,\n"
    "2026-03-03,1.0850,162.10,0.8400,11.2000,\n"
    "2026-03-02,1.0800,161.00,0.8350,N/A,\n"
    "2026-02-27,1.0700,160.00,0.8300,11.1000,\n"
)


def test_an_import_stores_every_rate_and_a_second_one_changes_nothing(keel: Keel) -> None:
    seq = last_seq(keel)
    first = keel.fx.import_ecb(HIST)
    assert (first.rows, first.rates, first.inserted, first.updated, first.unchanged) == (3, 11, 11, 0, 0)
    assert first.currencies == ("GBP", "JPY", "SEK", "USD")
    assert (first.first_day, first.last_day) == (date(2026, 2, 27), date(2026, 3, 3))
    (event,) = events_after(keel, seq, {RATES_IMPORTED})
    assert event.data["inserted"] == 11
    before = snapshot(keel)
    again = keel.fx.import_ecb(HIST)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 11)
    assert snapshot(keel) == before  # no row, no event
    items, total = keel.fx.rates(RateFilter(currency="USD"))
    assert total == 3
    assert [(r.day, r.rate) for r in items] == [
        (date(2026, 3, 3), Decimal("1.085")),
        (date(2026, 3, 2), Decimal("1.08")),
        (date(2026, 2, 27), Decimal("1.07")),
    ]


def test_a_corrected_rate_replaces_the_known_one_and_new_days_add(keel: Keel) -> None:
    keel.fx.import_ecb(HIST)
    report = keel.fx.import_ecb("Date,USD,JPY\n2026-03-04,1.0900,163.00\n2026-03-03,1.0860,162.10\n")
    assert (report.inserted, report.updated, report.unchanged) == (2, 1, 1)
    assert keel.fx.convert(Decimal("1086"), "USD", "EUR", date(2026, 3, 3)) == Decimal("1000")


def test_a_file_with_one_bad_row_imports_nothing(keel: Keel) -> None:
    keel.fx.import_ecb(HIST)
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as refused:
        keel.fx.import_ecb("Date,USD,JPY\n2026-03-05,1.1,163\n2026-03-06,1.1,lots\n2026-03-07,1.1\n")
    assert [(e.row, e.field) for e in refused.value.errors] == [(3, "JPY"), (4, "")]
    assert snapshot(keel) == before


def test_rates_filter_by_dates_and_page(keel: Keel) -> None:
    keel.fx.import_ecb(HIST)
    items, total = keel.fx.rates(RateFilter(since=date(2026, 3, 2), until=date(2026, 3, 2)), limit=2, offset=1)
    assert total == 3 and [(r.day, r.currency) for r in items] == [(date(2026, 3, 2), "JPY"), (date(2026, 3, 2), "USD")]
    with pytest.raises(ValidationFailed):
        keel.fx.rates(RateFilter(currency="XXQ"))
    with pytest.raises(ValidationFailed):
        keel.fx.rates(RateFilter(since=date(2026, 3, 3), until=date(2026, 3, 2)))


def test_convert_uses_stored_rates_and_names_a_missing_one(keel: Keel) -> None:
    keel.fx.import_ecb(HIST)
    assert keel.fx.convert(Decimal("100"), "EUR", "JPY", date(2026, 3, 8)) == Decimal("16210.00")
    with pytest.raises(MissingRate, match="no CHF rate is known on or before 2026-03-08"):
        keel.fx.convert(Decimal("1"), "CHF", "USD", date(2026, 3, 8))
