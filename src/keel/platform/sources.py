"""Where a consumer reads the event log from: the ``EventSource`` port.

The database stays the source of truth: events are appended to its ``events`` table in the writer's
transaction, and every consumer keeps its offset (an event sequence number) in the database, moved in the
same transaction as its effect. What differs between sources is only how the events after that offset
reach the consumer:

- ``DatabaseSource`` reads them from the ``events`` table (what Keel does when nothing else is configured);
- ``keel.platform.bus.JetStreamSource`` reads what ``keel relay`` published to a NATS JetStream stream, so
  consumers can run on other machines without polling the database's log.

Because the offset is stored with the effect and keyed by event sequence, a source may hand an event over
more than once (a redelivery, a restart): the consumer's offset makes the second delivery a no-op. The
contract every source meets is ``tests/contract/test_event_source.py``.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Connection

from keel.platform.events import Event, EventLog


class EventSource(Protocol):
    """Port: the events after a consumer's offset, in log order."""

    @property
    def kind(self) -> str: ...

    def read(self, conn: Connection, consumer: str, after: int, types: Set[str], limit: int) -> list[Event]:
        """Up to ``limit`` events of ``types`` with a sequence above ``after`` (the offset ``consumer`` read
        in ``conn``), in sequence order. Never waits for new events: an empty list means none are readable
        yet. ``conn`` is the consumer's own transaction, which a source may read the database log through."""

    def backlog(self, conn: Connection, consumer: str, after: int, types: Set[str]) -> tuple[int, int]:
        """(how many events of ``types`` above ``after`` are readable now, the sequence they run up to):
        for a consumer whose step is a whole pass answering every pending event at once."""

    def consumed(self, consumer: str, upto: int) -> None:
        """``consumer`` committed its offset at ``upto``: the source may let go of what it holds up to there
        (JetStream: acknowledge, which is flow control only; the offset is what counts)."""

    def settle(self, timeout_s: float = 5.0) -> bool:
        """Wait (outside any transaction) until what the source already holds upstream is readable; True when
        that brought new events in, so a caller draining the log once (``keel worker --once``) goes again."""

    def close(self) -> None:
        """Let go of connections and threads."""


@dataclass
class DatabaseSource:
    """The event log read straight from the database's ``events`` table."""

    events: EventLog
    kind: str = "database"

    def read(self, conn: Connection, consumer: str, after: int, types: Set[str], limit: int) -> list[Event]:
        return self.events.read(conn, after, set(types), limit)

    def backlog(self, conn: Connection, consumer: str, after: int, types: Set[str]) -> tuple[int, int]:
        return self.events.pending(conn, consumer, set(types)), self.events.last_seq(conn)

    def consumed(self, consumer: str, upto: int) -> None:
        return None  # the offset committed with the effect is all the database log needs

    def settle(self, timeout_s: float = 5.0) -> bool:
        return False  # every committed event is readable at once

    def close(self) -> None:
        return None
