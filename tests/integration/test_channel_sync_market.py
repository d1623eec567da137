"""The sync engine end to end on both databases: stock movements through the availability projector and the
feeder, pushed by the webhook connector to the marketplace simulator, which fails at random, enforces its
rate limit and keeps what it accepted. Also a sync worker process killed with SIGKILL mid-batch."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from keel.bootstrap import Keel
from keel.channels import FEEDER, SyncService
from keel.sim.marketplace import Marketplace
from tests.support import MARKET, WEB_DE, WH_DE, WH_FR, World, mv

SECRETS = {WEB_DE: "web-secret-1", MARKET: "market-secret-1"}


def settings(market: Marketplace, channel: str, **extra: object) -> dict[str, object]:
    return {"url": market.url, "secret": SECRETS[channel], "batch_size": 3, "rate_limit": 50, "window_s": 1.0} | extra


def desired(keel: Keel, channel: str) -> dict[tuple[str, str], int]:
    with keel.db.read() as conn:
        return {(sku, country): q for country, sku, q in keel.availability.listed_of(conn, channel)}


def held(market: Marketplace, channel: str) -> dict[tuple[str, str], int]:
    return {key: value[0] for key, value in market.state(channel).items()}


def churn(keel: Keel, rounds: int, first: int = 0) -> None:
    """Receipts and sales on 8 SKUs in two countries, fed to the sync engine's desired state."""
    for r in range(first, first + rounds):
        batch = [mv(f"in-{r}-{i}", "received", f"SKU-{i}", (WH_DE, WH_FR)[i % 2], 20 + (r * i) % 7) for i in range(8)]
        batch += [mv(f"out-{r}-{i}", "sold", f"SKU-{i}", (WH_DE, WH_FR)[i % 2], 1) for i in range(0, 8, 3)]
        keel.stock.apply_batch(batch)
        keel.availability.catch_up()
        keel.consumers.get(FEEDER).step(1000)


def test_every_channel_converges_through_faults_within_its_rate_limit(keel: Keel, world: World) -> None:
    faults = ("error", "timeout", "drop", "malformed", "partial")
    with Marketplace(
        SECRETS, rate_limit=50, window_s=1.0, fault_rate=0.3, faults=faults, stall_s=0.4, seed=3
    ) as market:
        sync = SyncService(keel.db, keel.channels.exists, keel.availability.listed_of, worker="w", backoff_base_s=0.01)
        for channel in (WEB_DE, MARKET):
            sync.configure(channel, settings(market, channel, timeout_s=0.2, max_attempts=100))
        # when the stock keeps moving while the pump runs, then stops, and the pump drains
        for _ in range(5):
            churn(keel, 1)
            sync.run_pass()
        deadline = time.monotonic() + 60
        while any(s.pending for s in sync.status()) and time.monotonic() < deadline:
            sync.run_pass()
            time.sleep(0.02)
        sync.close()
        stats = market.stats
    # then each channel holds exactly Keel's values, faults were injected, and the rate limit was never crossed
    for channel in (WEB_DE, MARKET):
        assert held(market, channel) == desired(keel, channel), channel
        assert desired(keel, channel)
    assert sum(stats.faults_injected.values()) > 0
    assert stats.rate_limit_violations == 0
    assert [s.dead for s in sync.status()] == [0, 0]


def start_worker(url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")} | {
        "KEEL_LOG_JSON": "false",
        "KEEL_SYNC_LEASE_S": "1",
    }
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "keel", "worker", "--database-url", url, "--only", "channel-sync"],
            env=env, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip


def test_a_sync_worker_killed_mid_batch_loses_nothing(keel: Keel, world: World, tmp_path: Path) -> None:
    # given a worker process pushing to a marketplace that stalls half of its answers past the client's
    # timeout, while the stock keeps moving
    with Marketplace(
        SECRETS, rate_limit=1000, window_s=1.0, fault_rate=0.5, faults=("timeout",), stall_s=0.5
    ) as market:
        keel.sync.configure(WEB_DE, settings(market, WEB_DE, rate_limit=1000, timeout_s=0.3, batch_size=2))
        stop = threading.Event()

        def move() -> None:
            for r in itertools.count():
                if stop.wait(0.05):
                    return
                churn(keel, 1, first=r)

        mover = threading.Thread(target=move)
        mover.start()
        worker = start_worker(keel.settings.database_url, tmp_path / "worker.log")
        try:
            # when it is killed while requests are on the wire, twice, and started again
            for _ in range(2):
                deadline, seen = time.monotonic() + 30, market.stats.requests
                while market.stats.requests < seen + 3 and time.monotonic() < deadline:
                    time.sleep(0.01)
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
                worker = start_worker(keel.settings.database_url, tmp_path / "worker.log")
            stop.set()
            mover.join()
            deadline = time.monotonic() + 60
            while held(market, WEB_DE) != desired(keel, WEB_DE) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            worker.send_signal(signal.SIGTERM)
            worker.wait(10)
    # then the marketplace holds every value Keel wants it to hold, after requests from three processes
    assert held(market, WEB_DE) == desired(keel, WEB_DE)
    assert len(desired(keel, WEB_DE)) == 4  # the SKUs web-de sells in DE
    assert market.stats.requests >= 6
