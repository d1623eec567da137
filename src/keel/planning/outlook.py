"""From demand history to the daily outlook replenishment needs: each series' mean and the quantile at its
policy's service level, day by day, through ``Forecaster`` (stockout days censored, weekly season)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from keel.inventory import DemandSeries
from keel.orders import OrderUnits
from keel.planning.forecast import QUANTILES, Forecaster, quantile_column
from keel.planning.forecast.engine import FitEngine
from keel.planning.shipto import ONLINE, Attribution, attribute

WEEK = 7
YEAR = 52 * WEEK  # the forecaster's year of days: a weekday stays a weekday (forecast/yearly.py)
# The model set of a planning run: cheap candidates, because a run re-forecasts thousands of series. ETS
# without a trend and the dynamic standard Theta replaced AutoETS and the optimised Theta: three times
# faster and as accurate on the twin's daily demand, or more (docs/planning.md, "Runs and suggestions").
FAST_SMOOTH = ("etsn", "dstm", "snaive", "drift")
FAST_SPARSE = ("croston", "tsb", "adida", "snaive")


@dataclass(frozen=True, slots=True)
class Outlook:
    mean: tuple[float, ...]
    upper: tuple[float, ...]  # at the series' service level
    bands: dict[str, tuple[float, ...]] = field(default_factory=dict)  # q50, q80, ... day by day (the pages' fan)


def planning_forecaster(
    quantiles: tuple[float, ...] = QUANTILES,
    *,
    fast: bool = True,
    threads: int | None = None,
    engine: FitEngine | None = None,
) -> Forecaster:
    """The forecaster planning runs use: the cheaper model set unless ``fast`` is off; its fits on ``engine``
    (a Dask cluster) when given."""
    if fast:
        return Forecaster(
            models=FAST_SMOOTH, sparse_models=FAST_SPARSE, quantiles=quantiles, threads=threads, engine=engine
        )
    return Forecaster(quantiles=quantiles, threads=threads, engine=engine)


def fits_on(scheduler: str) -> AbstractContextManager[FitEngine | None]:
    if not scheduler:
        return nullcontext()
    from keel.planning.forecast.cluster import DaskEngine  # Dask: an optional dependency, imported when used

    return DaskEngine(scheduler)


def outlooks(
    history: Sequence[DemandSeries],
    levels: Mapping[tuple[str, str], float],
    horizon: int,
    *,
    fast: bool = True,
    scheduler: str = "",
) -> tuple[dict[tuple[str, str], Outlook], float]:
    """(sku, location) -> outlook over ``horizon`` days after each series' last day, and the seconds the
    forecast took (on the Dask cluster at ``scheduler`` when given). A series that never sold gets zeros
    without a model; so does one the engine cannot fit (fewer than two weeks of history)."""
    needed = sorted({round(v, 4) for v in levels.values()} | set(QUANTILES))
    zero = Outlook((0.0,) * horizon, (0.0,) * horizon)
    out: dict[tuple[str, str], Outlook] = {}
    frames: list[pd.DataFrame] = []
    for s in history:
        if not any(s.units) or len(s.units) < 2 * WEEK:
            out[(s.sku, s.location)] = zero
            continue
        days = pd.date_range(s.first_day, periods=len(s.units), freq="D")
        frames.append(
            pd.DataFrame({"unique_id": f"{s.sku}\t{s.location}", "ds": days, "y": s.units, "censored": s.stockout})
        )
    if not frames:
        return out, 0.0
    with fits_on(scheduler) as fits:
        engine = planning_forecaster(tuple(needed), fast=fast, engine=fits)
        result = engine.forecast(pd.concat(frames, ignore_index=True), horizon, WEEK, YEAR)
    frame = result.frame.sort_values(["unique_id", "step"])
    for uid, rows in frame.groupby("unique_id", sort=False):
        sku, location = str(uid).split("\t")
        column = quantile_column(round(levels.get((sku, location), 0.95), 4))
        mean = np.maximum(rows["mean"].to_numpy(dtype=float), 0.0)
        upper = np.maximum(rows[column].to_numpy(dtype=float), mean)
        bands: dict[str, tuple[float, ...]] = {}
        floor = np.zeros(len(mean))
        for q in QUANTILES:  # never below a lower level's: a fan whose bands cross would mislead
            floor = np.maximum(rows[quantile_column(q)].to_numpy(dtype=float), floor)
            bands[quantile_column(q)] = tuple(np.round(floor, 2).tolist())
        out[(sku, location)] = Outlook(tuple(mean.tolist()), tuple(upper.tolist()), bands)
    return out, result.seconds


def node_outlooks(
    history: Sequence[DemandSeries],
    orders: Sequence[OrderUnits],
    country_of: Mapping[str, str],
    levels: Mapping[tuple[str, str], float],
    horizon: int,
    fast: bool = True,
    scheduler: str = "",
) -> tuple[dict[tuple[str, str], Outlook], float, Attribution]:
    """Each node's outlook with shipped demand forecast at the ship-to country (``keel.planning.shipto``): the
    local and the online series forecast together, then ``combined``; the seconds it took, and the split."""
    split = attribute(history, orders, country_of)
    wanted = dict(levels)
    for (sku, node), parts in split.shares.items():  # an online series is read at its nodes' highest level
        for part in parts:
            wanted[(sku, part)] = max(wanted.get((sku, part), 0.0), levels.get((sku, node), 0.95))
    found, seconds = outlooks(split.series, wanted, horizon, fast=fast, scheduler=scheduler)
    return combined(found, split.shares), seconds, split


def combined(
    found: Mapping[tuple[str, str], Outlook], shares: Mapping[tuple[str, str], Mapping[str, float]]
) -> dict[tuple[str, str], Outlook]:
    """Each node's outlook from ``found`` (the local and the online series' outlooks, ``keel.planning.shipto``):
    its local outlook plus its share of each ship-to country's online outlook, day by day, the mean and every
    quantile alike. A quantile of a share is the share of the quantile: routing moves a country's orders
    between its nodes, so a node is backed by the others and the country's spread is the one to cover. Summing
    a local and an online quantile adds their spreads as if they moved together: never less stock than needed."""
    out: dict[tuple[str, str], Outlook] = {}
    for key, own in found.items():
        if not key[1].startswith(ONLINE):
            parts = [(1.0, own), *((w, found[(key[0], loc)]) for loc, w in sorted(shares.get(key, {}).items()))]
            out[key] = own if len(parts) == 1 else _weighted(parts)
    return out


def _weighted(parts: Sequence[tuple[float, Outlook]]) -> Outlook:
    days = max(len(o.mean) for _, o in parts)

    def total(pick: Callable[[Outlook], Sequence[float]]) -> tuple[float, ...]:
        acc = np.zeros(days)
        for w, o in parts:
            values = np.asarray(pick(o), dtype=float)
            acc[: len(values)] += w * values
        return tuple(acc.tolist())

    def band(name: str) -> tuple[float, ...]:
        return tuple(round(v, 2) for v in total(lambda o: o.bands.get(name, ())))

    bands = {name: band(name) for name in sorted({name for _, o in parts for name in o.bands})}
    return Outlook(total(lambda o: o.mean), total(lambda o: o.upper), bands)
