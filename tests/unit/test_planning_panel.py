"""Demand history files (keel.planning.panel): a good file becomes a panel; every bad row is named, and a
refused file yields nothing to forecast. The CLI writes forecasts a reader can use, closed days at 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from keel.planning.panel import read_history
from keel.platform.errors import ValidationFailed

HEADER = "date,sku,location,units,stockout\n"


def write(tmp_path: Path, text: str, name: str = "history.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def days(sku: str, location: str, n: int, start: str = "2026-05-01", units: int = 4) -> str:
    dates = pd.date_range(start, periods=n, freq="D")
    return "".join(f"{d:%Y-%m-%d},{sku},{location},{units + i % 3},false\n" for i, d in enumerate(dates))


def refusal(path: Path, **kwargs: object) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        read_history(path, **kwargs)  # type: ignore[arg-type]
    return [(e.row, e.field, e.reason) for e in caught.value.errors]


def test_a_good_file_becomes_one_series_per_sku_and_location(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + days("A", "DE-1", 30) + days("A", "FR-1", 30) + days("B", "DE-1", 20))
    panel = read_history(path)
    assert panel.series == 3 and panel.freq == "D"
    assert sorted(panel.keys) == [("A", "DE-1"), ("A", "FR-1"), ("B", "DE-1")]
    assert len(panel.frame) == 80 and not panel.frame["censored"].any()


def test_every_bad_row_is_named(tmp_path: Path) -> None:
    text = HEADER + (
        "2026-05-01,A,DE-1,-2,false\n"  # row 1: negative units
        "05/02/2026,A,DE-1,3,false\n"  # row 2: not ISO
        "2026-05-03,A,DE-1,many,false\n"  # row 3: not a number
        "2026-05-04,,DE-1,3,false\n"  # row 4: no SKU
        "2026-05-05,A,DE-1,3,maybe\n"  # row 5: not a flag
    )
    errors = refusal(write(tmp_path, text))
    assert errors == [
        (1, "units", "not negative (returns are not demand)"),
        (2, "date", "a date as YYYY-MM-DD"),
        (3, "units", "a number"),
        (4, "sku", "a code"),
        (5, "stockout", "true or false"),
    ]


def test_a_duplicate_row_and_a_gap_in_dates_are_refused(tmp_path: Path) -> None:
    text = HEADER + days("A", "DE-1", 3) + "2026-05-02,A,DE-1,9,false\n" + "2026-05-06,A,DE-1,1,false\n"
    errors = refusal(write(tmp_path, text))
    assert (4, "date", "a second row for this SKU, location and period (first at row 2)") in errors
    assert (5, "date", "A at DE-1 has no row for the periods between 2026-05-03 and 2026-05-06") in errors


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("date,sku,units\n2026-05-01,A,1\n", "location"),
        ('date,sku,location,units\n2026-05-01,"A,DE-1,1\n', "file"),  # broken quoting
        ("", "file"),
        ("date,sku,location,units\n", "file"),  # a header and no rows
        ("date,sku,location,units\n2026-05-01,A\x00B,DE-1,1\n", "file"),  # a NUL byte
        ("date,sku,location,units\n2026-05-01,A,DE-1,9223372036854775808\n", "units"),  # 2^63
        ("date,sku,location,units\n2026-05-01,A,DE-1,1e400\n", "units"),  # not a finite number
    ],
)
def test_a_file_that_is_not_a_history_is_refused(tmp_path: Path, text: str, field: str) -> None:
    assert field in {f for _, f, _ in refusal(write(tmp_path, text))}


def test_a_missing_file_and_an_unknown_frequency_are_refused(tmp_path: Path) -> None:
    assert refusal(tmp_path / "nope.csv")[0][1] == "file"
    assert refusal(write(tmp_path, HEADER + days("A", "DE-1", 3)), freq="Q")[0][1] == "freq"


def test_stockouts_and_closed_days_are_censored(tmp_path: Path) -> None:
    text = HEADER + days("A", "DE-1", 10).replace("2026-05-03,A,DE-1,6,false", "2026-05-03,A,DE-1,0,true")
    calendar = write(tmp_path, "date,open,holiday\n2026-05-07,false,true\n2026-05-08,true,false\n", "calendar.csv")
    panel = read_history(write(tmp_path, text), calendar=calendar)
    censored = panel.frame[panel.frame["censored"]]["ds"].dt.strftime("%Y-%m-%d").tolist()
    assert censored == ["2026-05-03", "2026-05-07"]
    assert [d.strftime("%Y-%m-%d") for d in panel.closed] == ["2026-05-07"]


def test_the_cli_forecasts_a_history_file(tmp_path: Path) -> None:
    history = write(tmp_path, HEADER + days("A", "DE-1", 70) + days("B", "FR-1", 70, units=40))
    calendar = write(tmp_path, "date,open\n2026-07-12,false\n", "calendar.csv")  # a Sunday ahead: closed
    out = tmp_path / "forecast.csv"
    command = [sys.executable, "-m", "keel", "planning", "forecast", "--history", str(history), "--calendar",
               str(calendar), "--horizon", "7", "--out", str(out), "--threads", "1", "--json"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["series"] == 2 and summary["rows"] == 14 and summary["season_length"] == 7
    table = pd.read_csv(out)
    quantiles = ["q50", "q80", "q90", "q95", "q99"]
    assert list(table.columns) == ["sku", "location", "date", "step", "mean", *quantiles, "models"]
    assert table["date"].iloc[0] == "2026-07-10" and table["step"].tolist()[:7] == list(range(1, 8))
    closed = table[table["date"] == "2026-07-12"]
    assert (closed[["mean", "q99"]].to_numpy() == 0).all() and len(closed) == 2
    b = table[(table["sku"] == "B") & (table["date"] != "2026-07-12")]
    assert b["mean"].between(35, 47).all()  # about the 40-42 units B sells a day


def test_the_cli_refuses_a_bad_file_with_its_rows(tmp_path: Path) -> None:
    history = write(tmp_path, HEADER + "2026-05-01,A,DE-1,-1,false\n")
    out = tmp_path / "forecast.csv"
    command = [sys.executable, "-m", "keel", "planning", "forecast", "--history", str(history), "--horizon", "3",
               "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "row 1  units: not negative" in done.stderr
    assert not out.exists()


def test_a_parquet_history_reads_as_its_csv_does(tmp_path: Path) -> None:
    csv_path = write(tmp_path, HEADER + days("A", "DE-1", 12) + days("B", "DE-1", 9))
    parquet_path = tmp_path / "history.parquet"
    pd.read_csv(csv_path, dtype=str).to_parquet(parquet_path, index=False)
    from_csv, from_parquet = read_history(csv_path), read_history(parquet_path)
    assert from_parquet.keys == from_csv.keys
    pd.testing.assert_frame_equal(from_parquet.frame, from_csv.frame)
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    assert refusal(tmp_path / "broken.parquet")[0][1] == "file"
