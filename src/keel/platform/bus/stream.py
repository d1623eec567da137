"""The JetStream stream the relay fills: connecting, creating it with its retention, and finding positions in
it by event sequence (what the relay resumes after, where a reader whose offset is N starts)."""

from __future__ import annotations

import logging

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RawStreamMsg, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import NotFoundError

from keel.platform.bus.codec import BusConfig, BusError, decode, event_seq

logger = logging.getLogger("keel.bus")


async def connect(bus: BusConfig, name: str) -> Client:
    """A connection that reconnects by itself once established; ``BusError`` when NATS is unreachable now."""

    async def quiet(exc: Exception) -> None:
        logger.warning("NATS connection: %s", exc)

    try:
        nc = await nats.connect(
            bus.url,
            name=name,
            connect_timeout=3,
            allow_reconnect=True,
            max_reconnect_attempts=2,  # the first connection: a few tries, then a clear error
            reconnect_time_wait=1,
            error_cb=quiet,
        )
    except (NatsError, OSError, TimeoutError) as exc:
        raise BusError(f"cannot reach NATS at {bus.url}: {exc or type(exc).__name__}") from exc
    # Once connected, a lost connection is retried for as long as it takes (read at each reconnect).
    nc.options["max_reconnect_attempts"] = -1
    return nc


def stream_config(bus: BusConfig) -> StreamConfig:
    """The stream as the relay creates it: every subject of the prefix, kept on disk for ``max_age_s`` (a
    reader that falls further behind reads the gap from the database), oldest dropped first, with the
    duplicate window in which a re-published ``Nats-Msg-Id`` is dropped."""
    return StreamConfig(
        name=bus.stream,
        description="Keel event log, published by keel relay (one message per event, Nats-Msg-Id = event seq)",
        subjects=[bus.wildcard],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=bus.max_age_s,
        duplicate_window=bus.duplicate_window_s,
        num_replicas=1,
        allow_direct=True,
    )


async def ensure_stream(js: JetStreamContext, bus: BusConfig) -> StreamInfo:
    """The stream, created with ``stream_config`` when missing; an existing one must hold the prefix."""
    try:
        info = await js.stream_info(bus.stream)
    except NotFoundError:
        logger.info("creating stream %s for %s", bus.stream, bus.wildcard)
        return await js.add_stream(stream_config(bus))
    if bus.wildcard not in (info.config.subjects or []):
        raise BusError(f"stream {bus.stream} exists but does not hold {bus.wildcard}: use another stream name")
    return info


async def stream_info(js: JetStreamContext, bus: BusConfig) -> StreamInfo:
    try:
        return await js.stream_info(bus.stream)
    except NotFoundError as exc:
        raise BusError(f"no stream {bus.stream} on {bus.url}: start `keel relay` first") from exc


async def _message_at_or_after(js: JetStreamContext, bus: BusConfig, stream_seq: int) -> RawStreamMsg | None:
    """The first stored message at ``stream_seq`` or later (messages may have been deleted or aged out)."""
    try:
        return await js.get_msg(bus.stream, seq=stream_seq, subject=bus.wildcard, next=True)
    except NotFoundError:
        return None


def _relayed_seq(bus: BusConfig, msg: RawStreamMsg) -> int:
    seq = event_seq(msg.headers)
    if seq is None:
        raise BusError(
            f"stream {bus.stream} holds a message keel relay did not publish (stream sequence {msg.seq}, "
            f"subject {msg.subject}): publish nothing else on {bus.wildcard}"
        )
    return seq


async def last_relayed(js: JetStreamContext, bus: BusConfig) -> tuple[int, int | None]:
    """(the stream's last sequence, the event sequence its last stored message carries, or None when it holds
    no message): where the stream really ends, whatever the relay's stored offset says."""
    state = (await stream_info(js, bus)).state
    if not state.messages:
        return state.last_seq, None
    try:
        msg = await js.get_msg(bus.stream, subject=bus.wildcard)  # the last message on any subject
    except NotFoundError:
        return state.last_seq, None
    return state.last_seq, _relayed_seq(bus, msg)


async def start_after(js: JetStreamContext, bus: BusConfig, after: int) -> tuple[int, int | None]:
    """Where a reader that consumed every event up to ``after`` starts: (the stream sequence to deliver from,
    the floor) where the floor is the event sequence such that the stream holds every event above it from
    that position on (None: the stream is empty, so the first message to arrive will tell).

    A binary search over stream sequences (event sequences grow with them): about log2(messages) look-ups.
    A floor above ``after`` means the stream no longer (or never did) hold the events in between: the
    reader takes those from the database.
    """
    state = (await stream_info(js, bus)).state
    if not state.messages:
        return state.last_seq + 1, None
    # Invariant: every message below ``lo`` carries an event <= after, every message from ``hi`` on one > after.
    lo, hi = state.first_seq, state.last_seq + 1
    while lo < hi:
        mid = (lo + hi) // 2
        msg = await _message_at_or_after(js, bus, mid)
        if msg is None or msg.seq is None or _relayed_seq(bus, msg) > after:
            hi = mid
        else:
            lo = msg.seq + 1
    first = await _message_at_or_after(js, bus, lo) if lo <= state.last_seq else None
    if first is not None and first.seq is not None:
        return first.seq, decode(first.data or b"").prev
    # every stored event is at or below ``after``: start with the next one published
    _, last = await last_relayed(js, bus)
    return state.last_seq + 1, last
