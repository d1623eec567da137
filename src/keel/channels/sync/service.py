"""The sync engine's use cases: configure a channel, feed its desired state from the event log, push what
is owed through its connector within its limits, and let operators pause, resume, resync and retry.

Two moving parts, both registered in ``bootstrap``:
- the **feeder**, an event-log consumer: ``availability.changed`` sets the desired quantity of (channel,
  country, SKU) and ``listing.changed`` its content value, each as a new version of the row, in the
  transaction that moves the feeder's offset;
- the **pump**, a periodic job: each worker process owns a fair share of the configured channels through a
  lease, and for each one it owns sends the due rows in batches, never faster than the channel allows.
  The network call happens outside any transaction; its outcome is recorded by version, so a late answer
  can never mark an older value as the channel's current one.
"""

from __future__ import annotations

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
from typing import Any

from sqlalchemy.engine import Connection

from keel.channels.sync import store
from keel.channels.sync.model import (
    Capabilities,
    Connector,
    PushResult,
    SyncConfig,
    Update,
    Window,
    backoff_s,
    batch_key,
    parse_config,
    settings_of,
)
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import FieldError, NotFound, ValidationFailed
from keel.platform.events import Event
from keel.platform.scope import Scope

Listed = Callable[[Connection, str], list[tuple[str, str, int]]]  # channel -> (country, sku, quantity)
_DONE: Future[None] = Future()
_DONE.set_result(None)
HEALTH_WINDOW = timedelta(minutes=15)
KEEP_PUSHES = timedelta(hours=24)


@dataclass(frozen=True)
class ChannelSync:
    """One channel's sync as an operator sees it."""

    channel: str
    connector: str
    url: str
    capabilities: Capabilities
    max_attempts: int
    paused: bool
    owner: str | None
    pending: int
    synced: int
    dead: int
    oldest_pending_at: datetime | None  # when the oldest owed value changed (the backlog's age)
    lag_p50_s: float | None  # change committed -> channel accepted, over the last 15 minutes
    lag_p99_s: float | None
    requests: int  # in the last 15 minutes
    errors: int  # requests that failed as a whole, in the last 15 minutes
    last_error: str | None
    retry_at: datetime | None  # the channel-level backoff or the channel's own Retry-After


@dataclass(frozen=True)
class SyncItem:
    channel: str
    country: str
    sku: str
    quantity: int
    content: str | None
    version: int
    pushed_version: int
    pushed_quantity: int | None
    state: str
    attempts: int
    due_at: datetime
    last_error: str | None
    changed_at: datetime
    pushed_at: datetime | None


@dataclass
class PassResult:
    requests: int = 0
    accepted: int = 0
    failed: int = 0
    channels: list[str] = field(default_factory=list)


def default_connector(config: SyncConfig) -> Connector:
    from keel.channels.sync.webhook import WebhookConnector  # the only kind so far; loaded when first used

    return WebhookConnector(config.url, config.secret, config.capabilities, config.timeout_s)


def _config(row: store.ChannelRow) -> SyncConfig:
    config, problems = parse_config(
        row.channel, {"connector": row.connector, "url": row.url, "secret": row.secret, **row.settings}
    )
    if config is None:  # stored configurations were checked on the way in
        raise ValueError(f"stored sync configuration of {row.channel} does not parse: {problems}")
    return config


def _percentile(values: list[int], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)] / 1000


