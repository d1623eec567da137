"""``keel bench sync``: stock movements pushed to every channel through the sync engine, measured from the
movement's commit to the marketplace simulator holding the value.

In one fresh database (SQLite by default): ``warehouses`` warehouses in DE and ``channels`` channels, each
selling DE from one warehouse (so a movement changes ``channels / warehouses`` channels' values), each with
its webhook configuration pointing at one local marketplace simulator that enforces ``rate_limit`` requests
per second per channel. A background worker runs the availability projector, the sync feeder and the pump
(the rest of Keel's consumers are left out: they are not on this path).

Two phases of ``seconds`` each, the stock moving at ``changes`` channel values per second (receipts of one
unit on random SKUs, so a channel's quantity only grows and "the value holds movement k" is "quantity >=
its quantity after k"):
1. **clean**: ``p50_s``/``p99_s`` over every (movement, channel) pair, from the movement's commit to the
   simulator applying a value that includes it; ``pushes_per_s`` requests, ``coalescing_ratio`` channel value
   changes per value applied;
2. **faults**: the simulator fails ``fault_rate`` of the requests (503, timeouts, dropped connections,
   malformed bodies, partial success); after the run drains, ``final_state_mismatches`` counts the
   (channel, SKU) values where the simulator differs from Keel's desired state, and ``faults_p99_s`` the lag.
``request_p50_s``/``request_p99_s`` are the baseline, measured first in the same run: requests of the same
size sent straight to the simulator through the webhook connector, no Keel in between (the channel's own
share of the lag). Last, ``orders_in_per_s``: 500 one-line orders received as the channels' signed order
webhooks (10 per request) and taken through order capture (``SyncService.orders.receive``, without the HTTP
layer), while the worker keeps running.
"""

from __future__ import annotations

import bisect
import json
import multiprocessing
import random
import statistics
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

from rich.console import Console

from keel.bench.inventory import bench_database
from keel.bootstrap import Keel, bootstrap
from keel.channels import FEEDER, PUMP, Capabilities, CreateChannel, Update, WebhookConnector, sign_webhook
from keel.inventory import CreateLocation
from keel.platform import migrate
from keel.platform.config import load_settings
from keel.sim.marketplace import Marketplace
from keel.worker import BackgroundWorker

console = Console(stderr=True)
TICK_S = 0.05
ORDERS = 500  # orders received in the orders-in phase
BASELINE = "baseline"  # a simulator channel for the connector-only requests, with no rate limit to speak of


def _world(keel: Keel, warehouses: int, channels: int) -> list[str]:
    for w in range(warehouses):
        keel.locations.create(
            CreateLocation(f"WH-{w:02d}", f"Warehouse {w}", "warehouse", "DE", capabilities=("ship",))
        )
    codes = []
    for c in range(channels):
        code = f"mk{c:03d}"
        policy = {"sources": {"DE": {"locations": [f"WH-{c % warehouses:02d}"]}}}
        keel.channels.create(CreateChannel(code, f"Marketplace {c}", "marketplace", ("DE",), "EUR", policy))
        codes.append(code)
    return codes


class RemoteMarket:
    """The simulator in a process of its own, as a marketplace is: its HTTP threads do not compete with Keel's
    for this process's interpreter lock. Commands go over a pipe."""

    def __init__(self, secrets: dict[str, str], **options: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipe, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve_market, args=(child, secrets, options), daemon=True)
        self.process.start()
        self.url: str = self.pipe.recv()

    def ask(self, command: str, argument: Any = None) -> Any:
        self.pipe.send((command, argument))
        return self.pipe.recv()

    def stop(self) -> None:
        self.ask("stop")
        self.process.join(10)


def _serve_market(pipe: Connection, secrets: dict[str, str], options: dict[str, Any]) -> None:
    market = Marketplace(secrets, **options).start()
    pipe.send(market.url)
    while True:
        command, argument = pipe.recv()
        if command == "stop":
            market.stop()
            pipe.send(None)
            return
        answer: Any = None
        if command == "fault_rate":
            market.fault_rate = argument
        elif command == "stats":
            answer = market.stats
        elif command == "applied":
            answer = list(market.applied)
        elif command == "state":
            answer = {c: market.state(c) for c in argument}
        pipe.send(answer)


