"""The Dask engine gives the local engine's forecasts: on a local cluster of worker processes, and on a
scheduler reached by its address (the shape of a cluster on other machines)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import LocalCluster

from keel.bootstrap import Keel
from keel.planning import Forecaster, Status, SuggestionFilter
from keel.planning.forecast.cluster import DaskEngine
from keel.planning.outlook import FAST_SMOOTH, FAST_SPARSE
from tests.integration.test_planning_replenishment import TODAY, at, sell_daily
from tests.support import ST_DE, WH_DE, World, mv

pytestmark = pytest.mark.timeout(300)


def _panel(count: int = 48, days: int = 70) -> pd.DataFrame:
    """Daily series with a weekday shape: smooth ones, sparse ones, and stockout days censored."""
    rng = np.random.default_rng(11)
    weekday = np.array([0.8, 0.9, 1.0, 1.0, 1.2, 1.5, 0.6])
    frames = []
    for i in range(count):
        rate = 0.3 if i % 4 == 0 else 2.0 + i % 7
        y = rng.poisson(rate * np.tile(weekday, days // 7 + 1)[:days]).astype(float)
        censored = np.zeros(days, dtype=bool)
        if i % 5 == 0:
            censored[days - 20 : days - 17] = True
            y[censored] = 0.0
        frames.append(pd.DataFrame({"unique_id": f"s{i:03d}", "ds": np.arange(days), "y": y, "censored": censored}))
    return pd.concat(frames, ignore_index=True)


def _cluster(workers: int) -> LocalCluster:
    # every server of it on 127.0.0.1 (the HTTP endpoints too), on free ports
    return LocalCluster(
        n_workers=workers, threads_per_worker=1, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", worker_dashboard_address="127.0.0.1:0",
    )  # fmt: skip


def _worked(cluster: LocalCluster) -> bool:
    """Whether the cluster's workers computed tasks (the scheduler keeps the time after their clients leave)."""
    return sum(p.all_durations["compute"] for p in cluster.scheduler.task_prefixes.values()) > 0


def _same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    left = left.sort_values(["unique_id", "step"]).reset_index(drop=True)
    right = right.sort_values(["unique_id", "step"]).reset_index(drop=True)
    assert list(left.columns) == list(right.columns)
    assert left["unique_id"].tolist() == right["unique_id"].tolist()
    numbers = [c for c in left.columns if c not in ("unique_id", "ds")]
    # equal, not close: the workers run the same fits, and their blocks come back as 64-bit floats
    np.testing.assert_array_equal(left[numbers].to_numpy(float), right[numbers].to_numpy(float))


@pytest.mark.parametrize("models", [(FAST_SMOOTH, FAST_SPARSE), (("etsn", "snaive", "pooled"), ("tsb", "pooled"))])
def test_a_local_cluster_gives_the_local_forecasts(models: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    panel = _panel()
    smooth, sparse = models
    here = Forecaster(models=smooth, sparse_models=sparse, threads=1).forecast(panel, 14, 7)
    with DaskEngine(workers=2, blocks=3) as engine:
        assert engine.worker_count == 2
        there = Forecaster(models=smooth, sparse_models=sparse, engine=engine).forecast(panel, 14, 7)
    assert len(there.frame) == 48 * 14
    _same(here.frame, there.frame)
    assert there.combination == here.combination
    # the sparse part really took the intermittent models, so both parts went through the cluster
    assert any(set(c) <= set(sparse) for c in there.combination.values())


def test_a_scheduler_reached_by_its_address_gives_the_same_forecasts() -> None:
    panel = _panel(count=24)
    here = Forecaster(models=FAST_SMOOTH, sparse_models=FAST_SPARSE, threads=1).forecast(panel, 7, 7)
    with _cluster(2) as cluster:
        with DaskEngine(cluster.scheduler_address) as engine:
            assert engine.worker_count == 2
            there = Forecaster(models=FAST_SMOOTH, sparse_models=FAST_SPARSE, engine=engine).forecast(panel, 7, 7)
        assert len(cluster.scheduler.workers) == 2  # the engine closed its client, not the cluster it joined
        assert _worked(cluster), "the fits did not run on the cluster's workers"
    _same(here.frame, there.frame)


def test_an_engine_is_used_inside_a_with_block_and_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="workers"):
        DaskEngine(workers=0)
    with pytest.raises(ValueError, match="blocks"):
        DaskEngine(blocks=0)
    with pytest.raises(RuntimeError, match="with block"):
        Forecaster(engine=DaskEngine()).forecast(_panel(count=4), 7, 7)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "keel", "planning", "forecast", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_the_cli_forecasts_a_history_file_on_a_local_cluster(tmp_path: Path) -> None:
    frame = _panel(count=6, days=63)
    history = tmp_path / "history.csv"
    pd.DataFrame(
        {
            "date": pd.Timestamp("2026-05-01") + pd.to_timedelta(frame["ds"], unit="D"),
            "sku": frame["unique_id"],
            "location": "DE-1",
            "units": frame["y"].astype(int),
            "stockout": frame["censored"],
        }
    ).to_csv(history, index=False)
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    local = _cli("--history", str(history), "--horizon", "7", "--out", str(here), "--threads", "1", "--json")
    assert local.returncode == 0, local.stderr
    done = _cli("--history", str(history), "--horizon", "7", "--out", str(there), "--engine", "dask",
                "--workers", "2", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["engine"] == "dask" and summary["series"] == 6 and summary["rows"] == 42
    a, b = pd.read_csv(here), pd.read_csv(there)
    assert a.equals(b)


def test_the_cli_refuses_a_scheduler_without_the_dask_engine(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    history.write_text("date,sku,location,units\n2026-05-01,A,DE-1,3\n", encoding="utf-8")
    done = _cli("--history", str(history), "--horizon", "3", "--out", str(tmp_path / "f.csv"),
                "--scheduler", "tcp://127.0.0.1:1")  # fmt: skip
    assert done.returncode == 2
    assert "--scheduler needs --engine dask" in done.stderr


def test_a_planning_run_fits_on_the_configured_scheduler_and_suggests_the_same(keel: Keel, world: World) -> None:
    # given two stores' worth of daily sales and a DC with stock (the replenishment tests' shape)
    sell_daily(keel, "SKU-P", ST_DE, 4, 28, 4 * 28 + 2)
    sell_daily(keel, "SKU-Q", ST_DE, 9, 28, 9 * 28 + 5)
    keel.stock.apply_batch([mv("dc", "received", "SKU-P", WH_DE, 30, occurred_at=at(30))])

    def suggested() -> list[tuple[str, str, int, float]]:
        keel.planning.plan(country="DE", today=TODAY)
        items, _ = keel.planning.suggestions(SuggestionFilter(status=Status.PROPOSED))
        return sorted((s.kind, s.sku, s.quantity, s.explanation.forecast_units) for s in items)

    here = suggested()
    with _cluster(1) as cluster:
        keel.planning.forecast_scheduler = cluster.scheduler_address  # what KEEL_FORECAST_SCHEDULER sets
        try:
            there = suggested()
        finally:
            keel.planning.forecast_scheduler = ""
        assert _worked(cluster), "the run's fits did not run on the cluster's workers"
    assert here and there == here
