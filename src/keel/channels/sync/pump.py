"""The pump: each worker process owns a fair share of the configured channels through a lease, and for each
one it owns sends the due rows in batches, never faster than the channel allows.

The network call happens outside any transaction; its outcome is recorded by version (``store.pushed``), so
a late answer can never mark an older value as the channel's current one, and a worker killed mid-request
leaves the rows owed: the next owner sends them again under the same idempotency key.
"""

from __future__ import annotations

import logging
import math
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from keel.channels.sync import outbox, store
from keel.channels.sync.model import (
    Connector,
    PushResult,
    SyncConfig,
    Update,
    Window,
    batch_key,
    parse_config,
)
from keel.platform.backoff import backoff_s
from keel.platform.clock import utcnow
from keel.platform.db import Database

logger = logging.getLogger("keel.sync")
_DONE: Future[None] = Future()
_DONE.set_result(None)
FORGET_WORKERS = timedelta(days=1)
KEEP_PUSHES = timedelta(hours=24)  # request records kept (lag, error rate, a takeover's rate window)


@dataclass
class PassResult:
    requests: int = 0
    accepted: int = 0
    failed: int = 0
    channels: list[str] = field(default_factory=list)


def default_connector(config: SyncConfig) -> Connector:
    # each kind's module is loaded when a channel of that kind is first pushed
    if config.connector == "file":
        from keel.channels.sync.filefeed import FileFeedConnector

        return FileFeedConnector(config.url, config.capabilities)
    if config.connector == "shopify":
        from keel.channels.sync.shopify import ShopifyConnector

        return ShopifyConnector(config.url, config.secret, config.capabilities, config.timeout_s)
    if config.connector == "amazon":
        from keel.channels.sync.amazon import AmazonConnector

        return AmazonConnector(config.url, config.secret, config.capabilities, config.timeout_s)
    from keel.channels.sync.webhook import WebhookConnector

    return WebhookConnector(config.url, config.secret, config.capabilities, config.timeout_s)


def stored_config(row: store.ChannelRow) -> SyncConfig:
    config, problems = parse_config(
        row.channel, {"connector": row.connector, "url": row.url, "secret": row.secret, **row.settings}
    )
    if config is None:  # stored configurations were checked on the way in
        raise ValueError(f"stored sync configuration of {row.channel} does not parse: {problems}")
    return config


def _report(channel: str, future: Future[None]) -> None:
    """Log a channel's push that failed inside Keel (a channel's own failures are results, not errors); the
    next pass tries the channel again."""
    if not future.cancelled() and (error := future.exception()) is not None:
        logger.error("sync push to %s failed: %r", channel, error, exc_info=error)


