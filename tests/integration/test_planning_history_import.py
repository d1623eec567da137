"""Imported demand history, on both databases: a file is stored whole or not at all (every bad row named),
the same file again changes nothing, and planning reads the imported days only where the ledger knew nothing
of the series yet."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from keel.bootstrap import Keel
from keel.planning import store_history
from keel.platform.clock import utcnow
from keel.platform.errors import ValidationFailed
from keel.platform.scope import Scope
from tests.support import ST_DE, ST_FR, WH_DE, World, mv, snapshot

HEADER = "date,sku,location,units,stockout\n"


def write(tmp_path: Path, text: str, name: str = "history.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def days_of(sku: str, location: str, first: date, count: int, units: int = 3, out: frozenset[int] = frozenset()) -> str:
    return "".join(
        f"{first + timedelta(days=i)},{sku},{location},{0 if i in out else units},{'true' if i in out else 'false'}\n"
        for i in range(count)
    )


def at(days_ago: int, hour: int = 12) -> str:
    """A moment ``days_ago`` UTC days before today (history reads the real calendar)."""
    return datetime.combine(utcnow().date() - timedelta(days=days_ago), time(hour), UTC).isoformat()


def stored(keel: Keel) -> int:
    with keel.db.read() as conn:
        return store_history.summary(conn)[0]


def imported_events(keel: Keel) -> list[int]:
    with keel.db.read() as conn:
        return [e.data["changed"] for e in keel.events.read(conn, 0, {"planning.history_imported"}, 10_000)]


def test_a_file_is_stored_once_and_a_corrected_day_replaces_the_stored_one(
    keel: Keel, world: World, tmp_path: Path
) -> None:
    # given a store holding SKU-I (a position) and a file of its 30 days before Keel
    keel.stock.apply_batch([mv("r", "received", "SKU-I", ST_DE, 50)])
    first = utcnow().date() - timedelta(days=60)
    path = write(tmp_path, HEADER + days_of("SKU-I", ST_DE, first, 30, out=frozenset({4})))
    # when it is imported
    report = keel.planning.import_history(path)
    # then every day is stored, and an event says so
    assert (report.rows, report.series, report.changed) == (30, 1, 30)
    assert (report.first_day, report.last_day) == (first, first + timedelta(days=29))
    assert stored(keel) == 30
    assert imported_events(keel) == [30]
    # when the same file comes again: nothing changes, no event
    before = snapshot(keel)
    assert keel.planning.import_history(path).changed == 0
    assert snapshot(keel) == before
    assert imported_events(keel) == [30]
    # when one day is corrected: that day alone
    fixed = write(
        tmp_path,
        HEADER
        + days_of("SKU-I", ST_DE, first, 30, out=frozenset({4})).replace(
            f"{first + timedelta(days=7)},SKU-I,{ST_DE},3,", f"{first + timedelta(days=7)},SKU-I,{ST_DE},9,"
        ),
        "fixed.csv",
    )
    assert keel.planning.import_history(fixed).changed == 1


def test_planning_reads_imported_days_only_before_the_ledger_knew_the_series(
    keel: Keel, world: World, tmp_path: Path
) -> None:
    # given SKU-I received 10 days ago and sold 4 a day since; and a file of 3 a day for the 30 days before
    # that, and for two days the ledger knows (which must not count)
    today = utcnow().date()
    rows = [mv("r", "received", "SKU-I", ST_DE, 100, occurred_at=at(10, 8))]
    rows += [mv(f"s{d}", "sold", "SKU-I", ST_DE, 4, occurred_at=at(d)) for d in range(9, 0, -1)]
    keel.stock.apply_batch(rows)
    path = write(tmp_path, HEADER + days_of("SKU-I", ST_DE, today - timedelta(days=40), 32, out=frozenset({5})))
    keel.planning.import_history(path)
    # when its history of the last 40 days is read
    series = keel.planning.history("SKU-I", ST_DE, 40)
    # then the first 30 days are the file's (one of them out of stock), the last 10 the ledger's
    assert series.units[:30] == tuple(0 if i == 5 else 3 for i in range(30))
    assert series.stockout[:30] == tuple(i == 5 for i in range(30))
    # the receipt day began without stock, so the ledger learns nothing from it: the file's day stands; from
    # the next day on the ledger is the truth, and the file's 3 for that day is not used
    assert series.units[30:] == (3, *(4,) * 9)
    # and a planning run forecasts from all 40 days, not from the 10 the ledger has
    found = keel.planning.forecast("SKU-I", ST_DE, days=40, horizon=7)
    assert len(found.mean) == 7 and all(2.0 <= v <= 5.0 for v in found.mean)
    report = keel.planning.plan(country="DE", skus=["SKU-I"])
    assert report.series == 1


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        (HEADER + "2026-05-01,SKU-I,ST-DE-1,-1,false\n", [(1, "units", "not negative (returns are not demand)")]),
        (HEADER + "2026-05-01,SKU-I,ST-DE-1,1.5,false\n",
         [(1, "units", "whole units: imported history is units sold a day")]),
        (HEADER + "01/05/2026,SKU-I,ST-DE-1,1,false\n", [(1, "date", "a date as YYYY-MM-DD")]),
        (HEADER + "2026-05-01,SKU-I,ST-DE-1,2147483648,false\n", [(1, "units", "at most 2,147,483,647 a day")]),
        (HEADER + "2026-05-01,SKU-I,NOWHERE,1,false\n", [(1, "location", "unknown location 'NOWHERE'")]),
        (HEADER + "2026-05-01,SKU-NEW,ST-DE-1,1,false\n",
         [(1, "sku", "'SKU-NEW' has no stock position at 'ST-DE-1': Keel plans only what it stocks")]),
        (HEADER + "2026-05-01,SKU-I,ST-DE-1,1,false\n2026-05-01,SKU-I,ST-DE-1,2,false\n",
         [(2, "date", "a second row for this SKU, location and period (first at row 1)")]),
        (HEADER + "2026-05-01,SKU-I,ST-DE-1,1,false\n2026-05-04,SKU-I,ST-DE-1,2,false\n",
         [(2, "date", "SKU-I at ST-DE-1 has no row for the periods between 2026-05-01 and 2026-05-04")]),
        ("date,sku,units\n2026-05-01,SKU-I,1\n", [(None, "location", "a column of the history file")]),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_whole_with_its_rows_and_writes_nothing(
    keel: Keel, world: World, tmp_path: Path, text: str, errors: list[tuple[int | None, str, str]]
) -> None:
    keel.stock.apply_batch([mv("r", "received", "SKU-I", ST_DE, 5)])
    good = days_of("SKU-I", WH_DE, date(2026, 4, 1), 3)  # a good series beside the bad one: not stored either
    keel.stock.apply_batch([mv("w", "received", "SKU-I", WH_DE, 5)])
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as caught:
        keel.planning.import_history(write(tmp_path, text + (good if text.startswith(HEADER) else "")))
    found = [(e.row, e.field, e.reason) for e in caught.value.errors]
    for error in errors:
        assert error in found, found
    assert snapshot(keel) == before and stored(keel) == 0


def test_a_country_restricted_caller_imports_only_its_countries(keel: Keel, world: World, tmp_path: Path) -> None:
    keel.stock.apply_batch([mv("r", "received", "SKU-I", ST_FR, 5)])
    path = write(tmp_path, HEADER + days_of("SKU-I", ST_FR, date(2026, 4, 1), 3))
    with pytest.raises(ValidationFailed) as caught:
        keel.planning.import_history(path, scope=Scope(countries=frozenset({"DE"})))
    assert [(e.row, e.field) for e in caught.value.errors] == [(1, "location")]
    assert stored(keel) == 0
    assert keel.planning.import_history(path, scope=Scope(countries=frozenset({"FR"}))).changed == 3
