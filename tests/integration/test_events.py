"""The event log (SqlEventLog): idempotent appends, ordered reads, consumer offsets, freshness per source."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from keel.bootstrap import Keel
from keel.platform.events import NewEvent


def append(keel: Keel, *events: NewEvent) -> int:
    with keel.db.write() as conn:
        return keel.events.append(conn, list(events))


def test_append_assigns_increasing_seq_and_reads_back_in_order(keel: Keel) -> None:
    assert append(keel, NewEvent("a.happened", "s1", {"n": 1}), NewEvent("b.happened", "s2", {"n": [2]})) == 2
    assert append(keel, NewEvent("a.happened", "s3", {})) == 1
    with keel.db.read() as conn:
        events = keel.events.read(conn, 0)
        assert [(e.seq, e.type, e.subject, e.data) for e in events] == [
            (1, "a.happened", "s1", {"n": 1}),
            (2, "b.happened", "s2", {"n": [2]}),
            (3, "a.happened", "s3", {}),
        ]
        assert events[0].source == "keel"
        assert events[0].occurred_at == events[0].recorded_at
        assert [e.seq for e in keel.events.read(conn, 1, {"a.happened"})] == [3]
        assert [e.seq for e in keel.events.read(conn, 0, limit=2)] == [1, 2]
        assert keel.events.last_seq(conn) == 3


def test_a_repeated_idempotency_key_is_acknowledged_and_ignored(keel: Keel) -> None:
    first = NewEvent("order.placed", "o-1", {"total": 10}, source="shop", idempotency_key="shop:o-1")
    assert append(keel, first) == 1
    # when the source re-sends it (even with other data) alongside a new event
    resent = NewEvent("order.placed", "o-1", {"total": 99}, source="shop", idempotency_key="shop:o-1")
    assert append(keel, resent, NewEvent("order.placed", "o-2", {}, idempotency_key="shop:o-2")) == 1
    # then the log keeps the first copy only
    with keel.db.read() as conn:
        events = keel.events.read(conn, 0)
    assert [(e.subject, e.data, e.idempotency_key) for e in events] == [
        ("o-1", {"total": 10}, "shop:o-1"),
        ("o-2", {}, "shop:o-2"),
    ]


def test_events_without_a_key_are_never_deduplicated(keel: Keel) -> None:
    assert append(keel, NewEvent("x", "s", {}), NewEvent("x", "s", {})) == 2
    assert append(keel) == 0


def test_an_append_in_a_failed_transaction_leaves_no_event(keel: Keel) -> None:
    with pytest.raises(RuntimeError), keel.db.write() as conn:
        keel.events.append(conn, [NewEvent("x", "s", {})])
        raise RuntimeError("the state change failed")
    with keel.db.read() as conn:
        assert keel.events.read(conn, 0) == []


def test_consumer_offsets_commit_with_the_consumers_transaction(keel: Keel) -> None:
    with keel.db.write() as conn:
        assert keel.events.offset(conn, "sync") == 0
        keel.events.commit_offset(conn, "sync", 5)
    with keel.db.write() as conn:
        keel.events.commit_offset(conn, "sync", 9)
        keel.events.commit_offset(conn, "other", 2)
    # an effect that fails rolls its offset back with it
    with pytest.raises(RuntimeError), keel.db.write() as conn:
        keel.events.commit_offset(conn, "sync", 12)
        raise RuntimeError("effect failed")
    with keel.db.read() as conn:
        assert (keel.events.offset(conn, "sync"), keel.events.offset(conn, "other")) == (9, 2)


def test_freshness_is_the_last_occurred_at_per_source(keel: Keel) -> None:
    at = [datetime(2026, 5, d, 12, 30, 15, tzinfo=UTC) for d in (1, 2, 3)]
    append(
        keel,
        NewEvent("stock.counted", "a", {}, source="wms", occurred_at=at[1]),
        NewEvent("stock.counted", "b", {}, source="wms", occurred_at=at[0]),
        NewEvent("order.placed", "c", {}, source="shop", occurred_at=at[2]),
    )
    with keel.db.read() as conn:
        assert keel.events.freshness(conn) == {"wms": at[1], "shop": at[2]}


def test_freshness_of_an_empty_log(keel: Keel) -> None:
    with keel.db.read() as conn:
        assert keel.events.freshness(conn) == {}
