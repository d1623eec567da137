"""``keel bench media``: stock-outs pausing the ads of the twin on three simulated ad platforms, measured from
the stock movement's commit to the platform applying the pause, then a simulated month priced with the
delays measured.

In one process on one fresh database (SQLite by default): the twin's world at ``skus`` SKUs with its
catalogue (``keel.sim.world``, ``keel.sim.load``) and its ad setup (``keel.sim.media``: ``campaigns``
campaigns on Amazon-, Google- and Meta-style accounts, ads mostly on single SKUs, the default rules), saved
through ``keel.media`` with every account pointing at one local ``AdPlatforms`` simulator (its default rate
limits, batch sizes and Google's daily quota), seeded with the objects as Keel mirrors them. Keel's worker
loop runs for real (``keel.worker.BackgroundWorker``: every consumer and job of the registry, among them the
availability projector, the media watcher that wakes the sender at once, and the media send, rules and drift
jobs); the simulator fails ``fault_rate`` of the requests (5xx, dropped answers, stalls, failed items).

``events`` stock events on advertised (country, SKU) pairs whose ads all show, spread over time: half are
stock-outs (every unit of the SKU in the country sold, one ``stock.apply_batch``), each followed
``RESTOCK_AFTER_S`` later by its restock (``RESTOCK_UNITS`` received at the country's fulfilment node that
held most). Figures:

- ``pause_p50_s``/``pause_p99_s``: per (stock-out, ad of that SKU in that country), from the recorded time of
  the ``stock.moved`` event of the stock-out (written in its transaction: an upper bound of the commit) to
  the wall time the simulator applied the ad's pause (``accepted_log``; a pause applied but whose answer was
  dropped counts when it was applied). ``resume_p50_s``/``resume_p99_s`` the same for restocks.
  ``decided_p50_s``/``decided_p99_s``: from the same mark to the watcher's recorded decision to pause (Keel's
  share: the availability projector and the watcher; the rest is the sender, the connector and the platform).
  ``pauses_missing``: pairs whose pause never reached the platform (counted in the figures as infinite).
- ``request_p50_s``: the baseline, measured first in the same run: one pause sent straight to the simulator
  through the same connector (no database, no worker, no faults).
- ``final_state_mismatches``: after the run drains, objects whose state on the simulator differs from Keel's
  desired state (must be 0: faults are retried); ``dead_letters``; ``rate_limit_violations``: requests the
  simulator refused for its rate, batch size or quota (must be 0: the connectors pace themselves);
  ``faults_injected`` by kind. ``drift_pass_s``: one drift check of every account after the run, timed as
  the ``media-drift`` job runs it on the worker's thread (``drift_found`` must be 0).
- ``wasted_share_none``/``_6h``/``_keel``: ``keel.sim.media_horizon`` over a simulated ``HORIZON_DAYS``-day
  month of every advertised single-SKU (country, SKU) of the setup (same seed): the share of ad spend that
  goes to products out of stock with no rules, with rules run every 6 hours, and with each pause and resume
  landing after a delay drawn from the ones **measured in this run**. It is the measured latency applied to
  a simulated month, not a month of real time; ``baseline_6h_pause_p50_s`` is the 6-hour policy's median
  delay in that month.
"""

from __future__ import annotations

import random
import time
from bisect import bisect_left
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import Progress

from keel.bench import report
from keel.bench.inventory import bench_database
from keel.bench.pricing import _p99
from keel.bootstrap import Keel, bootstrap
from keel.inventory import STOCK_MOVED
from keel.media import AdState, Change, Level, Platform, Status, connector_for
from keel.platform import migrate
from keel.sim.adplatform import AdPlatforms
from keel.sim.load import load_catalog, load_world
from keel.sim.media import MediaSetup, media_setup, mirrored, seed_platforms
from keel.sim.media_horizon import wasted_shares
from keel.sim.media_perf import AdModel, hourly_spend
from keel.sim.world import Scale, World, generate
from keel.worker import BackgroundWorker

console = Console(stderr=True)
RESTOCK_AFTER_S = 12.0
RESTOCK_UNITS = 30
HORIZON_DAYS = 30
SETTLE_S = 180.0
BASELINE_REQUESTS = 50


