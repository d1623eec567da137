"""Order updates sent back to channels: shipments (carrier and tracking), cancellations and refunds.

The feeder queues an update per order event of a channel whose connector takes them (``updates_store``); the
pump's thread for that channel sends the due ones after its quantities, at most ``BATCH`` per pass, with the
same delivery rules: an update is sent until the channel accepts it (its key makes a resend harmless), a
refused one is retried with backoff and jitter, one the channel refuses for good or that failed
``max_attempts`` times is a dead letter.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from keel.channels.sync import updates_store
from keel.channels.sync.model import Connector, OrderUpdates, SyncConfig, Window
from keel.platform.backoff import backoff_s
from keel.platform.clock import utcnow
from keel.platform.db import Database

BATCH = 50


def send_due(
    db: Database, config: SyncConfig, connector: Connector, window: Window, rng: random.Random, backoff_base_s: float
) -> int:
    """Send the channel's due order updates once; returns how many the channel accepted. A channel whose
    updates share its request budget (``updates_in_window``) is sent to only when ``window`` has room, and
    the request is counted there."""
    caps = connector.capabilities
    if not caps.shipments or not isinstance(connector, OrderUpdates):
        return 0
    if caps.updates_in_window and window.wait(time.monotonic()) > 0:
        return 0
    now = utcnow()
    with db.read() as conn:
        due = updates_store.due(conn, config.channel, now, BATCH)
    # one update per (order, kind) per request: the channel's answer names them by that pair
    batch, seen = [], set()
    for update, attempts in due:
        if (update.external_id, update.kind) not in seen:
            seen.add((update.external_id, update.kind))
            batch.append((update, attempts))
    if not batch:
        return 0
    answer = connector.send(config.channel, [u for u, _ in batch])
    if caps.updates_in_window:
        window.take(time.monotonic())
    done = utcnow()
    accepted = set(answer.accepted)
    refused = {(r.sku, r.country): r for r in answer.rejected}  # (external_id, kind) in these fields
    rows: list[tuple[str, str, int, datetime, str | None]] = []
    for update, attempts in batch:
        pair = (update.external_id, update.kind)
        if pair in accepted:
            rows.append((update.key, updates_store.SENT, attempts, done, None))
            continue
        why = refused.get(pair)
        if why is None and answer.retry_after_s is not None:
            continue  # the channel asked to wait: not this update's failure
        error = why.error if why is not None else answer.error or "not acknowledged by the channel"
        tries = attempts + 1
        dead = (why is not None and not why.retry) or tries >= config.max_attempts
        wait = timedelta(seconds=answer.retry_after_s or backoff_s(tries, rng, backoff_base_s))
        rows.append((update.key, updates_store.DEAD if dead else updates_store.PENDING, tries, done + wait, error))
    with db.write() as conn:
        updates_store.outcome(conn, config.channel, rows)
    return len(accepted)
