"""The twin accuracy bench's panel and baselines by hand: expected demand follows the twin's curves, stockout
days sell nothing and are flagged, the baselines repeat the right weeks, the scores add up."""

from __future__ import annotations

import numpy as np

from keel.bench.forecast_twin import WEEK, panel, scores, seasonal_naive, weekday_average
from keel.sim.demand import SEASON, WEEKDAY


def test_the_panel_follows_the_twins_curves_and_flags_its_stockouts() -> None:
    data = panel(skus=5, stores=2, weeks=8, horizon=14, seed=1)
    assert data["expected"].shape == (5 * 3 * 2, 8 * WEEK + 14)
    first = data["calendar"][0]
    ratio = data["expected"][:, 1] / data["expected"][:, 0]  # Tuesday over Monday, the same month
    assert first.weekday() == 0 and np.allclose(
        ratio, WEEKDAY[1] * SEASON[first.month - 1] / (WEEKDAY[0] * SEASON[first.month - 1])
    )
    assert not data["censored"][:, data["history"] :].any()  # stockouts are planted in the history only
    assert (data["sold"][data["censored"]] == 0).all()


def test_the_baselines_repeat_last_week_and_the_weekday_means_of_four_weeks() -> None:
    sold = np.tile(np.arange(1.0, 8.0), (1, 4))  # 28 days: Monday 1 ... Sunday 7, four times
    sold[0, 21] = 100.0  # the last Monday sold 100
    censored = np.zeros(sold.shape, dtype=bool)
    censored[0, 14] = True  # the third Monday was out of stock: left out of its weekday's mean
    assert seasonal_naive(sold, 28, 10).tolist() == [[100.0, 2, 3, 4, 5, 6, 7, 100.0, 2, 3]]
    assert weekday_average(sold, censored, 28, 7)[0, 0] == (1 + 1 + 100) / 3
    assert weekday_average(sold, censored, 28, 7)[0, 1:].tolist() == [2, 3, 4, 5, 6, 7]


def test_scores_against_the_expected_demand_by_day_and_by_week() -> None:
    data = panel(skus=2, stores=1, weeks=6, horizon=14, seed=3)
    truth = data["expected"][:, data["history"] :]
    exact = scores(truth, data, 14)
    assert exact == {"wape_day": 0.0, "bias_day": 0.0, "wape_week": 0.0, "bias_week": 0.0}
    high = scores(truth * 1.1, data, 14)
    assert (high["wape_day"], high["bias_day"], high["wape_week"], high["bias_week"]) == (0.1, 0.1, 0.1, 0.1)
