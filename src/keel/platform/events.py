"""The event log (transactional outbox) and consumer offsets (DESIGN section 4).

Events are appended inside the caller's transaction, so an event exists exactly when the state change it
describes was committed. On PostgreSQL appends take a transaction-scoped advisory lock: sequence numbers
are then committed in order and a consumer reading ``seq > offset`` can never skip a late-committing
event. Appends happen last in a transaction, after every row lock, so the lock adds no deadlock cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.platform.actor import current_actor
from keel.platform.clock import utcnow
from keel.platform.db import BigId, JsonType, Timestamp, advisory_xact_lock, metadata, upsert_insert

events_table = sa.Table(
    "events",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("type", sa.String(80), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("data", JsonType, nullable=False),
    sa.Column("source", sa.String(80), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("recorded_at", Timestamp, nullable=False),
    # Who caused it and through which path (``keel.platform.actor``); the request id links it to the audit log.
    sa.Column("actor", sa.String(200), nullable=True),
    sa.Column("via", sa.String(20), nullable=True),
    sa.Column("request_id", sa.String(40), nullable=True),
    sa.Index(None, "type", "seq"),
    sa.Index(None, "request_id"),
    sa.Index(None, "source", "occurred_at"),
)

consumer_offsets_table = sa.Table(
    "consumer_offsets",
    metadata,
    sa.Column("consumer", sa.String(80), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

_APPEND_LOCK = 0x6B65656C  # "keel"


@dataclass(frozen=True)
class NewEvent:
    type: str
    subject: str
    data: dict[str, Any]
    source: str = "keel"
    idempotency_key: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    subject: str
    data: dict[str, Any] = field(hash=False)
    source: str
    idempotency_key: str | None
    occurred_at: datetime
    recorded_at: datetime
    actor: str | None = None
    via: str | None = None
    request_id: str | None = None


class EventLog(Protocol):
    """Port for the ordered event log; a NATS JetStream backend would implement the same calls."""

    def append(self, conn: Connection, events: list[NewEvent]) -> int: ...

    def read(self, conn: Connection, after: int, types: set[str] | None = None, limit: int = 1000) -> list[Event]: ...

    def last_seq(self, conn: Connection, event_type: str | None = None) -> int: ...

    def pending(self, conn: Connection, consumer: str, types: set[str]) -> int: ...

    def offset(self, conn: Connection, consumer: str) -> int: ...

    def commit_offset(self, conn: Connection, consumer: str, seq: int) -> None: ...

    def advance_offset(self, conn: Connection, consumer: str, expected: int, seq: int) -> bool: ...

    def freshness(self, conn: Connection) -> dict[str, datetime]: ...

    def of_request(self, conn: Connection, request_id: str, limit: int = 1000) -> list[Event]: ...

    def consumed_by_all(self, conn: Connection, consumers: Iterable[str]) -> int: ...

    def prune(self, conn: Connection, through_seq: int, actors: Iterable[str]) -> int: ...


class SqlEventLog:
    """The event log kept in the ``events`` table of Keel's own database."""

    def append(self, conn: Connection, events: list[NewEvent]) -> int:
        """Append ``events`` in the caller's transaction; returns how many were new (duplicates are ignored)."""
        if not events:
            return 0
        advisory_xact_lock(conn, _APPEND_LOCK)
        now = utcnow()
        actor = current_actor.get()
        rows = [
            {
                "type": e.type,
                "subject": e.subject,
                "data": e.data,
                "source": e.source,
                "idempotency_key": e.idempotency_key,
                "occurred_at": e.occurred_at or now,
                "recorded_at": now,
                "actor": actor.identity_id,
                "via": actor.via,
                "request_id": actor.request_id,
            }
            for e in events
        ]
        # Count what RETURNING hands back: executemany rowcount is -1 on psycopg, which made every
        # duplicate count as new on PostgreSQL.
        stmt = (
            upsert_insert(conn, events_table)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(events_table.c.seq)
        )
        return len(conn.execute(stmt, rows).all())

    def read(self, conn: Connection, after: int, types: set[str] | None = None, limit: int = 1000) -> list[Event]:
        query = sa.select(events_table).where(events_table.c.seq > after).order_by(events_table.c.seq).limit(limit)
        if types:
            query = query.where(events_table.c.type.in_(sorted(types)))
        return [Event(**row._mapping) for row in conn.execute(query)]

    def last_seq(self, conn: Connection, event_type: str | None = None) -> int:
        """The newest sequence number, of any event or of one type."""
        query = sa.select(sa.func.coalesce(sa.func.max(events_table.c.seq), 0))
        if event_type is not None:
            query = query.where(events_table.c.type == event_type)
        return int(conn.execute(query).scalar_one())

    def pending(self, conn: Connection, consumer: str, types: set[str]) -> int:
        """How many events of ``types`` ``consumer`` has not consumed yet (its lag in events)."""
        e = events_table
        query = sa.select(sa.func.count()).where(e.c.seq > self.offset(conn, consumer), e.c.type.in_(sorted(types)))
        return int(conn.execute(query).scalar_one())

    def offset(self, conn: Connection, consumer: str) -> int:
        seq = conn.execute(
            sa.select(consumer_offsets_table.c.seq).where(consumer_offsets_table.c.consumer == consumer)
        ).scalar_one_or_none()
        return int(seq or 0)

    def commit_offset(self, conn: Connection, consumer: str, seq: int) -> None:
        """Store the consumer's position in the same transaction as its effects."""
        stmt = upsert_insert(conn, consumer_offsets_table).values(consumer=consumer, seq=seq, updated_at=utcnow())
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["consumer"],
                set_={"seq": stmt.excluded.seq, "updated_at": stmt.excluded.updated_at},
            )
        )

    def advance_offset(self, conn: Connection, consumer: str, expected: int, seq: int) -> bool:
        """Move ``consumer`` from ``expected`` to ``seq`` atomically; False when another instance moved it first."""
        t = consumer_offsets_table
        now = utcnow()
        if expected == 0:
            # First move: whoever inserts the row wins; a row that exists already means someone else did.
            stmt = upsert_insert(conn, t).values(consumer=consumer, seq=seq, updated_at=now)
            stmt = stmt.on_conflict_do_nothing(index_elements=["consumer"]).returning(t.c.consumer)
            if conn.execute(stmt).first() is not None:  # rowcount is not reliable with RETURNING on psycopg
                return True
        result = conn.execute(
            t.update().where(t.c.consumer == consumer, t.c.seq == expected).values(seq=seq, updated_at=now)
        )
        return result.rowcount == 1

    def freshness(self, conn: Connection) -> dict[str, datetime]:
        """Last ``occurred_at`` received per source (data freshness = now - this)."""
        rows = conn.execute(
            sa.select(events_table.c.source, sa.func.max(events_table.c.occurred_at)).group_by(events_table.c.source)
        )
        # max() keeps the column's Timestamp type, so values already come back as aware datetimes.
        return {src: v for src, v in rows if v is not None}

    def of_request(self, conn: Connection, request_id: str, limit: int = 1000) -> list[Event]:
        """The first ``limit`` events one request or command appended (what its audit entry links to)."""
        e = events_table
        query = sa.select(e).where(e.c.request_id == request_id).order_by(e.c.seq).limit(limit)
        return [Event(**row._mapping) for row in conn.execute(query)]

    def consumed_by_all(self, conn: Connection, consumers: Iterable[str]) -> int:
        """The newest seq every one of ``consumers`` has consumed (0 when one has no offset yet)."""
        names = sorted(set(consumers))
        if not names:
            return 0
        t = consumer_offsets_table
        rows = conn.execute(sa.select(t.c.consumer, t.c.seq).where(t.c.consumer.in_(names)))
        found = {row[0]: row[1] for row in rows}
        return min(int(found.get(name, 0)) for name in names)

    def prune(self, conn: Connection, through_seq: int, actors: Iterable[str]) -> int:
        """Delete the events up to ``through_seq`` that ``actors`` appended (retention, e.g. of the retail
        twin's own traffic); returns how many. The caller keeps ``through_seq`` within what every consumer
        has consumed (``consumed_by_all``). The newest event always stays: it carries the numbering on."""
        names = sorted(set(actors))
        if not names:
            return 0
        e = events_table
        newest = self.last_seq(conn)
        bound = min(int(through_seq), newest - 1)
        result = conn.execute(e.delete().where(e.c.seq <= bound, e.c.actor.in_(names)))
        return int(result.rowcount)
