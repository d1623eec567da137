"""History files with grouping columns (``read_history(groups=...)``, ``keel planning forecast --groups``): each
series keeps one value per group, bad groups are named by row, and the CLI writes every node's forecast,
coherent, closed days at 0 everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from keel.planning.panel import read_history
from keel.platform.errors import ValidationFailed

HEADER = "date,sku,location,units,country,category\n"


def days(sku: str, location: str, n: int, country: str, category: str, units: int = 4) -> str:
    dates = pd.date_range("2026-05-01", periods=n, freq="D")
    return "".join(
        f"{d:%Y-%m-%d},{sku},{location},{units + (i * 7 + len(sku)) % 5},{country},{category}\n"
        for i, d in enumerate(dates)
    )


def write(tmp_path: Path, text: str, name: str = "history.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_each_series_keeps_its_groups(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + days("A", "DE-1", 20, "DE", "shoes") + days("B", "FR-1", 20, "FR", "bags"))
    panel = read_history(path, groups=("country", "category"))
    assert panel.groups == {"country": ("DE", "FR"), "category": ("shoes", "bags")}
    assert read_history(path).groups == {}  # the columns are there, but nobody asked for them


def test_bad_groups_are_named_by_row(tmp_path: Path) -> None:
    lines = days("A", "DE-1", 5, "DE", "shoes").splitlines()
    moved = [*lines[:2], lines[2].replace(",DE,", ",AT,"), *lines[3:]]  # changes country mid-way
    path = write(tmp_path, HEADER + "\n".join(moved) + "\n")
    with pytest.raises(ValidationFailed) as caught:
        read_history(path, groups=("country", "category"))
    expected = (3, "country", "A at DE-1 has country 'DE' at row 1; a series keeps one")
    assert [(e.row, e.field, e.reason) for e in caught.value.errors] == [expected]
    blank = [*lines[:4], lines[4].removesuffix("shoes")]  # no category on the last row
    path = write(tmp_path, HEADER + "\n".join(blank) + "\n")
    with pytest.raises(ValidationFailed) as caught:
        read_history(path, groups=("country", "category"))
    assert [(e.row, e.field, e.reason) for e in caught.value.errors] == [(5, "category", "a code")]
    with pytest.raises(ValidationFailed) as caught:
        read_history(path, groups=("region",))
    assert [(e.field, e.reason) for e in caught.value.errors] == [("region", "a column of the history file")]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "keel", "planning", "forecast", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_the_cli_forecasts_every_group_coherently(tmp_path: Path) -> None:
    rows = [days(f"S{i}", f"{c}-{s}", 63, c, f"cat{i % 2}", units=3 + i) for c in ("DE", "FR") for i in range(3)
            for s in (1, 2)]  # fmt: skip
    history = write(tmp_path, HEADER + "".join(rows))
    calendar = write(tmp_path, "date,open\n2026-07-05,false\n", "calendar.csv")  # a Sunday ahead: closed
    out = tmp_path / "forecast.csv"
    done = run("--history", str(history), "--calendar", str(calendar), "--horizon", "7", "--out", str(out),
               "--threads", "1", "--groups", "country,category", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["series"] == 12 and summary["nodes"] == 2 + 4 + 6 + 12
    assert summary["method"] in ("bottom_up", "ols", "wls_struct", "wls_var")
    assert set(summary["backtest"]) == {"base", "bottom_up", "ols", "wls_struct", "wls_var"}
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns)[:6] == ["level", "country", "category", "sku", "location", "date"]
    assert table.groupby("level").size().to_dict() == {"country": 14, "category": 28, "sku": 42, "location": 84}
    countries = table[table["level"] == "country"].set_index(["country", "step"])["mean"]
    leaves = table[table["level"] == "location"].groupby(["country", "step"])["mean"].sum()
    assert (countries - leaves.reindex(countries.index)).abs().max() < 1e-3  # the file's 4 decimals
    closed = table[table["date"] == "2026-07-05"]
    assert len(closed) == 24 and (closed[["mean", "q99", "base"]].to_numpy() == 0).all()


def test_the_cli_refuses_a_reserved_group(tmp_path: Path) -> None:
    history = write(tmp_path, HEADER + days("A", "DE-1", 20, "DE", "shoes"))
    done = run("--history", str(history), "--horizon", "3", "--out", str(tmp_path / "o.csv"), "--groups", "country,sku")
    assert done.returncode == 2 and "--groups" in done.stderr and "['sku']" in done.stderr
    done = run("--history", str(history), "--horizon", "3", "--out", str(tmp_path / "o.csv"), "--groups", "region")
    assert done.returncode == 2 and "region: a column of the history file" in done.stderr
