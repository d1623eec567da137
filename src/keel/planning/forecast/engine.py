"""``Forecaster``: one class over statsforecast's kernels that chooses, per series, what to average.

    forecast = Forecaster().forecast(series, horizon=18, season_length=12)
    forecast.frame  # unique_id, ds, step, mean, q50, q80, q90, q95, q99

``series`` is a long frame with the columns ``unique_id``, ``ds`` (dates or integers, one regular step per
series, no gaps) and ``y``, and optionally ``censored`` (True where ``y`` is not a measure of demand: a day out
of stock sells what was there, not what was wanted; a closed day sells nothing). Censored points are never
learned as they stand: each is replaced, for fitting, by the mean of the series' uncensored points at the
same place in the season, and no cross-validation window is scored on one.

The panel is split into smooth and sparse series (``models.is_sparse``); each part has its candidate models
refitted at ``windows`` earlier origins, and ``select.choose`` picks each series' combination and the
quantiles from those windows. The pooled model joins the candidates like any other.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from statsforecast import StatsForecast
from statsforecast.models import Naive

from keel.planning.forecast.models import KNOWN, POOLED, SMOOTH, SPARSE, is_sparse, local_models
from keel.planning.forecast.pooled import pooled_forecast
from keel.planning.forecast.select import Choice, Window, choose, scale_of
from keel.planning.forecast.yearly import factors, total_error
from keel.planning.quantiles import QUANTILES, quantile_column

Array = NDArray[np.float64]


class FitEngine(Protocol):
    """Where the per-series fits run when not in this process (``cluster.DaskEngine``)."""

    name: str

    def forecast(self, long: pd.DataFrame, models: list[Any], horizon: int) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Forecast:
    """The forecasts, one row per series and step, and how each series' forecast was made."""

    frame: pd.DataFrame  # unique_id, ds, step, mean, q<level> for each quantile level (q50, q80...)
    combination: dict[Any, tuple[str, ...]]  # per series, the models averaged
    ranking: dict[str, list[tuple[tuple[str, ...], float]]] = field(default_factory=dict)  # per part
    seconds: float = 0.0
    # the chosen combinations' forecasts from the last origin of the cross-validation (the ``horizon`` points
    # before the end), beside what happened there (NaN where censored): unique_id, step, mean, actual.
    # Reconciliation is chosen on these (``hierarchy``) without fitting anything again.
    backtest: pd.DataFrame = field(default_factory=pd.DataFrame)
    yearly: tuple[str, ...] = ()  # the parts (smooth, sparse) whose forecasts carry the yearly season


@dataclass(frozen=True)
class _Part:
    """The smooth or the sparse series of the panel: their ids, histories and candidate models."""

    name: str
    ids: list[Any]
    ys: list[Array]  # censored points already replaced
    censored: list[NDArray[np.bool_]]
    models: tuple[str, ...]
    ends: list[Any]  # each series' last ds: series that end together share a calendar (``yearly``)


