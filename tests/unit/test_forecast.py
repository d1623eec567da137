"""The forecast engine (keel.planning.forecast) on planted panels: the cross-validated choice finds the model
that made the data, censored days are not learned as demand, quantiles are ordered and calibrated, sparse
series get the intermittent models, and bad input is refused. One process (threads=1): these are small."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from keel.planning import Forecaster, quantile_column
from keel.planning.forecast.models import SPARSE, is_sparse
from keel.planning.forecast.select import scale_of


def panel(series: dict[str, np.ndarray], *, start: str = "2026-01-01") -> pd.DataFrame:
    frames = []
    for uid, y in series.items():
        ds = pd.date_range(start, periods=len(y), freq="D")
        frames.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": y.astype(float)}))
    return pd.concat(frames, ignore_index=True)


def test_cross_validation_picks_the_planted_seasonal_model() -> None:
    rng = np.random.default_rng(3)
    week = np.array([5, 9, 12, 8, 20, 30, 2], dtype=float)
    data = {f"s{i}": np.tile(week * rng.uniform(1, 4), 12) + rng.normal(0, 0.05, 84) for i in range(12)}
    result = Forecaster(models=("snaive", "drift"), threads=1).forecast(panel(data), horizon=7, season_length=7)
    assert result.ranking["smooth"][0][0] == ("snaive",)
    assert set(result.combination.values()) == {("snaive",)}
    first = result.frame[result.frame["unique_id"] == "s0"]["mean"].to_numpy()
    assert np.allclose(first, data["s0"][-7:], atol=0.5)  # the next week is the last week again


def test_cross_validation_picks_the_planted_trend_model() -> None:
    rng = np.random.default_rng(4)
    data = {f"t{i}": 100 + rng.uniform(1, 5) * np.arange(60) + rng.normal(0, 0.1, 60) for i in range(10)}
    result = Forecaster(models=("snaive", "drift"), threads=1).forecast(panel(data), horizon=5, season_length=7)
    assert result.ranking["smooth"][0][0] == ("drift",)


def test_censored_days_are_not_learned_as_zero_demand() -> None:
    rng = np.random.default_rng(5)
    y = rng.poisson(10, 120).astype(float)
    y[-14:] = 0  # two weeks out of stock: nothing sold, not nothing wanted
    frame = panel({"a": y})
    blind = Forecaster(models=("snaive", "drift"), threads=1).forecast(frame, horizon=7, season_length=7)
    frame["censored"] = False
    frame.loc[frame.index[-14:], "censored"] = True
    told = Forecaster(models=("snaive", "drift"), threads=1).forecast(frame, horizon=7, season_length=7)
    assert blind.frame["mean"].mean() < 2  # the zeros taken for demand
    assert 8 < told.frame["mean"].mean() < 12  # the stockout seen for what it is


def test_quantiles_are_ordered_and_cover_what_they_claim() -> None:
    rng = np.random.default_rng(6)
    history, future = {}, {}
    for i in range(40):
        y = 50 + rng.normal(0, 5, 130)
        history[f"n{i}"], future[f"n{i}"] = y[:100], y[100:114]
    result = Forecaster(models=("ets", "theta", "snaive"), windows=2, threads=1).forecast(panel(history), 14, 7)
    frame = result.frame
    columns = [quantile_column(q) for q in (0.5, 0.8, 0.9, 0.95, 0.99)]
    assert columns == ["q50", "q80", "q90", "q95", "q99"]
    assert np.all(np.diff(frame[columns].to_numpy(), axis=1) >= 0)
    actual = np.concatenate([future[uid] for uid in frame["unique_id"].unique()])
    covered = np.mean(actual <= frame["q90"].to_numpy())
    assert 0.8 <= covered <= 0.98, covered  # about 90 % of the points at or below the 90 % quantile


def test_sparse_series_get_the_intermittent_models_and_nothing_negative() -> None:
    rng = np.random.default_rng(7)
    sparse = {f"z{i}": (rng.random(90) < 0.15) * rng.integers(1, 4, 90) for i in range(6)}
    smooth = {f"m{i}": rng.poisson(20, 90) for i in range(6)}
    assert all(is_sparse(y.astype(float)) for y in sparse.values())
    result = Forecaster(threads=1).forecast(panel({**sparse, **smooth}), horizon=7, season_length=7)
    for uid in sparse:
        assert set(result.combination[uid]) <= set(SPARSE)
    assert set(result.ranking) == {"smooth", "sparse"}
    assert (result.frame.drop(columns=["unique_id", "ds", "step"]).to_numpy() >= 0).all()
    assert len(result.frame) == 12 * 7
    dates = result.frame[result.frame["unique_id"] == "m0"]["ds"]
    assert list(dates) == list(pd.date_range("2026-04-01", periods=7, freq="D"))  # the days after the last


def test_a_series_too_short_to_look_back_at_is_still_forecast() -> None:
    data = {"long": np.arange(40, dtype=float), "short": np.array([3.0, 4.0])}
    result = Forecaster(models=("snaive", "drift", "pooled"), threads=1).forecast(panel(data), 5, 7)
    short = result.frame[result.frame["unique_id"] == "short"]
    assert len(short) == 5 and np.isfinite(short[["mean", "q99"]].to_numpy()).all()


def test_the_scale_is_the_seasonal_difference_and_never_zero() -> None:
    assert scale_of(np.array([1.0, 2, 3, 4, 5, 6]), 2) == 2.0
    assert scale_of(np.array([5.0, 5, 5, 5]), 2) == 5.0  # flat: its level
    assert scale_of(np.zeros(4), 2) == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": ("ets", "prophet")}, "unknown models"),
        ({"windows": 0}, "at least 1"),
        ({"quantiles": (0.5, 1.5)}, "between 0 and 1"),
    ],
)
def test_a_bad_configuration_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Forecaster(**kwargs)  # type: ignore[arg-type]


def test_bad_series_are_refused() -> None:
    forecaster = Forecaster(threads=1)
    with pytest.raises(ValueError, match="lacks the columns"):
        forecaster.forecast(pd.DataFrame({"unique_id": ["a"], "y": [1.0]}), 3)
    with pytest.raises(ValueError, match="missing or infinite"):
        forecaster.forecast(panel({"a": np.array([1.0, np.nan, 2.0])}), 3)
    with pytest.raises(ValueError, match="at least 1"):
        forecaster.forecast(panel({"a": np.ones(10)}), 0)
