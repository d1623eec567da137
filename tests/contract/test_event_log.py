"""Contract of the event-log port (``keel.platform.events.EventLog``): idempotent appends, ordered reads,
consumer offsets, freshness per source.

Every test takes ``backend``: a transaction source and an ``EventLog``. The log lives in the database
(``SqlEventLog``, on SQLite and on PostgreSQL) whatever else is configured: NATS JetStream only carries it to
consumers, through the ``EventSource`` port, whose contract is ``test_event_source.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from keel.bootstrap import Keel
from keel.platform.db import Database
from keel.platform.events import EventLog, NewEvent


@dataclass(frozen=True)
class Backend:
    db: Database
    events: EventLog


@pytest.fixture
def backend(keel: Keel) -> Backend:
    """The log under test on a fresh database (``keel`` is parametrised over SQLite and PostgreSQL)."""
    return Backend(keel.db, keel.events)


def append(backend: Backend, *events: NewEvent) -> int:
    with backend.db.write() as conn:
        return backend.events.append(conn, list(events))


def test_append_assigns_increasing_seq_and_reads_back_in_order(backend: Backend) -> None:
    assert append(backend, NewEvent("a.happened", "s1", {"n": 1}), NewEvent("b.happened", "s2", {"n": [2]})) == 2
    assert append(backend, NewEvent("a.happened", "s3", {})) == 1
    with backend.db.read() as conn:
        events = backend.events.read(conn, 0)
        assert [(e.seq, e.type, e.subject, e.data) for e in events] == [
            (1, "a.happened", "s1", {"n": 1}),
            (2, "b.happened", "s2", {"n": [2]}),
            (3, "a.happened", "s3", {}),
        ]
        assert events[0].source == "keel"
        assert events[0].occurred_at == events[0].recorded_at
        assert [e.seq for e in backend.events.read(conn, 1, {"a.happened"})] == [3]
        assert [e.seq for e in backend.events.read(conn, 0, limit=2)] == [1, 2]
        assert backend.events.last_seq(conn) == 3


def test_a_repeated_idempotency_key_is_acknowledged_and_ignored(backend: Backend) -> None:
    first = NewEvent("order.placed", "o-1", {"total": 10}, source="shop", idempotency_key="shop:o-1")
    assert append(backend, first) == 1
    # when the source re-sends it (even with other data) alongside a new event
    resent = NewEvent("order.placed", "o-1", {"total": 99}, source="shop", idempotency_key="shop:o-1")
    assert append(backend, resent, NewEvent("order.placed", "o-2", {}, idempotency_key="shop:o-2")) == 1
    # then the log keeps the first copy only
    with backend.db.read() as conn:
        events = backend.events.read(conn, 0)
    assert [(e.subject, e.data, e.idempotency_key) for e in events] == [
        ("o-1", {"total": 10}, "shop:o-1"),
        ("o-2", {}, "shop:o-2"),
    ]


def test_events_without_a_key_are_never_deduplicated(backend: Backend) -> None:
    assert append(backend, NewEvent("x", "s", {}), NewEvent("x", "s", {})) == 2
    assert append(backend) == 0


def test_an_append_in_a_failed_transaction_leaves_no_event(backend: Backend) -> None:
    with pytest.raises(RuntimeError), backend.db.write() as conn:
        backend.events.append(conn, [NewEvent("x", "s", {})])
        raise RuntimeError("the state change failed")
    with backend.db.read() as conn:
        assert backend.events.read(conn, 0) == []


def test_consumer_offsets_commit_with_the_consumers_transaction(backend: Backend) -> None:
    with backend.db.write() as conn:
        assert backend.events.offset(conn, "sync") == 0
        backend.events.commit_offset(conn, "sync", 5)
    with backend.db.write() as conn:
        backend.events.commit_offset(conn, "sync", 9)
        backend.events.commit_offset(conn, "other", 2)
    # an effect that fails rolls its offset back with it
    with pytest.raises(RuntimeError), backend.db.write() as conn:
        backend.events.commit_offset(conn, "sync", 12)
        raise RuntimeError("effect failed")
    with backend.db.read() as conn:
        assert (backend.events.offset(conn, "sync"), backend.events.offset(conn, "other")) == (9, 2)


def test_freshness_is_the_last_occurred_at_per_source(backend: Backend) -> None:
    at = [datetime(2026, 5, d, 12, 30, 15, tzinfo=UTC) for d in (1, 2, 3)]
    append(
        backend,
        NewEvent("stock.counted", "a", {}, source="wms", occurred_at=at[1]),
        NewEvent("stock.counted", "b", {}, source="wms", occurred_at=at[0]),
        NewEvent("order.placed", "c", {}, source="shop", occurred_at=at[2]),
    )
    with backend.db.read() as conn:
        assert backend.events.freshness(conn) == {"wms": at[1], "shop": at[2]}


def test_freshness_of_an_empty_log(backend: Backend) -> None:
    with backend.db.read() as conn:
        assert backend.events.freshness(conn) == {}


def test_advance_offset_is_a_compare_and_set(backend: Backend) -> None:
    with backend.db.write() as conn:
        assert backend.events.advance_offset(conn, "sync", 0, 4) is True
        # a second instance that also started from 0 loses
        assert backend.events.advance_offset(conn, "sync", 0, 6) is False
        assert backend.events.advance_offset(conn, "sync", 4, 7) is True
        assert backend.events.advance_offset(conn, "sync", 4, 9) is False
    with backend.db.read() as conn:
        assert backend.events.offset(conn, "sync") == 7


def test_pending_and_last_seq_count_by_type_after_the_offset(backend: Backend) -> None:
    append(backend, NewEvent("a", "s", {}), NewEvent("b", "s", {}), NewEvent("a", "s", {}), NewEvent("c", "s", {}))
    with backend.db.write() as conn:
        backend.events.commit_offset(conn, "reader", 1)
    with backend.db.read() as conn:
        assert backend.events.pending(conn, "reader", {"a"}) == 1
        assert backend.events.pending(conn, "reader", {"a", "b"}) == 2
        assert backend.events.pending(conn, "nobody", {"a", "b", "c"}) == 4
        assert (backend.events.last_seq(conn, "a"), backend.events.last_seq(conn, "b")) == (3, 2)
        assert backend.events.last_seq(conn, "missing") == 0


def test_events_carry_the_actor_and_are_found_by_request(backend: Backend) -> None:
    from keel.platform.actor import Actor, acting_as

    append(backend, NewEvent("a", "outside", {}))
    with acting_as(Actor("u-1", "Ada", "api", "10.0.0.1", "req-1")):
        append(backend, NewEvent("a", "s1", {}), NewEvent("b", "s2", {}))
    with acting_as(Actor("u-2", "Bo", "cli", None, "req-2")):
        append(backend, NewEvent("a", "s3", {}))
    with backend.db.read() as conn:
        found = backend.events.of_request(conn, "req-1")
        assert [(e.subject, e.actor, e.via, e.request_id) for e in found] == [
            ("s1", "u-1", "api", "req-1"),
            ("s2", "u-1", "api", "req-1"),
        ]
        assert [e.subject for e in backend.events.of_request(conn, "req-1", limit=1)] == ["s1"]
        assert backend.events.of_request(conn, "nobody") == []
        first = backend.events.read(conn, 0, limit=1)[0]
    assert (first.actor, first.via, first.request_id) == ("system", "system", None)


def test_prune_deletes_the_named_actors_events_consumed_by_everyone_and_keeps_the_newest(backend: Backend) -> None:
    from keel.platform.actor import Actor, acting_as

    with acting_as(Actor("twin", "retail twin", "automation")):
        append(backend, NewEvent("stock.moved", "m1", {}), NewEvent("stock.moved", "m2", {}))
    append(backend, NewEvent("order.captured", "o1", {}))  # a person's (the default actor): kept
    with acting_as(Actor("twin", "retail twin", "automation")):
        append(backend, NewEvent("stock.moved", "m3", {}), NewEvent("stock.moved", "m4", {}))
    with backend.db.write() as conn:
        backend.events.commit_offset(conn, "a", 4)
        backend.events.commit_offset(conn, "b", 5)
        assert backend.events.consumed_by_all(conn, ["a", "b"]) == 4
        assert backend.events.consumed_by_all(conn, ["a", "never-ran"]) == 0
        assert backend.events.consumed_by_all(conn, []) == 0
        assert backend.events.prune(conn, backend.events.consumed_by_all(conn, ["a", "b"]), ["twin"]) == 3
    with backend.db.write() as conn:
        assert [e.subject for e in backend.events.read(conn, 0)] == ["o1", "m4"]
        # everything consumed: all of the twin's go but the newest, which keeps the numbering going
        assert backend.events.prune(conn, 99, ["twin"]) == 0
        assert backend.events.prune(conn, 99, []) == 0
    assert append(backend, NewEvent("stock.moved", "m5", {})) == 1
    with backend.db.read() as conn:
        assert [(e.seq, e.subject) for e in backend.events.read(conn, 0)] == [(3, "o1"), (5, "m4"), (6, "m5")]
