"""The sync engine's use cases: configure a channel, feed its desired state from the event log, push what
is owed through its connector within its limits, and let operators pause, resume, resync and retry.

Two moving parts, both registered in ``bootstrap``:
- the **feeder**, an event-log consumer: ``availability.changed`` sets the desired quantity of (channel,
  country, SKU) and ``listing.changed`` its content value, each as a new version of the row, in the
  transaction that moves the feeder's offset; order events queue the updates owed to channels and keep the
  order facts the seller standards are measured on (``keel.channels.sync.standards``);
- the **pump** (``keel.channels.sync.pump``), a periodic job that pushes what is owed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from keel.channels.sync import drift_store, facts_store, feeder, listing_store, store, updates_store
from keel.channels.sync.drift import Drift, DriftCheck, DriftChecker
from keel.channels.sync.feeder import FeedTypes, OrderUpdateOf
from keel.channels.sync.health import (
    Health,
    Request,
    health,
    order_health,
    percentile,
    problems,
    thresholds_of,
)
from keel.channels.sync.model import (
    Capabilities,
    Connector,
    OrderUpdate,
    OrderUpdateRecord,
    SyncConfig,
    parse_config,
    settings_of,
)
from keel.channels.sync.orders import Book, Capture, OrderIntake, no_book, no_capture
from keel.channels.sync.pump import PassResult, Pump, default_connector, stored_config
from keel.channels.sync.standards import METRICS, SLICES, bounds
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from keel.platform.events import Event
from keel.platform.scope import Scope

# (event kind, event data, event seq) -> (channel, the update it owes) of an order event, or None

Listed = Callable[[Connection, str], list[tuple[str, str, int]]]  # channel -> (country, sku, quantity)
Priced = Callable[[Connection, str], list[tuple[str, str, str]]]  # channel -> (country, sku, price)


def no_prices(conn: Connection, channel: str) -> list[tuple[str, str, str]]:
    return []


HEALTH_WINDOW = timedelta(minutes=15)
DAY = timedelta(hours=24)


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
    # lag p99, error rate and backlog age, then the seller standards on orders, against the channel's thresholds
    health: tuple[Health, ...] = ()
    drift: DriftCheck | None = None  # the latest drift check (None: never checked)
    drift_found_24h: int = 0  # differences found in the last 24 hours
    drift_corrected_24h: int = 0  # of which owed again (the rest adopted)
    updates_pending: int = 0  # order updates (shipments, cancellations, refunds) still owed to the channel
    updates_sent: int = 0
    updates_dead: int = 0  # order updates given up on


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
    price: str | None = None  # the pricing engine's price (None: not priced)


def no_update(kind: str, data: dict[str, Any], seq: int) -> tuple[str, OrderUpdate] | None:
    return None


def _percentile(values: list[int], share: float) -> float | None:
    return percentile(values, share)


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
        backoff_base_s: float = 0.5,
        rng: random.Random | None = None,
        capture: Capture = no_capture,
        order_update: OrderUpdateOf = no_update,
        book: Book = no_book,
        priced: Priced = no_prices,
    ) -> None:
        self.db = db
        self.channel_exists = channel_exists
        self.listed = listed
        self.priced = priced
        self.pump = Pump(
            db,
            connectors,
            worker=worker,
            lease_s=lease_s,
            max_requests_per_pass=max_requests_per_pass,
            threads=threads,
            backoff_base_s=backoff_base_s,
            rng=rng,
        )
        self.drift = DriftChecker(db, connectors)
        self.orders = OrderIntake(db, capture, self.pump, book)
        self.order_update = order_update

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
                self._owe_all(conn, channel, now)
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
            self._owe_all(conn, channel, now)
            return store.resync(conn, channel, now)

    def _owe_all(self, conn: Connection, channel: str, now: datetime) -> None:
        """Every listing of the channel with its quantity and its price, in the caller's transaction."""
        store.desire(conn, [(channel, c, s, q, now) for c, s, q in self.listed(conn, channel)])
        listing_store.set_price(conn, [(channel, c, s, p) for c, s, p in self.priced(conn, channel)], now)

    def retry_dead(self, channel: str, scope: Scope = Scope.ALL) -> int:
        """Give the channel's dead letters (values and order updates) another round of attempts; returns how
        many."""
        scope.check_channel(channel)
        now = utcnow()
        with self.db.write() as conn:
            self._known(conn, channel, scope)
            return store.resync(conn, channel, now, dead_only=True) + updates_store.retry_dead(conn, channel, now)

    # -- reads ----------------------------------------------------------------------------------------------
    def status(self, scope: Scope = Scope.ALL) -> list[ChannelSync]:
        """Every configured channel ``scope`` sees, with backlog, dead letters, lag and errors."""
        now = utcnow()
        with self.db.read() as conn:
            rows = [r for r in store.channel_rows(conn) if scope.sees_channel(r.channel)]
            counts = store.counts(conn)
            oldest = store.oldest_pending(conn)
            pushes = store.pushes_since(conn, now - HEALTH_WINDOW)
            checks = drift_store.last_checks(conn)
            found = drift_store.drift_totals(conn, now - DAY)
            limits = drift_store.thresholds(conn)
            outbox = updates_store.counts(conn)
            channels = [r.channel for r in rows]
            counts_of = {m.name: facts_store.slices(conn, m, channels, bounds(now, m.window)) for m in METRICS}
        empty = ([0] * SLICES, [0] * SLICES)
        out = []
        for r in rows:
            mine = [p for p in pushes if p.channel == r.channel]
            lags = [lag for p in mine for lag in p.lags_ms]
            n = counts.get(r.channel, {})
            config = stored_config(r)
            limit = thresholds_of(limits.get(r.channel))
            seller = (order_health(m, *counts_of[m.name].get(r.channel, empty), limit[m.name]) for m in METRICS)
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
                    (
                        *health(
                            [Request(p.at, p.error is not None, p.lags_ms) for p in mine],
                            oldest.get(r.channel),
                            now,
                            HEALTH_WINDOW,
                            limit,
                        ),
                        *seller,
                    ),
                    DriftCheck(**checks[r.channel].__dict__) if r.channel in checks else None,
                    found.get(r.channel, (0, 0, 0))[0],
                    found.get(r.channel, (0, 0, 0))[1],
                    *(outbox.get(r.channel, {}).get(state, 0) for state in updates_store.STATES),
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

    def order_updates(
        self, channel: str, state: str | None = None, limit: int = 100, offset: int = 0, scope: Scope = Scope.ALL
    ) -> tuple[list[OrderUpdateRecord], int]:
        """A page of the shipment, cancellation and refund updates owed or sent to the channel, newest first
        (``state`` pending, sent or dead filters: ``dead`` are the dead letters), and how many there are."""
        if state is not None and state not in updates_store.STATES:
            raise ValidationFailed("state must be pending, sent or dead", [FieldError(None, "state", "unknown")])
        with self.db.read() as conn:
            self._known(conn, channel, scope)
            return updates_store.listing(conn, channel, state, limit, offset)

    # -- drift and health -----------------------------------------------------------------------------------
    def check_drift(self, channel: str, scope: Scope = Scope.ALL) -> DriftCheck:
        """Read the channel's values back now, record every difference from what Keel last pushed and correct
        it (see ``keel.channels.sync.drift``)."""
        scope.check_channel(channel)
        with self.db.read() as conn:
            self._known(conn, channel, scope)
        done = self.drift.check(channel)
        if done is None:
            raise Conflict(f"the connector of channel {channel!r} cannot read its values back")
        return done

    def drift_found(
        self, channel: str, before: int | None = None, limit: int = 100, scope: Scope = Scope.ALL
    ) -> list[Drift]:
        """A page of the channel's recorded differences, newest first, older than id ``before``."""
        with self.db.read() as conn:
            self._known(conn, channel, scope)
        return self.drift.found(channel, before, limit)

    def check_drift_owned(self) -> int:
        """Start a drift check of every channel this worker's pump holds (the periodic job)."""
        return self.drift.check_owned(self.pump)

    def set_thresholds(self, channel: str, doc: Any, scope: Scope = Scope.ALL) -> dict[str, float]:
        """Set the channel's health thresholds (metric -> limit; ``{}`` goes back to the defaults); returns
        the thresholds now in force. Idempotent."""
        scope.check_channel(channel)
        wrong = problems(doc)
        if wrong:
            errors = [FieldError(None, f, r) for f, r in wrong]
            raise ValidationFailed(f"the thresholds have {len(errors)} problem(s)", errors)
        with self.db.write() as conn:
            self._known(conn, channel, scope)
            drift_store.save_thresholds(conn, channel, {k: float(v) for k, v in doc.items()}, utcnow())
        return thresholds_of(doc)

    # -- the feeder -----------------------------------------------------------------------------------------
    def feed(self, conn: Connection, batch: list[Event], types: FeedTypes) -> None:
        """Turn a batch of events into the configured channels' desired state, order updates and order facts
        (``keel.channels.sync.feeder``)."""
        feeder.feed(conn, batch, types, self.order_update)

    # -- the pump -------------------------------------------------------------------------------------------
    def run_pass(self, wait: bool = True) -> PassResult:
        """One pass of this process's pump (see ``keel.channels.sync.pump``)."""
        return self.pump.run_pass(wait)

    def close(self) -> None:
        self.orders.close()
        self.pump.close()
