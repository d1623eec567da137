"""The consumer registry: every event-log consumer and periodic job a Keel process runs, declared by its
context and listed in ``bootstrap`` (DESIGN section 10: signals come from the log through registered
consumers).

A consumer stores its offset in the same transaction as its effect, so it can stop, crash, restart and
replay without losing or doubling anything; consumers are independent of each other (each has its own
offset). The worker and the server's background thread run exactly what the registry lists.

Two shapes are offered:
- ``HandlerConsumer``: the common case. A handler gets a batch of events inside a write transaction; the
  runner advances the consumer's offset in that same transaction by compare-and-set, so a handler that
  fails mid-batch leaves both its effect and the offset untouched, and two instances never both apply.
- any object with the ``Consumer`` shape, for a consumer that keeps its own view (the availability
  projector) or spreads its effect over several transactions (the backorder filler, which is idempotent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.engine import Connection

from keel.platform.db import Database
from keel.platform.events import Event, EventLog
from keel.platform.sources import DatabaseSource, EventSource


class Consumer(Protocol):
    """What the worker needs of an event-log consumer."""

    @property
    def name(self) -> str: ...

    @property
    def types(self) -> frozenset[str]: ...

    def warm(self) -> None:
        """Prepare before the first step (load caches); may do nothing."""

    def step(self, limit: int) -> int:
        """Consume up to ``limit`` pending events; returns how many were consumed (0: caught up)."""


Handler = Callable[[Connection, list[Event]], None]


@dataclass
class HandlerConsumer:
    """A consumer whose handler writes its effect in the transaction that also moves its offset.

    The events come from ``source`` (the database log unless another ``EventSource`` is given); whatever the
    source, the offset lives in the database and moves with the effect, so an event handed over twice is
    applied once."""

    name: str
    types: frozenset[str]
    handle: Handler
    db: Database
    events: EventLog
    source: EventSource | None = None

    def __post_init__(self) -> None:
        if self.source is None:
            self.source = DatabaseSource(self.events)

    def warm(self) -> None:
        return None

    def step(self, limit: int = 200) -> int:
        source = self.source
        assert source is not None  # set in __post_init__
        with self.db.write() as conn:
            start = self.events.offset(conn, self.name)
            batch = source.read(conn, self.name, start, self.types, limit)
            if not batch:
                return 0
            self.handle(conn, batch)
            if not self.events.advance_offset(conn, self.name, start, batch[-1].seq):
                # Another instance consumed this range first: undo our effect with the transaction.
                raise OffsetMoved(self.name)
        source.consumed(self.name, batch[-1].seq)
        return len(batch)

    def catch_up(self) -> int:
        total = 0
        while n := self.step():
            total += n
        return total


class OffsetMoved(Exception):
    """Another instance of the consumer advanced its offset during our step; the step was rolled back."""


@dataclass(frozen=True)
class PeriodicJob:
    """Work done on a timer rather than on events (expiring reservation holds)."""

    name: str
    interval_s: float
    run: Callable[[], int]  # returns how many things it did, for logs and metrics
    audited: bool = False  # a run that changes business state gets an audit entry (automation)
    alone: bool = False  # runs in a thread of its own: a long run (a forecast) never holds up the consumers


@dataclass(frozen=True)
class Registered:
    """A consumer and how often the worker may step it: ``every_s`` > 0 collapses a burst of events into
    one step per interval (for consumers whose step is a whole pass, such as the backorder filler)."""

    consumer: Consumer
    every_s: float = 0.0
    audited: bool = False  # a step that changes business state gets an audit entry (not derived views)


@dataclass
class ConsumerRegistry:
    """Every consumer and periodic job of the process, in the order they run within one worker pass."""

    entries: list[Registered] = field(default_factory=list)
    jobs: list[PeriodicJob] = field(default_factory=list)

    def add(self, consumer: Consumer, *, every_s: float = 0.0, audited: bool = False) -> None:
        if any(e.consumer.name == consumer.name for e in self.entries):
            raise ValueError(f"consumer {consumer.name!r} registered twice")
        self.entries.append(Registered(consumer, every_s, audited))

    def add_job(self, job: PeriodicJob) -> None:
        self.jobs.append(job)

    def __iter__(self) -> Iterator[Consumer]:
        return (e.consumer for e in self.entries)

    def names(self) -> list[str]:
        """Every consumer's and job's name, in running order."""
        return [e.consumer.name for e in self.entries] + [j.name for j in self.jobs]

    def only(self, names: set[str]) -> ConsumerRegistry:
        """The part of the registry named (for a worker that runs some consumers while others run elsewhere);
        ``KeyError`` for a name it does not hold."""
        unknown = sorted(names - set(self.names()))
        if unknown:
            raise KeyError(", ".join(unknown))
        return ConsumerRegistry(
            [e for e in self.entries if e.consumer.name in names], [j for j in self.jobs if j.name in names]
        )

    def get(self, name: str) -> Consumer:
        for c in self:
            if c.name == name:
                return c
        raise KeyError(name)
