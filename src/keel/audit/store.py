"""The audit log's table and every query on it. Append-only: the store has no update or delete, and the
migration adds triggers that refuse UPDATE and DELETE on both databases, so not even a careless script can
rewrite history through SQL."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.audit.model import AuditEntry, AuditQuery, NewAuditEntry
from keel.platform.db import BigId, Timestamp, metadata

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("actor_name", sa.String(200), nullable=False),
    sa.Column("via", sa.String(20), nullable=False),
    sa.Column("address", sa.String(64), nullable=True),
    sa.Column("action", sa.String(200), nullable=False),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("target", sa.String(500), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("request_id", sa.String(40), nullable=False),
    sa.Index(None, "at"),
    sa.Index(None, "actor", "seq"),
)


_TEXT_SIZES = {c.name: c.type.length for c in audit_log.columns if isinstance(c.type, sa.String) and c.type.length}


def append(conn: Connection, entry: NewAuditEntry, at: datetime) -> int:
    """Record one entry; returns its sequence number. Over-long texts are cut to the column sizes (a target
    path is the client's choice, and a refused request must still be recorded)."""
    values = {**asdict(entry), "at": at}
    for column, size in _TEXT_SIZES.items():
        if values[column] is not None:
            values[column] = values[column][:size]
    return int(conn.execute(audit_log.insert().values(**values).returning(audit_log.c.seq)).scalar_one())


def page(conn: Connection, query: AuditQuery) -> list[AuditEntry]:
    """Entries matching ``query``, newest first, at most ``query.limit`` (after ``query.after`` if set)."""
    t = audit_log
    stmt = sa.select(t).order_by(t.c.seq.desc()).limit(query.limit)
    if query.after is not None:
        stmt = stmt.where(t.c.seq < query.after)
    if query.actor is not None:
        stmt = stmt.where(t.c.actor == query.actor)
    if query.via is not None:
        stmt = stmt.where(t.c.via == query.via)
    if query.action is not None:
        stmt = stmt.where(t.c.action == query.action)
    if query.since is not None:
        stmt = stmt.where(t.c.at >= query.since)
    if query.until is not None:
        stmt = stmt.where(t.c.at < query.until)
    if query.failed is not None:
        stmt = stmt.where(t.c.status >= 400 if query.failed else t.c.status < 400)
    return [AuditEntry(**row._mapping) for row in conn.execute(stmt)]


def get(conn: Connection, seq: int) -> AuditEntry | None:
    """One entry, or None."""
    row = conn.execute(sa.select(audit_log).where(audit_log.c.seq == seq)).first()
    return None if row is None else AuditEntry(**row._mapping)
