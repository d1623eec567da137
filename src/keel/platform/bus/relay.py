"""The outbox relay: publishes the database's event log to the JetStream stream, in order, exactly once per
event, whatever point it is killed at.

- Every message carries ``Nats-Msg-Id`` = the event's sequence: JetStream drops a second copy that arrives
  inside the stream's duplicate window.
- Every message carries ``Nats-Expected-Last-Sequence`` = the stream sequence the message before it got:
  the server refuses a message that would land after a gap or out of order, so a pipelined batch is stored
  as a prefix of itself, in order, and never with a hole.
- The relay's offset (``consumer_offsets`` row ``relay:<stream>``) moves only after the acks of what it
  published.
- On start, and after any refused or unanswered publish, it reads where the stream really ends (the last
  stored message's ``Nats-Msg-Id``) and resumes after that, not after its offset: a crash between an ack and
  the offset write republishes nothing, even once the duplicate window has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import Error as JetStreamError

from keel.platform.bus.codec import EXPECTED_LAST_SEQ, MSG_ID, BusConfig, BusError, encode
from keel.platform.bus.stream import connect, ensure_stream, last_relayed
from keel.platform.db import Database
from keel.platform.events import Event, EventLog

logger = logging.getLogger("keel.relay")


@dataclass(frozen=True)
class RelayProgress:
    """What the relay reports while it runs (``keel relay`` prints it to stderr)."""

    published: int  # events this run published
    upto: int  # the last event sequence the stream holds
    stream_seq: int  # the stream's last sequence
    behind: int  # events in the database the stream does not hold yet
    per_s: float  # events published per second since the last report


class Relay:
    """Publishes every event of ``events`` (on ``db``) to ``bus``; one relay per stream is enough (a second
    one is refused message by message and only wastes work, it never doubles an event)."""

    def __init__(
        self,
        db: Database,
        events: EventLog,
        bus: BusConfig,
        *,
        batch: int = 1000,
        poll_s: float = 0.05,
        ack_timeout_s: float = 10.0,
        report: Callable[[RelayProgress], None] | None = None,
        report_every_s: float = 2.0,
    ) -> None:
        self.db = db
        self.events = events
        self.bus = bus
        self.batch = batch
        self.poll_s = poll_s
        self.ack_timeout_s = ack_timeout_s
        self.report = report
        self.report_every_s = report_every_s

    @property
    def name(self) -> str:
        """Its row in ``consumer_offsets``."""
        return f"relay:{self.bus.stream}"

    async def run(self, stop: asyncio.Event | None = None, *, until_caught_up: bool = False) -> int:
        """Publish until ``stop`` is set (the batch in flight is finished and its offset stored first), or,
        with ``until_caught_up``, until the log holds nothing unpublished. Returns events published."""
        nc = await connect(self.bus, "keel-relay")
        try:
            js = nc.jetstream()
            await ensure_stream(js, self.bus)
            published, reported, at = 0, 0, time.monotonic()
            position: tuple[int, int] | None = None  # (cursor, the stream's last sequence) once known
            while stop is None or not stop.is_set():
                try:
                    if position is None:
                        position = await self._resume(js)
                        logger.info("relay resumes after event %s (stream at %s)", *position)
                    cursor, stream_last = position
                    batch = self._read(cursor)
                    if batch:
                        done, cursor, stream_last = await self._publish(js, batch, cursor, stream_last)
                        published += done
                        position = cursor, stream_last
                except (NatsError, JetStreamError, TimeoutError) as exc:
                    # NATS away (restarting, unreachable): the client reconnects; resume from the stream's end.
                    logger.warning("NATS unavailable (%s); retrying", exc or type(exc).__name__)
                    position = None
                    await _pause(stop, 1.0)
                    continue
                now = time.monotonic()
                if self.report and (now - at >= self.report_every_s or (not batch and published > reported)):
                    per_s = (published - reported) / max(now - at, 1e-9)
                    self.report(RelayProgress(published, cursor, stream_last, self._behind(cursor), per_s))
                    reported, at = published, now
                if not batch:
                    if until_caught_up:
                        break
                    await _pause(stop, self.poll_s)
            return published
        finally:
            await nc.close()

    def _read(self, cursor: int) -> list[Event]:
        with self.db.read() as conn:
            return self.events.read(conn, cursor, None, self.batch)

    def _behind(self, cursor: int) -> int:
        with self.db.read() as conn:
            return max(self.events.last_seq(conn) - cursor, 0)

    async def _resume(self, js: JetStreamContext) -> tuple[int, int]:
        """(the last event the stream holds, the stream's last sequence); the stored offset is corrected to it."""
        with self.db.read() as conn:
            stored = self.events.offset(conn, self.name)
            newest = self.events.last_seq(conn)
        stream_last, relayed = await last_relayed(js, self.bus)
        if relayed is not None and relayed > newest:
            raise BusError(
                f"stream {self.bus.stream} holds event {relayed} but this database's log ends at {newest}: the "
                "stream belongs to another database (or this one was restored from a backup); use a new stream"
            )
        if relayed is None:
            cursor = stored
            if stored:
                logger.warning(
                    "stream %s holds no event: publishing after event %s; readers take older events from the database",
                    self.bus.stream,
                    stored,
                )
        elif relayed < stored:
            # The stream lost its tail (purged, recreated): never publish out of order, carry on after the
            # offset; the ``prev`` of the next message shows readers the gap, which they read from the database.
            logger.warning("stream %s ends at event %s, before the relay's offset %s", self.bus.stream, relayed, stored)
            cursor = stored
        else:
            cursor = relayed  # at or past the offset: a crash after the ack, before the offset write
        if cursor != stored:
            with self.db.write() as conn:
                self.events.commit_offset(conn, self.name, cursor)
        return cursor, stream_last

    async def _publish(
        self, js: JetStreamContext, batch: list[Event], cursor: int, stream_last: int
    ) -> tuple[int, int, int]:
        """Publish ``batch`` pipelined; store the offset of the acknowledged prefix. Returns (events published,
        the new cursor, the stream's last sequence)."""
        futures: list[asyncio.Future[PubAck]] = []
        failure: BaseException | None = None
        prev, expected = cursor, stream_last
        try:
            for event in batch:
                headers = {MSG_ID: str(event.seq), EXPECTED_LAST_SEQ: str(expected)}
                future = await js.publish_async(self.bus.subject(event.type), encode(event, prev), headers=headers)
                futures.append(future)
                prev, expected = event.seq, expected + 1
        except (NatsError, JetStreamError, OSError) as exc:
            failure = exc
        acked, acked_stream, done = cursor, stream_last, 0
        if futures:
            # one wait for the whole batch; then the acks are read in publishing order
            await asyncio.wait(futures, timeout=self.ack_timeout_s)
        refused: BaseException | None = None
        for event, future in zip(batch, futures, strict=False):
            if not future.done():
                refused = refused or TimeoutError(f"no ack for event {event.seq} within {self.ack_timeout_s} s")
                future.cancel()
            elif (error := future.exception()) is not None:  # retrieved, so none is logged as never retrieved
                refused = refused or error
            elif refused is None:
                acked, acked_stream, done = event.seq, future.result().seq, done + 1
        failure = refused or failure
        if done:
            with self.db.write() as conn:
                self.events.commit_offset(conn, self.name, acked)
        if failure is None:
            return done, acked, acked_stream
        logger.warning("publish after event %s failed (%s); resuming from the stream's end", acked, failure)
        await asyncio.sleep(0.2)
        cursor, stream_last = await self._resume(js)
        return done, cursor, stream_last


async def _pause(stop: asyncio.Event | None, seconds: float) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
