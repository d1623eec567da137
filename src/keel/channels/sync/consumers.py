"""The sync engine's parts in a worker: the feeder (an event-log consumer) and the pump (a periodic job)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from keel.channels.sync.feeder import FeedTypes
from keel.channels.sync.service import SyncService
from keel.platform.consumers import HandlerConsumer, PeriodicJob
from keel.platform.db import Database
from keel.platform.events import Event, EventLog
from keel.platform.sources import EventSource

FEEDER = "channel-sync-feeder"
PUMP = "channel-sync"
DRIFT = "channel-sync-drift"
ORDERS = "channel-sync-orders"
FULFILLED = "channel-sync-fulfilled"


def sync_feeder(
    sync: SyncService, db: Database, events: EventLog, source: EventSource, types: FeedTypes
) -> HandlerConsumer:
    """Consumes ``types``' events into the desired state (quantities, content, prices), the order updates
    owed and the facts the seller standards count (``keel.channels.sync.feeder``); the event types are named
    by the composition root (this context imports no other)."""

    def handle(conn: Connection, batch: list[Event]) -> None:
        sync.feed(conn, batch, types)

    return HandlerConsumer(FEEDER, types.every, handle, db, events, source)


def sync_pump(sync: SyncService, interval_s: float) -> PeriodicJob:
    """Pushes what the channels this worker owns are owed; returns at once (the pushes run on threads)."""

    def run() -> int:
        return len(sync.run_pass(wait=False).channels)

    return PeriodicJob(PUMP, interval_s, run)


def sync_drift(sync: SyncService, interval_s: float) -> PeriodicJob:
    """Reads back the channels this worker owns that can read back and corrects their drift; returns at once
    (the checks run on a thread of their own)."""
    return PeriodicJob(DRIFT, interval_s, sync.check_drift_owned)


def sync_orders(sync: SyncService, interval_s: float) -> PeriodicJob:
    """Downloads new orders from the channels this worker owns whose connector offers them; returns at once
    (the downloads run on a thread of their own)."""
    return PeriodicJob(ORDERS, interval_s, sync.orders.pull_owned)


def sync_fulfilled(sync: SyncService, interval_s: float) -> PeriodicJob:
    """Books the stock marketplaces hold for their channels (marketplace-fulfilled) as locations of their own."""
    return PeriodicJob(FULFILLED, interval_s, sync.orders.book_owned)
