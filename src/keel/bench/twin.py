"""``keel bench twin``: the retail twin loaded from an empty database, then its live stream applied while a
``keel serve`` process (API, control tower and projector) runs on the same database and the home page is
sampled every ~100 ms.

``load_seconds`` runs from an empty database to ready: schema, generate, ``load_world`` and the channel
availability projector caught up. ``events_per_s`` counts stream events applied per real second (an event is
one movement, one cycle count or one captured order). ``home_p95_ms`` is the 95th percentile of GET / as
seen by this process with httpx. ``restricted_home_p95_ms`` is the same page for an analyst restricted to one
channel and one country, sampled alternately with the first in the same run: the whole picture comes from
the shared cache, a restricted one is narrowed from it and re-reads accuracy and fulfilment rates with the
restriction (docs/access.md, Restrictions), so the ratio is what a restriction costs a page view.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections import Counter
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


def run(
    database_url: str | None, *, json_out: bool, skus: int, seconds: float, speed: float, seed: int
) -> dict[str, Any]:
    with bench_database(database_url) as url:
        t0 = time.perf_counter()
        keel = bootstrap(load_settings(), database_url=url)
        migrate.upgrade(keel.db)
        with console.status("generating and loading the retail twin"):
            world = generate(seed, Scale(skus=skus))
            load_world(keel, world)  # ends with the availability projector caught up
        load_s = time.perf_counter() - t0
        port = _free_port()
        server = _spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], url)
        try:
            _wait_ready(port, server)
            stream = Stream(keel, world, seed=seed, start=BUSY_START, prefix=f"bench{seed}")
            applied: list[tuple[float, int]] = []
            totals: Counter[str] = Counter()

            def record(counts: Counter[str]) -> None:
                applied.append((time.perf_counter(), Stream.events(counts)))
                totals.update(counts)

            stop = threading.Event()
            runner = threading.Thread(
                target=stream.run, args=(stop, speed), kwargs={"on_step": record}, name="twin-stream", daemon=True
            )
            latencies: list[float] = []
            restricted: list[float] = []
            errors = 0
            first = world.channels[0]
            keel.access.add_service("bench-de", Role.ANALYST)
            keel.access.set_scope("bench-de", [first["code"]], first["countries"][:1], {first["code"]})
            narrow = {"Authorization": f"Bearer {keel.access.create_token('bench-de', 'bench').secret}"}
            with console.status(f"live stream at {speed:g} simulated h/s for {seconds:.0f} s, sampling GET /"):
                start = time.perf_counter()
                runner.start()
                auth = {"Authorization": f"Bearer {reader_token(keel)}"}
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, headers=auth) as client:
                    while (now := time.perf_counter()) - start < seconds:
                        mine = len(latencies) > len(restricted)  # alternate: the same load for both
                        t = time.perf_counter()
                        response = client.get("/", headers=narrow if mine else None)
                        (restricted if mine else latencies).append(1000 * (time.perf_counter() - t))
                        errors += response.status_code != 200
                        time.sleep(max(0.0, 0.1 - (time.perf_counter() - now)))
                stop.set()
                runner.join(120)
                elapsed = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(10)
        keel.close()
    events = sum(n for _, n in applied)
    figures = {
        "skus": len(world.skus),
        "locations": len(world.locations),
        "channels": len(world.channels),
        "countries": len({loc["country"] for loc in world.locations}),
        "load_seconds": round(load_s, 1),
        "events_per_s": round(events / elapsed),
        "home_p95_ms": round(_p95(latencies), 1),
        "restricted_home_p95_ms": round(_p95(restricted), 1),
        "restricted_ratio": round(_p95(restricted) / _p95(latencies), 2) if latencies else None,
    }
    table = Table("figure", "value", title=f"keel bench twin (seed {seed}, speed {speed:g} simulated h/s)")
    for key, value in figures.items():
        table.add_row(key, str(value))
    table.add_row("home median (ms)", f"{statistics.median(latencies):.1f}" if latencies else "-")
    table.add_row("home samples (each view) / non-200", f"{len(latencies)} / {errors}")
    table.add_row("simulated hours covered", f"{stream.now / 3600:.1f}")
    for kind, n in sorted(totals.items()):
        table.add_row(f"  {kind}", str(n))
    console.print(table)
    if json_out:
        print(json.dumps(figures))
    return figures
