"""Background work of a Keel process: whatever the consumer registry built in ``bootstrap`` lists (event-log
consumers such as the availability projector and the backorder filler, periodic jobs such as the
reservation sweeper). The worker knows no context by name."""

from __future__ import annotations

import logging
import threading
import time

from keel.bootstrap import Keel
from keel.platform.consumers import ConsumerRegistry
from keel.platform.observability import log

logger = logging.getLogger("keel.worker")


def run_once(keel: Keel) -> int:
    """One pass: every periodic job once, then every consumer until it is caught up, whatever its interval.
    Returns events consumed."""
    for job in keel.consumers.jobs:
        job.run()
    total = 0
    for consumer in keel.consumers:
        while n := consumer.step(200):
            total += n
    return total


def run_forever(keel: Keel, stop: threading.Event, ready: threading.Event | None = None) -> None:
    """Poll until ``stop`` is set; errors are logged and retried so a transient lock never kills the loop."""
    registry: ConsumerRegistry = keel.consumers
    for consumer in registry:
        consumer.warm()
    log(logger, "consumers ready", database=keel.db.dialect, consumers=[c.name for c in registry])
    if ready is not None:
        ready.set()
    last_run = {job.name: float("-inf") for job in registry.jobs}
    last_step = {e.consumer.name: float("-inf") for e in registry.entries}
    while not stop.is_set():
        try:
            now = time.monotonic()
            for job in registry.jobs:
                if now - last_run[job.name] >= job.interval_s:
                    job.run()
                    last_run[job.name] = now
            consumed = 0
            for entry in registry.entries:
                if now - last_step[entry.consumer.name] < entry.every_s:
                    continue
                if n := entry.consumer.step(200):
                    consumed += n
                    last_step[entry.consumer.name] = now
            if not consumed:
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
