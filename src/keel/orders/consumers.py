"""What the orders context runs in the background: the backorder filler, an event-log consumer.

Stock arriving anywhere (a receipt, a transfer in, a return, a released hold), a location reopening or a
channel gaining a source may let a backordered order ship: every event the availability projector reacts
to is a reason for one fill pass. The pass spreads its effect over one transaction per order and is
idempotent (an order already allocated is not waiting any more), so the offset is moved after the pass: a
crash in between repeats a harmless pass, it never skips one. The registry steps it at most once per
``backorder_interval_s``, so a burst of movements collapses into one pass.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from keel.inventory import CONSUMED
from keel.orders.service.backorders import BackorderOrders
from keel.platform.db import Database
from keel.platform.events import EventLog
from keel.platform.observability import log
from keel.platform.sources import DatabaseSource, EventSource

logger = logging.getLogger("keel.orders")
CONSUMER = "backorders"


class BackorderFiller:
    name = CONSUMER
    types = CONSUMED

    def __init__(
        self, db: Database, events: EventLog, backorders: BackorderOrders, source: EventSource | None = None
    ) -> None:
        self.db = db
        self.events = events
        self.backorders = backorders
        self.source = source or DatabaseSource(events)

    def warm(self) -> None:
        return None

    def step(self, limit: int = 200) -> int:
        """One fill pass when stock or topology changed since the last one; returns how many such events
        the pass answered (0: nothing new, no pass)."""
        with self.db.read() as conn:
            start = self.events.offset(conn, self.name)
            pending, upto = self.source.backlog(conn, self.name, start, self.types)
        if not pending:
            return 0
        report = self.backorders.fill()
        if report.units_allocated:
            log(logger, "backorders allocated", **{k: v for k, v in asdict(report).items() if k != "filled"})
        with self.db.write() as conn:
            # compare-and-set: another filler that answered the same events first keeps its later offset
            self.events.advance_offset(conn, self.name, start, upto)
        self.source.consumed(self.name, upto)
        return pending
