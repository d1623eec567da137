"""Background work of a Keel process: whatever the consumer registry built in ``bootstrap`` lists (event-log
consumers such as the availability projector and the backorder filler, periodic jobs such as the
reservation sweeper). The worker knows no context by name."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial

from keel.audit import NewAuditEntry
from keel.bootstrap import Keel
from keel.platform.actor import Actor, acting_as
from keel.platform.consumers import ConsumerRegistry, PeriodicJob
from keel.platform.observability import log

logger = logging.getLogger("keel.worker")


def attributed(keel: Keel, name: str, audited: bool, work: Callable[[], int]) -> int:
    """Run one step or job as the automation it is: the events it appends name it (``via="automation"``),
    and when ``audited`` and it appended any, the audit log gets an entry linked to them."""
    actor = Actor("worker", name, "automation", None, uuid.uuid4().hex)
    with acting_as(actor):
        done = work()
    if audited and done:
        with keel.db.read() as conn:
            caused = len(keel.events.of_request(conn, actor.request_id or ""))
        if caused:
            target = f"{caused} events appended"
            keel.audit.record(
                NewAuditEntry("worker", name, "automation", None, name, "RUN", target, 0, actor.request_id or "")
            )
    return done


def run_once(keel: Keel, rounds: int = 100) -> int:
    """One pass: every periodic job once, then every consumer until it is caught up, whatever its interval.
    On an event source that fetches in the background (JetStream) the pass goes on, at most ``rounds``
    times, while waiting for what the stream already holds brings new events in. Returns events consumed."""
    for job in keel.consumers.jobs:
        attributed(keel, job.name, job.audited, job.run)
    total = _drain(keel)
    for _ in range(rounds):
        if not keel.source.settle():
            break
        total += _drain(keel)
    return total


def _drain(keel: Keel) -> int:
    total = 0
    for entry in keel.consumers.entries:
        while n := attributed(keel, entry.consumer.name, entry.audited, partial(entry.consumer.step, 200)):
            total += n
    return total


def run_forever(keel: Keel, stop: threading.Event, ready: threading.Event | None = None) -> None:
    """Poll until ``stop`` is set; errors are logged and retried so a transient lock never kills the loop."""
    registry: ConsumerRegistry = keel.consumers
    for consumer in registry:
        consumer.warm()
    log(
        logger,
        "consumers ready",
        database=keel.db.dialect,
        source=keel.source.kind,
        consumers=[c.name for c in registry],
    )
    if ready is not None:
        ready.set()
    alone = [
        threading.Thread(target=_job_alone, args=(keel, job, stop), name=f"keel-{job.name}", daemon=True)
        for job in registry.jobs
        if job.alone
    ]
    for thread in alone:
        thread.start()
    jobs = [job for job in registry.jobs if not job.alone]
    last_run = {job.name: float("-inf") for job in jobs}
    last_step = {e.consumer.name: float("-inf") for e in registry.entries}
    while not stop.is_set():
        try:
            now = time.monotonic()
            for job in jobs:
                if now - last_run[job.name] >= job.interval_s:
                    attributed(keel, job.name, job.audited, job.run)
                    last_run[job.name] = now
            consumed = 0
            for entry in registry.entries:
                if now - last_step[entry.consumer.name] < entry.every_s:
                    continue
                if n := attributed(keel, entry.consumer.name, entry.audited, partial(entry.consumer.step, 200)):
                    consumed += n
                    last_step[entry.consumer.name] = now
            if not consumed:
                stop.wait(keel.settings.worker_interval_s)
        except Exception:
            logger.exception("worker pass failed; retrying")
            stop.wait(1.0)
    for thread in alone:
        thread.join(timeout=10)


def _job_alone(keel: Keel, job: PeriodicJob, stop: threading.Event) -> None:
    """A job that runs in its own thread, every ``interval_s`` until ``stop``; errors are logged and retried."""
    while not stop.is_set():
        try:
            attributed(keel, job.name, job.audited, job.run)
        except Exception:
            logger.exception("job %s failed; retrying", job.name)
        stop.wait(job.interval_s)


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
