"""The audit log's records: one entry per write attempt (a request, a command, an automation pass), with
who made it, through which path, from where, what it asked and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Columns of the CSV export, in order.
CSV_COLUMNS = (
    "seq",
    "at",
    "actor",
    "actor_name",
    "via",
    "address",
    "action",
    "method",
    "target",
    "status",
    "request_id",
)


@dataclass(frozen=True)
class NewAuditEntry:
    """Command: record one write attempt."""

    actor: str
    actor_name: str
    via: str
    address: str | None
    action: str  # the operation id, page or command name
    method: str  # HTTP method, or "CLI" / "RUN"
    target: str  # path, or the command line
    status: int  # HTTP status, or the command's exit code (0 success)
    request_id: str


@dataclass(frozen=True)
class AuditEntry(NewAuditEntry):
    seq: int
    at: datetime

    def csv_row(self) -> tuple[object, ...]:
        return tuple(self.at.isoformat() if c == "at" else getattr(self, c) for c in CSV_COLUMNS)


@dataclass(frozen=True)
class AuditQuery:
    """Filters of an audit read; ``after`` pages by sequence number (newest first when ``descending``)."""

    actor: str | None = None
    via: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    failed: bool | None = None  # True: status >= 400 (refused or failed), False: succeeded
    after: int | None = None
    limit: int = 100


@dataclass(frozen=True)
class AuditPage:
    items: tuple[AuditEntry, ...]
    next_after: int | None  # pass as ``after`` for the next page; None: this was the last
