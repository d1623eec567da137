"""``keel bench relay``: the event log published to NATS JetStream and consumed from there, beside the same
consumer reading the database's log.

In one fresh database (SQLite by default, or a new one on the PostgreSQL server ``--database-url`` names),
on a stream of its own (deleted afterwards):

1. append ``events`` events (three types, about 200 bytes of data each) in transactions of 1,000;
2. run ``keel relay`` as a child process, ``kill -9`` it once ``kill_at`` of the events are published, start
   it again and let it finish; ``relay_publish_per_s`` counts only the time the relay was publishing (from
   its first stored offset to the kill, and from its first offset after the restart to the end), and
   ``relay_restart_s`` is the time from the kill until the new process published again (mostly Python and
   Keel starting up);
3. read the whole stream back: ``stream_exact`` says it holds every event once, in order, each message's
   ``Nats-Msg-Id`` its event's sequence;
4. consume every event with the same ``HandlerConsumer`` (offset moved with the effect, ``batch`` events per
   transaction), once from JetStream and, as the baseline, once from the database: ``consume_nats_per_s``
   and ``consume_db_per_s``; ``exactly_once`` says both saw every event once, in order.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig
from rich.console import Console
from sqlalchemy.engine import Connection

from keel.bench.inventory import bench_database
from keel.bootstrap import Keel, bootstrap
from keel.platform import migrate
from keel.platform.bus import BusConfig, JetStreamSource
from keel.platform.bus.codec import event_seq
from keel.platform.bus.stream import connect
from keel.platform.config import load_settings
from keel.platform.consumers import HandlerConsumer
from keel.platform.events import Event, NewEvent
from keel.platform.sources import DatabaseSource, EventSource

console = Console(stderr=True)
TYPES = ("stock.moved", "order.captured", "availability.changed")


def _data(i: int) -> dict[str, Any]:
    skus = [f"SKU-{i % 997:05d}", f"SKU-{i % 89:05d}"]
    return {"first_seq": i, "last_seq": i + 9, "skus": skus, "locations": ["WH-DE-1", "ST-FR-7"], "note": "x" * 80}


def _append(keel: Keel, n: int) -> float:
    """Append ``n`` events, 1,000 per transaction; seconds taken."""
    start = time.perf_counter()
    for first in range(0, n, 1000):
        batch = [
            NewEvent(TYPES[i % 3], f"bench/{i}", _data(i), source="bench") for i in range(first, min(first + 1000, n))
        ]
        with keel.db.write() as conn:
            keel.events.append(conn, batch)
    return time.perf_counter() - start


def _offset(keel: Keel, name: str) -> int:
    with keel.db.read() as conn:
        return keel.events.offset(conn, name)


def _relay_process(url: str, bus: BusConfig, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"KEEL_NATS_SUBJECTS": bus.subjects, "KEEL_LOG_JSON": "false"}
    args = [sys.executable, "-m", "keel", "relay", "--database-url", url, "--nats-url", bus.url, "--stream", bus.stream]
    with log.open("ab") as err:
        return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err)


def _wait_offset(keel: Keel, name: str, above: int, proc: subprocess.Popen[bytes], log: Path) -> float:
    """Poll until the relay's offset passes ``above``; the moment it did."""
    while _offset(keel, name) <= above:
        if proc.poll() is not None:
            raise RuntimeError(f"keel relay exited with {proc.returncode}: {log.read_text()[-2000:]}")
        time.sleep(0.005)  # coarse enough to leave the relay the CPU, fine enough for seconds of publishing
    return time.perf_counter()


def _relay_with_a_kill(keel: Keel, bus: BusConfig, n: int, last: int, kill_at: float) -> tuple[float, float]:
    """(seconds spent publishing, seconds from the kill until publishing again)."""
    name = f"relay:{bus.stream}"
    with tempfile.TemporaryDirectory(prefix="keel-bench-relay-") as tmp:
        log = Path(tmp) / "relay.log"
        proc = _relay_process(keel.db.url, bus, log)
        try:
            started = _wait_offset(keel, name, 0, proc, log)
            killed_at = _wait_offset(keel, name, int(last * kill_at), proc, log)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            console.print(f"relay killed (-9) after event {_offset(keel, name):,} of {last:,}; restarting")
            resumed_from = _offset(keel, name)
            proc = _relay_process(keel.db.url, bus, log)
            if resumed_from >= last:  # killed after it had published everything: nothing left to time
                console.print("[yellow]the kill came after the last event; use a larger --events[/yellow]")
                resumed = done = killed_at
            else:
                resumed = _wait_offset(keel, name, resumed_from, proc, log)
                done = _wait_offset(keel, name, last - 1, proc, log)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    return (killed_at - started) + (done - resumed), resumed - killed_at


