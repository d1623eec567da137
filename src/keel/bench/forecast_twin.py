"""``keel bench forecast --dataset twin``: forecasts scored against the demand the twin knows to be true.

A competition scores a forecast against what happened, which is one noisy draw of the demand. The twin knows
the demand itself: each day's expected units at each store are a SKU's rate times the store's size times the
twin's weekday and season curves (``keel.sim.demand``). So the figures here say how close each method comes
to the truth, not to the noise.

The panel (seeded): ``--skus`` SKUs with lognormal rates (from one sale a week to dozens a day) at
``--stores`` stores in each of three countries; ``--weeks`` weeks of daily sales drawn from a Poisson
around the expected demand, with a planted stockout streak (4 to 7 days, nothing sells, flagged) in one
series in ten; then ``--horizon`` days held out. Methods, in the same run on the same history:

- Keel: the forecaster planning runs use (``keel.planning.planning_forecaster``: censored days never learned
  as demand, each series' combination chosen by backtest);
- seasonal naive: each day as the same weekday last week;
- a 4-week weekday moving average: each weekday as the mean of its last four uncensored observations.

Scores, each against the expected demand over the held-out days: ``wape_day`` = sum |forecast - expected| /
sum expected at SKU x store x day, ``bias_day`` = sum (forecast - expected) / sum expected, and the same at SKU
x country x week (``wape_week``, ``bias_week``; a country's stores and a week's days summed first), for Keel and
with suffixes ``_snaive`` and ``_ma4`` for the baselines. ``seconds`` is Keel's forecasting time.
"""

from __future__ import annotations

import json
import time
import warnings
from contextlib import AbstractContextManager
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from rich.console import Console

from keel.planning import FitEngine, planning_forecaster
from keel.sim.demand import SEASON, WEEKDAY

console = Console(stderr=True)
Array = NDArray[np.float64]
COUNTRIES = ("DE", "FR", "IT")
CATEGORIES = 8  # the hierarchy's categories (``--hierarchy``): each SKU in one, drawn at random
WEEK = 7
FIRST_DAY = date(2026, 5, 4)  # a Monday: the history runs into late summer, the held-out weeks into September
YEAR = 364  # days in the forecaster's year: 52 weeks, a weekday stays a weekday


def panel(skus: int, stores: int, weeks: int, horizon: int, seed: int, first_day: date = FIRST_DAY) -> dict[str, Any]:
    """The expected demand of every series over history and horizon, the sales drawn from it, the stockout
    flags, and each series' country (see the module docstring)."""
    rng = np.random.default_rng(seed)
    days = weeks * WEEK + horizon
    calendar = [first_day + timedelta(days=i) for i in range(days)]
    curve = np.array([WEEKDAY[d.weekday()] * SEASON[d.month - 1] for d in calendar])
    rates = rng.lognormal(0.0, 1.0, skus)
    sizes = rng.lognormal(0.0, 0.4, (len(COUNTRIES), stores))
    expected = (rates[:, None, None] * sizes[None, :, :]).reshape(-1, 1) * curve[None, :]
    sold = rng.poisson(expected).astype(np.float64)
    censored = np.zeros(sold.shape, dtype=bool)
    history = weeks * WEEK
    for i in np.flatnonzero(rng.random(len(sold)) < 0.1):
        length = int(rng.integers(4, 8))
        start = int(rng.integers(WEEK, history - length))
        censored[i, start : start + length] = True
    sold[censored] = 0.0
    country = np.tile(np.repeat(np.arange(len(COUNTRIES)), stores), skus)
    sku = np.repeat(np.arange(skus), len(COUNTRIES) * stores)
    category = np.random.default_rng(seed + 1).integers(0, CATEGORIES, skus)  # its own draws: the rest unchanged
    return {"expected": expected, "sold": sold, "censored": censored, "calendar": calendar, "history": history,
            "country": country, "sku": sku, "store": np.tile(np.arange(len(COUNTRIES) * stores), skus),
            "category": category[sku]}  # fmt: skip


