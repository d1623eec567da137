"""How the event log looks on NATS JetStream: one stream, one subject per event type, one message per event.

A message's ``Nats-Msg-Id`` header is the event's sequence number (JetStream drops a second message with
the same id inside the stream's duplicate window), and its JSON body is the whole ``Event`` plus ``prev``:
the sequence of the event the relay published just before it. ``prev`` lets a reader prove that it missed
nothing between two messages even though sequence numbers have gaps (a rolled-back transaction on
PostgreSQL burns the numbers it drew), and tells the relay where the stream ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from keel.platform.config import Settings
from keel.platform.events import Event

MSG_ID = "Nats-Msg-Id"
EXPECTED_LAST_SEQ = "Nats-Expected-Last-Sequence"
_NOT_A_TOKEN = re.compile(r"[^A-Za-z0-9_-]")


class BusError(Exception):
    """The stream is not what the relay or a reader expects (a foreign message, a missing stream, NATS
    unreachable); the message says what to do."""


@dataclass(frozen=True)
class BusConfig:
    """Where the event log is published: a NATS server, a stream and the subject prefix it holds."""

    url: str = "nats://127.0.0.1:4222"
    stream: str = "KEEL_EVENTS"
    subjects: str = "keel.events"
    max_age_s: float = 7 * 86400.0
    duplicate_window_s: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BusConfig:
        return cls(
            settings.nats_url,
            settings.nats_stream,
            settings.nats_subjects,
            settings.nats_max_age_s,
            settings.nats_duplicate_window_s,
        )

    @property
    def wildcard(self) -> str:
        """Every subject of the stream."""
        return f"{self.subjects}.>"

    def subject(self, event_type: str) -> str:
        """The subject an event of ``event_type`` is published on: ``<prefix>.<type>``, each dot-separated
        token of the type kept to the characters a subject allows."""
        tokens = [_NOT_A_TOKEN.sub("_", token) or "_" for token in event_type.split(".")]
        return ".".join([self.subjects, *tokens])


@dataclass(frozen=True)
class Relayed:
    """An event as read back from the stream, with the sequence of the event published before it."""

    event: Event
    prev: int


def encode(event: Event, prev: int) -> bytes:
    body: dict[str, Any] = {
        "seq": event.seq,
        "prev": prev,
        "type": event.type,
        "subject": event.subject,
        "data": event.data,
        "source": event.source,
        "idempotency_key": event.idempotency_key,
        # ISO text round-trips a datetime exactly (a float timestamp would not)
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "actor": event.actor,
        "via": event.via,
        "request_id": event.request_id,
    }
    return orjson.dumps(body)


def decode(payload: bytes) -> Relayed:
    """The event a relayed message carries; ``BusError`` for a body ``keel relay`` did not write."""
    try:
        body = orjson.loads(payload)
        event = Event(
            seq=int(body["seq"]),
            type=body["type"],
            subject=body["subject"],
            data=body["data"],
            source=body["source"],
            idempotency_key=body["idempotency_key"],
            occurred_at=datetime.fromisoformat(body["occurred_at"]),
            recorded_at=datetime.fromisoformat(body["recorded_at"]),
            actor=body["actor"],
            via=body["via"],
            request_id=body["request_id"],
        )
        return Relayed(event, int(body["prev"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise BusError(f"a message on the stream is not a relayed Keel event: {exc}") from exc


def event_seq(headers: dict[str, str] | None) -> int | None:
    """The event sequence a stored message's ``Nats-Msg-Id`` names (None: no such header or not a number)."""
    raw = (headers or {}).get(MSG_ID, "")
    return int(raw) if raw.isdigit() else None
