"""The candidate models the forecaster chooses among, by name, and how a series is told to be sparse.

Smooth series get exponential smoothing (ETS, also without a trend), complex exponential smoothing (CES),
the Theta family, the seasonal naive, the random walk with drift and the pooled model; sparse series
(intermittent demand: many zero periods) get Croston, SBA, TSB, ADIDA and IMAPA instead of the smooth ones,
which learn a level that sparse series do not have. Names are short, stable and part of the output (the
models chosen per series).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoCES,
    AutoETS,
    CrostonClassic,
    CrostonSBA,
    DynamicOptimizedTheta,
    DynamicTheta,
    OptimizedTheta,
    RandomWalkWithDrift,
    SeasonalNaive,
    Theta,
)

POOLED = "pooled"  # the cross-series LightGBM model (keel.planning.forecast.pooled), not a statsforecast one

_LOCAL: dict[str, Callable[[int], Any]] = {
    "ets": lambda s: AutoETS(season_length=s, alias="ets"),
    # ETS without a trend: a fifth of AutoETS's cost (it tries 6 forms, not 30), and daily store demand over
    # a few weeks has a level and a weekday shape, rarely a trend worth extrapolating (docs/planning.md)
    "etsn": lambda s: AutoETS(season_length=s, model="ZNZ", alias="etsn"),
    "ces": lambda s: AutoCES(season_length=s, alias="ces"),
    "dotm": lambda s: DynamicOptimizedTheta(season_length=s, alias="dotm"),
    "dstm": lambda s: DynamicTheta(season_length=s, alias="dstm"),
    "theta": lambda s: Theta(season_length=s, alias="theta"),
    "otm": lambda s: OptimizedTheta(season_length=s, alias="otm"),
    "snaive": lambda s: SeasonalNaive(season_length=s, alias="snaive"),
    "drift": lambda s: RandomWalkWithDrift(alias="drift"),
    "croston": lambda s: CrostonClassic(alias="croston"),
    "sba": lambda s: CrostonSBA(alias="sba"),
    "tsb": lambda s: TSB(alpha_d=0.2, alpha_p=0.2, alias="tsb"),
    "adida": lambda s: ADIDA(alias="adida"),
    "imapa": lambda s: IMAPA(alias="imapa"),
}

SMOOTH = ("ets", "ces", "dotm", "dstm", "theta", "otm", "snaive", "drift", POOLED)
SPARSE = ("croston", "sba", "tsb", "adida", "imapa", "snaive", POOLED)
KNOWN = frozenset((*_LOCAL, POOLED))

# A series is sparse when demand occurs on fewer than 1 in 1.32 periods on average (the usual cut-off of
# the average inter-demand interval between smooth/erratic and intermittent/lumpy demand).
SPARSE_INTERVAL = 1.32


def local_models(names: tuple[str, ...], season_length: int) -> list[Any]:
    """statsforecast model objects for the local (per-series) ``names``, aliased by name."""
    return [_LOCAL[name](season_length) for name in names if name != POOLED]


def is_sparse(y: NDArray[np.float64]) -> bool:
    demand = int(np.count_nonzero(y > 0))
    return demand > 0 and len(y) / demand >= SPARSE_INTERVAL and bool(np.all(y >= 0))