class Driver:
    """Receipts at a steady pace; remembers each movement's commit time and the quantity it brought its
    (warehouse, SKU) to."""

    def __init__(self, keel: Keel, skus: int, warehouses: int, per_s: float, seed: int) -> None:
        self.keel, self.skus, self.warehouses, self.per_s = keel, skus, warehouses, per_s
        self.rng = random.Random(seed)
        self.level: dict[tuple[int, int], int] = {}
        self.moves: list[tuple[int, int, int, float]] = []  # warehouse, sku, quantity after, committed
        self.n = 0

    def run(self, seconds: float) -> None:
        start, sent = time.monotonic(), 0
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(elapsed * self.per_s) - sent
            sent += max(0, due)
            batch, after = [], []
            for _ in range(max(0, due)):
                w, s = self.rng.randrange(self.warehouses), self.rng.randrange(self.skus)
                self.level[(w, s)] = self.level.get((w, s), 0) + 1
                self.n += 1
                batch.append(
                    {
                        "id": f"m{self.n}",
                        "kind": "received",
                        "sku": f"S{s:06d}",
                        "location": f"WH-{w:02d}",
                        "quantity": 1,
                    }
                )
                after.append((w, s, self.level[(w, s)]))
            if batch:
                self.keel.stock.apply_batch(batch)
                now = time.time()
                self.moves += [(w, s, q, now) for w, s, q in after]
            time.sleep(TICK_S)


def _lags(driver: Driver, first: int, market: RemoteMarket, channels: list[str], warehouses: int) -> list[float]:
    """Commit -> applied, for every movement since ``first`` on every channel its warehouse feeds."""
    seen: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
    for channel, sku, _, quantity, at in market.ask("applied"):
        qs, ts = seen.setdefault((channel, sku), ([], []))
        qs.append(quantity)
        ts.append(at)
    fed = {w: [c for i, c in enumerate(channels) if i % warehouses == w] for w in range(warehouses)}
    out = []
    for w, s, quantity, committed in driver.moves[first:]:
        for channel in fed[w]:
            qs, ts = seen.get((channel, f"S{s:06d}"), ([], []))
            i = bisect.bisect_left(qs, quantity)  # quantities only grow, and so do the times they were applied
            out.append(ts[i] - committed if i < len(qs) else float("inf"))
    return out


def _baseline(url: str, per_request: int, n: int = 200) -> dict[str, Any]:
    """The channel's own share of the lag: ``n`` requests of ``per_request`` values each straight to the
    simulator through the webhook connector, with no Keel in between (no database, no worker)."""
    connector = WebhookConnector(url, "secret-baseline", Capabilities(), 5.0)
    times = []
    try:
        for i in range(n):
            updates = [Update(f"B{j}", "DE", i, None, i + 1) for j in range(max(1, per_request))]
            started = time.perf_counter()
            answer = connector.push(BASELINE, updates, f"baseline-{i}")
            times.append(time.perf_counter() - started)
            if answer.error:
                raise RuntimeError(f"baseline request failed: {answer.error}")
    finally:
        connector.close()
    return {"request_p50_s": _cut(times, 50), "request_p99_s": _cut(times, 99)}


