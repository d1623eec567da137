"""The yearly season (``keel.planning.forecast.yearly`` and ``Forecaster.forecast(..., year_length=)``): the
factor on each day ahead is last year's demand there over last year's level before the origin, pooled over the
series of one calendar and shrunk per series; the forecaster keeps it only where its cross-validation windows
say it helps. Synthetic panels with a planted season, scored against the demand they were drawn from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keel.planning.forecast import Forecaster
from keel.planning.forecast.yearly import BASE_DAYS, PRIOR_UNITS, factors

YEAR, HORIZON = 364, 28


def _season(days: int, first: int = 0) -> np.ndarray:
    """A yearly curve: 1.0 for most of the year, rising to 1.8 over the last eight weeks of each year."""
    place = (np.arange(days) + first) % YEAR
    return np.where(place >= YEAR - 56, 1.8, 1.0)


def test_a_shared_season_is_read_from_last_year_across_the_panel() -> None:
    # given 40 series of 500 days whose last year rose to 1.8x its level 4 weeks after the origin's place
    rng = np.random.default_rng(3)
    days = 500
    curve = _season(days + HORIZON, first=YEAR - 56 - 28 - (days - YEAR))  # the horizon's day 29 on: 1.8
    rates = rng.lognormal(1.5, 0.5, 100)
    ys = [rng.poisson(r * curve[:days]).astype(float) for r in rates]
    found = factors(ys, [days] * len(ys), 35, YEAR)
    # then the first four weeks ahead stay near 1 and the days after the rise near 1.8 (a week's mean: the
    # day of the step itself is blurred over the week around it); each series near the panel (a week of a
    # few units a day is noise: the prior holds it)
    assert found.shape == (100, 35)
    panel = found.mean(axis=0)
    assert np.all(np.abs(panel[:24] - 1.0) < 0.08) and np.all(np.abs(panel[32:] - 1.8) < 0.12)
    assert found[:, :24].max() < 1.4 < 1.5 < found[:, 32:].min()


def test_short_series_other_calendars_and_a_big_series_with_its_own_season() -> None:
    rng = np.random.default_rng(4)
    days = YEAR + BASE_DAYS + 40
    # 60 flat series of 20 a day, and a big one of 600 a day whose own year doubled over the days ahead; a
    # series shorter than a year; a small one with the same doubling, ending on another day
    flat = [rng.poisson(20.0, days).astype(float) for _ in range(60)]
    own = np.full(days, 600.0)
    own[days - YEAR : days - YEAR + HORIZON + 3] = 1200.0
    short = rng.poisson(5.0, YEAR).astype(float)
    other = own / 100
    ys = [*flat, own, short, other]
    found = factors(ys, [0] * 62 + [1], HORIZON, YEAR)
    # the big series keeps its own season; the small ones lean to the panel's, which is its total's (a third
    # of it doubled: 4/3), their own week of 140 units against the prior of 500 at the panel's ratio
    assert found[60, 5] > 1.85 and found[60, 0] < found[60, 5]
    leaning = (140 + PRIOR_UNITS * 4 / 3) / (140 + PRIOR_UNITS)
    assert abs(found[:60, 5:20].mean() - leaning) < 0.03 and np.all(np.abs(found[:60, 5:20] - leaning) < 0.12)
    assert np.all(found[61] == 1.0)  # shorter than a year and the base days: none
    assert abs(found[62, 5] - 2.0) < 1e-9  # alone in its calendar: its own season, shrunk toward itself
    # a horizon that reaches past last year's window: no factor at all
    assert np.all(factors(ys, [0] * 63, YEAR, YEAR) == 1.0)


def _panel(days: int, seasonal: bool, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """60 series with a weekday shape and, if ``seasonal``, a yearly wave of +-50 % whose rising side spans the
    forecaster's last cross-validation windows and the days ahead."""
    rng = np.random.default_rng(seed)
    weekday = np.array([0.9, 0.9, 1.0, 1.0, 1.2, 1.4, 0.6])
    t = np.arange(days + HORIZON)
    wave = 1 + 0.5 * np.sin(2 * np.pi * ((t + (350 - days) % YEAR) % YEAR) / YEAR)
    curve = weekday[t % 7] * (wave if seasonal else 1.0)
    rates = rng.lognormal(2.5, 0.5, 60)  # about 12 a day: enough that a level is not lost in the noise
    expected = rates[:, None] * curve[None, :]
    sold = rng.poisson(expected[:, :days]).astype(float)
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(60), days),
            "ds": np.tile(pd.date_range("2025-01-06", periods=days, freq="D"), 60),
            "y": sold.ravel(),
        }
    )
    return frame, expected[:, days:]


def _wape(forecaster: Forecaster, frame: pd.DataFrame, truth: np.ndarray, year: int | None) -> tuple[float, tuple]:
    found = forecaster.forecast(frame, HORIZON, 7, year)
    mean = found.frame.sort_values(["unique_id", "step"])["mean"].to_numpy().reshape(truth.shape)
    return float(np.abs(mean - truth).sum() / truth.sum()), found.yearly


@pytest.mark.filterwarnings("ignore")
def test_the_forecaster_learns_a_planted_yearly_season_and_keeps_it_only_where_it_helps() -> None:
    forecaster = Forecaster(models=("etsn", "theta"), threads=1)
    # given 60 series with 450 days of history, on the rising side of a yearly wave they went through a year
    # before
    frame, truth = _panel(450, seasonal=True, seed=5)
    with_year, used = _wape(forecaster, frame, truth, YEAR)
    without, unused = _wape(forecaster, frame, truth, None)
    # then the season is used and cuts the error by more than a third; without a year length it is not
    assert used == ("smooth",) and unused == ()
    assert with_year < 0.65 * without
    # a panel without a yearly season: the forecasts are as good with the option as without
    flat, truth = _panel(450, seasonal=False, seed=6)
    assert _wape(forecaster, flat, truth, YEAR)[0] <= 1.03 * _wape(forecaster, flat, truth, None)[0]
    # history shorter than a year and the base days: nothing changes
    short, truth = _panel(200, seasonal=True, seed=7)
    assert _wape(forecaster, short, truth, YEAR) == _wape(forecaster, short, truth, None)


def test_the_cli_forecasts_a_daily_history_file_with_its_yearly_season(tmp_path: Path) -> None:
    # given a history file of the seasonal panel (daily rows: the forecaster's year is 52 weeks)
    frame, truth = _panel(450, seasonal=True, seed=5)
    frame = frame[frame["unique_id"] < 30]
    history = tmp_path / "history.csv"
    pd.DataFrame(
        {"date": frame["ds"].dt.strftime("%Y-%m-%d"), "sku": "S" + frame["unique_id"].astype(str),
         "location": "DE-1", "units": frame["y"].astype(int)}
    ).to_csv(history, index=False)  # fmt: skip
    out = tmp_path / "forecast.csv"
    command = [sys.executable, "-m", "keel", "planning", "forecast", "--history", str(history), "--horizon",
               str(HORIZON), "--out", str(out), "--threads", "1", "--json"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    # then its summary says the season was used, and the forecasts follow it up the wave
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["yearly"] == ["smooth"] and summary["series"] == 30
    table = pd.read_csv(out)
    table["n"] = table["sku"].str[1:].astype(int)
    mean = table.sort_values(["n", "step"])["mean"].to_numpy().reshape(30, HORIZON)
    expected = truth[:30]
    assert np.abs(mean - expected).sum() / expected.sum() < 0.15
    assert mean[:, -7:].sum() > 1.1 * mean[:, :7].sum()  # the last week ahead above the first
