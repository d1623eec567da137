"""Drift: read a channel's values back and compare them with what Keel last pushed.

A channel's values can change behind Keel's back: a seller edits a quantity in the marketplace's own UI, the
marketplace loses an update it acknowledged, a support script resets a listing. A connector that can read
back (``capabilities.read_back`` and a ``read`` method, the ``ReadBack`` port) lets Keel notice: a check
reads the channel's values of every synced row, a page of ``batch_size`` keys per request, and compares each
with the quantity the channel last accepted (``pushed_quantity``). Rows still owed (pending) or given up
(dead) are not compared: the channel is known not to hold Keel's value yet.

Each difference is recorded (``sync_drift``) with what Keel did about it:

- a field Keel owns (the quantity, everywhere so far) is **corrected**: the row is owed again as a new
  version of the same value, so the pump pushes Keel's value and a channel that versions its values does not
  take the push for a replay;
- a field the channel owns (``OWNED_FIELDS`` per connector kind: none yet; a channel that lets sellers edit
  their own titles would list ``content``) is **adopted**: Keel takes the channel's value as the one pushed
  and says so in the action, and nothing is pushed back.

A read that fails (timeout, 429, a malformed answer) stops the check where it is; what was compared so far
counts, and the next check starts again from the first page. The worker's periodic check runs in the
channel's own turn on the pump's threads and counts each read in the channel's request budget, so reads and
pushes together stay within the channel's rate limit; when the budget is spent the check stops (and says
so) rather than wait and delay the pushes. An operator's check (API, CLI, page) reads with a connector of its
own: the channel's 429, if any, stops it the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from keel.channels.sync import drift_store, store
from keel.channels.sync.model import Connector, ReadBack, SyncConfig, Window
from keel.channels.sync.pump import Pump, stored_config
from keel.platform.clock import utcnow
from keel.platform.db import Database

QUANTITY = "quantity"
# connector kind -> the fields its channel owns (adopted on drift rather than corrected)
OWNED_FIELDS: Mapping[str, frozenset[str]] = {"webhook": frozenset()}
CORRECTED = "pushed Keel's value again"
ADOPTED = "adopted the channel's value (the channel owns {field})"
DEFERRED = "the channel's request budget is spent: the rest waits for the next check"
KEEP_CHECKS = timedelta(days=7)


@dataclass(frozen=True)
class DriftCheck:
    """One check of one channel: values read back and compared, differences found, how many were owed
    again and how many adopted; ``error`` set when a read failed (the check stopped there)."""

    channel: str
    at: datetime
    checked: int
    differences: int
    corrected: int
    adopted: int
    error: str | None


@dataclass(frozen=True)
class Drift:
    """One difference found: what Keel last pushed, what the channel showed (None: it does not hold the
    listing), and what Keel did."""

    id: int
    country: str
    sku: str
    field: str
    keel_quantity: int | None
    channel_quantity: int | None
    found_at: datetime
    action: str


def can_read_back(connector: Connector) -> bool:
    return connector.capabilities.read_back and callable(getattr(connector, "read", None))


class DriftChecker:
    def __init__(
        self,
        db: Database,
        connectors: Callable[[SyncConfig], Connector],
        owned: Mapping[str, frozenset[str]] = OWNED_FIELDS,
    ) -> None:
        self.db = db
        self.connectors = connectors
        self.owned = owned
        self._started: list[Future[None]] = []

    def check(self, channel: str) -> DriftCheck | None:
        """Check ``channel`` now with a connector of its own (an operator's check, from any process); None
        when its connector cannot read back (nothing is recorded). Its reads are not counted in a worker's
        request budget: a channel whose budget is spent answers 429 and the check stops there."""
        with self.db.read() as conn:
            rows = store.channel_rows(conn, channel)
        if not rows:
            return None
        config = stored_config(rows[0])
        connector = self.connectors(config)
        try:
            if not can_read_back(connector):
                return None
            return self._check(config, cast(ReadBack, connector), None)
        finally:
            connector.close()

    def _check(self, config: SyncConfig, reader: ReadBack, window: Window | None) -> DriftCheck:
        channel, size = config.channel, config.capabilities.batch_size
        adopt = QUANTITY in self.owned.get(config.connector, frozenset())
        checked = corrected = adopted = 0
        found: list[drift_store.DriftRow] = []
        error: str | None = None
        after: tuple[str, str] | None = None
        while True:
            with self.db.read() as conn:
                page = drift_store.synced_page(conn, channel, after, size)
            if not page:
                break
            if window is not None and window.wait(time.monotonic()) > 0:
                error = DEFERRED
                break
            after = (page[-1][0], page[-1][1])
            answer = reader.read(channel, [(sku, country) for sku, country, _, _ in page])
            if window is not None:
                window.take(time.monotonic())
            if answer.error is not None:
                error = answer.error
                break
            now = utcnow()
            differ = [(s, c, q, v) for s, c, q, v in page if answer.values.get((s, c)) != q]
            checked += len(page)
            if not differ:
                continue
            # a missing listing cannot be adopted (there is no value to take): it is pushed again either way
            take = [(s, c, v, answer.values[(s, c)]) for s, c, _, v in differ if adopt and (s, c) in answer.values]
            taken = {(s, c) for s, c, _, _ in take}
            owe = [(s, c, v) for s, c, _, v in differ if (s, c) not in taken]
            for s, c, q, _ in differ:
                action = ADOPTED.format(field=QUANTITY) if (s, c) in taken else CORRECTED
                found.append(
                    drift_store.DriftRow(0, channel, c, s, QUANTITY, q, answer.values.get((s, c)), now, action)
                )
            with self.db.write() as conn:
                corrected += drift_store.owe_again(conn, channel, owe, now)
                adopted += drift_store.adopt(conn, channel, take, now)
            if len(page) < size:
                break
        result = DriftCheck(channel, utcnow(), checked, len(found), corrected, adopted, error)
        with self.db.write() as conn:
            drift_store.record(conn, found, drift_store.CheckRow(**result.__dict__))
            drift_store.prune(conn, result.at - KEEP_CHECKS)
        return result

    def check_owned(self, pump: Pump) -> int:
        """Start checking every channel ``pump``'s worker holds (not paused, able to read back) in the
        channel's own turn on the pump's threads, with the channel's connector and request budget: the
        reads share the pushes' rate limit, and a slow channel holds up neither the worker's consumers nor
        the other channels. A channel busy pushing is left to the next run. Returns how many checks started."""
        now = utcnow()
        with self.db.read() as conn:
            mine = [
                r.channel
                for r in store.channel_rows(conn)
                if r.owner == pump.worker and r.lease_until is not None and r.lease_until >= now and not r.paused
            ]
        self._started = [f for ch in mine if (f := pump.run_on_channel(ch, self._in_turn)) is not None]
        return len(self._started)

    def _in_turn(self, config: SyncConfig, connector: Connector, window: Window) -> None:
        if can_read_back(connector):
            self._check(config, cast(ReadBack, connector), window)

    def wait(self) -> None:
        """Wait for the checks ``check_owned`` started (tests)."""
        for future in self._started:
            future.result()

    def checks(self) -> dict[str, DriftCheck]:
        with self.db.read() as conn:
            return {ch: DriftCheck(**c.__dict__) for ch, c in drift_store.last_checks(conn).items()}

    def found(self, channel: str, before: int | None, limit: int) -> list[Drift]:
        with self.db.read() as conn:
            rows = drift_store.drift_page(conn, channel, before, limit)
        return [
            Drift(r.id, r.country, r.sku, r.field, r.keel_quantity, r.channel_quantity, r.found_at, r.action)
            for r in rows
        ]
