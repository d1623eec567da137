"""What the orders context runs in the background: the backorder filler, a consumer of ``stock.moved``.

Stock arriving anywhere (a receipt, a transfer in, a return, a released hold) may let a backordered order
ship, so every new ``stock.moved`` event is a reason to run one fill pass. The pass spreads its effect over
one transaction per order and is idempotent (an order already allocated is not waiting any more), so the
offset is committed after the pass: a crash in between repeats a harmless pass, it never skips one.
Passes are at most one per ``interval_s``: a burst of movements collapses into one pass.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

from keel.inventory import STOCK_MOVED
from keel.orders.service.backorders import BackorderOrders
from keel.platform.db import Database
from keel.platform.events import EventLog
from keel.platform.observability import log

logger = logging.getLogger("keel.orders")
CONSUMER = "backorders"


class BackorderFiller:
    name = CONSUMER
    types = frozenset({STOCK_MOVED})

    def __init__(self, db: Database, events: EventLog, backorders: BackorderOrders, interval_s: float) -> None:
        self.db = db
        self.events = events
        self.backorders = backorders
        self.interval_s = interval_s
        self._last_pass = float("-inf")

    def warm(self) -> None:
        return None

    def step(self, limit: int = 200) -> int:
        """One fill pass when stock moved since the last one and the interval has passed; returns the number
        of ``stock.moved`` events the pass answered."""
        if time.monotonic() - self._last_pass < self.interval_s:
            return 0
        with self.db.read() as conn:
            pending = self.events.pending(conn, self.name, set(self.types))
            upto = self.events.last_seq(conn, STOCK_MOVED)
        if not pending:
            return 0
        self._last_pass = time.monotonic()
        report = self.backorders.fill()
        if report.units_allocated:
            log(logger, "backorders allocated", **{k: v for k, v in asdict(report).items() if k != "filled"})
        with self.db.write() as conn:
            self.events.commit_offset(conn, self.name, upto)
        return pending
