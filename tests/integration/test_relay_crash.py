"""``keel relay`` killed with SIGKILL at random points and restarted, while the log grows and a consumer reads
the stream: the stream ends up holding every event exactly once, in order, and the consumer applies every
event exactly once, in order.

The stream's duplicate window is set to 0.2 s, far shorter than a restart, so exactness cannot come from
JetStream dropping a re-published ``Nats-Msg-Id``: it must come from the relay resuming where the stream
really ends.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from keel.bootstrap import Keel
from keel.platform.bus import BusConfig, BusError, JetStreamSource, Relay
from keel.platform.bus.stream import connect, last_relayed
from keel.platform.consumers import HandlerConsumer
from keel.platform.events import Event
from tests.conftest import service_unavailable
from tests.integration.test_relay import all_events, append, assert_exactly_the_log, offset

pytestmark = pytest.mark.nats
KILLS = 6


def start_relay(url: str, bus: BusConfig, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    env |= {
        "KEEL_NATS_URL": bus.url,
        "KEEL_NATS_STREAM": bus.stream,
        "KEEL_NATS_SUBJECTS": bus.subjects,
        "KEEL_NATS_DUPLICATE_WINDOW_S": "0.2",
        "KEEL_LOG_JSON": "false",
    }
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "keel", "relay", "--database-url", url, "--batch", "250"],
            env=env, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip


def stream_end(bus: BusConfig) -> int:
    async def ask() -> int:
        nc = await connect(bus, "test")
        try:
            return (await last_relayed(nc.jetstream(), bus))[1] or 0
        finally:
            await nc.close()

    return asyncio.run(ask())


class Reader(threading.Thread):
    """A consumer on JetStream, stepping all along: what it committed, in the order it committed it."""

    def __init__(self, keel: Keel, bus: BusConfig) -> None:
        super().__init__(daemon=True)
        self.source = JetStreamSource(bus, keel.events, buffer=2000)
        self.applied: list[int] = []
        self.pending: list[int] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

        def handle(conn: Connection, batch: list[Event]) -> None:
            self.pending = [e.seq for e in batch]

        self.consumer = HandlerConsumer(
            "reader", frozenset({"thing.happened"}), handle, keel.db, keel.events, self.source
        )

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    if self.consumer.step(500):
                        self.applied.extend(self.pending)  # only once the step (effect and offset) committed
                        continue
                except BusError:  # no stream yet: the worker retries the same way
                    pass
                time.sleep(0.01)
        except BaseException as exc:
            self.error = exc


def test_a_relay_killed_at_random_points_loses_and_doubles_nothing(keel: Keel, bus: BusConfig, tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    log = tmp_path / "relay.log"
    bus = BusConfig(bus.url, bus.stream, bus.subjects, duplicate_window_s=0.2)
    reader = Reader(keel, bus)
    reader.start()
    mid_publish = 0
    try:
        for _ in range(KILLS):
            for _ in range(8):  # new events before each start, so a kill finds work in flight
                append(keel, 1000, prefix=f"r{rng.randrange(10**6)}-")
            before = offset(keel, bus)
            relay = start_relay(keel.db.url, bus, log)
            deadline = time.monotonic() + 60
            while offset(keel, bus) == before and relay.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.15))  # a random point of the publishing that follows
            os.kill(relay.pid, signal.SIGKILL)
            relay.wait(timeout=30)
            assert relay.returncode == -signal.SIGKILL, log.read_text()[-3000:]
            end = stream_end(bus)
            mid_publish += end < all_events(keel)[-1].seq
        # the last restart runs to the end
        asyncio.run(Relay(keel.db, keel.events, bus).run(until_caught_up=True))
        assert_exactly_the_log(keel, bus)
        wanted = [e.seq for e in all_events(keel)]
        deadline = time.monotonic() + 60
        while len(reader.applied) < len(wanted) and reader.error is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        reader.stop.set()
        reader.join(timeout=10)
        reader.source.close()
    assert reader.error is None, reader.error
    assert reader.applied == wanted, f"seed {seed}"
    # the kills did land while events were still unpublished (not only on an idle relay)
    assert mid_publish >= KILLS // 2, f"seed {seed}: only {mid_publish} of {KILLS} kills were mid-publish"


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """A NATS server of this test's own (so it may be killed): its URL, and a function that kills it with
    SIGKILL and starts it again on the same port and store."""
    binary = shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
    )
    if binary is None:
        service_unavailable("nats-server is not installed (apt-get install nats-server)")
    assert binary is not None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp_path / "nats-store")]
    log = (tmp_path / "nats-server.log").open("ab")
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        procs.append(subprocess.Popen(args, stdout=log, stderr=log))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"nats-server did not start: {(tmp_path / 'nats-server.log').read_text()[-2000:]}")

    def restart() -> None:
        procs[-1].kill()
        procs[-1].wait()
        time.sleep(1.0)
        start()

    start()
    yield f"nats://127.0.0.1:{port}", restart
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log.close()


def test_the_relay_and_a_reader_ride_out_a_nats_server_killed_and_restarted(
    keel: Keel, private_nats: tuple[str, Callable[[], None]]
) -> None:
    url, restart = private_nats
    bus = BusConfig(url, "KEEL_EVENTS", "keel.events")
    reader = Reader(keel, bus)
    relay = Relay(keel.db, keel.events, bus, batch=200, ack_timeout_s=2.0)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=lambda: loop.run_until_complete(relay.run(stop)), daemon=True)
    append(keel, 5000)
    thread.start()
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while offset(keel, bus) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        append(keel, 5000)
        restart()  # mid-publish: the relay's and the reader's connections drop, then come back
        append(keel, 2000)
        last = all_events(keel)[-1].seq
        deadline = time.monotonic() + 120
        while (offset(keel, bus) < last or len(reader.applied) < 12000) and time.monotonic() < deadline:
            assert reader.error is None, reader.error
            time.sleep(0.05)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        reader.stop.set()
        reader.join(timeout=10)
        reader.source.close()
    assert not thread.is_alive()
    assert_exactly_the_log(keel, bus)
    assert reader.applied == [e.seq for e in all_events(keel)]
