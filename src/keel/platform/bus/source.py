"""Consumers reading the event log from JetStream (``event_source = "nats"``): the ``EventSource`` a worker on
another machine uses.

Each consumer of a process gets its own pull consumer on the stream (ephemeral: the position lives in the
database, so nothing is kept server-side), created at the first stream message after the consumer's stored
offset. A pump task fetches into a bounded buffer in the background, so ``read`` never waits on the network
inside the consumer's transaction; the consumer commits its offset with its effect and the buffer lets go
of what it committed (acknowledging with AckAll, which JetStream uses for flow control only).

The buffer is checked as it fills: every message names the event published before it (``prev``), so a
message missing from the stream is seen as a hole. Events the stream does not hold (a hole, a consumer
further behind than the stream's retention, or older than the stream itself) are read from the database,
which stays the source of truth; so is ``conn``'s view of it: an event the consumer's transaction cannot
see yet is not handed over. A feed whose fetches fail (its consumer deleted, the connection lost for long)
is rebuilt from the stored offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Coroutine, Sequence, Set
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.engine import Connection

from keel.platform.bus.codec import BusConfig, BusError, Relayed, decode
from keel.platform.bus.stream import connect, start_after, stream_info
from keel.platform.events import Event, EventLog

logger = logging.getLogger("keel.bus")
T = TypeVar("T")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")


@dataclass
class _Held:
    event: Event
    reply: str | None  # the message's ack subject


@dataclass
class _Hole:
    """Events in (after, upto] are not on the stream (deleted, aged out, a tail the stream lost): the
    database has them."""

    after: int
    upto: int


@dataclass
class _Feed:
    """One consumer's window on the stream. ``cond`` guards the state: the pump fills it from the event loop's
    thread, the worker reads it from its own."""

    consumer: str
    cond: threading.Condition = field(default_factory=threading.Condition)
    held: deque[_Held | _Hole] = field(default_factory=deque)
    floor: int | None = None  # nothing up to here is held; every event above is held, a hole or to come
    last: int | None = None  # the event the last message received carried
    stream_seq: int = 0  # the stream sequence of the last message received
    broken: bool = True  # to be (re)positioned from the stored offset before the next read
    received: int = 0
    sub: JetStreamContext.PullSubscription | None = None
    nats_name: str | None = None
    pump: asyncio.Task[None] | None = None

    def receive(self, items: Sequence[tuple[Relayed, str | None]], stream_seq: int) -> None:
        """Append a fetched batch in order; a message that does not follow the last one opens a hole."""
        with self.cond:
            for relayed, reply in items:
                event = relayed.event
                if self.last is not None and event.seq <= self.last:
                    continue  # redelivered: held already or consumed
                if self.last is None:
                    self.floor = self.last = relayed.prev  # the first message of a stream that was empty
                if relayed.prev != self.last:
                    logger.warning("%s: the stream lacks events %s..%s", self.consumer, self.last + 1, event.seq - 1)
                    self.held.append(_Hole(self.last, event.seq - 1))
                self.held.append(_Held(event, reply))
                self.last = event.seq
                self.received += 1
            self.stream_seq = max(self.stream_seq, stream_seq)
            self.cond.notify_all()

    def drop_through(self, upto: int) -> str | None:
        """Let go of everything up to ``upto`` (caller holds ``cond``); the last event's ack subject. The floor
        rises past it: a reader whose offset moves back below it reads those events from the database."""
        reply = None
        while self.held:
            item = self.held[0]
            end = item.upto if isinstance(item, _Hole) else item.event.seq
            if end > upto:
                if isinstance(item, _Hole):
                    item.after = max(item.after, upto)
                break
            self.held.popleft()
            self.floor = max(self.floor or 0, end)
            if isinstance(item, _Held):
                reply = item.reply
        return reply

    def drop_unwanted(self, types: Set[str]) -> str | None:
        """Let go of the events of other types ahead of the first wanted one (or hole): the offset never
        covers them."""
        reply = None
        while self.held:
            item = self.held[0]
            if not isinstance(item, _Held) or item.event.type in types:
                break
            self.held.popleft()
            reply = item.reply
        return reply

    def next_batch(self, types: Set[str], limit: int, visible: int) -> tuple[list[Event], _Hole | None]:
        """Wanted events from the front, up to ``limit``, none past ``visible`` nor past a hole; or the hole at
        the front."""
        batch: list[Event] = []
        for item in self.held:
            if isinstance(item, _Hole):
                return batch, None if batch else _Hole(item.after, item.upto)
            if item.event.seq > visible or len(batch) == limit:
                break
            if item.event.type in types:
                batch.append(item.event)
        return batch, None


class JetStreamSource:
    """The event log as ``keel relay`` published it to ``bus``; see the module docstring."""

    kind = "nats"

    def __init__(self, bus: BusConfig, events: EventLog, *, buffer: int = 20_000, timeout_s: float = 10.0) -> None:
        self.bus = bus
        self.events = events
        self.buffer = buffer
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._feeds: dict[str, _Feed] = {}
        self._seen: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._nc: Client | None = None

    # -- the EventSource port ---------------------------------------------------------------------------
    def read(self, conn: Connection, consumer: str, after: int, types: Set[str], limit: int) -> list[Event]:
        feed = self._feed(consumer, after)
        visible = self.events.last_seq(conn)
        cursor = after  # no wanted event in (after, cursor] is left to hand over
        batch: list[Event]
        hole: _Hole | None
        while True:
            with feed.cond:
                if feed.floor is None:
                    return []
                if cursor < feed.floor:
                    reply, batch, hole = None, [], _Hole(cursor, feed.floor)
                else:
                    reply = _last(feed.drop_through(cursor), feed.drop_unwanted(types))
                    batch, hole = feed.next_batch(types, limit, visible)
            self._ack(reply)
            if hole is None:
                return batch
            if visible < hole.upto:
                return []  # ``conn`` sees the database as it was before the end of the hole: later
            gap = [e for e in self.events.read(conn, hole.after, set(types), limit) if e.seq <= hole.upto]
            if gap:
                return gap
            cursor = hole.upto

    def backlog(self, conn: Connection, consumer: str, after: int, types: Set[str]) -> tuple[int, int]:
        batch = self.read(conn, consumer, after, types, 10_000)
        return len(batch), (batch[-1].seq if batch else after)

    def consumed(self, consumer: str, upto: int) -> None:
        feed = self._feeds.get(consumer)
        if feed is None:
            return
        with feed.cond:
            reply = feed.drop_through(upto)
        self._ack(reply)

    def settle(self, timeout_s: float = 5.0) -> bool:
        """Wait until every feed has fetched what the stream held when called; True when any fetched
        something since the last call (or must be repositioned)."""
        feeds = list(self._feeds.values())
        if not feeds:
            return False
        target = self._call(stream_info(self._js(), self.bus)).state.last_seq
        deadline = time.monotonic() + timeout_s
        changed = False
        for feed in feeds:
            with feed.cond:
                feed.cond.wait_for(partial(self._fetched, feed, target), max(deadline - time.monotonic(), 0))
                changed = changed or feed.broken or feed.received != self._seen.get(feed.consumer, 0)
                self._seen[feed.consumer] = feed.received
        return changed

    def _fetched(self, feed: _Feed, stream_seq: int) -> bool:
        return feed.broken or feed.stream_seq >= stream_seq or len(feed.held) >= self.buffer

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._call(self._shutdown(), timeout_s=5.0)
        except Exception:  # closing must not fail a process on its way out
            logger.warning("closing the JetStream source failed", exc_info=True)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            self._loop = self._thread = self._nc = None
            self._feeds.clear()

    # -- connection and feeds ---------------------------------------------------------------------------
    def connect(self) -> None:
        """Start the event loop thread and connect (``BusError`` when NATS is unreachable); idempotent."""
        with self._lock:
            if self._loop is not None:
                return
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="keel-jetstream", daemon=True)
            thread.start()
            try:
                # connect() gives up by itself after a few tries; the wait only guards against a hang
                self._nc = asyncio.run_coroutine_threadsafe(connect(self.bus, "keel-worker"), loop).result(60)
            except BaseException as exc:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=5)
                if isinstance(exc, TimeoutError):
                    raise BusError(f"cannot reach NATS at {self.bus.url}: no answer") from exc
                raise
            self._loop, self._thread = loop, thread

    def _js(self) -> JetStreamContext:
        self.connect()
        assert self._nc is not None
        return self._nc.jetstream()

    def _call(self, coro: Coroutine[Any, Any, T], timeout_s: float | None = None) -> T:
        self.connect()
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s or self.timeout_s)

    def _feed(self, consumer: str, after: int) -> _Feed:
        """The consumer's feed, positioned after ``after`` when new or broken (a few round trips, rare)."""
        with self._lock:
            feed = self._feeds.get(consumer)
            if feed is None:
                feed = self._feeds[consumer] = _Feed(consumer)
        if feed.broken:
            self._call(self._position(feed, after))
        return feed

    async def _position(self, feed: _Feed, after: int) -> None:
        await self._release(feed)
        js = self._js()
        start, floor = await start_after(js, self.bus, after)
        assert self._nc is not None
        name = f"keel-{_NAME_CHARS.sub('_', feed.consumer)}-{self._nc._nuid.next().decode()}"
        config = ConsumerConfig(
            name=name,
            description=f"Keel consumer {feed.consumer} (position kept in the database)",
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=AckPolicy.ALL,
            ack_wait=300,
            max_ack_pending=self.buffer,
            filter_subject=self.bus.wildcard,
            inactive_threshold=300,
        )
        await js.add_consumer(self.bus.stream, config)
        sub = await js.pull_subscribe_bind(consumer=name, stream=self.bus.stream)
        with feed.cond:
            feed.held.clear()
            feed.floor = feed.last = floor
            feed.stream_seq = start - 1
            feed.broken = False
        feed.sub, feed.nats_name = sub, name
        feed.pump = asyncio.get_running_loop().create_task(self._pump(feed, sub))
        logger.info("%s reads %s from stream sequence %s, after event %s", feed.consumer, self.bus.stream, start, after)

    async def _pump(self, feed: _Feed, sub: JetStreamContext.PullSubscription) -> None:
        while True:
            room = self.buffer - len(feed.held)
            if room <= 0:
                await asyncio.sleep(0.005)
                continue
            try:
                msgs = await sub.fetch(batch=min(room, 1000), timeout=1.0)
                items = [(decode(m.data), m.reply) for m in msgs]
            except TimeoutError:
                continue
            except (NatsError, BusError) as exc:
                logger.warning("%s: fetching from %s failed (%s); repositioning", feed.consumer, self.bus.stream, exc)
                with feed.cond:
                    feed.broken = True
                    feed.cond.notify_all()
                return
            feed.receive(items, msgs[-1].metadata.sequence.stream if msgs else 0)

    async def _release(self, feed: _Feed) -> None:
        pump, sub, name = feed.pump, feed.sub, feed.nats_name
        feed.pump = feed.sub = feed.nats_name = None
        if pump is not None and pump is not asyncio.current_task():
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        if name is not None:
            with contextlib.suppress(Exception):
                await self._js().delete_consumer(self.bus.stream, name)

    async def _shutdown(self) -> None:
        for feed in list(self._feeds.values()):
            await self._release(feed)
        if self._nc is not None:
            await self._nc.close()

    def _ack(self, reply: str | None) -> None:
        """Acknowledge up to the message ``reply`` belongs to (AckAll): flow control only."""
        loop, nc = self._loop, self._nc
        if reply is None or loop is None or nc is None:
            return
        loop.call_soon_threadsafe(lambda: loop.create_task(nc.publish(reply, b"+ACK")))


def _last(*replies: str | None) -> str | None:
    """The latest of the ack subjects (AckAll acknowledges everything up to it)."""
    found = None
    for reply in replies:
        found = reply or found
    return found
