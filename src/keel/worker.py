"""Background work of a Keel process: the availability projector and the reservation sweeper."""

from __future__ import annotations

import logging
import threading
import time

from keel.bootstrap import Keel
from keel.platform.observability import ATP_CHANGES, RESERVATIONS_EXPIRED, log

logger = logging.getLogger("keel.worker")


def run_once(keel: Keel) -> int:
    """One pass: release expired holds, then drain the availability projector. Returns events consumed."""
    expired = keel.stock.expire_due()
    RESERVATIONS_EXPIRED.inc(expired)
    result = keel.availability.catch_up()
    ATP_CHANGES.inc(result.changed)
    return result.events


def run_forever(keel: Keel, stop: threading.Event, ready: threading.Event | None = None) -> None:
    """Poll until ``stop`` is set; errors are logged and retried so a transient lock never kills the loop."""
    keel.availability.warm()
    log(logger, "availability projector ready", database=keel.db.dialect)
    if ready is not None:
        ready.set()
    last_sweep = 0.0
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
