"""Choosing each series' combination from rolling-origin cross-validation, and calibrating its quantiles.

The forecaster refits every candidate model at the origins ``n - k * h`` (k = 1..windows) and scores each
combination (the mean of a subset of up to four models) by its mean absolute error scaled by the series' own
in-sample seasonal difference (MASE's scale: comparable across series, defined for zeros, unlike percentage
errors). Two levels of choice, both measured on M3 and Tourism (docs/planning.md):

- the panel ranks every combination on all its series' windows and keeps its ``top`` best (a choice made on
  thousands of windows, so it does not chase noise);
- each series then takes, among those few, the one that did best on its own windows (a choice made on few
  windows, which is why it is only among the panel's best; a free choice among all combinations loses).

Quantiles come from the same windows: the chosen combination's scaled errors, pooled per horizon step across
the panel, give each step's empirical quantiles; a forecast's quantile is its point plus the series' scale
times that step's quantile.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
MAX_SIZE = 4  # combinations of up to four models
MIN_RESIDUALS = 30  # fewer per step than this: the steps are pooled


@dataclass(frozen=True)
class Window:
    """One origin's forecasts by model (series x h, NaN rows for series too short for it) and the actuals."""

    forecasts: dict[str, Array]
    actuals: Array


@dataclass(frozen=True)
class Choice:
    combos: list[tuple[str, ...]]  # per series, the models averaged
    ranking: list[tuple[tuple[str, ...], float]]  # the panel's combinations, best first, with their error
    offsets: Array  # (len(levels) x h) scaled quantile offsets per step


def scale_of(y: Array, season_length: int) -> float:
    """The mean absolute seasonal difference (the plain difference where a season does not fit): MASE's scale."""
    for lag in (season_length, 1):
        if len(y) > lag:
            scale = float(np.mean(np.abs(y[lag:] - y[:-lag])))
            if scale > 0:
                return scale
    level = float(np.mean(np.abs(y))) if len(y) else 0.0
    return level if level > 0 else 1.0


def _combos(models: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [c for size in range(1, min(MAX_SIZE, len(models)) + 1) for c in combinations(models, size)]


def _mean_of(forecasts: dict[str, Array], combo: tuple[str, ...]) -> Array:
    return np.asarray(np.mean([forecasts[m] for m in combo], axis=0), dtype=np.float64)


def choose(
    windows: list[Window], scales: list[Array], models: tuple[str, ...], top: int, levels: tuple[float, ...]
) -> Choice:
    """Each series' combination and the panel's quantile offsets, from ``windows`` (scales per window)."""
    series = windows[0].actuals.shape[0] if windows else 0
    combos = _combos(models)
    sums = np.zeros((len(combos), series))
    counts = np.zeros(series)
    for window, scale in zip(windows, scales, strict=True):
        # NaN actuals: series too short for this origin, and censored points (a stockout is no measure)
        counts += np.sum(~np.isnan(window.actuals), axis=1)
        for c, combo in enumerate(combos):
            error = np.abs(window.actuals - _mean_of(window.forecasts, combo)) / scale[:, None]
            sums[c] += np.nansum(error, axis=1)
    total = counts.sum()
    panel = sums.sum(axis=1) / total if total else np.zeros(len(combos))
    order = list(np.argsort(panel, kind="stable"))
    best = order[:top]
    chosen: list[tuple[str, ...]] = []
    for i in range(series):
        pick = min(best, key=lambda c: sums[c, i]) if counts[i] else order[0]
        chosen.append(combos[pick])
    ranking = [(combos[c], float(panel[c])) for c in order[:top]]
    return Choice(chosen, ranking, _offsets(windows, scales, chosen, levels))


def _offsets(
    windows: list[Window], scales: list[Array], chosen: list[tuple[str, ...]], levels: tuple[float, ...]
) -> Array:
    horizon = windows[0].actuals.shape[1] if windows else 1
    residuals: list[Array] = []
    for window, scale in zip(windows, scales, strict=True):
        for i, combo in enumerate(chosen):
            actual = window.actuals[i]
            if not np.isnan(actual).all():
                point = np.mean([window.forecasts[m][i] for m in combo], axis=0)
                residuals.append((actual - point) / scale[i])
    q = np.asarray(levels)
    if not residuals:  # no series long enough to look back at: a random walk's spread
        steps = np.sqrt(np.arange(1, horizon + 1))
        return np.asarray([[NormalDist().inv_cdf(level) * s for s in steps] for level in q])
    r = np.asarray(residuals)
    if np.min(np.sum(~np.isnan(r), axis=0)) < MIN_RESIDUALS:
        return np.repeat(np.nanquantile(r.ravel(), q)[:, None], horizon, axis=1)
    return np.asarray(np.nanquantile(r, q, axis=0), dtype=np.float64)
