"""What pricing runs in the background: the stock repricer, an event-log consumer of ``stock.moved``, and the
windows job, which recomputes prices when a price list's validity window opens or closes.

A stock rule (``markdown``, ``no_discount_when_short``) changes a price only when a SKU's days of cover cross
one of the policies' thresholds. So a pass reads which SKUs moved since its offset (one ledger read), their
stock and run rate (one read of those SKUs), and recomputes only those whose side of some threshold differs
from what it last saw (every SKU it has not seen yet, after a start or a policy change). Without a stock rule
in any policy a pass only moves its offset.

The pass answers every pending event at once and spreads its effect over the recompute's transactions; a
recompute is idempotent, so the offset moves after it: a crash in between repeats a harmless pass. The
registry steps it at most once per ``pricing_stock_interval_s``: a stock change reaches its prices within
that interval plus the recompute of the SKUs that crossed (docs/pricing.md).

The cover of a SKU also drifts without any movement, as its 28-day window slides; such a drift is caught by
the SKU's next movement or by a full recompute (``keel pricing recompute``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from keel.inventory import STOCK_MOVED
from keel.platform.clock import utcnow
from keel.platform.consumers import PeriodicJob
from keel.platform.db import Database
from keel.platform.events import EventLog
from keel.platform.sources import DatabaseSource, EventSource
from keel.pricing.model import stock_state
from keel.pricing.service import PricingService

CONSUMER = "pricing-stock"
WINDOWS = "pricing-windows"
CATCH_UP = timedelta(days=1)  # on start, windows crossed this long ago are recomputed again (idempotent)
UNSEEN = ()  # the state of a SKU not seen since the start (no real state is empty: there are thresholds)


class StockRepricer:
    name = CONSUMER
    types = frozenset({STOCK_MOVED})

    def __init__(
        self,
        db: Database,
        events: EventLog,
        pricing: PricingService,
        moved: Callable[[int], set[str]],
        source: EventSource | None = None,
    ) -> None:
        self.db, self.events, self.pricing, self.moved = db, events, pricing, moved
        self.source = source or DatabaseSource(events)
        self.thresholds: tuple[tuple[str, int], ...] = ()
        self.seen: dict[str, tuple[bool, ...] | None] = {}  # SKU -> its side of each threshold (None: no stock)

    def warm(self) -> None:
        return None

    def step(self, limit: int = 200) -> int:
        """One pass over every pending ``stock.moved`` event; returns how many it answered (0: none)."""
        with self.db.read() as conn:
            start = self.events.offset(conn, self.name)
            pending, upto = self.source.backlog(conn, self.name, start, self.types)
            first = self.source.read(conn, self.name, start, self.types, 1) if pending else []
        if not pending:
            return 0
        if first:
            self.reprice(int(first[0].data["first_seq"]))
        with self.db.write() as conn:
            # compare-and-set: another repricer that answered the same events first keeps its later offset
            self.events.advance_offset(conn, self.name, start, upto)
        self.source.consumed(self.name, upto)
        return pending

    def reprice(self, first_seq: int) -> set[str]:
        """Recompute the SKUs moved from ledger ``first_seq`` on whose cover crossed a threshold; returns them."""
        thresholds = self.pricing.stock_thresholds()
        if thresholds != self.thresholds:
            self.thresholds, self.seen = thresholds, {}
        if not thresholds:
            return set()
        skus = self.moved(first_seq)
        stock = self.pricing.stock(skus)
        states = {s: stock_state(stock[s], thresholds) if s in stock else None for s in skus}
        crossed = {s for s, state in states.items() if self.seen.get(s, UNSEEN) != state}
        if crossed:
            self.pricing.recompute(skus=crossed)
            self.seen.update((s, states[s]) for s in crossed)
        return crossed


def windows_job(pricing: PricingService, interval_s: float) -> PeriodicJob:
    """Recomputes what price lists whose validity window opened or closed since its last run price, every
    ``interval_s``: a window reaches its prices within that interval. The first run after a start looks a day
    back (``CATCH_UP``): a worker that was down for less misses no window, and recomputing an opened window
    again changes nothing."""
    last = [utcnow() - CATCH_UP]

    def run() -> int:
        until = utcnow()
        done = pricing.cross_windows(last[0], until)
        last[0] = until
        return done.changed + done.removed

    return PeriodicJob(WINDOWS, interval_s, run, audited=True)
