"""``keel relay`` and ``keel worker --source nats`` as an operator runs them: processes on one database and
one NATS server, progress on stderr, a clean stop on SIGTERM/SIGINT, a clear refusal when NATS is away."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keel.bootstrap import Keel
from keel.platform.bus import BusConfig
from tests.integration.test_availability import listed
from tests.integration.test_relay import assert_exactly_the_log, offset
from tests.support import MARKET, WEB_DE, WH_DE, build_world, receive


def keel_env(bus: BusConfig | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")} | {"KEEL_LOG_JSON": "false"}
    if bus is not None:
        env |= {"KEEL_NATS_URL": bus.url, "KEEL_NATS_STREAM": bus.stream, "KEEL_NATS_SUBJECTS": bus.subjects}
    return env


def keel_cmd(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "keel", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.nats
def test_relay_once_then_a_worker_on_nats_projects_availability(
    sqlite_keel: Keel, bus: BusConfig, tmp_path: Path
) -> None:
    keel, url = sqlite_keel, sqlite_keel.db.url
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", WH_DE, 12)
    relayed = keel_cmd("relay", "--database-url", url, "--once", env=keel_env(bus), cwd=tmp_path)
    assert relayed.returncode == 0, relayed.stderr
    assert f"stream {bus.stream} holds up to event" in relayed.stderr
    assert "relay stopped" in relayed.stderr
    assert_exactly_the_log(keel, bus)
    worker = keel_cmd("worker", "--database-url", url, "--once", "--source", "nats", env=keel_env(bus), cwd=tmp_path)
    assert worker.returncode == 0, worker.stderr
    assert "consumed" in worker.stderr
    assert listed(keel)[(WEB_DE, "DE", "SKU-1")] == (10, False)
    assert listed(keel)[(MARKET, "DE", "SKU-2")] == (5, False)  # (12 - 2 buffer) x 50 %


@pytest.mark.nats
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_relay_stops_cleanly_on_a_signal(
    sqlite_keel: Keel, bus: BusConfig, tmp_path: Path, stop: signal.Signals
) -> None:
    keel = sqlite_keel
    build_world(keel)
    for i in range(5):
        receive(keel, f"SKU-{i}", WH_DE, i + 1)
    log = tmp_path / "relay.log"
    with log.open("w") as err:
        relay = subprocess.Popen(
            [sys.executable, "-m", "keel", "relay", "--database-url", keel.db.url],
            env=keel_env(bus), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    try:
        with keel.db.read() as conn:
            last = keel.events.last_seq(conn)
        deadline = time.monotonic() + 60
        while offset(keel, bus) < last and time.monotonic() < deadline:
            time.sleep(0.05)
        relay.send_signal(stop)
        assert relay.wait(timeout=30) == 0, log.read_text()
    finally:
        if relay.poll() is None:
            relay.kill()
    assert "relay stopped" in log.read_text()
    assert_exactly_the_log(keel, bus)


def test_relay_and_a_worker_on_nats_refuse_an_unreachable_server(sqlite_keel: Keel, tmp_path: Path) -> None:
    url = sqlite_keel.db.url
    env = keel_env() | {"KEEL_NATS_URL": "nats://127.0.0.1:9"}  # nothing listens on the discard port
    relayed = keel_cmd("relay", "--database-url", url, "--once", env=env, cwd=tmp_path)
    worker = keel_cmd("worker", "--database-url", url, "--once", "--source", "nats", env=env, cwd=tmp_path)
    for result in (relayed, worker):
        assert result.returncode == 2, result.stderr
        assert "cannot reach NATS at nats://127.0.0.1:9" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_bad_source_or_stream_is_refused_before_anything_runs(sqlite_keel: Keel, tmp_path: Path) -> None:
    url = sqlite_keel.db.url
    bad_source = keel_cmd("worker", "--database-url", url, "--once", "--source", "kafka", env=keel_env(), cwd=tmp_path)
    assert bad_source.returncode == 2
    assert "kafka" in bad_source.stderr
    bad_stream = keel_cmd("relay", "--database-url", url, "--stream", "a.b", env=keel_env(), cwd=tmp_path)
    assert bad_stream.returncode == 2
    assert "setting 'nats_stream' must be 1-64 letters" in bad_stream.stderr


def test_a_worker_runs_only_the_consumers_named(sqlite_keel: Keel, tmp_path: Path) -> None:
    keel, url = sqlite_keel, sqlite_keel.db.url
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 10)
    ran = keel_cmd("worker", "--database-url", url, "--once", "--only", "availability", env=keel_env(), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    with keel.db.read() as conn:
        last = keel.events.last_seq(conn, "stock.moved")
        assert (keel.events.offset(conn, "availability"), keel.events.offset(conn, "backorders")) == (last, 0)
    unknown = keel_cmd(
        "worker", "--database-url", url, "--once", "--only", "availability,nope", env=keel_env(), cwd=tmp_path
    )
    assert unknown.returncode == 2
    consumers = ("availability", "backorders", "insights", "pricing-stock", "channel-sync-feeder", "media-stock")
    jobs = (
        "reservation-sweeper",
        "pricing-windows",
        "channel-sync",
        "channel-sync-drift",
        "channel-sync-orders",
        "channel-sync-fulfilled",
        "media-send",
        "media-rules",
        "media-drift",
        "planning-automation",
    )
    known = ", ".join((*consumers, *jobs))
    assert f"no consumer or job named nope (known: {known})" in unknown.stderr


@pytest.mark.nats
def test_a_worker_on_nats_before_any_relay_says_to_start_one(sqlite_keel: Keel, bus: BusConfig, tmp_path: Path) -> None:
    build_world(sqlite_keel)
    url = sqlite_keel.db.url
    worker = keel_cmd("worker", "--database-url", url, "--once", "--source", "nats", env=keel_env(bus), cwd=tmp_path)
    assert worker.returncode == 2, worker.stderr
    assert f"no stream {bus.stream} on {bus.url}: start `keel relay` first" in worker.stderr
    assert "Traceback" not in worker.stderr
