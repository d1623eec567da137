"""The outbox relay (``keel.platform.bus.Relay``): the event log on a JetStream stream, in order, exactly once
per event, resuming from where the stream really ends; and a JetStream reader that notices what the stream
lacks and reads it from the database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from keel.bootstrap import Keel
from keel.platform.bus import BusConfig, BusError, Relay
from keel.platform.bus.codec import decode
from keel.platform.events import Event, NewEvent
from tests.contract.test_event_source import Harness, drain, effects
from tests.support import open_keel

pytestmark = pytest.mark.nats


@dataclass(frozen=True)
class Stored:
    """A message as the stream holds it."""

    stream_seq: int
    subject: str
    msg_id: str
    event: Event
    prev: int


async def _read_stream(bus: BusConfig) -> list[Stored]:
    nc = await nats.connect(bus.url)
    try:
        js = nc.jetstream()
        total = (await js.stream_info(bus.stream)).state.messages
        # an ephemeral consumer the server keeps through a starved test process's pauses (its default: deleted
        # after 5 s without a fetch, and the next fetch then times out)
        config = ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=300)
        sub = await js.pull_subscribe(bus.wildcard, stream=bus.stream, config=config)
        out: list[Stored] = []
        while len(out) < total:
            for m in await sub.fetch(batch=1000, timeout=30):  # a loaded 2-core CI machine answers late
                relayed = decode(m.data)
                msg_id = (m.headers or {}).get("Nats-Msg-Id", "")
                out.append(Stored(m.metadata.sequence.stream, m.subject, msg_id, relayed.event, relayed.prev))
        await sub.unsubscribe()
        return out
    finally:
        await nc.close()


def read_stream(bus: BusConfig) -> list[Stored]:
    """Every message of the stream, in stream order."""
    return asyncio.run(_read_stream(bus))


def relay(keel: Keel, bus: BusConfig) -> int:
    return asyncio.run(Relay(keel.db, keel.events, bus, batch=7).run(until_caught_up=True))


def all_events(keel: Keel) -> list[Event]:
    with keel.db.read() as conn:
        return keel.events.read(conn, 0, None, 100_000)


def append(keel: Keel, n: int, kind: str = "thing.happened", prefix: str = "s") -> None:
    with keel.db.write() as conn:
        keel.events.append(
            conn, [NewEvent(kind, f"{prefix}{i}", {"i": i, "nested": [i, {"k": "v"}]}) for i in range(n)]
        )


def offset(keel: Keel, bus: BusConfig) -> int:
    with keel.db.read() as conn:
        return keel.events.offset(conn, f"relay:{bus.stream}")


def assert_exactly_the_log(keel: Keel, bus: BusConfig) -> list[Stored]:
    """The stream holds every event of the log once, in sequence order, each naming the one before it."""
    stored, events = read_stream(bus), all_events(keel)
    assert [s.msg_id for s in stored] == [str(e.seq) for e in events]
    assert [s.event for s in stored] == events
    assert [s.prev for s in stored] == [0] + [e.seq for e in events[:-1]]
    assert [s.subject for s in stored] == [bus.subject(e.type) for e in events]
    return stored


def test_the_relay_publishes_every_event_once_in_order_with_its_sequence_as_message_id(
    keel: Keel, bus: BusConfig
) -> None:
    append(keel, 10)
    append(keel, 5, kind="stock.moved")
    with keel.db.write() as conn:
        keel.events.append(conn, [NewEvent("odd type*with>chars", "x", {}, source="shop", idempotency_key="k1")])
    assert relay(keel, bus) == 16
    stored = assert_exactly_the_log(keel, bus)
    assert stored[-1].subject == f"{bus.subjects}.odd_type_with_chars"
    assert offset(keel, bus) == stored[-1].event.seq
    # nothing new: nothing published; new events follow in order
    assert relay(keel, bus) == 0
    append(keel, 3)
    assert relay(keel, bus) == 3
    assert_exactly_the_log(keel, bus)


def test_the_relay_creates_its_stream_with_the_configured_retention(keel: Keel, bus: BusConfig) -> None:
    bus = replace(bus, max_age_s=3600.0, duplicate_window_s=30.0)
    relay(keel, bus)

    async def config() -> tuple[list[str] | None, float | None, float, str, str, str]:
        nc = await nats.connect(bus.url)
        try:
            info = await nc.jetstream().stream_info(bus.stream)
            return (
                info.config.subjects,
                info.config.max_age,
                info.config.duplicate_window,
                str(info.config.storage),
                str(info.config.retention),
                str(info.config.discard),
            )
        finally:
            await nc.close()

    assert asyncio.run(config()) == ([bus.wildcard], 3600.0, 30.0, "file", "limits", "old")


def test_a_crash_between_the_ack_and_the_offset_write_republishes_nothing(keel: Keel, bus: BusConfig) -> None:
    # a duplicate window long gone by the restart: exactness must come from reading where the stream ends
    bus = replace(bus, duplicate_window_s=0.1)
    append(keel, 20)
    relay(keel, bus)
    with keel.db.write() as conn:  # as if the relay died after the acks, before storing its offset
        keel.events.commit_offset(conn, f"relay:{bus.stream}", 4)
    asyncio.run(asyncio.sleep(0.3))
    assert relay(keel, bus) == 0
    assert offset(keel, bus) == all_events(keel)[-1].seq  # corrected from the stream
    append(keel, 2)
    assert relay(keel, bus) == 2
    assert_exactly_the_log(keel, bus)


def test_the_relay_refuses_a_stream_with_a_message_it_did_not_publish(keel: Keel, bus: BusConfig) -> None:
    append(keel, 2)
    relay(keel, bus)

    async def intrude() -> None:
        nc = await nats.connect(bus.url)
        try:
            await nc.jetstream().publish(f"{bus.subjects}.foreign", b"{}")
        finally:
            await nc.close()

    asyncio.run(intrude())
    append(keel, 1)
    with pytest.raises(BusError, match="did not publish"):
        relay(keel, bus)


def test_the_relay_refuses_the_stream_of_another_database(sqlite_keel: Keel, bus: BusConfig, tmp_path: Path) -> None:
    append(sqlite_keel, 5)
    relay(sqlite_keel, bus)
    # the stream named for a database whose log is shorter (another one, or this one restored from a backup)
    other = open_keel(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        append(other, 2)
        with pytest.raises(BusError, match="belongs to another database"):
            relay(other, bus)
    finally:
        other.close()


def test_a_message_missing_from_the_stream_is_read_from_the_database(
    harness_nats: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    keel, bus = harness_nats.keel, harness_nats.bus
    assert bus is not None
    append(keel, 8)
    harness_nats.publish()
    stored = read_stream(bus)

    async def lose(stream_seq: int) -> None:
        nc = await nats.connect(bus.url)
        try:
            await nc.jetstream().delete_msg(bus.stream, stream_seq)
        finally:
            await nc.close()

    asyncio.run(lose(stored[4].stream_seq))  # the fifth event is gone from the stream
    source = harness_nats.open_source()
    assert drain(source, harness_nats.copier(source), limit=3) == 8
    assert effects(keel) == [f"s{i}" for i in range(8)]
    assert f"the stream lacks events {stored[4].event.seq}..{stored[4].event.seq}" in caplog.text


def test_a_long_run_of_other_types_neither_stalls_a_consumer_nor_fills_its_buffer(harness_nats: Harness) -> None:
    keel = harness_nats.keel
    append(keel, 2)
    append(keel, 400, kind="other.thing")  # eight times the feed's buffer of 50
    append(keel, 3, prefix="t")
    harness_nats.publish()
    source = harness_nats.open_source()
    assert drain(source, harness_nats.copier(source), limit=2) == 5
    assert effects(keel) == ["s0", "s1", "t0", "t1", "t2"]


@pytest.fixture
def harness_nats(keel: Keel, bus: BusConfig) -> Iterator[Harness]:
    harness = Harness(keel, "nats", bus)
    yield harness
    for source in harness.opened:
        source.close()


def test_two_relays_racing_on_one_stream_never_double_an_event(keel: Keel, bus: BusConfig) -> None:
    append(keel, 3000)

    async def race() -> list[int]:
        relays = [Relay(keel.db, keel.events, bus, batch=97), Relay(keel.db, keel.events, bus, batch=61)]
        return list(await asyncio.gather(*(r.run(until_caught_up=True) for r in relays)))

    published = asyncio.run(race())
    assert sum(published) >= 3000  # each counts what it got acks for (a duplicate's ack included)
    assert_exactly_the_log(keel, bus)
