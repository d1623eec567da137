"""Contract of the event-source port (``keel.platform.sources.EventSource``): what a consumer reading the
event log may rely on, whichever source hands the events over.

- every event of the consumer's types arrives, in sequence order, and only those;
- delivery is at least once (a failed handler, a restarted process, a second instance get events again) and
  the offset the consumer stores with its effect makes it exactly once;
- a restarted consumer resumes after its stored offset; one further behind than the source remembers (the
  stream is younger than its offset) still gets every event.

Every test takes ``harness``: a ``Keel`` (SQLite and PostgreSQL) and a source kind: ``database`` (the
``events`` table) or ``nats`` (what ``keel relay`` published to a JetStream stream of the test's own). For the
database, ``publish()`` does nothing: a committed event is readable at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy.engine import Connection

from keel.bootstrap import Keel
from keel.platform.bus import BusConfig, JetStreamSource, Relay
from keel.platform.consumers import HandlerConsumer, OffsetMoved
from keel.platform.events import Event, NewEvent
from keel.platform.sources import DatabaseSource, EventSource

WANTED = "thing.happened"


@dataclass
class Harness:
    keel: Keel
    kind: str
    bus: BusConfig | None = None
    opened: list[EventSource] = field(default_factory=list)

    def open_source(self) -> EventSource:
        """The source a (new) consumer process would read from."""
        if self.bus is None:
            source: EventSource = DatabaseSource(self.keel.events)
        else:
            source = JetStreamSource(self.bus, self.keel.events, buffer=50)
        self.opened.append(source)
        return source

    def publish(self) -> None:
        """Make every committed event readable through the source (the relay, for JetStream)."""
        if self.bus is not None:
            asyncio.run(Relay(self.keel.db, self.keel.events, self.bus).run(until_caught_up=True))

    def stream_starts_after(self, seq: int) -> None:
        """The stream (if any) begins after event ``seq``, as one created when the log was already long."""
        if self.bus is not None:
            with self.keel.db.write() as conn:
                self.keel.events.commit_offset(conn, f"relay:{self.bus.stream}", seq)

    def copier(self, source: EventSource, name: str = "copy", fail_on: set[str] | None = None) -> HandlerConsumer:
        """A consumer of ``thing.happened`` whose effect is one ``<name>.saw`` event per event it handled."""

        def handle(conn: Connection, batch: list[Event]) -> None:
            for e in batch:
                self.keel.events.append(conn, [NewEvent(f"{name}.saw", e.subject, {"seq": e.seq})])
                if fail_on and e.subject in fail_on:
                    raise RuntimeError(f"{name} failed on {e.subject}")

        return HandlerConsumer(name, frozenset({WANTED}), handle, self.keel.db, self.keel.events, source)


@pytest.fixture(params=["database", pytest.param("nats", marks=pytest.mark.nats)])
def harness(request: pytest.FixtureRequest, keel: Keel) -> Iterator[Harness]:
    bus = request.getfixturevalue("bus") if request.param == "nats" else None
    harness = Harness(keel, request.param, bus)
    yield harness
    for source in harness.opened:
        source.close()


def announce(keel: Keel, *subjects: str, kind: str = WANTED) -> list[int]:
    with keel.db.write() as conn:
        keel.events.append(conn, [NewEvent(kind, s, {"s": s}) for s in subjects])
    with keel.db.read() as conn:
        return [e.seq for e in keel.events.read(conn, 0, {kind})][-len(subjects) :]


def drain(source: EventSource, consumer: HandlerConsumer, limit: int = 200) -> int:
    """Step until caught up with everything the source holds (what ``keel worker --once`` does)."""
    total = 0
    while True:
        while n := consumer.step(limit):
            total += n
        if not source.settle():
            return total


def effects(keel: Keel, name: str = "copy") -> list[str]:
    with keel.db.read() as conn:
        return [e.subject for e in keel.events.read(conn, 0, {f"{name}.saw"})]


def offset(keel: Keel, name: str = "copy") -> int:
    with keel.db.read() as conn:
        return keel.events.offset(conn, name)


def test_events_of_its_types_arrive_once_each_in_sequence_order(harness: Harness) -> None:
    keel = harness.keel
    announce(keel, "a", "b")
    announce(keel, "x1", "x2", kind="other.thing")
    last = announce(keel, "c", "d", "e")[-1]
    harness.publish()
    source = harness.open_source()
    consumer = harness.copier(source)
    assert drain(source, consumer, limit=2) == 5
    assert effects(keel) == ["a", "b", "c", "d", "e"]
    assert offset(keel) == last
    # what arrives later follows, once
    announce(keel, "f")
    harness.publish()
    assert drain(source, consumer) == 1
    assert effects(keel) == ["a", "b", "c", "d", "e", "f"]


def test_a_batch_is_at_most_the_limit_and_continues_where_it_stopped(harness: Harness) -> None:
    keel = harness.keel
    seqs = announce(keel, *"abcde")
    harness.publish()
    source = harness.open_source()
    consumer = harness.copier(source)
    with keel.db.read() as conn:
        source.read(conn, "copy", 0, {WANTED}, 2)  # a first read positions a JetStream feed...
    source.settle()  # ...which then fetches in the background
    with keel.db.read() as conn:
        first = source.read(conn, "copy", 0, {WANTED}, 2)
        assert [e.seq for e in first] == seqs[:2]
        assert [e.seq for e in source.read(conn, "copy", seqs[1], {WANTED}, 10)] == seqs[2:]
        assert [(e.type, e.subject, e.data) for e in first] == [(WANTED, "a", {"s": "a"}), (WANTED, "b", {"s": "b"})]
    assert drain(source, consumer) == 5


def test_a_failed_handler_gets_the_same_events_again_and_applies_them_once(harness: Harness) -> None:
    keel = harness.keel
    announce(keel, "a", "b", "c")
    harness.publish()
    source = harness.open_source()
    fail_on = {"b"}
    consumer = harness.copier(source, fail_on=fail_on)
    source.settle()
    with pytest.raises(RuntimeError, match="copy failed on b"):
        drain(source, consumer)
    assert (effects(keel), offset(keel)) == ([], 0)
    fail_on.clear()
    assert drain(source, consumer) == 3
    assert effects(keel) == ["a", "b", "c"]


def test_a_second_instance_handed_the_same_events_applies_none_twice(harness: Harness) -> None:
    keel = harness.keel
    announce(keel, *"abcdef")
    harness.publish()
    one, two = harness.open_source(), harness.open_source()
    first, second = harness.copier(one), harness.copier(two)
    # both sources hold the events; the second instance applies one, then the first catches up
    while not second.step(1):
        two.settle()
    assert drain(one, first) == 5
    # the second instance's source still holds b..f: its stored offset says they are applied
    assert drain(two, second) == 0
    assert effects(keel) == list("abcdef")
    # the same offset read by both: only one may move it (compare-and-set)
    announce(keel, "g")
    harness.publish()
    one.settle(), two.settle()
    with keel.db.write() as conn:
        start = keel.events.offset(conn, "copy")
        batch = one.read(conn, "copy", start, {WANTED}, 10)
        assert keel.events.advance_offset(conn, "copy", start, batch[-1].seq)
    with pytest.raises(OffsetMoved), keel.db.write() as conn:
        batch = two.read(conn, "copy", start, {WANTED}, 10)
        harness.copier(two).handle(conn, batch)
        if not keel.events.advance_offset(conn, "copy", start, batch[-1].seq):
            raise OffsetMoved("copy")
    assert effects(keel) == list("abcdef")


def test_a_restarted_consumer_resumes_after_its_stored_offset(harness: Harness) -> None:
    keel = harness.keel
    announce(keel, *"abcd")
    harness.publish()
    source = harness.open_source()
    consumer = harness.copier(source)
    while not consumer.step(3):
        source.settle()
    source.close()  # the process stops
    announce(keel, "e", "f")
    harness.publish()
    restarted = harness.open_source()
    assert drain(restarted, harness.copier(restarted)) == 3
    assert effects(keel) == list("abcdef")


def test_a_consumer_behind_what_the_source_holds_still_gets_every_event(harness: Harness) -> None:
    keel = harness.keel
    early = announce(keel, "a", "b")
    announce(keel, "z", kind="other.thing")
    harness.stream_starts_after(early[-1] + 1)  # the stream was created after a, b and z
    announce(keel, "c", "d")
    harness.publish()
    source = harness.open_source()
    assert drain(source, harness.copier(source), limit=1) == 4
    assert effects(keel) == list("abcd")


def test_a_consumer_whose_offset_is_ahead_gets_only_what_follows(harness: Harness) -> None:
    keel = harness.keel
    seqs = announce(keel, *"abc")
    with keel.db.write() as conn:
        keel.events.commit_offset(conn, "copy", seqs[1])
    announce(keel, "d")
    harness.publish()
    source = harness.open_source()
    assert drain(source, harness.copier(source)) == 2
    assert effects(keel) == ["c", "d"]


def test_backlog_counts_what_a_pass_would_answer(harness: Harness) -> None:
    keel = harness.keel
    wanted = announce(keel, "a", "b")
    last = announce(keel, "x", kind="other.thing")[-1]
    harness.publish()
    source = harness.open_source()
    with keel.db.read() as conn:
        source.backlog(conn, "pass", 0, {WANTED})  # positions the source
    source.settle()
    with keel.db.read() as conn:
        pending, upto = source.backlog(conn, "pass", 0, {WANTED})
    # a pass answers both; the offset may move to the last of them or past other types up to the log's end
    assert pending == 2 and wanted[-1] <= upto <= last
    with keel.db.write() as conn:
        keel.events.commit_offset(conn, "pass", last)
    source.consumed("pass", last)
    with keel.db.read() as conn:
        assert source.backlog(conn, "pass", last, {WANTED})[0] == 0
