"""The consumer registry (``keel.platform.consumers``): consumers resume from the offset stored with their
effect, are independent of each other, and the worker runs exactly what the registry lists."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.engine import Connection

from keel.bootstrap import Keel
from keel.platform.consumers import ConsumerRegistry, HandlerConsumer, PeriodicJob
from keel.platform.events import Event, NewEvent
from keel.worker import run_forever, run_once
from tests.support import WH_DE, build_world, receive


def announce(keel: Keel, *subjects: str) -> None:
    with keel.db.write() as conn:
        keel.events.append(conn, [NewEvent("thing.happened", s, {}) for s in subjects])


def effects(keel: Keel, consumer: str) -> list[str]:
    """What a test consumer wrote: one ``<consumer>.saw`` event per event it handled."""
    with keel.db.read() as conn:
        return [e.subject for e in keel.events.read(conn, 0, {f"{consumer}.saw"})]


def copier(keel: Keel, name: str, fail_on: set[str] | None = None) -> HandlerConsumer:
    """A consumer whose effect is an event per handled event; it raises on the subjects in ``fail_on``."""

    def handle(conn: Connection, batch: list[Event]) -> None:
        for e in batch:
            keel.events.append(conn, [NewEvent(f"{name}.saw", e.subject, {})])
            if fail_on and e.subject in fail_on:
                raise RuntimeError(f"{name} failed on {e.subject}")

    return HandlerConsumer(name, frozenset({"thing.happened"}), handle, keel.db, keel.events)


def test_a_consumer_that_fails_mid_batch_resumes_from_its_stored_offset(keel: Keel) -> None:
    announce(keel, "a", "b", "c")
    fail_on = {"b"}
    consumer = copier(keel, "copy", fail_on)
    # given a handler that fails on the second event of the batch
    with pytest.raises(RuntimeError, match="copy failed on b"):
        consumer.step()
    # then neither its effect on "a" nor its offset was kept
    assert effects(keel, "copy") == []
    with keel.db.read() as conn:
        assert keel.events.offset(conn, "copy") == 0
    # when the fault is gone, it resumes from the stored offset and applies every event exactly once
    fail_on.clear()
    assert consumer.step() == 3
    assert consumer.step() == 0
    assert effects(keel, "copy") == ["a", "b", "c"]
    with keel.db.read() as conn:
        assert keel.events.offset(conn, "copy") == 3


def test_two_consumers_of_the_same_events_are_independent(keel: Keel) -> None:
    announce(keel, "a", "b")
    broken, healthy = copier(keel, "broken", {"a"}), copier(keel, "healthy")
    with pytest.raises(RuntimeError):
        broken.step()
    assert healthy.step() == 2
    announce(keel, "c")
    assert healthy.step() == 1
    assert effects(keel, "healthy") == ["a", "b", "c"]
    assert effects(keel, "broken") == []
    with keel.db.read() as conn:
        last = keel.events.last_seq(conn, "thing.happened")
        assert (keel.events.offset(conn, "healthy"), keel.events.offset(conn, "broken")) == (last, 0)


def test_a_consumer_only_sees_its_event_types(keel: Keel) -> None:
    with keel.db.write() as conn:
        keel.events.append(conn, [NewEvent("other.thing", "x", {}), NewEvent("thing.happened", "y", {})])
    consumer = copier(keel, "copy")
    assert consumer.step() == 1
    assert effects(keel, "copy") == ["y"]


def test_a_registry_refuses_a_second_consumer_of_the_same_name(keel: Keel) -> None:
    registry = ConsumerRegistry()
    registry.add(copier(keel, "copy"))
    with pytest.raises(ValueError, match="registered twice"):
        registry.add(copier(keel, "copy"))


def test_bootstrap_registers_the_contexts_consumers_and_jobs(keel: Keel) -> None:
    assert [c.name for c in keel.consumers] == [
        "availability",
        "backorders",
        "insights",
        "pricing-stock",
        "channel-sync-feeder",
        "media-stock",
    ]
    assert [j.name for j in keel.consumers.jobs] == [
        "reservation-sweeper",
        "pricing-windows",
        "channel-sync",
        "channel-sync-drift",
        "channel-sync-orders",
        "channel-sync-fulfilled",
        "media-send",
        "media-rules",
        "media-drift",
        "planning-automation",
    ]
    assert [j.name for j in keel.consumers.jobs if j.alone] == ["planning-automation"]


def test_a_job_that_runs_alone_never_holds_up_the_consumers(keel: Keel) -> None:
    # given a job that runs alone and takes as long as it is let (a forecast of minutes, say)
    started, release = threading.Event(), threading.Event()

    def slow() -> int:
        started.set()
        release.wait(30)
        return 0

    keel.consumers.add_job(PeriodicJob("slow", 0.05, slow, alone=True))
    keel.consumers.add(copier(keel, "copy"))
    stop = threading.Event()
    worker = threading.Thread(target=run_forever, args=(keel, stop), daemon=True)
    worker.start()
    try:
        assert started.wait(10)
        # when events arrive while it runs / then the consumers take them meanwhile
        announce(keel, "a", "b")
        deadline = time.monotonic() + 10
        while effects(keel, "copy") != ["a", "b"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert effects(keel, "copy") == ["a", "b"] and not release.is_set()
    finally:
        release.set()
        stop.set()
        worker.join(15)
    assert not worker.is_alive()


def test_the_worker_runs_what_the_registry_lists(keel: Keel) -> None:
    announce(keel, "a", "b")
    keel.consumers.add(copier(keel, "copy"))
    # one pass drains every registered consumer, the new one included
    run_once(keel)
    assert effects(keel, "copy") == ["a", "b"]
    with keel.db.read() as conn:
        assert keel.events.offset(conn, "copy") == 2


def test_the_backorder_filler_answers_each_burst_of_stock_or_topology_changes_once(keel: Keel) -> None:
    build_world(keel)
    filler = keel.consumers.get("backorders")
    assert filler.step(200) > 0  # the world's locations and channels were set up: one pass
    assert filler.step(200) == 0
    receive(keel, "SKU-1", WH_DE, 5, "r1")
    receive(keel, "SKU-1", WH_DE, 5, "r2")
    # one pass answers both movements, and stores how far it got
    assert filler.step(200) == 2
    assert filler.step(200) == 0
    # a location reopening may free backorders too
    keel.locations.update(WH_DE, {"name": "Berlin DC"})
    assert filler.step(200) == 1
    with keel.db.read() as conn:
        assert keel.events.offset(conn, "backorders") == keel.events.last_seq(conn)


def test_the_registry_spaces_a_consumers_steps_by_its_interval(keel: Keel) -> None:
    registry = ConsumerRegistry()
    registry.add(copier(keel, "copy"), every_s=30.0)
    assert [(e.consumer.name, e.every_s) for e in registry.entries] == [("copy", 30.0)]
    backorders = next(e for e in keel.consumers.entries if e.consumer.name == "backorders")
    assert backorders.every_s == keel.settings.backorder_interval_s
