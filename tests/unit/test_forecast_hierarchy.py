"""Coherent forecasts up a hierarchy (keel.planning.forecast_hierarchy): the levels add up under every method,
bottom-up leaves the bottom untouched, the choice follows the backtest, a stockout does not dent a parent,
codes holding the separator survive, and bad input is refused. Small planted panels, one process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from keel.planning import Forecaster, forecast_hierarchy

LEVELS = ("country", "category", "sku", "location")
WEEKDAY = np.array([0.6, 0.8, 1.0, 1.0, 1.2, 1.6, 0.8])


def tree_panel(days: int = 70, seed: int = 1, skus: int = 12) -> tuple[pd.DataFrame, np.ndarray]:
    """Two countries x 2 categories x ``skus`` SKUs x 2 stores of Poisson sales around a weekday curve;
    returns the panel and each bottom series' expected demand per day of the week (series x 7)."""
    rng = np.random.default_rng(seed)
    frames, rates = [], []
    ds = pd.date_range("2026-03-02", periods=days, freq="D")  # a Monday
    for country in ("DE", "FR"):
        for s in range(skus):
            rate = rng.lognormal(0.3, 0.8)
            for store in ("S1", "S2"):
                expected = rate * WEEKDAY * (1.4 if store == "S1" else 0.7)
                rates.append(expected)
                y = rng.poisson(np.tile(expected, days // 7 + 1)[:days]).astype(float)
                frames.append(
                    pd.DataFrame(
                        {
                            "country": country,
                            "category": f"C/{s % 2}",
                            "sku": f"SKU/{s}",
                            "location": f"{country}-{store}",
                            "ds": ds,
                            "y": y,
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True), np.asarray(rates)


def forecaster() -> Forecaster:
    return Forecaster(models=("snaive", "dstm", "etsn"), sparse_models=("croston", "tsb"), threads=1)


def children_sum(frame: pd.DataFrame, column: str) -> float:
    """The largest gap, over every parent and step, between a parent's ``column`` and its children's sum."""
    worst = 0.0
    for depth in range(len(LEVELS) - 1):
        parent, child = LEVELS[depth], LEVELS[depth + 1]
        keys = [*LEVELS[: depth + 1], "step"]
        parents = frame[frame["level"] == parent].set_index(keys)[column]
        summed = frame[frame["level"] == child].groupby(keys)[column].sum()
        worst = max(worst, float((parents - summed.reindex(parents.index)).abs().max()))
    return worst


@pytest.mark.parametrize("method", ["bottom_up", "ols", "wls_struct", "wls_var"])
def test_every_level_adds_up(method: str) -> None:
    series, _ = tree_panel()
    found = forecast_hierarchy(forecaster(), series, LEVELS, horizon=7, season_length=7, methods=(method,))
    assert found.method == method
    assert children_sum(found.frame, "mean") < 1e-6 * found.frame["mean"].max()
    counts = found.frame.groupby("level").size().to_dict()
    assert counts == {"country": 2 * 7, "category": 4 * 7, "sku": 24 * 7, "location": 48 * 7}
    bands = found.frame[["q50", "q80", "q90", "q95", "q99"]].to_numpy()
    assert (bands >= 0).all() and (np.diff(bands, axis=1) >= -1e-9).all()
    assert (found.frame["mean"] >= 0).all()


def test_bottom_up_keeps_the_bottom_forecasts_and_sums_them() -> None:
    series, _ = tree_panel()
    found = forecast_hierarchy(forecaster(), series, LEVELS, horizon=7, season_length=7, methods=("bottom_up",))
    bottom = found.frame[found.frame["level"] == "location"]
    assert np.allclose(bottom["mean"], bottom["base"])
    # the bottom's own forecasts are what the plain forecaster makes of the bottom series alone
    alone = series.assign(unique_id=series["sku"] + "@" + series["location"])
    plain = forecaster().forecast(alone[["unique_id", "ds", "y"]], horizon=7, season_length=7).frame
    plain = plain.assign(
        sku=plain["unique_id"].str.split("@").str[0], location=plain["unique_id"].str.split("@").str[1]
    )
    merged = bottom.merge(plain, on=["sku", "location", "step"], suffixes=("", "_plain"))
    assert len(merged) == len(bottom) and np.allclose(merged["base"], merged["mean_plain"])


def test_the_choice_is_the_lowest_node_weighted_backtest_error() -> None:
    series, _ = tree_panel(seed=2)
    found = forecast_hierarchy(forecaster(), series, LEVELS, horizon=7, season_length=7)
    nodes = {"country": 2, "category": 4, "sku": 24, "location": 48}
    weighted = {
        m: sum(nodes[lv] * found.scores[m][lv] / found.scores["base"][lv] for lv in nodes)
        for m in ("bottom_up", "ols", "wls_struct", "wls_var")
    }
    assert found.method == min(weighted, key=lambda m: weighted[m])
    assert found.scores["bottom_up"]["location"] == found.scores["base"]["location"]  # bottom-up moves no leaf


def test_reconciliation_beats_the_bottom_alone_on_noisy_leaves() -> None:
    """Sparse leaves (a sale every other day) under smooth parents: the reconciled leaves come closer to the
    true demand than the leaves' own forecasts, and the choice is MinTrace, not plain summing."""
    series, rates = tree_panel(days=84, seed=5, skus=20)
    series["y"] = np.random.default_rng(9).poisson(series["y"].to_numpy() * 0.25 + 0.05).astype(float)
    found = forecast_hierarchy(forecaster(), series, LEVELS, horizon=7, season_length=7)
    assert found.method in ("ols", "wls_struct", "wls_var")
    bottom = found.frame[found.frame["level"] == "location"].sort_values(["country", "sku", "location", "step"])
    order = series.drop_duplicates(["country", "sku", "location"]).reset_index(drop=True)
    order["i"] = np.arange(len(order))
    truth = (rates * 0.25 + 0.05)[order.sort_values(["country", "sku", "location"])["i"].to_numpy()]
    # the horizon starts on the weekday after the history's last day: 84 days from a Monday, so a Monday
    truth_days = truth.ravel()
    reconciled = np.abs(bottom["mean"].to_numpy() - truth_days).sum()
    own = np.abs(bottom["base"].to_numpy() - truth_days).sum()
    assert reconciled < own


def test_a_stockout_at_one_store_does_not_dent_its_country() -> None:
    series, _ = tree_panel(days=70, seed=3)
    flat = forecast_hierarchy(forecaster(), series, LEVELS, horizon=7, season_length=7, methods=("bottom_up",))
    out = series.copy()
    out["censored"] = False
    shelf = (out["location"] == "DE-S1") & (out["ds"] >= out["ds"].max() - pd.Timedelta(days=13))
    out.loc[shelf, ["y", "censored"]] = [0.0, True]  # a fortnight with nothing on the shelf, flagged
    told = forecast_hierarchy(forecaster(), out, LEVELS, horizon=7, season_length=7, methods=("bottom_up",))
    before, after = (
        f.frame[(f.frame["level"] == "country") & (f.frame["country"] == "DE")]["base"].sum() for f in (flat, told)
    )
    assert abs(after - before) / before < 0.15  # imputed from the rest of the history, not read as zero
    blind = out.drop(columns="censored")
    unseen = forecast_hierarchy(forecaster(), blind, LEVELS, horizon=7, season_length=7, methods=("bottom_up",))
    dented = unseen.frame[(unseen.frame["level"] == "country") & (unseen.frame["country"] == "DE")]["base"].sum()
    assert dented < before * 0.9  # the same zeros unflagged do pull the country down: the flag is what helps


def test_codes_holding_the_separator_come_back_as_they_were() -> None:
    series, _ = tree_panel(skus=4)
    found = forecast_hierarchy(forecaster(), series, LEVELS, horizon=7, season_length=7, methods=("bottom_up",))
    bottom = found.frame[found.frame["level"] == "location"]
    assert set(bottom["sku"]) == {f"SKU/{s}" for s in range(4)}
    assert set(found.frame["category"].dropna()) == {"C/0", "C/1"}
    assert found.frame[found.frame["level"] == "country"]["sku"].isna().all()


@pytest.mark.parametrize(
    ("levels", "methods", "message"),
    [
        (("country", "region"), ("ols",), "lacks the columns"),
        (LEVELS, ("mint_shrink",), "methods among"),
        ((), ("ols",), "levels are key columns"),
    ],
)
def test_bad_requests_are_refused(levels: tuple[str, ...], methods: tuple[str, ...], message: str) -> None:
    series, _ = tree_panel(skus=2)
    with pytest.raises(ValueError, match=message):
        forecast_hierarchy(forecaster(), series, levels, horizon=7, season_length=7, methods=methods)


def test_the_backtest_is_the_last_origin_beside_what_happened() -> None:
    series, _ = tree_panel(skus=2)
    one = series[(series["sku"] == "SKU/0") & (series["location"] == "DE-S1")].assign(unique_id="a", censored=False)
    one.loc[one.index[-2:], "censored"] = True
    found = forecaster().forecast(one[["unique_id", "ds", "y", "censored"]], horizon=7, season_length=7)
    backtest = found.backtest
    assert list(backtest["step"]) == list(range(1, 8))
    assert np.allclose(backtest["actual"].to_numpy()[:5], one["y"].to_numpy()[-7:-2])
    assert backtest["actual"].isna().tolist() == [False] * 5 + [True] * 2  # a censored day is no measure
    assert np.isfinite(backtest["mean"]).all()