async def _stream_ids(bus: BusConfig) -> list[int | None]:
    """The event sequence of every message of the stream, in stream order."""
    nc = await connect(bus, "keel-bench")
    try:
        js = nc.jetstream()
        total = (await js.stream_info(bus.stream)).state.messages
        sub = await js.pull_subscribe(bus.wildcard, stream=bus.stream, config=ConsumerConfig(ack_policy=AckPolicy.NONE))
        ids: list[int | None] = []
        while len(ids) < total:
            ids.extend(event_seq(m.headers) for m in await sub.fetch(batch=5000, timeout=10))
        return ids
    finally:
        await nc.close()


async def _delete_stream(bus: BusConfig) -> None:
    nc = await connect(bus, "keel-bench")
    try:
        await nc.jetstream().delete_stream(bus.stream)
    finally:
        await nc.close()


def _consume(keel: Keel, source: EventSource, name: str, last: int, batch: int) -> tuple[float, list[int]]:
    """(seconds, the sequences handled in commit order) for one consumer reading every event of ``source``."""
    seen: list[int] = []
    pending: list[int] = []

    def handle(conn: Connection, events: list[Event]) -> None:
        pending[:] = [e.seq for e in events]

    consumer = HandlerConsumer(name, frozenset(TYPES), handle, keel.db, keel.events, source)
    start = progress = time.perf_counter()
    while not seen or seen[-1] < last:
        if consumer.step(batch):
            seen.extend(pending)
            progress = time.perf_counter()
        elif not source.settle(1.0):
            if time.perf_counter() - progress > 60:
                raise RuntimeError(f"{name} stopped at event {seen[-1] if seen else 0} of {last}")
            time.sleep(0.001)
    return time.perf_counter() - start, seen


def run(
    database_url: str | None, *, json_out: bool, events: int, nats_url: str, batch: int, kill_at: float
) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:10]
    bus = BusConfig(nats_url, f"KEEL_BENCH_{tag}", f"keelbench.{tag}.events")
    with bench_database(database_url) as url:
        keel = bootstrap(replace(load_settings(), event_source="database"), database_url=url)
        migrate.upgrade(keel.db)
        source = JetStreamSource(bus, keel.events)
        try:
            append_s = _append(keel, events)
            with keel.db.read() as conn:
                expected = [e.seq for e in keel.events.read(conn, 0, set(TYPES), events + 1)]
            last = expected[-1]
            console.print(f"appended {events:,} events in {append_s:.2f} s; relaying to {bus.url} {bus.stream}")
            publish_s, restart_s = _relay_with_a_kill(keel, bus, events, last, kill_at)
            ids = asyncio.run(_stream_ids(bus))
            nats_s, nats_seen = _consume(keel, source, "bench-nats", last, batch)
            db_s, db_seen = _consume(keel, DatabaseSource(keel.events), "bench-db", last, batch)
        finally:
            source.close()
            keel.close()
            asyncio.run(_delete_stream(bus))
    figures: dict[str, Any] = {
        "database": url.split(":", 1)[0],
        "events": events,
        "append_per_s": round(events / append_s),
        "relay_publish_per_s": round(events / publish_s),
        "relay_kills": 1,
        "relay_restart_s": round(restart_s, 2),
        "stream_messages": len(ids),
        "stream_exact": ids == expected,
        "consume_nats_per_s": round(events / nats_s),
        "consume_db_per_s": round(events / db_s),
        "consume_ratio": round(db_s / nats_s, 3),
        "exactly_once": nats_seen == expected and db_seen == expected,
    }
    console.print(
        f"relay: {figures['relay_publish_per_s']:,} events/s publishing, across one kill -9 (restart "
        f"{restart_s:.2f} s); the stream holds {len(ids):,} messages, exactly the log: {figures['stream_exact']}\n"
        f"consume: {figures['consume_nats_per_s']:,} events/s from JetStream, {figures['consume_db_per_s']:,} "
        f"events/s from the database (ratio {figures['consume_ratio']}); every event once, in order: "
        f"{figures['exactly_once']}",
        highlight=False,
    )
    if json_out:
        print(json.dumps(figures))
    return figures