def run(
    database_url: str | None,
    *,
    json_out: bool,
    skus: int,
    campaigns: int,
    events: int,
    fault_rate: float,
    per_s: float,
    seed: int,
) -> dict[str, Any]:
    began = time.perf_counter()
    phases: dict[str, float] = {}
    world = generate(seed, Scale(skus=skus))
    with bench_database(database_url) as url, AdPlatforms(seed=seed) as sim:
        keel = bootstrap(database_url=url)
        migrate.upgrade(keel.db)
        worker = BackgroundWorker(keel)
        try:
            setup = _load(keel, world, sim, campaigns)
            phases["load_s"] = time.perf_counter() - began
            baseline = _baseline(sim)
            sim.fault_rate = fault_rate
            with console.status("worker warming up: the first watcher step, rules pass and sends"):
                mark = time.perf_counter()
                worker.start()
                _settle(keel, sim, SETTLE_S)
                phases["warm_s"] = time.perf_counter() - mark
            pairs = _targets(keel, setup, events // 2 + events % 2, seed)
            mark = time.perf_counter()
            stock_outs, restocks = _drive(keel, pairs, events, per_s)
            phases["events_s"] = time.perf_counter() - mark
            with console.status("draining: every owed change sent"):
                mark = time.perf_counter()
                settled = _settle(keel, sim, SETTLE_S)
                phases["drain_s"] = time.perf_counter() - mark
            pause, missing = _lags(sim, stock_outs, Status.PAUSED)
            resume, resumes_missing = _lags(sim, restocks, Status.ENABLED)
            decided = _decided(keel, stock_outs)
            mismatches = _mismatches(keel, sim)
            totals = keel.media.outbox_totals()
            with console.status("one drift check of every account, as the media-drift job runs it"):
                mark = time.perf_counter()
                drifted = sum(keel.media.sender.check_drift(a.code) for a in keel.media.setup.accounts())
                phases["drift_pass_s"] = time.perf_counter() - mark
        finally:
            worker.close()
            keel.close()
        with console.status(f"a simulated {HORIZON_DAYS}-day month priced with the measured delays"):
            shares = _horizon(world, setup, pause, resume, seed)
    figures: dict[str, Any] = {
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "skus": skus,
        "campaigns": setup.campaigns,
        "ad_groups": len(setup.batch["ad_groups"]),
        "ads": len(setup.batch["ads"]),
        "accounts": len(setup.batch["accounts"]),
        "stock_events": len(stock_outs) + len(restocks),
        "paused_ads": len(pause) + missing,
        "pause_p50_s": _cut(pause, missing, 50),
        "pause_p99_s": _cut(pause, missing, 99),
        "pause_max_s": _cut(pause, missing, 100),
        "pauses_missing": missing,
        "decided_p50_s": _cut(decided, 0, 50),
        "decided_p99_s": _cut(decided, 0, 99),
        "resume_p50_s": _cut(resume, resumes_missing, 50),
        "resume_p99_s": _cut(resume, resumes_missing, 99),
        "resumes_missing": resumes_missing,
        "request_p50_s": baseline,
        "baseline_6h_pause_p50_s": round(shares.every_h_pause_p50_s, 1),
        "wasted_share_keel": round(shares.measured, 8),
        "wasted_share_6h": round(shares.every_h, 6),
        "wasted_share_none": round(shares.none, 6),
        "horizon_stock_outs": shares.stock_outs,
        "rate_limit_violations": sim.violations,
        "violations_by_kind": sim.violations_by_kind,
        "faults_injected": sum(sim.faults_injected.values()),
        "faults_by_kind": sim.faults_injected,
        "fault_rate": fault_rate,
        "platform_requests": sim.requests,
        "final_state_mismatches": mismatches,
        "dead_letters": totals["dead"],
        "drift_found": drifted,
        "drained": settled,
        **{k: round(v, 1) for k, v in phases.items()},
        "seconds": round(time.perf_counter() - began, 1),
    }
    report(figures, json_out)
    return figures


def _load(keel: Keel, world: World, sim: AdPlatforms, campaigns: int) -> MediaSetup:
    with Progress(console=console) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        load_world(keel, world, report, catalog=False)
        load_catalog(keel, world, report)
        setup = media_setup(world, campaigns, url_of=sim.url)
        report("ad setup", 0, 1)
        keel.media.setup.save(setup.batch)
        for rule in setup.rules:
            keel.media.save_rule(rule["name"], rule)
        for token, (platform, account) in setup.tokens.items():
            sim.add_account(platform, account, token)
        seed_platforms(keel, sim)
        report("ad setup", 1, 1)
    return setup


def _baseline(sim: AdPlatforms) -> float:
    """A pause sent straight through the connector (no faults, its pacer idle): the platform's own share."""
    sim.add_account(Platform.GOOGLE, "baseline", "tok-baseline")
    sim.seed(Platform.GOOGLE, "baseline", Level.AD, "b-ad", AdState(Status.ENABLED, 50))
    connector = connector_for(Platform.GOOGLE, sim.url(Platform.GOOGLE), "tok-baseline")
    times = []
    for i in range(BASELINE_REQUESTS):
        state = AdState(Status.PAUSED if i % 2 == 0 else Status.ENABLED, 50)
        time.sleep(1.5 / connector.limits.requests_per_s)  # the connector's pacer is idle: no wait is timed
        started = time.perf_counter()
        sent = connector.send("baseline", [Change(Level.AD, "b-ad", state, i + 2)])
        times.append(time.perf_counter() - started)
        if sent.error:
            raise RuntimeError(f"baseline request failed: {sent.error}")
    getattr(connector, "close", lambda: None)()
    return round(sorted(times)[len(times) // 2], 4)


def _settle(keel: Keel, sim: AdPlatforms, limit_s: float) -> bool:
    """Wait until the watcher has read every event and nothing is owed to a platform (True), or give up."""
    deadline = time.monotonic() + limit_s
    calm = 0
    while time.monotonic() < deadline:
        watcher = keel.media.watcher
        with keel.db.read() as conn:
            behind = keel.events.pending(conn, watcher.name, set(watcher.types))
        owed = keel.media.outbox_totals()["owed"]
        calm = calm + 1 if behind == 0 and owed == 0 else 0
        if calm >= 3:
            return True
        time.sleep(0.5)
    return False


def _targets(keel: Keel, setup: MediaSetup, n: int, seed: int) -> list[tuple[str, str, list[str]]]:
    """``n`` (country, SKU) pairs advertised by single-SKU ads that all show: (country, SKU, ads)."""
    showing = {row.code for row in _rows(keel) if row.level is Level.AD and row.state.status is Status.ENABLED}
    by_pair: dict[tuple[str, str], list[str]] = {}
    for ad, skus in setup.ad_skus.items():
        if len(skus) == 1:
            by_pair.setdefault((setup.ad_country[ad], skus[0]), []).append(ad)
    ok = sorted(p for p, ads in by_pair.items() if all(a in showing for a in ads))
    chosen = random.Random(seed).sample(ok, min(n, len(ok)))
    return [(country, sku, sorted(by_pair[(country, sku)])) for country, sku in chosen]


def _rows(keel: Keel) -> list[Any]:
    out, offset = [], 0
    while True:
        rows, total = keel.media.states(None, None, 5000, offset)
        out += rows
        offset += len(rows)
        if not rows or offset >= total:
            return out


Mark = tuple[datetime, list[str]]  # a stock event's recorded time and the ads it should move


def _drive(
    keel: Keel, pairs: list[tuple[str, str, list[str]]], events: int, per_s: float
) -> tuple[list[Mark], list[Mark]]:
    """Stock-outs at ``per_s`` a second, each restocked ``RESTOCK_AFTER_S`` later; their marks."""
    plan: list[tuple[float, int, bool]] = [(i / per_s, i, True) for i in range(len(pairs))]
    plan += [(i / per_s + RESTOCK_AFTER_S, i, False) for i in range(len(pairs))][: max(0, events - len(pairs))]
    plan.sort()
    home: dict[int, str] = {}
    outs: list[Mark] = []
    ins: list[Mark] = []
    start = time.monotonic()
    with Progress(console=console) as bar:
        task = bar.add_task("stock-outs and restocks", total=len(plan))
        for at, i, out in plan:
            wait = start + at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            country, sku, ads = pairs[i]
            if out:
                rows, home[i] = _stock_out(keel, country, sku, i)
            else:
                rows = [{"id": f"bench-in-{i}", "kind": "received", "sku": sku, "location": home[i],
                         "quantity": RESTOCK_UNITS, "reason": "bench restock"}]  # fmt: skip
            with keel.db.read() as conn:
                seq = keel.events.last_seq(conn)
            keel.stock.apply_batch(rows, source="bench")
            with keel.db.read() as conn:
                moved = keel.events.read(conn, seq, {STOCK_MOVED}, limit=10)
            (outs if out else ins).append((moved[0].recorded_at, ads))
            bar.advance(task)
    return outs, ins


def _stock_out(keel: Keel, country: str, sku: str, i: int) -> tuple[list[dict[str, Any]], str]:
    """Movements selling every available unit of ``sku`` in ``country``; and where to restock it."""
    found, _ = keel.queries.positions(sku=sku, country=country, limit=1000)
    held = [p for p in found if p.available > 0]
    rows = [
        {"id": f"bench-out-{i}-{p.location}", "kind": "sold", "sku": sku, "location": p.location,
         "quantity": p.available, "reason": "bench stock-out"}
        for p in held
    ]  # fmt: skip
    fulfil = [p for p in held if not p.location.startswith("ST-")] or held
    return rows, max(fulfil, key=lambda p: (p.available, p.location)).location


def _lags(sim: AdPlatforms, marks: list[Mark], status: Status) -> tuple[list[float], int]:
    """Seconds from each mark to the first time the simulator applied ``status`` to each of its ads."""
    applied: dict[str, list[datetime]] = {}
    for a in sim.accepted_log:
        if a.level is Level.AD and a.state.status is status:
            applied.setdefault(a.code, []).append(a.wall)
    lags, missing = [], 0
    for at, ads in marks:
        for ad in ads:
            times = applied.get(ad, [])
            k = bisect_left(times, at)
            if k < len(times):
                lags.append((times[k] - at).total_seconds())
            else:
                missing += 1
    return lags, missing


def _decided(keel: Keel, marks: list[Mark]) -> list[float]:
    """Seconds from each stock-out to the watcher's decision to pause each of its ads (the action's time):
    Keel's own share of the pause latency, before the sender and the platform."""
    if not marks:
        return []
    found, _ = keel.media.actions(mode="applied", since=min(at for at, _ in marks), limit=1_000_000)
    paused: dict[str, list[datetime]] = {}
    for a in sorted(found, key=lambda a: a.at):
        if a.level == Level.AD.value and a.after.get("status") == Status.PAUSED.value:
            paused.setdefault(a.code, []).append(a.at)
    out = []
    for at, ads in marks:
        for ad in ads:
            times = paused.get(ad, [])
            k = bisect_left(times, at)
            if k < len(times):
                out.append((times[k] - at).total_seconds())
    return out


def _mismatches(keel: Keel, sim: AdPlatforms) -> int:
    held: dict[tuple[Platform, str], dict[tuple[Level, str], AdState]] = {}
    wrong = 0
    for platform, account, level, code, state in mirrored(keel):
        if (platform, account) not in held:
            held[(platform, account)] = sim.state(platform, account)
        wrong += held[(platform, account)].get((level, code)) != state
    return wrong


def _horizon(world: World, setup: MediaSetup, pause: list[float], resume: list[float], seed: int) -> Any:
    kind = {loc["code"]: (loc["kind"], loc["country"]) for loc in world.locations}
    opening: dict[tuple[str, str], int] = {}
    for row in world.opening_stock:
        k, country = kind[row["location"]]
        if k != "store":
            opening[(country, row["sku"])] = opening.get((country, row["sku"]), 0) + row["quantity"]
    platform = setup.platform_of()
    account = {c["code"]: c["account"] for c in setup.batch["campaigns"]}
    groups = {g["code"]: (account[g["campaign"]], g["default_bid"]) for g in setup.batch["ad_groups"]}
    ads = []
    for doc in setup.batch["ads"]:
        skus = setup.ad_skus[doc["code"]]
        if len(skus) != 1:
            continue
        acc, bid = groups[doc["ad_group"]]
        model = AdModel(platform[acc], doc.get("bid", bid), doc.get("bid", bid), 0)
        ads.append(((setup.ad_country[doc["code"]], skus[0]), hourly_spend(model)))
    pairs = {pair: opening.get(pair, 0) for pair, _ in ads}
    return wasted_shares(pairs, ads, pause or [0.0], resume or [0.0], days=HORIZON_DAYS, seed=seed)


def _cut(values: list[float], missing: int, q: int) -> float | None:
    """The ``q``th percentile, the missing ones counted as infinitely late (None: nothing measured)."""
    ordered = sorted(values) + [float("inf")] * missing
    if not ordered:
        return None
    if q == 100:
        return None if ordered[-1] == float("inf") else round(ordered[-1], 3)
    value = ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if q != 99 else _p99(ordered)
    return None if value == float("inf") else round(value, 3)