def _orders_in(keel: Keel, channels: list[str], secrets: dict[str, str], warehouses: int, skus: int) -> dict[str, Any]:
    """``ORDERS`` one-line orders received as the channels' signed order webhooks (10 per request, the
    channels in turn) and taken through order capture, with the worker still running: ``orders_in_per_s``;
    ``orders_refused`` must be 0 (each order's SKU was stocked at its channel's warehouse first)."""
    stocked = [f"S{s:06d}" for s in range(min(skus, 200))]
    keel.stock.apply_batch(
        [
            {"id": f"oi-{w}-{sku}", "kind": "received", "sku": sku, "location": f"WH-{w:02d}", "quantity": 1000}
            for w in range(warehouses)
            for sku in stocked
        ]
    )
    taken = refused = 0
    started = time.perf_counter()
    for n in range(0, ORDERS, 10):
        channel = channels[(n // 10) % len(channels)]
        batch = [
            {
                "external_id": f"IN-{n + i}",
                "lines": [{"sku": stocked[(n + i) % len(stocked)], "quantity": 1, "unit_price": "9.90"}],
                "customer": {"name": "Bench Buyer"},
                "ship_to": {"country": "DE", "postal_code": "10115", "latitude": 52.53, "longitude": 13.38},
            }
            for i in range(10)
        ]
        body = json.dumps({"orders": batch}).encode()
        stamp = str(int(time.time()))
        report = keel.sync.orders.receive(channel, stamp, sign_webhook(secrets[channel], stamp, body), body)
        taken += len(report.captured)
        refused += len(report.refused)
    seconds = time.perf_counter() - started
    return {"orders_in_per_s": round(taken / seconds, 1), "orders_refused": refused}


def _drain(keel: Keel, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with keel.db.read() as conn:
            behind = keel.availability.backlog(conn)
        if not behind and not any(s.pending for s in keel.sync.status()):
            return True
        time.sleep(0.1)
    return False


def _cut(values: list[float], q: int) -> float | None:
    """The q-th percentile; None when there are no values or it falls on a value never delivered."""
    if not values:
        return None
    cuts = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
    return round(cuts[q - 1], 3) if cuts[q - 1] != float("inf") else None


def run(
    database_url: str | None,
    *,
    json_out: bool,
    channels: int,
    skus: int,
    warehouses: int,
    changes: float,
    seconds: float,
    rate_limit: int,
    fault_rate: float,
    seed: int,
) -> dict[str, Any]:
    per_movement = channels / warehouses
    with bench_database(database_url) as url:
        settings = replace(load_settings(), database_url=url, log_json=False, log_level="WARNING")
        keel = bootstrap(settings)
        migrate.upgrade(keel.db)
        codes = _world(keel, warehouses, channels)
        secrets = {c: f"secret-{c}" for c in codes} | {BASELINE: "secret-baseline"}
        limits = {BASELINE: (1_000_000, 1.0)}
        market = RemoteMarket(secrets, rate_limit=rate_limit, window_s=1.0, limits=limits, stall_s=1.5, seed=seed)
        for c in codes:
            doc = {
                "url": market.url,
                "secret": secrets[c],
                "batch_size": 1000,
                "rate_limit": rate_limit,
                "window_s": 1.0,
                "timeout_s": 1.0,
                "max_attempts": 100,
            }
            keel.sync.configure(c, doc)
        figures_base = _baseline(market.url, per_request=round(changes / channels / rate_limit))
        worker = BackgroundWorker(replace(keel, consumers=keel.consumers.only({"availability", FEEDER, PUMP})))
        worker.start()
        driver = Driver(keel, skus, warehouses, changes / per_movement, seed)
        figures: dict[str, Any] = {"database": url.split(":", 1)[0], "channels": channels, "skus": skus}
        figures |= figures_base
        try:
            with console.status(f"clean phase: {changes:.0f} channel values/s for {seconds:.0f} s"):
                before = market.ask("stats")  # the baseline's requests and values are not the phase's
                requests0, applied0, started = before.requests, before.items_applied, time.monotonic()
                driver.run(seconds)
                drained = _drain(keel, 120)
                elapsed = time.monotonic() - started
            lags = _lags(driver, 0, market, codes, warehouses)
            stats = market.ask("stats")
            applied = stats.items_applied - applied0
            figures |= {
                "changes_per_s": round(len(driver.moves) * per_movement / seconds),
                "p50_s": _cut(lags, 50),
                "p99_s": _cut(lags, 99),
                "pushes_per_s": round((stats.requests - requests0) / elapsed, 1),
                "values_applied": applied,
                "coalescing_ratio": round(len(driver.moves) * per_movement / max(1, applied), 2),
                "undelivered": sum(1 for lag in lags if lag == float("inf")),
                "drained": drained,
            }
            with console.status(f"faults phase: {fault_rate:.0%} of requests fail"):
                market.ask("fault_rate", fault_rate)
                first = len(driver.moves)
                driver.run(seconds)
                drained_faults = _drain(keel, 300)
                market.ask("fault_rate", 0.0)
            faulty = _lags(driver, first, market, codes, warehouses)
            mismatches = 0
            held = market.ask("state", codes)
            with keel.db.read() as conn:
                for c in codes:
                    want = {(sku, country): q for country, sku, q in keel.availability.listed_of(conn, c)}
                    have = {k: v[0] for k, v in held[c].items()}
                    mismatches += len(set(want.items()) ^ set(have.items()))
            stats = market.ask("stats")
            figures |= {
                "faults_p50_s": _cut(faulty, 50),
                "faults_p99_s": _cut(faulty, 99),
                "faults_injected": sum(stats.faults_injected.values()),
                "faults_drained": drained_faults,
                "rate_limit_violations": stats.rate_limit_violations,
                "final_state_mismatches": mismatches,
            }
            with console.status("orders in: signed order webhooks taken through order capture"):
                figures |= _orders_in(keel, codes, secrets, warehouses, skus)
        finally:
            worker.close()
            market.stop()
            keel.close()
    console.print(
        f"{channels} channels x {skus} SKUs, {figures['changes_per_s']} channel values/s offered: commit -> "
        f"marketplace p50 {figures['p50_s']} s, p99 {figures['p99_s']} s; {figures['pushes_per_s']} requests/s, "
        f"{figures['coalescing_ratio']} changes per value sent; with {fault_rate:.0%} faults "
        f"({figures['faults_injected']} injected) p99 {figures['faults_p99_s']} s and "
        f"{figures['final_state_mismatches']} mismatches; {figures['rate_limit_violations']} rate-limit violations; "
        f"orders in {figures['orders_in_per_s']}/s"
    )
    if json_out:
        print(json.dumps(figures))
    return figures