class Pump:
    def __init__(
        self,
        db: Database,
        connectors: Callable[[SyncConfig], Connector] = default_connector,
        *,
        worker: str | None = None,
        lease_s: float = 30.0,
        max_requests_per_pass: int = 20,
        threads: int = 8,
        backoff_base_s: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.connectors = connectors
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.lease_s = lease_s
        self.max_requests_per_pass = max_requests_per_pass
        self.threads = threads
        self.backoff_base_s = backoff_base_s
        self.rng = rng or random.Random()
        self._open: dict[str, tuple[SyncConfig, Connector]] = {}
        self._windows: dict[str, Window] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._busy: dict[str, Future[None]] = {}
        self._lock = threading.Lock()  # the pass's totals, updated from the channels' threads
        self._renew_at = 0.0  # monotonic time of the next lease renewal

    def run_pass(self, wait: bool = True) -> PassResult:
        """One pass of this worker: renew its share of the channels, then push what each owes, each channel
        on a thread of its own (at most ``threads`` at once, one request in flight per channel), so a slow
        or failing channel never holds up the others or the worker's event consumers. ``wait``: return when
        the pushes are done (tests, benches); otherwise the channels still busy from an earlier pass are
        skipped and the pass returns at once (the worker's periodic job)."""
        result = PassResult()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="keel-sync")
        started = []
        for row in self._share():
            # queued or running: either way this channel's turn is taken (one request in flight per channel)
            if row.paused or not self._busy.get(row.channel, _DONE).done():
                continue
            result.channels.append(row.channel)
            started.append(future := self._pool.submit(self._push_channel, row, result))
            future.add_done_callback(partial(_report, row.channel))
            self._busy[row.channel] = future
        for future in started if wait else ():
            future.result()
        return result

    def _share(self) -> list[store.ChannelRow]:
        """The channels this worker owns, read fresh (a pause applies at the next pass). Every third of a
        lease it also renews them: it claims a fair share of the configured channels (channels / live
        workers, rounded up), keeps the ones held and lets go of the surplus, so a new worker gets its share
        and a dead worker's channels are taken over when their leases run out."""
        now = utcnow()
        if time.monotonic() < self._renew_at:
            with self.db.read() as conn:
                return store.owned_by(conn, self.worker, now)
        self._renew_at = time.monotonic() + self.lease_s / 3
        until = now + timedelta(seconds=self.lease_s)
        with self.db.write() as conn:
            store.heartbeat(conn, self.worker, now, forget_before=now - FORGET_WORKERS)
            rows = store.channel_rows(conn)
            share = math.ceil(len(rows) / max(1, store.live_workers(conn, now - timedelta(seconds=self.lease_s))))
            held = [r.channel for r in rows if r.owner == self.worker and r.lease_until and r.lease_until >= now]
            free = [r.channel for r in rows if r.owner is None or (r.lease_until is not None and r.lease_until < now)]
            free = [c for c in free if c not in held]
            store.claim(conn, held[:share] + free[: max(0, share - len(held))], self.worker, now, until)
            if held[share:]:
                store.release(conn, self.worker, held[share:])
            mine = store.owned_by(conn, self.worker, now)
            store.prune_pushes(conn, now - KEEP_PUSHES)  # the figures read the last 15 minutes
        for gone in set(self._windows) - {r.channel for r in mine}:
            self._windows.pop(gone)
        return mine

    def connector(self, row: store.ChannelRow) -> tuple[SyncConfig, Connector]:
        config = stored_config(row)
        opened = self._open.get(row.channel)
        if opened is None or opened[0] != config:
            if opened is not None:
                opened[1].close()
            opened = self._open[row.channel] = (config, self.connectors(config))
        return opened

    def _window(self, config: SyncConfig) -> Window:
        """The channel's request budget; a channel just taken over starts from the requests its previous
        owner recorded within the window, so a takeover never doubles the rate."""
        caps = config.capabilities
        window = self._windows.get(config.channel)
        if window is None or (window.limit, window.window_s) != (caps.rate_limit, caps.window_s):
            window = self._windows[config.channel] = Window(caps.rate_limit, caps.window_s)
            now, mono = utcnow(), time.monotonic()
            with self.db.read() as conn:
                recent = store.pushes_since(conn, now - timedelta(seconds=caps.window_s), config.channel)
            for p in recent:
                window.take(mono - (now - p.at).total_seconds())
        return window

    def _push_channel(self, row: store.ChannelRow, result: PassResult) -> None:
        config, connector = self.connector(row)
        window = self._window(config)
        if row.not_before is None or row.not_before <= utcnow():
            outbox.send_due(self.db, config, connector, window, self.rng, self.backoff_base_s)
        for _ in range(self.max_requests_per_pass):
            now = utcnow()
            if row.not_before is not None and row.not_before > now:
                return
            if window.wait(time.monotonic()) > 0:
                return
            with self.db.read() as conn:
                due = store.due(conn, row.channel, now, config.capabilities.batch_size)
            if not due:
                return
            updates = [
                Update(r.sku, r.country, r.quantity, r.content, r.version, r.price, r.pushed_quantity) for r in due
            ]
            answer = connector.push(row.channel, updates, batch_key(row.channel, updates))
            # counted when the answer (or the failure) is back: the latest moment the channel can have counted
            # it, so a request that reached the channel late can never put two in the same window
            window.take(time.monotonic())
            row = self._record(row, config, due, answer)
            with self._lock:
                result.requests += 1
                result.accepted += len(answer.accepted)
                result.failed += len(due) - len(answer.accepted)

    def _record(
        self, row: store.ChannelRow, config: SyncConfig, due: list[store.ItemRow], answer: PushResult
    ) -> store.ChannelRow:
        """Store a request's outcome: accepted versions, failed items (backoff or dead letter), the
        channel's consecutive failures and backoff, and a log row for lag and error rate."""
        now = utcnow()
        by_key = {(r.sku, r.country): r for r in due}
        accepted = [by_key[k] for k in answer.accepted if k in by_key]
        failures: list[tuple[str, str, int, str, datetime, str]] = []
        rejected = {(x.sku, x.country): x for x in answer.rejected}
        taken = set(answer.accepted)
        for key, item in by_key.items():
            if key in taken:
                continue
            x = rejected.get(key)
            if answer.retry_after_s is not None and answer.error is not None and x is None:
                continue  # the channel asked us to wait: not the item's failure
            error = x.error if x is not None else answer.error or "not acknowledged by the channel"
            attempts = item.attempts + 1
            dead = (x is not None and not x.retry) or attempts >= config.max_attempts
            due_at = now + timedelta(seconds=backoff_s(attempts, self.rng, self.backoff_base_s))
            failures.append((item.country, item.sku, attempts, store.DEAD if dead else store.PENDING, due_at, error))
        whole = answer.error is not None
        failures_now = row.failures + 1 if whole and answer.retry_after_s is None else 0
        wait = answer.retry_after_s if answer.retry_after_s is not None else None
        if wait is None and failures_now:
            wait = backoff_s(failures_now, self.rng, self.backoff_base_s)
        not_before = now + timedelta(seconds=wait) if wait is not None else None
        with self.db.write() as conn:
            store.pushed(conn, row.channel, [(r.country, r.sku, r.version, r.quantity) for r in accepted], now)
            store.failed(conn, row.channel, failures)
            last_error = answer.error or row.last_error  # the last error stays visible after a recovery
            store.channel_outcome(conn, row.channel, failures_now, not_before, last_error)
            lags = [max(0, int((now - r.changed_at).total_seconds() * 1000)) for r in accepted]
            store.log_push(
                conn,
                store.PushRow(row.channel, now, len(due), len(accepted), len(answer.rejected), answer.error, lags),
            )
        return store.ChannelRow(
            **{**row.__dict__, "failures": failures_now, "not_before": not_before, "last_error": last_error}
        )

    def run_on_channel(
        self, channel: str, work: Callable[[SyncConfig, Connector, Window], object]
    ) -> Future[None] | None:
        """Run ``work`` with the channel's connector and request budget in the channel's own turn (its one
        request in flight), so other requests to the channel (drift reads) share the pushes' rate limit.
        None when this worker does not hold the channel, it is paused, or a push of it is queued or running."""
        now = utcnow()
        with self.db.read() as conn:
            rows = store.channel_rows(conn, channel)
        row = rows[0] if rows else None
        if row is None or row.paused or row.owner != self.worker or row.lease_until is None or row.lease_until < now:
            return None
        if not self._busy.get(channel, _DONE).done():
            return None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="keel-sync")

        def run() -> None:
            config, connector = self.connector(row)
            work(config, connector, self._window(config))

        future = self._busy[channel] = self._pool.submit(run)
        future.add_done_callback(partial(_report, channel))
        return future

    def close(self) -> None:
        """Stop pushing, hand this worker's channels back (another worker takes them at once) and close
        the connectors."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._renew_at:  # it took part in the sharing (a process that never ran a pass holds nothing)
            with self.db.write() as conn:
                store.release(conn, self.worker)
            self._renew_at = 0.0
        for _, connector in self._open.values():
            connector.close()
        self._open.clear()
