"""``keel bench forecast --dataset twin --hierarchy``: the twin's panel forecast as a tree (country -> category
x country -> SKU x country -> SKU x store) and reconciled (``keel.planning.forecast_hierarchy``), every level
scored against the twin's true expected demand.

Three ways to read each level, from the same run:

- ``base``: the level's own forecasts (each node forecast from its own summed history; they do not add up);
- ``bottom_up``: the SKU x store forecasts summed (coherent; what Keel showed before reconciliation existed);
- ``reconciled``: what ``forecast_hierarchy`` returns, with the method its backtest chose (``hierarchy_method``).

Keys: ``wape_<level>_<day|week>_<way>`` for the levels ``location`` (SKU x store), ``sku`` (SKU x country),
``category`` (category x country) and ``country``, the same WAPE as the plain bench (sum of absolute errors
over the sum of the expected demand, a week's days summed first for ``week``); ``hierarchy_method``,
``hierarchy_nodes`` (every node forecast), ``hierarchy_seconds`` (the whole call: aggregation, forecasts of
every node, backtest and reconciliation); and each candidate's backtest error per level as the choice saw it
(``hierarchy_backtest``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from keel.planning import forecast_hierarchy, planning_forecaster

LEVELS = ("country", "category", "sku", "location")
WEEK = 7


def _keys(data: dict[str, Any], countries: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({
        "country": np.asarray(countries)[data["country"]],
        "category": data["category"].astype(str),
        "sku": data["sku"].astype(str),
        "location": data["store"].astype(str),
    })  # fmt: skip


def _by_level(keys: pd.DataFrame, values: np.ndarray, level: str) -> np.ndarray:
    """``values`` (bottom series x days) summed to the nodes of ``level`` (nodes x days), in a fixed order."""
    columns = list(LEVELS[: LEVELS.index(level) + 1])
    group = pd.MultiIndex.from_frame(keys[columns]).factorize(sort=True)[0]
    out = np.zeros((group.max() + 1, values.shape[1]))
    np.add.at(out, group, values)
    return out


def _wape(forecast: np.ndarray, truth: np.ndarray, weekly: bool) -> float:
    if weekly:
        weeks = truth.shape[1] // WEEK
        forecast = forecast[:, : weeks * WEEK].reshape(len(forecast), weeks, WEEK).sum(axis=2)
        truth = truth[:, : weeks * WEEK].reshape(len(truth), weeks, WEEK).sum(axis=2)
    return round(float(np.abs(forecast - truth).sum() / truth.sum()), 4)


def _matrix(frame: pd.DataFrame, level: str, column: str, horizon: int) -> np.ndarray:
    """The forecast ``column`` of ``level``'s nodes (nodes x steps), in ``_by_level``'s order."""
    rows = frame[frame["level"] == level].sort_values([*LEVELS[: LEVELS.index(level) + 1], "step"], kind="stable")
    return np.asarray(rows[column].to_numpy(np.float64).reshape(-1, horizon), dtype=np.float64)


def hierarchy_figures(data: dict[str, Any], countries: tuple[str, ...], horizon: int, threads: int) -> dict[str, Any]:
    history, n = data["history"], len(data["sold"])
    keys = _keys(data, countries)
    series = keys.loc[np.repeat(np.arange(n), history)].reset_index(drop=True)
    series["ds"] = np.tile(pd.to_datetime(data["calendar"][:history]), n)
    series["y"] = data["sold"][:, :history].ravel()
    series["censored"] = data["censored"][:, :history].ravel()
    found = forecast_hierarchy(planning_forecaster((0.5,), threads=threads), series, LEVELS, horizon, WEEK)
    # codes sort as text in both orders (_by_level's factorize and _matrix's sort_values): the rows line up
    frame = found.frame.astype(dict.fromkeys(LEVELS, str))
    truth = data["expected"][:, history : history + horizon]
    bottom = _matrix(frame, "location", "base", horizon)
    bottom_keys = keys.sort_values(list(LEVELS), kind="stable")
    order = bottom_keys.index.to_numpy()
    figures: dict[str, Any] = {"hierarchy_method": found.method, "hierarchy_nodes": int(len(frame) // horizon)}
    for level in LEVELS:
        true = _by_level(bottom_keys, truth[order], level)
        ways = {
            "base": _matrix(frame, level, "base", horizon),
            "bottom_up": _by_level(bottom_keys, bottom, level),
            "reconciled": _matrix(frame, level, "mean", horizon),
        }
        for way, forecast in ways.items():
            figures[f"wape_{level}_day_{way}"] = _wape(forecast, true, weekly=False)
            figures[f"wape_{level}_week_{way}"] = _wape(forecast, true, weekly=True)
    figures["hierarchy_backtest"] = found.scores
    figures["hierarchy_seconds"] = round(found.seconds, 2)
    return figures
