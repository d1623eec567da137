"""The forecaster's model fits on a Dask cluster, through statsforecast's Fugue backend.

    with DaskEngine(workers=4) as engine:                 # a local cluster: worker processes on this machine
        Forecaster(engine=engine).forecast(series, 14, 7)
    with DaskEngine(address="tcp://10.0.0.5:8786") as engine:  # a running scheduler with workers elsewhere
        ...

Only the per-series fits are shipped: they are where the time goes (every candidate model, refitted at each
cross-validation origin) and each depends on one series alone. They go through Fugue (the layer under
statsforecast's own distributed backend) in blocks of whole series, one task per block: statsforecast's
``FugueBackend`` makes one call per series, which measured 1.7 x slower here (docs/planning.md). The choice of
combinations and the quantile calibration pool every series' windows, cost milliseconds, and stay in the
calling process, as does the pooled LightGBM model (one model trained on the whole panel). The forecasts
equal the local engine's to the last bit: the workers run the same code on the same series and the blocks
come back as 64-bit floats (``tests/integration/test_forecast_dask.py``).

Dask is an optional dependency (``pip install keel[dask]``): this module imports it, the rest of Keel does not.
"""

from __future__ import annotations

import logging
import warnings
from types import TracebackType
from typing import Any

import pandas as pd
from distributed import Client, LocalCluster
from fugue.workflow.api import transform
from statsforecast import StatsForecast
from statsforecast.models import Naive

# Series per block (one task) when the caller does not say: fewer, larger blocks spend less on scheduling;
# at least two per worker keeps every worker busy while the slowest block finishes.
SERIES_PER_BLOCK = 2_000


def _quiet() -> None:
    # Runs in each worker: statsforecast warns per series it falls back on, and Fugue's group-by apply trips a
    # pandas deprecation warning per block; neither says anything an operator can act on.
    warnings.simplefilter("ignore")


class DaskEngine:
    """A Dask client for the forecaster's fits: on ``address`` when given, else on a local cluster of
    ``workers`` single-threaded processes bound to 127.0.0.1 (started on ``__enter__``, stopped on exit)."""

    name = "dask"

    def __init__(self, address: str | None = None, *, workers: int = 2, blocks: int | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if blocks is not None and blocks < 1:
            raise ValueError("blocks must be at least 1")
        self.address, self.workers, self.blocks = address, workers, blocks
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None

    def __enter__(self) -> DaskEngine:
        if self.address is None:
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,  # the fits are CPU-bound Python and numba: one per process
                processes=True,
                host="127.0.0.1",  # every server of the cluster, its HTTP endpoints too, on this machine only
                dashboard_address="127.0.0.1:0",
                worker_dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)
        else:
            self._client = Client(self.address)
        self._client.run(_quiet)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    @property
    def worker_count(self) -> int:
        """The workers the scheduler knows now (a remote cluster may grow or shrink)."""
        if self._client is None:
            raise RuntimeError("the engine is not started: use it in a with block")
        return len(self._client.scheduler_info(n_workers=-1)["workers"])

    def forecast(self, long: pd.DataFrame, models: list[Any], horizon: int) -> pd.DataFrame:
        """statsforecast's forecast of ``long`` (integer unique_id and ds, y) by ``models``, computed on the
        cluster: the series in blocks of whole series, one block per task."""
        if self._client is None:
            raise RuntimeError("the engine is not started: use it in a with block")
        series = long["unique_id"].to_numpy()
        count = len(pd.unique(series))
        parts = self.blocks or max(2 * self.worker_count, -(-count // SERIES_PER_BLOCK))
        size = -(-count // max(1, min(parts, count)))
        codes = pd.factorize(series)[0]
        frame = long.assign(block=codes // size)
        columns = ", ".join(f"{m.alias}:double" for m in models)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the driver's share of the workers' warnings
            result = transform(
                frame,
                _fit_block,
                schema=f"unique_id:long, ds:long, {columns}",
                params={"models": models, "horizon": horizon},
                partition={"by": "block"},
                engine=self._client,
                as_local=True,
            )
        return pd.DataFrame(result)


def _fit_block(block: pd.DataFrame, models: list[Any], horizon: int) -> pd.DataFrame:
    """Runs on a worker: one block of whole series, fitted as the local engine fits them."""
    engine = StatsForecast(models=models, freq=1, n_jobs=1, fallback_model=Naive())
    return engine.forecast(df=block.drop(columns="block"), h=horizon).reset_index(drop=True)