class SyncService:
    def __init__(
        self,
        db: Database,
        channel_exists: Callable[[str], bool],
        listed: Listed,
        connectors: Callable[[SyncConfig], Connector] = default_connector,
        *,
        worker: str | None = None,
        lease_s: float = 30.0,
        max_requests_per_pass: int = 20,
        threads: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.channel_exists = channel_exists
        self.listed = listed
        self.connectors = connectors
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.lease_s = lease_s
        self.max_requests_per_pass = max_requests_per_pass
        self.rng = rng or random.Random()
        self.threads = threads
        self._open: dict[str, tuple[SyncConfig, Connector]] = {}
        self._windows: dict[str, Window] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._busy: dict[str, Future[None]] = {}
        self._lock = threading.Lock()  # the pass's totals, updated from the channels' threads

    # -- configuration and operations ---------------------------------------------------------------------
    def configure(self, channel: str, doc: Any, scope: Scope = Scope.ALL) -> ChannelSync:
        """Set how Keel reaches ``channel`` (connector, URL, secret, limits). The first configuration owes
        the channel every listing it has now; a changed one keeps what was pushed. Idempotent."""
        scope.check_channel(channel)
        if not self.channel_exists(channel):
            raise NotFound(f"channel {channel!r} does not exist")
        config, problems = parse_config(channel, doc)
        if config is None:
            errors = [FieldError(None, f, r) for f, r in problems]
            raise ValidationFailed(f"the sync configuration has {len(errors)} problem(s)", errors)
        now = utcnow()
        with self.db.write() as conn:
            first = not store.channel_rows(conn, channel)
            store.save_channel(conn, channel, config.connector, config.url, config.secret, settings_of(config), now)
            if first:
                store.desire(conn, [(channel, c, s, q, now) for c, s, q in self.listed(conn, channel)])
        return self.channel(channel, scope)

    def _known(self, conn: Connection, channel: str, scope: Scope) -> None:
        if not scope.sees_channel(channel) or not store.channel_rows(conn, channel):
            raise NotFound(f"channel {channel!r} has no sync configuration")

    def pause(self, channel: str, scope: Scope = Scope.ALL) -> bool:
        """Stop pushing to ``channel`` (changes keep coalescing into its desired state); False if it was."""
        scope.check_channel(channel)
        with self.db.write() as conn:
            self._known(conn, channel, scope)
            return store.set_paused(conn, channel, True, utcnow())

    def resume(self, channel: str, scope: Scope = Scope.ALL) -> bool:
        scope.check_channel(channel)
        with self.db.write() as conn:
            self._known(conn, channel, scope)
            return store.set_paused(conn, channel, False, utcnow())

    def resync(self, channel: str, scope: Scope = Scope.ALL) -> int:
        """Owe the channel every value again, from Keel's current listings (a full resync); returns rows owed."""
        scope.check_channel(channel)
        now = utcnow()
        with self.db.write() as conn:
            self._known(conn, channel, scope)
            store.desire(conn, [(channel, c, s, q, now) for c, s, q in self.listed(conn, channel)])
            return store.resync(conn, channel, now)

    def retry_dead(self, channel: str, scope: Scope = Scope.ALL) -> int:
        """Give the channel's dead letters another round of attempts; returns how many."""
        scope.check_channel(channel)
        with self.db.write() as conn:
            self._known(conn, channel, scope)
            return store.resync(conn, channel, utcnow(), dead_only=True)

    # -- reads ----------------------------------------------------------------------------------------------
    def status(self, scope: Scope = Scope.ALL) -> list[ChannelSync]:
        """Every configured channel ``scope`` sees, with backlog, dead letters, lag and errors."""
        now = utcnow()
        with self.db.read() as conn:
            rows = [r for r in store.channel_rows(conn) if scope.sees_channel(r.channel)]
            counts = store.counts(conn)
            oldest = store.oldest_pending(conn)
            pushes = store.pushes_since(conn, now - HEALTH_WINDOW)
        out = []
        for r in rows:
            mine = [p for p in pushes if p.channel == r.channel]
            lags = [lag for p in mine for lag in p.lags_ms]
            n = counts.get(r.channel, {})
            config = _config(r)
            out.append(
                ChannelSync(
                    r.channel,
                    r.connector,
                    r.url,
                    config.capabilities,
                    config.max_attempts,
                    r.paused,
                    r.owner if r.lease_until is not None and r.lease_until >= now else None,
                    n.get(store.PENDING, 0),
                    n.get(store.SYNCED, 0),
                    n.get(store.DEAD, 0),
                    oldest.get(r.channel),
                    _percentile(lags, 0.50),
                    _percentile(lags, 0.99),
                    len(mine),
                    sum(1 for p in mine if p.error),
                    r.last_error,
                    r.not_before if r.not_before is not None and r.not_before > now else None,
                )
            )
        return out

    def channel(self, channel: str, scope: Scope = Scope.ALL) -> ChannelSync:
        found = [s for s in self.status(scope) if s.channel == channel]
        if not found:
            raise NotFound(f"channel {channel!r} has no sync configuration")
        return found[0]

    def items(
        self,
        channel: str,
        state: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 100,
        scope: Scope = Scope.ALL,
    ) -> list[SyncItem]:
        """A page of the channel's desired state in (SKU, country) order after ``after``."""
        if state is not None and state not in (store.PENDING, store.SYNCED, store.DEAD):
            raise ValidationFailed("state must be pending, synced or dead", [FieldError(None, "state", "unknown")])
        with self.db.read() as conn:
            self._known(conn, channel, scope)
            return [SyncItem(*r.__dict__.values()) for r in store.items(conn, channel, state, after, limit)]

    # -- the feeder -----------------------------------------------------------------------------------------
    def feed(self, conn: Connection, batch: list[Event], availability: str, listing: str) -> None:
        """Turn a batch of events into new versions of the configured channels' rows; a burst on one row
        becomes one new version with the latest value."""
        configured = {r.channel for r in store.channel_rows(conn)}
        if not configured:
            return
        quantities: dict[tuple[str, str, str], tuple[int, datetime]] = {}
        contents: dict[tuple[str, str], str] = {}
        for e in batch:
            if e.type == availability and e.subject in configured:
                for c in e.data["changes"]:
                    quantities[(e.subject, c["country"], c["sku"])] = (int(c["quantity"]), e.recorded_at)
            elif e.type == listing:
                for item in e.data["listings"]:
                    for ch in item["channels"]:
                        if ch in configured:
                            contents[(ch, item["sku"])] = f"{item['state']}:{e.data['revision']}"
        store.desire(conn, [(ch, c, s, q, at) for (ch, c, s), (q, at) in quantities.items()])
        store.set_content(conn, [(ch, s, v) for (ch, s), v in contents.items()], utcnow())

    # -- the pump -------------------------------------------------------------------------------------------
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
            if row.paused or self._busy.get(row.channel, _DONE).running():
                continue
            result.channels.append(row.channel)
            started.append(future := self._pool.submit(self._push_channel, row, result))
            self._busy[row.channel] = future
        for future in started if wait else ():
            future.result()
        return result

    def _share(self) -> list[store.ChannelRow]:
        """Claim a fair share of the configured channels (channels / live workers, rounded up), keep the
        ones held, let go of the surplus; the channels this worker owns after the pass."""
        now = utcnow()
        until = now + timedelta(seconds=self.lease_s)
        with self.db.write() as conn:
            store.heartbeat(conn, self.worker, now)
            rows = store.channel_rows(conn)
            share = math.ceil(len(rows) / max(1, store.live_workers(conn, now - timedelta(seconds=self.lease_s))))
            held = [r for r in rows if r.owner == self.worker and r.lease_until is not None and r.lease_until >= now]
            surplus = held[share:]
            mine = [r for r in held[:share] if store.claim(conn, r.channel, self.worker, now, until)]
            for r in rows:
                if len(mine) >= share:
                    break
                if r not in held and store.claim(conn, r.channel, self.worker, now, until):
                    mine.append(r)
            if surplus:
                store.release(conn, self.worker, [r.channel for r in surplus])
        for gone in set(self._windows) - {r.channel for r in mine}:
            self._windows.pop(gone)
        return mine

    def _connector(self, row: store.ChannelRow) -> tuple[SyncConfig, Connector]:
        config = _config(row)
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
        config, connector = self._connector(row)
        window = self._window(config)
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
            updates = [Update(r.sku, r.country, r.quantity, r.content, r.version) for r in due]
            window.take(time.monotonic())
            answer = connector.push(row.channel, updates, batch_key(row.channel, updates))
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
            due_at = now + timedelta(seconds=backoff_s(attempts, self.rng))
            failures.append((item.country, item.sku, attempts, store.DEAD if dead else store.PENDING, due_at, error))
        whole = answer.error is not None
        failures_now = row.failures + 1 if whole and answer.retry_after_s is None else 0
        wait = answer.retry_after_s if answer.retry_after_s is not None else None
        if wait is None and failures_now:
            wait = backoff_s(failures_now, self.rng)
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

    def prune(self) -> int:
        """Drop request records older than a day (the health figures read the last 15 minutes)."""
        with self.db.write() as conn:
            return store.prune_pushes(conn, utcnow() - KEEP_PUSHES)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with self.db.write() as conn:
            store.release(conn, self.worker)
        for _, connector in self._open.values():
            connector.close()
        self._open.clear()
