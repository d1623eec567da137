"""Background work of a Keel process: the availability projector, the reservation sweeper and the
backorder filler."""

from __future__ import annotations

import logging
import threading
import time

from keel.bootstrap import Keel
from keel.platform.observability import ATP_CHANGES, RESERVATIONS_EXPIRED, log

logger = logging.getLogger("keel.worker")


def run_once(keel: Keel) -> int:
    """One pass: release expired holds, drain the availability projector, source backorders. Returns events
    consumed."""
    expired = keel.stock.expire_due()
    RESERVATIONS_EXPIRED.inc(expired)
    result = keel.availability.catch_up()
    ATP_CHANGES.inc(result.changed)
    keel.orders.fill_backorders()
    return result.events


def run_forever(keel: Keel, stop: threading.Event, ready: threading.Event | None = None) -> None:
    """Poll until ``stop`` is set; errors are logged and retried so a transient lock never kills the loop."""
    keel.availability.warm()
    log(logger, "availability projector ready", database=keel.db.dialect)
    if ready is not None:
        ready.set()
    last_sweep = last_fill = 0.0
    stock_moved = True  # one pass at start: stock may have arrived while no worker ran
    while not stop.is_set():
        try:
            now = time.monotonic()
            if now - last_sweep >= keel.settings.sweep_interval_s:
                expired = keel.stock.expire_due()
                if expired:
                    RESERVATIONS_EXPIRED.inc(expired)
                    log(logger, "reservations expired", count=expired)
                last_sweep = now
            result = keel.availability.step()
            ATP_CHANGES.inc(result.changed)
            stock_moved = stock_moved or result.events > 0
            if stock_moved and now - last_fill >= keel.settings.backorder_interval_s:
                stock_moved, last_fill = False, now
                filled = keel.orders.fill_backorders()
                if filled["units_allocated"]:
                    log(logger, "backorders allocated", **{k: v for k, v in filled.items() if k != "filled"})
            if result.changed:
                logger.debug(
                    "availability changed",
                    extra={
                        "fields": {"events": result.events, "changed": result.changed, "channels": len(result.channels)}
                    },
                )
            if not result.events:
                stop.wait(keel.settings.worker_interval_s)
        except Exception:
            logger.exception("worker pass failed; retrying")
            stop.wait(1.0)


class BackgroundWorker:
    def __init__(self, keel: Keel) -> None:
        self.keel = keel
        self.stop = threading.Event()
        self.thread = threading.Thread(target=run_forever, args=(keel, self.stop), name="keel-worker", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
