"""The pooled model: one LightGBM regressor per horizon step, trained on windows of every series at once.

Each training example is a window of ``inputs`` past values and the ``horizon`` values after it, both divided
by the window's level (the mean of its last season) so that series of any scale teach the same shapes; the
model predicts the h ratios directly (no recursion, so no compounding of its own errors). Local models learn
one series at a time from few points; this one learns across the panel, which is where its value in a
combination comes from (measured in docs/planning.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

PARAMS = {
    "objective": "l1",  # the median ratio: robust to the outliers a pooled panel always has
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "deterministic": True,
    "seed": 7,
    "verbose": -1,
}
ROUNDS = 200
# The newest windows of each series only: on M3 as accurate as all of them, on Tourism more (recent shapes
# matter more than old ones), and a fifth faster to train (docs/planning.md).
WINDOWS_PER_SERIES = 40


def input_length(season_length: int, horizon: int) -> int:
    return 2 * season_length if season_length > 1 else max(horizon, 4)


def _padded(y: Array, length: int) -> Array:
    return y if len(y) >= length else np.concatenate([np.full(length - len(y), y[0]), y])


def _level(window: Array, season_length: int) -> float:
    for part in (window[-season_length:], window):
        level = float(np.mean(np.abs(part)))
        if level > 0:
            return level
    return 1.0


def _examples(series: Sequence[Array], inputs: int, horizon: int, season_length: int) -> tuple[Array, Array]:
    xs: list[Array] = []
    ys: list[Array] = []
    for raw in series:
        y = _padded(raw, inputs + horizon)
        ends = range(max(inputs, len(y) - horizon + 1 - WINDOWS_PER_SERIES), len(y) - horizon + 1)
        for end in ends:
            window = y[end - inputs : end]
            level = _level(window, season_length)
            xs.append(window / level - 1)
            ys.append(y[end : end + horizon] / level - 1)
    return np.asarray(xs), np.asarray(ys)


def pooled_forecast(series: Sequence[Array], horizon: int, season_length: int, threads: int) -> Array:
    """Forecasts (len(series) x horizon) for every series, from a model trained on all of them."""
    inputs = input_length(season_length, horizon)
    x, y = _examples(series, inputs, horizon, season_length)
    last = [_padded(s, inputs)[-inputs:] for s in series]
    levels = np.array([_level(w, season_length) for w in last])
    z = np.asarray([w / lv - 1 for w, lv in zip(last, levels, strict=True)])
    params = {**PARAMS, "num_threads": threads}
    out = np.empty((len(series), horizon))
    for step in range(horizon):
        booster = lgb.train(params, lgb.Dataset(x, y[:, step]), num_boost_round=ROUNDS)
        out[:, step] = np.asarray(booster.predict(z), dtype=np.float64)
    return np.asarray((out + 1) * levels[:, None], dtype=np.float64)
