"""Coherent forecasts up a hierarchy (SKU x location -> SKU x country -> category x country -> country, or any
tree of key columns), reconciled by hierarchicalforecast where that measurably helps.

    found = forecast_hierarchy(Forecaster(), series, ("country", "category", "sku", "location"), 14, 7)
    found.frame   # level, country, category, sku, location, ds, step, mean, q50... (every node, coherent)
    found.method  # "wls_struct": the reconciliation the backtest chose

``series`` holds the bottom series: one column per level (top first), ``ds``, ``y`` and optionally ``censored``.
Every node of the tree is forecast by the same ``Forecaster``. A parent's history is the sum of its children's,
each censored point first replaced by the forecaster's own estimate of the demand there (``uncensored``), so
a stockout at one store does not read as a dip in its country.

Forecasts made separately per level do not add up: the SKU x location ones do not sum to the SKU x country
one. Three ways to make them coherent are candidates:

- ``bottom_up``: keep the bottom forecasts and sum them (no reconciliation at all);
- ``ols`` and ``wls_struct``: MinTrace (hierarchicalforecast's sparse implementation, non-negative), which moves
  every level's forecast the least to make them add up, ``wls_struct`` weighting each node by how many bottom
  series it sums.

The choice is measured, not assumed: the forecaster's last cross-validation origin already holds every node's
forecast of the ``horizon`` points before the end (``Forecast.backtest``); each candidate reconciles those, and
the one with the lowest error over all the nodes is applied to the forecast: each level's weighted absolute
error relative to that of its own unreconciled forecasts, weighted by the level's number of nodes. Weighting by
nodes leans on the levels of many series: a level of a few big series is where the backtest flatters the
unreconciled forecasts, whose models were chosen on the same windows, and the bottom is what planning acts on.
MinTrace is kept only where it beat plain summing. Quantiles: each node keeps its own forecast's spread, moved
with its mean.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from keel.planning.forecast.engine import Forecaster, uncensored

METHODS = ("bottom_up", "ols", "wls_struct", "wls_var")


@dataclass(frozen=True)
class HierarchicalForecast:
    """Every node's reconciled forecast and how the reconciliation was chosen."""

    # level, one column per level (None below the node's level), ds, step, mean, q<level>..., and base: the
    # node's own forecast before reconciliation
    frame: pd.DataFrame
    method: str  # the candidate applied
    scores: dict[str, dict[str, float]]  # per candidate (and "base": unreconciled), per level: backtest WAPE
    levels: tuple[str, ...]
    seconds: float
    yearly: tuple[str, ...] = ()  # as ``Forecast.yearly``


def _reconciler(method: str) -> object:
    from hierarchicalforecast.methods import BottomUpSparse, MinTraceSparse  # imported when used: a second

    if method == "bottom_up":
        return BottomUpSparse()
    return MinTraceSparse(method, nonnegative=True)


def _reconcile(
    frame: pd.DataFrame,
    column: str,
    tags: dict[str, np.ndarray],
    s_matrix: object,
    method: str,
    residuals: pd.DataFrame,
) -> pd.Series:
    """``frame[column]`` (every node, unique_id, ds) reconciled by ``method``, in ``frame``'s row order;
    ``residuals`` (unique_id, ds, y, base) gives ``wls_var`` each node's error variance."""
    from hierarchicalforecast.core import HierarchicalReconciliation

    shown = frame[["unique_id", "ds", column]].rename(columns={column: "base"})
    insample = residuals if method == "wls_var" else None
    out = HierarchicalReconciliation([_reconciler(method)]).reconcile(shown, tags, s_matrix, Y_df=insample)
    value = next(c for c in out.columns if c.startswith("base/"))
    keyed = out.set_index(["unique_id", "ds"])[value]
    return pd.Series(keyed.reindex(pd.MultiIndex.from_frame(frame[["unique_id", "ds"]])).to_numpy(), index=frame.index)


def _wape(forecast: pd.Series, actual: pd.Series, level_of: pd.Series) -> dict[str, float]:
    seen = actual.notna()
    errors = (forecast[seen] - actual[seen]).abs().groupby(level_of[seen]).sum()
    totals = actual[seen].groupby(level_of[seen]).sum()
    return {str(k): round(float(errors[k] / totals[k]), 4) if totals[k] > 0 else 0.0 for k in totals.index}