class Forecaster:
    """Chooses each series' combination of models by rolling-origin cross-validation (``select``)."""

    def __init__(
        self,
        *,
        models: tuple[str, ...] = SMOOTH,
        sparse_models: tuple[str, ...] = SPARSE,
        windows: int = 2,
        top: int = 10,
        quantiles: tuple[float, ...] = QUANTILES,
        threads: int | None = None,
        engine: FitEngine | None = None,
    ) -> None:
        unknown = sorted((set(models) | set(sparse_models)) - KNOWN)
        if unknown:
            raise ValueError(f"unknown models {unknown}; known: {sorted(KNOWN)}")
        if windows < 1 or top < 1:
            raise ValueError("windows and top must be at least 1")
        if not quantiles or not all(0 < q < 1 for q in quantiles):
            raise ValueError("quantiles are levels between 0 and 1 (0.9 is the 90 % quantile)")
        self.models, self.sparse_models = models, sparse_models
        self.windows, self.top = windows, top
        self.quantiles = tuple(sorted(quantiles))
        self.threads = threads or os.cpu_count() or 1
        self.engine = engine  # None: the fits run here, on ``threads`` processes

    def forecast(
        self, series: pd.DataFrame, horizon: int, season_length: int = 1, year_length: int | None = None
    ) -> Forecast:
        """``year_length``: points in a year, aligned with the season (364 for days: 52 weeks, so a weekday
        stays a weekday). Given, series with more than a year of history may carry the yearly season
        (``yearly``), where the cross-validation windows say it helps."""
        started = time.perf_counter()
        if horizon < 1 or season_length < 1 or (year_length is not None and year_length < 2):
            raise ValueError("horizon and season_length must be at least 1, year_length at least 2")
        missing = {"unique_id", "ds", "y"} - set(series.columns)
        if missing:
            raise ValueError(f"series lacks the columns {sorted(missing)}")
        data = series.sort_values(["unique_id", "ds"], kind="stable")
        values = data["y"].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError("y holds a missing or infinite value")
        groups = data.groupby("unique_id", sort=False)
        ids = list(groups.groups)
        flags = data["censored"].to_numpy(dtype=bool) if "censored" in data else np.zeros(len(values), dtype=bool)
        masks = [flags[idx] for idx in groups.indices.values()]
        last = data["ds"].to_numpy()[[idx[-1] for idx in groups.indices.values()]]
        ys = [
            uncensored(values[idx], mask, season_length)
            for idx, mask in zip(groups.indices.values(), masks, strict=True)
        ]
        sparse = [is_sparse(y) for y in ys]
        parts = []
        for name, flag, models in (("smooth", False, self.models), ("sparse", True, self.sparse_models)):
            keep = [i for i, s in enumerate(sparse) if s == flag]
            parts.append(
                _Part(
                    name, [ids[i] for i in keep], [ys[i] for i in keep], [masks[i] for i in keep], models,
                    [last[i] for i in keep],
                )
            )  # fmt: skip
        nonnegative = bool(np.all(values >= 0))
        frames: list[pd.DataFrame] = []
        backtests: list[pd.DataFrame] = []
        combination: dict[Any, tuple[str, ...]] = {}
        ranking: dict[str, list[tuple[tuple[str, ...], float]]] = {}
        yearly: list[str] = []
        for part in parts:
            if not part.ids:
                continue
            points, quantiles, choice, (shown, actual), seasonal = self._part(part, horizon, season_length, year_length)
            if seasonal:
                yearly.append(part.name)
            if nonnegative:
                points, quantiles, shown = np.maximum(points, 0), np.maximum(quantiles, 0), np.maximum(shown, 0)
            frames.append(self._frame(part, groups, points, quantiles, horizon))
            backtests.append(
                pd.DataFrame(
                    {
                        "unique_id": np.repeat(np.asarray(part.ids, dtype=object), horizon),
                        "step": np.tile(np.arange(1, horizon + 1), len(part.ids)),
                        "mean": shown.ravel(),
                        "actual": actual.ravel(),
                    }
                )
            )
            combination.update(zip(part.ids, choice.combos, strict=True))
            ranking[part.name] = choice.ranking
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        backtest = pd.concat(backtests, ignore_index=True) if backtests else pd.DataFrame()
        return Forecast(frame, combination, ranking, time.perf_counter() - started, backtest, tuple(yearly))

    def _part(
        self, part: _Part, horizon: int, season_length: int, year_length: int | None
    ) -> tuple[Array, Array, Choice, tuple[Array, Array], bool]:
        windows, seasonal, scales = [], [], []
        for k in range(1, self.windows + 1):
            cut = [len(y) - k * horizon for y in part.ys]
            keep = [i for i, n in enumerate(cut) if n >= max(3, season_length + 2)]
            shown = self._run(part, [part.ys[i][: cut[i]] for i in keep], horizon, season_length)
            forecasts = {m: _rows(f, keep, len(part.ys), horizon) for m, f in shown.items()}
            actual = [np.where(part.censored[i], np.nan, part.ys[i])[cut[i] : cut[i] + horizon] for i in keep]
            windows.append(Window(forecasts, _rows(np.asarray(actual), keep, len(part.ys), horizon)))
            if year_length:  # the same forecasts times the yearly factors known at that origin
                season = factors([y[: max(n, 0)] for y, n in zip(part.ys, cut, strict=True)], part.ends, horizon,
                                 year_length)  # fmt: skip
                seasonal.append(Window({m: f * season for m, f in forecasts.items()}, windows[-1].actuals))
            scales.append(
                np.array([scale_of(y[: max(n, 1)], season_length) for y, n in zip(part.ys, cut, strict=True)])
            )
        choice = choose(windows, scales, part.models, self.top, self.quantiles)
        final = self._run(part, part.ys, horizon, season_length)
        season = factors(part.ys, part.ends, horizon, year_length) if year_length else np.ones((1, 1))
        yearly = bool(seasonal) and not np.all(season == 1.0)
        # kept only where the windows say it helps, judged on the panel's total (yearly.total_error), for the
        # combinations chosen without it: choosing them again on the factored windows chases the windows' season
        if yearly and total_error(seasonal, choice.combos) < total_error(windows, choice.combos):
            windows = seasonal
            final = {m: f * season for m, f in final.items()}
        else:
            yearly = False
        points = np.array([np.mean([final[m][i] for m in combo], axis=0) for i, combo in enumerate(choice.combos)])
        scale = np.array([scale_of(y, season_length) for y in part.ys])
        quantiles = points[None, :, :] + scale[None, :, None] * choice.offsets[:, None, :]
        last = windows[0]  # k = 1: the origin ``horizon`` points before the end
        replay = np.array(
            [np.mean([last.forecasts[m][i] for m in combo], axis=0) for i, combo in enumerate(choice.combos)]
        )
        return points, quantiles, choice, (replay.reshape(len(part.ids), horizon), last.actuals), yearly

    def _run(self, part: _Part, ys: list[Array], horizon: int, season_length: int) -> dict[str, Array]:
        """Every candidate's forecasts (len(ys) x horizon) for the histories ``ys``."""
        if not ys:
            return {m: np.empty((0, horizon)) for m in part.models}
        out: dict[str, Array] = {}
        local = local_models(part.models, season_length)
        if local:
            long = pd.DataFrame(
                {
                    "unique_id": np.repeat(np.arange(len(ys)), [len(y) for y in ys]),
                    "ds": np.concatenate([np.arange(len(y)) for y in ys]),
                    "y": np.concatenate(ys),
                }
            )
            if self.engine is not None:
                shown = self.engine.forecast(long, local, horizon)
            else:
                engine = StatsForecast(models=local, freq=1, n_jobs=self.threads, fallback_model=Naive())
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # statsforecast warns per series it falls back on
                    shown = engine.forecast(df=long, h=horizon)
            shown = shown.sort_values(["unique_id", "ds"], kind="stable")
            for m in part.models:
                if m != POOLED:
                    out[m] = _filled(shown[m].to_numpy(np.float64).reshape(len(ys), horizon), ys)
        if POOLED in part.models:
            out[POOLED] = _filled(pooled_forecast(ys, horizon, season_length, self.threads), ys)
        return out

    def _frame(self, part: _Part, groups: Any, points: Array, quantiles: Array, horizon: int) -> pd.DataFrame:
        futures = [_future(groups.get_group(uid)["ds"], horizon) for uid in part.ids]
        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(np.asarray(part.ids, dtype=object), horizon),
                "ds": np.concatenate(futures),
                "step": np.tile(np.arange(1, horizon + 1), len(part.ids)),
                "mean": points.ravel(),
            }
        )
        for level, values in zip(self.quantiles, quantiles, strict=True):
            frame[quantile_column(level)] = values.ravel()
        return frame


