"""Audit use cases: record a write attempt, read and export the log, follow an entry to the events it caused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, replace

from keel.audit import store
from keel.audit.model import CSV_COLUMNS, AuditEntry, AuditPage, AuditQuery, NewAuditEntry
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import NotFound
from keel.platform.events import Event, EventLog

EXPORT_PAGE = 5_000


@dataclass(frozen=True)
class AuditTrail:
    """One entry and the events its request or command appended (ledger movements, order events, ...)."""

    entry: AuditEntry
    events: tuple[Event, ...]


class AuditService:
    def __init__(self, db: Database, events: EventLog) -> None:
        self.db = db
        self.events = events

    def record(self, entry: NewAuditEntry) -> int:
        """Append one entry in its own transaction; returns its sequence number."""
        with self.db.write() as conn:
            return store.append(conn, entry, utcnow())

    def entries(self, query: AuditQuery) -> AuditPage:
        """A page of entries, newest first."""
        with self.db.read() as conn:
            rows = store.page(conn, replace(query, limit=query.limit + 1))
        more = len(rows) > query.limit
        items = tuple(rows[: query.limit])
        return AuditPage(items, items[-1].seq if more and items else None)

    def trail(self, seq: int) -> AuditTrail:
        """One entry with the events it caused; ``NotFound`` when there is no such entry."""
        with self.db.read() as conn:
            entry = store.get(conn, seq)
            if entry is None:
                raise NotFound(f"audit entry {seq} does not exist")
            return AuditTrail(entry, tuple(self.events.of_request(conn, entry.request_id)))

    def export_csv(self, query: AuditQuery) -> Iterator[str]:
        """Every matching entry as CSV text, header first, newest first, read a page at a time."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        after = query.after
        while True:
            page = self.entries(replace(query, after=after, limit=EXPORT_PAGE))
            for entry in page.items:
                writer.writerow(entry.csv_row())
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if page.next_after is None:
                return
            after = page.next_after
