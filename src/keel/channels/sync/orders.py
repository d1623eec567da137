"""Orders coming in from channels, and the stock a marketplace holds for its channel: orders received (a
channel's signed order webhook) or downloaded (a connector
that is an ``OrderSource``, polled by the ``channel-sync-orders`` job from a stored cursor), each taken
through Keel's order capture, idempotent by (channel, external id) as every capture is.

The channels context does not know order capture: bootstrap hands it a ``Capture`` port (a capture
document in, the order's id and whether it was new out, a ``KeelError`` for a refusal).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from keel.channels.sync import store
from keel.channels.sync.model import FulfilledStock, OrderSource
from keel.channels.sync.pump import Pump
from keel.channels.sync.webhook import verify
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import KeelError, NotFound, Unauthenticated, ValidationFailed

Capture = Callable[[dict[str, Any]], tuple[int, bool]]
# (channel, country, sku -> units the marketplace holds): set that stock as the marketplace location's own
Book = Callable[[str, str, dict[str, int]], None]
MAX_ORDERS = 100  # orders in one webhook request
logger = logging.getLogger("keel.sync")


@dataclass
class IntakeReport:
    """What became of a batch of a channel's orders."""

    channel: str
    captured: list[tuple[str, int]] = field(default_factory=list)  # (external id, Keel order id), new
    duplicates: list[tuple[str, int]] = field(default_factory=list)  # captured before: the same order
    refused: list[tuple[str, str]] = field(default_factory=list)  # (external id, why)


def no_capture(document: dict[str, Any]) -> tuple[int, bool]:
    raise KeelError("order capture is not wired into this sync engine")


def no_book(channel: str, country: str, units: dict[str, int]) -> None:
    raise KeelError("stock booking is not wired into this sync engine")


class OrderIntake:
    def __init__(self, db: Database, capture: Capture, pump: Pump, book: Book = no_book) -> None:
        self.db = db
        self.capture = capture
        self.pump = pump
        self.book = book
        self._pool: ThreadPoolExecutor | None = None
        self._running: dict[str, Future[int]] = {}

    def pull_owned(self) -> int:
        """Start ``pull`` on a thread of its own and return at once (a slow channel must not hold up the
        worker's consumers); 0 while the previous one still runs, else 1."""
        return self._in_background("pull", self.pull)

    def book_owned(self) -> int:
        """``book_fulfilled`` on a thread of its own, as ``pull_owned``."""
        return self._in_background("book", self.book_fulfilled)

    def _in_background(self, name: str, work: Callable[[], int]) -> int:
        running = self._running.get(name)
        if running is not None and not running.done():
            return 0
        if self._pool is None:
            self._pool = ThreadPoolExecutor(2, thread_name_prefix="keel-sync-in")
        self._running[name] = self._pool.submit(work)
        return 1

    def take(self, channel: str, documents: list[Any]) -> IntakeReport:
        """Capture each of ``documents`` (capture documents; their channel is ``channel`` whatever they say).
        A refused order does not stop the others."""
        report = IntakeReport(channel)
        for doc in documents:
            external = str(doc.get("external_id", "?"))[:100] if isinstance(doc, dict) else "?"
            if not isinstance(doc, dict):
                report.refused.append((external, "an order is a JSON object"))
                continue
            try:
                order_id, created = self.capture({**doc, "channel": channel})
            except KeelError as exc:
                fields = "; ".join(f"{e.field}: {e.reason}" for e in getattr(exc, "errors", []))
                report.refused.append((external, f"{exc.detail}: {fields}" if fields else exc.detail))
                continue
            (report.captured if created else report.duplicates).append((external, order_id))
        return report

    def receive(self, channel: str, timestamp: str, signature: str, body: bytes) -> IntakeReport:
        """A channel's order webhook: ``{"orders": [capture documents]}``, signed as Keel signs its own
        requests to the channel (HMAC-SHA256 with the channel's secret over ``"<timestamp>." + body``).
        Refuses an unknown channel (404), a bad signature or a stale timestamp (401) and a body that is not
        that shape (422)."""
        with self.db.read() as conn:
            rows = store.channel_rows(conn, channel)
        if not rows:
            raise NotFound(f"channel {channel!r} has no sync configuration")
        if not verify(rows[0].secret, timestamp, body, signature, time.time()):
            raise Unauthenticated("the order webhook's signature does not verify (or its timestamp is stale)")
        try:
            doc = json.loads(body)
        except ValueError as exc:
            raise ValidationFailed("the body is not JSON", []) from exc
        orders = doc.get("orders") if isinstance(doc, dict) else None
        if not isinstance(orders, list) or not 1 <= len(orders) <= MAX_ORDERS:
            raise ValidationFailed(f'the body must be {{"orders": [1-{MAX_ORDERS} orders]}}', [])
        return self.take(channel, orders)

    def pull(self) -> int:
        """Download new orders from every channel this worker owns whose connector offers them, from each
        channel's stored cursor; the cursor moves only past orders taken (captured, known or refused for
        good), so a crash downloads them again and capture's idempotency keeps them once. Returns orders
        taken."""
        taken = 0
        with self.db.read() as conn:
            owned = store.owned_by(conn, self.pump.worker, utcnow())
        for row in owned:
            if row.paused:
                continue
            _, connector = self.pump.connector(row)
            if not connector.capabilities.orders or not isinstance(connector, OrderSource):
                continue
            cursor = row.order_cursor
            for _ in range(10):  # at most ten pages per channel and pass
                page = connector.orders(row.channel, cursor)
                if page.error is not None:
                    logger.warning("order download from %s failed: %s", row.channel, page.error)
                    break
                report = self.take(row.channel, list(page.orders))
                taken += len(report.captured) + len(report.duplicates)
                for external, why in report.refused:
                    logger.warning("order %s from %s refused: %s", external, row.channel, why)
                if page.cursor is None or page.cursor == cursor:
                    break
                cursor = page.cursor
                with self.db.write() as conn:
                    store.set_order_cursor(conn, row.channel, cursor)
        return taken

    def book_fulfilled(self) -> int:
        """Read the stock each marketplace this worker owns holds for its channel (connectors that are a
        ``FulfilledStock``) and book it through the ``Book`` port as a location of its own per country, so
        the single ledger covers it; returns the (channel, country) stocks booked."""
        booked = 0
        with self.db.read() as conn:
            owned = store.owned_by(conn, self.pump.worker, utcnow())
        for row in owned:
            _, connector = self.pump.connector(row)
            if row.paused or not isinstance(connector, FulfilledStock):
                continue
            found = connector.fulfilled_stock(row.channel)
            if found.error is not None:
                logger.warning("marketplace stock of %s not read: %s", row.channel, found.error)
                continue
            by_country: dict[str, dict[str, int]] = {}
            for (sku, country), held in found.values.items():
                by_country.setdefault(country, {})[sku] = held
            for country, stock in sorted(by_country.items()):
                self.book(row.channel, country, stock)
                booked += 1
        return booked

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