def seasonal_naive(sold: Array, history: int, horizon: int) -> Array:
    last_week = sold[:, history - WEEK : history]
    return np.tile(last_week, (1, -(-horizon // WEEK)))[:, :horizon]


def weekday_average(sold: Array, censored: NDArray[np.bool_], history: int, horizon: int) -> Array:
    """Each weekday as the mean of its last four uncensored observations (the series' uncensored mean of the
    last four weeks where all four were out of stock)."""
    window = slice(history - 4 * WEEK, history)
    values = np.where(censored[:, window], np.nan, sold[:, window]).reshape(len(sold), 4, WEEK)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a weekday out of stock all four weeks: a NaN mean
        by_day = np.nanmean(values, axis=1)
        overall = np.nanmean(values.reshape(len(sold), -1), axis=1)
    by_day = np.where(np.isnan(by_day), overall[:, None], by_day)
    by_day = np.nan_to_num(by_day)
    return np.tile(by_day, (1, -(-horizon // WEEK)))[:, :horizon]


def keel_forecast(
    data: dict[str, Any], horizon: int, threads: int, engine: FitEngine | None = None, year: int | None = YEAR
) -> tuple[Array, float, tuple[str, ...]]:
    """Planning's forecaster on the panel's history: the mean per series and day ahead, the seconds, and the
    parts of the panel (smooth, sparse) whose forecasts carry the yearly season."""
    history, n = data["history"], len(data["sold"])
    frame = pd.DataFrame({
        "unique_id": np.repeat(np.arange(n), history),
        "ds": np.tile(pd.to_datetime(data["calendar"][:history]), n),
        "y": data["sold"][:, :history].ravel(),
        "censored": data["censored"][:, :history].ravel(),
    })  # fmt: skip
    started = time.perf_counter()
    result = planning_forecaster((0.5,), threads=threads, engine=engine).forecast(frame, horizon, WEEK, year)
    seconds = time.perf_counter() - started
    ordered = result.frame.sort_values(["unique_id", "step"])
    mean = np.maximum(ordered["mean"].to_numpy(np.float64), 0.0).reshape(n, horizon)
    return mean, seconds, result.yearly


def scores(forecast: Array, data: dict[str, Any], horizon: int) -> dict[str, float]:
    """WAPE and bias at SKU x store x day and at SKU x country x week, against the expected demand."""
    truth = data["expected"][:, data["history"] : data["history"] + horizon]
    out = {"wape_day": np.abs(forecast - truth).sum() / truth.sum(), "bias_day": (forecast - truth).sum() / truth.sum()}
    weeks = horizon // WEEK
    group = data["sku"] * len(COUNTRIES) + data["country"]
    f_week = np.zeros((group.max() + 1, weeks))
    t_week = np.zeros_like(f_week)
    np.add.at(f_week, group, forecast[:, : weeks * WEEK].reshape(len(forecast), weeks, WEEK).sum(axis=2))
    np.add.at(t_week, group, truth[:, : weeks * WEEK].reshape(len(truth), weeks, WEEK).sum(axis=2))
    out["wape_week"] = np.abs(f_week - t_week).sum() / t_week.sum()
    out["bias_week"] = (f_week - t_week).sum() / t_week.sum()
    return {k: round(float(v), 4) for k, v in out.items()}


def run_twin(
    *,
    skus: int,
    stores: int,
    weeks: int,
    horizon: int,
    seed: int,
    threads: int,
    json_out: bool,
    engine: AbstractContextManager[FitEngine] | None = None,
    hierarchy: bool = False,
    first_day: date = FIRST_DAY,
) -> dict[str, Any]:
    data = panel(skus, stores, weeks, horizon, seed, first_day)
    console.print(f"twin: {len(data['sold']):,} series, {weeks} weeks of history from {first_day},"
                  f" {horizon} days held out", highlight=False)  # fmt: skip
    keel, seconds, yearly = keel_forecast(data, horizon, threads)
    figures: dict[str, Any] = {
        "dataset": "twin", "series": len(data["sold"]), "skus": skus, "countries": len(COUNTRIES),
        "stores": stores * len(COUNTRIES), "first_day": first_day.isoformat(), "history_days": data["history"],
        "horizon": horizon, "censored_days": int(data["censored"].sum()), **scores(keel, data, horizon),
        "yearly": list(yearly),
    }  # fmt: skip
    baselines = {
        "snaive": seasonal_naive(data["sold"], data["history"], horizon),
        "ma4": weekday_average(data["sold"], data["censored"], data["history"], horizon),
    }
    for name, forecast in baselines.items():
        figures |= {f"{k}_{name}": v for k, v in scores(forecast, data, horizon).items()}
    figures["seconds"] = round(seconds, 2)
    if data["history"] >= YEAR:
        # the same forecaster without the yearly season, in the same run: what the season adds
        alone, figures["seconds_no_yearly"], _ = keel_forecast(data, horizon, threads, year=None)
        figures |= {f"{k}_no_yearly": v for k, v in scores(alone, data, horizon).items()}
        figures["seconds_no_yearly"] = round(figures["seconds_no_yearly"], 2)
    if engine is not None:
        # the same forecast again, its fits on the cluster: its time beside the local one's, and how far apart
        with engine as fits:
            there, figures["seconds_dask"], _ = keel_forecast(data, horizon, threads, fits)
            figures["dask_workers"] = getattr(fits, "worker_count", 0)
        figures["seconds_dask"] = round(figures["seconds_dask"], 2)
        figures["max_difference_dask"] = float(np.max(np.abs(there - keel)))
    if hierarchy:
        from keel.bench.forecast_hierarchy import hierarchy_figures

        figures |= hierarchy_figures(data, COUNTRIES, horizon, threads)
    if json_out:
        print(json.dumps(figures))
    else:
        for method, suffix in (("keel", ""), ("seasonal naive", "_snaive"), ("4-week weekday average", "_ma4")):
            console.print(
                f"{method:>24}: WAPE day {figures['wape_day' + suffix]:.3f} (bias {figures['bias_day' + suffix]:+.3f}),"
                f" week {figures['wape_week' + suffix]:.3f} (bias {figures['bias_week' + suffix]:+.3f})",
                highlight=False,
            )
        console.print(f"keel forecast {figures['series']:,} series in {seconds:.1f} s; yearly season in"
                      f" {', '.join(yearly) or 'no part'}", highlight=False)  # fmt: skip
        if "wape_day_no_yearly" in figures:
            console.print(f"without the yearly season: WAPE day {figures['wape_day_no_yearly']:.3f}"
                          f" (bias {figures['bias_day_no_yearly']:+.3f}), week {figures['wape_week_no_yearly']:.3f}"
                          f" (bias {figures['bias_week_no_yearly']:+.3f})", highlight=False)  # fmt: skip
        if "seconds_dask" in figures:
            console.print(
                f"on Dask ({figures['dask_workers']} workers): {figures['seconds_dask']:.1f} s, forecasts within"
                f" {figures['max_difference_dask']:.2g} units of the local ones",
                highlight=False,
            )
        if hierarchy:
            console.print(f"hierarchy: {figures['hierarchy_method']} chosen; WAPE by day (by week)", highlight=False)
            for level in ("location", "sku", "category", "country"):
                ways = ", ".join(
                    f"{way} {figures[f'wape_{level}_day_{way}']:.3f} ({figures[f'wape_{level}_week_{way}']:.3f})"
                    for way in ("base", "bottom_up", "reconciled")
                )
                console.print(f"{level:>10}: {ways}", highlight=False, soft_wrap=True)
    return figures
