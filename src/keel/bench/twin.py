"""``keel bench twin``: the retail twin loaded from an empty database, then its live stream applied while a
``keel serve`` process (API, control tower and projector) runs on the same database and the home page is
sampled every ~100 ms, in two phases:

1. **flat out**: the stream applies as fast as it can (``Stream.run(speed=None)``: steps of simulated time
   back to back, not paced to any clock). ``events_per_s`` is the events it applied per real second (an
   event is one movement, one cycle count, one captured order or one step of a captured order's life) and
   ``orders_captured_per_s`` the web and marketplace orders it captured through ``keel.orders`` per real
   second; captures (and their orders' steps) get ``capture_share`` of the stream's time, the other orders
   offered are shed to ledger movements and counted (``orders_offered``, ``orders_shed``). ``flat_home_p95_ms``
   is the home page under that load.
2. **paced**: the same stream at ``speed`` simulated hours per real second, as ``keel demo`` runs it.
   ``home_p95_ms`` is the 95th percentile of GET / as seen by this process with httpx;
   ``restricted_home_p95_ms`` is the same page for an analyst restricted to one channel and one country,
   sampled alternately with the first: the whole picture comes from the shared cache, a restricted one is
   narrowed from it and re-reads accuracy and fulfilment rates with the restriction (docs/access.md,
   Restrictions), so the ratio is what a restriction costs a page view. ``paced_events_per_s`` and
   ``paced_orders_captured_per_s`` are the stream's rates meanwhile.

``load_seconds`` runs from an empty database to ready: schema, generate, ``load_world`` and the channel
availability projector caught up.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from keel.access import Role
from keel.bench.inventory import _free_port, _spawn, bench_database, reader_token
from keel.bootstrap import bootstrap
from keel.platform import migrate
from keel.platform.config import load_settings
from keel.sim.load import load_world
from keel.sim.stream import Stream
from keel.sim.world import Scale, generate

console = Console(stderr=True)
# A Friday at 10:00 in March: daytime traffic, so the stream offers its busy-hour load from the first second.
BUSY_START = datetime(2026, 3, 6, 10, tzinfo=UTC)


def _wait_ready(port: int, server: Any) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("server did not start")
        time.sleep(0.2)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else float("nan")


@dataclass
class Phase:
    """One phase of the live stream: what it applied and how the home page answered meanwhile."""

    seconds: float = 0.0
    totals: Counter[str] = field(default_factory=Counter)
    home: list[float] = field(default_factory=list)  # ms, the unrestricted reader
    restricted: list[float] = field(default_factory=list)  # ms, the analyst restricted to one channel
    errors: int = 0

    def per_s(self, *kinds: str) -> float:
        return round(sum(self.totals[k] for k in kinds) / self.seconds, 1) if self.seconds else 0.0

    @property
    def events_per_s(self) -> int:
        return round(Stream.events(self.totals) / self.seconds) if self.seconds else 0


def _phase(stream: Stream, speed: float | None, seconds: float, client: httpx.Client, narrow: Any) -> Phase:
    """Run the stream (``speed`` None: flat out) for ``seconds`` while sampling GET / every ~100 ms,
    alternately as the reader and as the restricted analyst (the same load for both)."""
    phase = Phase()
    stop = threading.Event()
    runner = threading.Thread(
        target=stream.run, args=(stop, speed), kwargs={"on_step": phase.totals.update}, name="twin-stream"
    )
    start = time.perf_counter()
    runner.start()
    try:
        while (now := time.perf_counter()) - start < seconds:
            mine = len(phase.home) > len(phase.restricted)
            t = time.perf_counter()
            try:
                ok = client.get("/", headers=narrow if mine else None).status_code == 200
            except httpx.TimeoutException:  # a page slower than the client's timeout: a sample at least that long
                ok = False
            (phase.restricted if mine else phase.home).append(1000 * (time.perf_counter() - t))
            phase.errors += not ok
            time.sleep(max(0.0, 0.1 - (time.perf_counter() - now)))
    finally:
        stop.set()
        runner.join(300)  # the step under way finishes first
    phase.seconds = time.perf_counter() - start
    return phase


def run(
    database_url: str | None,
    *,
    json_out: bool,
    skus: int,
    seconds: float,
    speed: float,
    seed: int,
    locations: int = Scale.locations,
    channels: int = Scale.channels,
    paced_seconds: float = 10.0,
) -> dict[str, Any]:
    with bench_database(database_url) as url:
        t0 = time.perf_counter()
        keel = bootstrap(load_settings(), database_url=url)
        migrate.upgrade(keel.db)
        with console.status("generating and loading the retail twin"):
            world = generate(seed, Scale(skus=skus, locations=locations, channels=channels))
            load_world(keel, world)  # ends with the availability projector caught up
        load_s = time.perf_counter() - t0
        console.print(f"loaded in {load_s:.1f} s")
        port = _free_port()
        server = _spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], url)
        try:
            _wait_ready(port, server)
            stream = Stream(keel, world, seed=seed, start=BUSY_START, prefix=f"bench{seed}")
            first = world.channels[0]
            keel.access.add_service("bench-de", Role.ANALYST)
            keel.access.set_scope("bench-de", [first["code"]], first["countries"][:1], {first["code"]})
            narrow = {"Authorization": f"Bearer {keel.access.create_token('bench-de', 'bench').secret}"}
            auth = {"Authorization": f"Bearer {reader_token(keel)}"}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, headers=auth) as client:
                with console.status(f"live stream flat out for {seconds:.0f} s, sampling GET /"):
                    flat = _phase(stream, None, seconds, client, narrow)
                with console.status(f"live stream at {speed:g} simulated h/s for {paced_seconds:.0f} s"):
                    paced = _phase(stream, speed, paced_seconds, client, narrow)
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:  # a loaded machine: do not lose the run's figures for it
                server.kill()
                server.wait()
        keel.close()
    figures = {
        "skus": len(world.skus),
        "locations": len(world.locations),
        "channels": len(world.channels),
        "countries": len({loc["country"] for loc in world.locations}),
        "load_seconds": round(load_s, 1),
        "events_per_s": flat.events_per_s,
        "orders_captured_per_s": flat.per_s("order_captured"),
        "orders_offered": flat.totals["order_offered"],
        "orders_captured": flat.totals["order_captured"],
        "orders_shed": flat.totals["order_shed"],
        "flat_home_p95_ms": round(_p95(flat.home), 1),
        "paced_events_per_s": paced.events_per_s,
        "paced_orders_captured_per_s": paced.per_s("order_captured"),
        "home_p95_ms": round(_p95(paced.home), 1),
        "restricted_home_p95_ms": round(_p95(paced.restricted), 1),
        "restricted_ratio": round(_p95(paced.restricted) / _p95(paced.home), 2) if paced.home else None,
    }
    table = Table("figure", "value", title=f"keel bench twin (seed {seed}, paced at {speed:g} simulated h/s)")
    for key, value in figures.items():
        table.add_row(key, str(value))
    for name, phase in (("flat out", flat), ("paced", paced)):
        median = f"{statistics.median(phase.home):.1f}" if phase.home else "-"
        table.add_row(
            f"{name}: home median (ms) / samples per view / non-200 or timed out",
            f"{median} / {len(phase.home)} / {phase.errors}",
        )
        for kind, n in sorted(phase.totals.items()):
            table.add_row(f"  {name}: {kind}", str(n))
    table.add_row("simulated hours covered", f"{stream.now / 3600:.1f}")
    console.print(table)
    if json_out:
        print(json.dumps(figures))
    return figures
