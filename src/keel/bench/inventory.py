"""``keel bench inventory``: ledger throughput, availability freshness under load, ATP reads over HTTP.

Every throughput sits beside a baseline from the same run: the service-layer write rate is divided by a
plain ``sqlite3.executemany`` of the same ledger rows into a bare table in the same directory.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from keel.access import Role
from keel.bench.httpload import run_load
from keel.bench.workload import MovementStream
from keel.bootstrap import Keel, bootstrap
from keel.inventory import AVAILABILITY_CHANGED, KIND_CODES, STOCK_MOVED, Kind, caused_latencies, ledger_phase_timers
from keel.platform import migrate
from keel.platform.config import load_settings
from keel.sim.load import load_world
from keel.sim.world import Scale, World, generate

console = Console(stderr=True)
BATCH = 10_000


@contextmanager
def bench_database(url: str | None) -> Iterator[str]:
    """A fresh database: a temporary SQLite file, or a new database on the given PostgreSQL server."""
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="keel-bench-") as tmp:
            yield url or f"sqlite:///{tmp}/bench.db"
        return
    name = f"keel_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield str(sa.make_url(url).set(database=name))
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def _ledger_rows(keel: Keel, rows: list[dict[str, Any]], first: int) -> list[tuple[Any, ...]]:
    with keel.db.read() as conn:
        ids = keel.locations.active_ids(conn)
    now = int(time.time() * 1e6)
    return [
        (
            first + i,
            r["id"],
            KIND_CODES[Kind(r["kind"])],
            r["sku"],
            ids[r["location"]],
            r["quantity"],
            now,
            now,
            r.get("reason"),
            None,
        )
        for i, r in enumerate(rows)
    ]


def raw_executemany(directory: Path, batches: list[list[tuple[Any, ...]]], *, indexed: bool = False) -> float:
    """Rows/s of plain sqlite3 executemany (same pragmas, one transaction per batch) into a bare table, or
    with ``indexed`` into a table carrying the ledger's own unique id and (sku, location, time) indexes."""
    con = sqlite3.connect(directory / ("indexed.db" if indexed else "raw.db"), isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")  # the pragmas Keel's own connections use
    con.execute(
        "CREATE TABLE raw_movements (seq INTEGER, id TEXT, kind INTEGER, sku TEXT, location_id INTEGER, "
        "quantity INTEGER, occurred_at INTEGER, recorded_at INTEGER, reason TEXT, reference TEXT)"
    )
    if indexed:
        con.execute("CREATE UNIQUE INDEX raw_id ON raw_movements (id)")
        con.execute("CREATE INDEX raw_sku ON raw_movements (sku, location_id, occurred_at)")
    start = time.perf_counter()
    for batch in batches:
        con.execute("BEGIN")
        con.executemany("INSERT INTO raw_movements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
        con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return sum(len(b) for b in batches) / elapsed


def measure_writes(keel: Keel, stream: MovementStream, directory: Path, batches: int) -> tuple[float, float, float]:
    workload = [stream.rows(BATCH) for _ in range(batches)]
    with keel.db.read() as conn:
        first = int(conn.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM movements").scalar_one()) + 1
    raw_rows = [_ledger_rows(keel, b, first + i * BATCH) for i, b in enumerate(workload)]
    start = time.perf_counter()
    for batch in workload:
        keel.stock.apply_batch(batch, source="bench")
    service = sum(map(len, workload)) / (time.perf_counter() - start)
    return service, raw_executemany(directory, raw_rows), raw_executemany(directory, raw_rows, indexed=True)


def measure_phases(keel: Keel, stream: MovementStream, batches: int = 3) -> dict[str, float]:
    """Milliseconds per 10,000-movement batch spent in each step of the write (plus commit and the rest)."""
    workload = [stream.rows(BATCH) for _ in range(batches)]
    with ledger_phase_timers() as totals:
        start = time.perf_counter()
        for batch in workload:
            keel.stock.apply_batch(batch, source="bench")
        elapsed = time.perf_counter() - start
    per_batch = {name: 1000 * value / batches for name, value in totals.items()}
    per_batch["everything else (Python, commit, event)"] = 1000 * elapsed / batches - sum(per_batch.values())
    return per_batch


def _spawn(args: list[str], url: str) -> subprocess.Popen[bytes]:
    # No rate limit: the bench measures how fast reads are served, not the per-token limit.
    env = dict(os.environ, KEEL_DATABASE_URL=url, KEEL_LOG_LEVEL="WARNING", KEEL_RATE_LIMIT_PER_S="0")
    return subprocess.Popen([sys.executable, "-m", "keel", *args], env=env, stdout=subprocess.PIPE)


def _drained(keel: Keel, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with keel.db.read() as conn:
            if keel.availability.backlog(conn) == 0:
                return True
        time.sleep(0.05)
    return False


def measure_freshness(keel: Keel, stream: MovementStream, url: str, seconds: float, rate: int) -> dict[str, float]:
    """Offer ``rate`` movements/s in 10 batches a second while a worker process projects availability."""
    worker = _spawn(["worker"], url)
    try:
        assert worker.stdout is not None
        if b"worker ready" not in worker.stdout.readline() or not _drained(keel, 120):
            raise RuntimeError("worker did not catch up before the load phase")
        with keel.db.read() as conn:
            start_seq = keel.events.last_seq(conn)
        # Each 100 ms tick sends whatever the target rate says is due by now, so a slow tick is made up
        # by the next one and the offered load is the target rate unless the write path cannot keep up.
        tick, sent = 0.1, 0
        start = time.perf_counter()
        while (now := time.perf_counter()) - start < seconds:
            due = int(rate * (now - start + tick)) - sent
            while due > 0:
                part = min(due, BATCH)
                keel.stock.apply_batch(stream.rows(part), source="bench-load")
                sent += part
                due -= part
            time.sleep(max(0.0, tick - (time.perf_counter() - now)))
        offered = sent / (time.perf_counter() - start)
        if not _drained(keel, 120):
            raise RuntimeError("worker did not drain the load within 120 s")
    finally:
        worker.terminate()
        worker.wait(10)
    with keel.db.read() as conn:
        events = keel.events.read(conn, start_seq, {STOCK_MOVED, AVAILABILITY_CHANGED}, limit=10_000_000)
    lags = sorted(caused_latencies(events).values())
    stock_events = sum(e.type == STOCK_MOVED for e in events)
    return {
        "offered_load_per_s": offered,
        "freshness_p50_s": statistics.median(lags),
        "freshness_p99_s": lags[min(len(lags) - 1, int(len(lags) * 0.99))],
        "stock_events": stock_events,
        "measured_events": len(lags),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reader_token(keel: Keel) -> str:
    """A token of an analyst service account (reads only), the way a real client would call."""
    if not any(a.name == "bench-reader" for a in keel.access.accounts()):
        keel.access.add_service("bench-reader", Role.ANALYST)
    return keel.access.create_token("bench-reader", "bench").secret


def measure_reads(url: str, world: World, seconds: float, token: str) -> float:
    port = _free_port()
    server = _spawn(["serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)], url)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        paths = [f"/availability/{sku}" for sku in world.skus]
        result = run_load("127.0.0.1", port, paths, seconds, token=token)
        if result.errors:
            raise RuntimeError(f"{result.errors} ATP reads failed")
        return result.per_s
    finally:
        server.terminate()
        server.wait(10)


def run(database_url: str | None, *, json_out: bool, skus: int, seconds: float) -> dict[str, Any]:
    world = generate(42, Scale(skus=skus))
    with bench_database(database_url) as url, tempfile.TemporaryDirectory(prefix="keel-raw-") as raw_dir:
        keel = bootstrap(load_settings(), database_url=url)
        migrate.upgrade(keel.db)
        t0 = time.perf_counter()
        with console.status("loading the retail twin"):
            load_world(keel, world, catalog=False)  # stock and orders: the catalog is not measured
        load_s = time.perf_counter() - t0
        stream = MovementStream(world)
        # The twin and the stream's shadow stock (over a million objects at 100,000 SKUs) live in this process
        # only because it is a bench: out of the collector's sight, the ledger's own allocations no longer
        # trigger full collections that walk them (a serving process holds none of them).
        gc.collect()
        gc.freeze()
        with console.status("ledger writes vs raw executemany"):
            service, raw, indexed = measure_writes(keel, stream, Path(raw_dir), batches=5)
            phases = measure_phases(keel, stream)
            gc.unfreeze()
            keel.availability.catch_up()
        with console.status(f"sustained load for {seconds:.0f} s with a worker process"):
            fresh = measure_freshness(keel, stream, url, seconds, rate=10_500)
        with console.status("ATP reads over HTTP"):
            reads = measure_reads(url, world, seconds=min(seconds, 10.0), token=reader_token(keel))
        keel.close()
    figures = {
        "movements_per_s": round(service),
        "raw_executemany_per_s": round(raw),
        "ratio": round(service / raw, 3),
        "offered_load_per_s": round(fresh["offered_load_per_s"]),
        "freshness_p50_s": round(fresh["freshness_p50_s"], 4),
        "freshness_p99_s": round(fresh["freshness_p99_s"], 4),
        "atp_reads_per_s": round(reads),
    }
    table = Table(
        "figure",
        "value",
        title=f"keel bench inventory ({skus} SKUs, {len(world.locations)} locations, "
        f"{len(world.channels)} channels, {len({loc['country'] for loc in world.locations})} countries)",
    )
    table.add_row("twin load (s)", f"{load_s:.1f}")
    table.add_row("indexed ledger executemany (rows/s)", f"{indexed:.0f}")
    for key, value in figures.items():
        table.add_row(key, str(value))
    for name, ms in phases.items():
        table.add_row(f"  write step: {name} (ms per 10k)", f"{ms:.1f}")
    table.add_row("stock events measured", f"{fresh['measured_events']:.0f} of {fresh['stock_events']:.0f}")
    console.print(table)
    if json_out:
        print(json.dumps(figures))
    return figures