def forecast_hierarchy(
    forecaster: Forecaster,
    series: pd.DataFrame,
    levels: Sequence[str],
    horizon: int,
    season_length: int = 1,
    methods: Sequence[str] = METHODS,
    *,
    year_length: int | None = None,
) -> HierarchicalForecast:
    """Every node of the tree ``levels`` (key columns of ``series``, top first) forecast and reconciled
    (``year_length``: as ``Forecaster.forecast`` takes it)."""
    from hierarchicalforecast.utils import aggregate

    started = time.perf_counter()
    levels = tuple(levels)
    unknown = sorted(set(methods) - set(METHODS))
    if not levels or unknown or not methods:
        raise ValueError(f"levels are key columns, top first; methods among {list(METHODS)}")
    missing = sorted(({*levels, "ds", "y"}) - set(series.columns))
    if missing:
        raise ValueError(f"series lacks the columns {missing}")
    data = series.sort_values([*levels, "ds"], kind="stable").reset_index(drop=True)
    # each level's values as integer codes: hierarchicalforecast joins a node's keys with "/", which a SKU may hold
    codes, names = {}, {}
    for level in levels:
        codes[level], names[level] = pd.factorize(data[level].astype(str))
    coded = pd.DataFrame({level: codes[level].astype(str) for level in levels})
    censored = data["censored"].to_numpy(dtype=bool) if "censored" in data else np.zeros(len(data), dtype=bool)
    y = data["y"].to_numpy(dtype=np.float64)
    bottom = pd.MultiIndex.from_frame(coded).factorize()[0]
    if censored.any():  # a parent's history sums the demand its children would have sold, not their stockouts
        y = y.copy()
        for idx in pd.Series(np.arange(len(y))).groupby(bottom).indices.values():
            if censored[idx].any():
                y[idx] = uncensored(y[idx], censored[idx], season_length)
    coded["ds"], coded["y"] = data["ds"].to_numpy(), y
    spec = [list(levels[: i + 1]) for i in range(len(levels))]
    tree, s_matrix, tags = aggregate(coded, spec, sparse_s=True)
    # the bottom keeps its censored flags (the forecaster imputes the same values and scores no window on them)
    flags = pd.DataFrame(
        {"unique_id": coded[list(levels)].agg("/".join, axis=1), "ds": coded["ds"], "censored": censored}
    )
    tree = tree.merge(flags, on=["unique_id", "ds"], how="left")
    tree["censored"] = tree["censored"].eq(True)  # a parent's point (NaN after the merge) is never censored
    found = forecaster.forecast(tree, horizon, season_length, year_length)
    level_of = {str(uid): levels[i] for i, keys in enumerate(spec) for uid in tags["/".join(keys)]}
    backtest = found.backtest.copy()
    backtest["ds"] = backtest["step"]
    backtest["mean"] = backtest["mean"].fillna(0.0)  # a node too short for the origin: no forecast to move
    node_level = backtest["unique_id"].map(level_of)
    # the backtest's errors as wls_var's residuals (a censored point or a node too short: no error known, 0)
    residuals = backtest[["unique_id", "ds"]].assign(
        y=backtest["actual"].fillna(backtest["mean"]), base=backtest["mean"]
    )
    scores = {"base": _wape(backtest["mean"], backtest["actual"], node_level)}
    for method in methods:
        scores[method] = _wape(
            _reconcile(backtest, "mean", tags, s_matrix, method, residuals), backtest["actual"], node_level
        )
    nodes = node_level.value_counts() / horizon
    relative = {
        m: sum(nodes[lv] * scores[m][lv] / scores["base"][lv] for lv in nodes.index if scores["base"][lv] > 0)
        for m in methods
    }
    method = min(methods, key=lambda m: (round(relative[m], 6), METHODS.index(m)))
    frame = found.frame.copy()
    reconciled = _reconcile(frame, "mean", tags, s_matrix, method, residuals).clip(lower=0.0)
    shift = reconciled - frame["mean"]
    floor = pd.Series(0.0, index=frame.index)
    for column in sorted(c for c in frame.columns if c.startswith("q")):
        floor = np.maximum(frame[column] + shift, floor)  # moved with the mean, never crossing a lower band
        frame[column] = floor
    frame["base"], frame["mean"] = frame["mean"], reconciled
    return HierarchicalForecast(
        _decoded(frame, levels, names, level_of), method, scores, levels, time.perf_counter() - started, found.yearly
    )


def _decoded(
    frame: pd.DataFrame, levels: tuple[str, ...], names: dict[str, pd.Index], level_of: dict[str, str]
) -> pd.DataFrame:
    parts = frame["unique_id"].str.split("/", expand=True).reindex(columns=range(len(levels)))
    out = pd.DataFrame({"level": frame["unique_id"].map(level_of)})
    for i, level in enumerate(levels):
        code = pd.to_numeric(parts[i], errors="coerce")
        out[level] = [names[level][int(c)] if c == c else None for c in code]
    rest = frame.drop(columns=["unique_id"])
    out = pd.concat([out.reset_index(drop=True), rest.reset_index(drop=True)], axis=1)
    depth = {level: i for i, level in enumerate(levels)}
    return out.sort_values(
        ["level", *levels, "step"], key=lambda c: c.map(depth) if c.name == "level" else c, kind="stable"
    ).reset_index(drop=True)