def uncensored(y: Array, censored: NDArray[np.bool_], season_length: int) -> Array:
    """``y`` with each censored point replaced by the mean of the uncensored points at the same place in the
    season (of all of them where that place has none; 0 where the series has none at all)."""
    if not censored.any():
        return y
    out = y.copy()
    seen = ~censored
    overall = float(np.mean(y[seen])) if seen.any() else 0.0
    place = np.arange(len(y)) % season_length
    for p in np.unique(place[censored]):
        same = seen & (place == p)
        out[censored & (place == p)] = float(np.mean(y[same])) if same.any() else overall
    return out


def _rows(values: Array, keep: list[int], count: int, horizon: int) -> Array:
    """``values`` (one row per kept series) spread over ``count`` rows, NaN where a series was not kept."""
    out = np.full((count, horizon), np.nan)
    if keep:
        out[keep] = values
    return out


def _filled(forecasts: Array, ys: list[Array]) -> Array:
    """A model that could not forecast a series (NaN) is replaced by the series' last value."""
    bad = ~np.isfinite(forecasts)
    if bad.any():
        last = np.array([y[-1] for y in ys])
        forecasts = np.where(bad, last[:, None], forecasts)
    return forecasts


def _future(ds: pd.Series, horizon: int) -> Array:
    """The ``horizon`` steps after the series' last ``ds``, at its own regular step."""
    last = ds.iloc[-1]
    if pd.api.types.is_datetime64_any_dtype(ds):
        freq = pd.infer_freq(ds) if len(ds) >= 3 else None
        step = (
            pd.tseries.frequencies.to_offset(freq)
            if freq
            else (ds.iloc[-1] - ds.iloc[-2] if len(ds) > 1 else pd.Timedelta(days=1))
        )
        return np.asarray(pd.date_range(last, periods=horizon + 1, freq=step)[1:])
    gap = ds.iloc[-1] - ds.iloc[-2] if len(ds) > 1 else 1
    return np.asarray([last + gap * (i + 1) for i in range(horizon)])
