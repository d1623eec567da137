"""The planning automation tables (a rule per country, the log of automatic actions) and every query on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.planning.model import ACCEPTED, Action, Automation
from keel.platform.db import BigId, JsonType, Timestamp, metadata

planning_automation = sa.Table(
    "planning_automation",
    metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("fields", JsonType, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("last_run_at", Timestamp, nullable=True),
    sa.Column("last_seq", BigId, nullable=False),  # the ledger sequence the last automatic run looked up to
)

planning_actions = sa.Table(
    "planning_actions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("suggestion_id", sa.Integer, nullable=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Index(None, "country", "at"),
)


def _rule(r: Any) -> Automation:
    doc = dict(r.fields)
    for name in ("accept_kinds", "excluded_locations"):
        doc[name] = tuple(doc.get(name, ()))
    return Automation(country=r.country, **doc)


def rules(conn: Connection, countries: frozenset[str] | None = None) -> list[Automation]:
    """The stored rules by country (of ``countries`` when given)."""
    t = planning_automation
    query = sa.select(t).order_by(t.c.country)
    if countries is not None:
        query = query.where(t.c.country.in_(sorted(countries)))
    return [_rule(r) for r in conn.execute(query)]


def last_run(conn: Connection, country: str) -> tuple[datetime | None, int]:
    """When the last automatic run of ``country`` started, and the ledger sequence it looked up to."""
    t = planning_automation
    row = conn.execute(sa.select(t.c.last_run_at, t.c.last_seq).where(t.c.country == country)).first()
    return (None, 0) if row is None else (row.last_run_at, int(row.last_seq))


def upsert_rule(conn: Connection, rule: Automation, now: datetime) -> bool:
    """Store ``rule``; returns whether it differed from what was stored (the run state is kept)."""
    t = planning_automation
    doc = asdict(rule)
    del doc["country"]
    doc = {k: list(v) if isinstance(v, tuple) else v for k, v in doc.items()}
    row = conn.execute(sa.select(t.c.fields).where(t.c.country == rule.country)).first()
    if row is None:
        conn.execute(t.insert().values(country=rule.country, fields=doc, updated_at=now, last_seq=0))
        return True
    if dict(row.fields) == doc:
        return False
    conn.execute(t.update().where(t.c.country == rule.country).values(fields=doc, updated_at=now))
    return True


def claim(conn: Connection, country: str, last_at: datetime | None, now: datetime) -> bool:
    """Start a run of ``country`` if its last run is still ``last_at`` (compare and set): of two workers that
    find the rule due at once, one runs it."""
    t = planning_automation
    same = t.c.last_run_at.is_(None) if last_at is None else t.c.last_run_at == last_at
    return bool(conn.execute(t.update().where(t.c.country == country, same).values(last_run_at=now)).rowcount)


def mark_seen(conn: Connection, country: str, seq: int) -> None:
    """The country's last run looked at the ledger up to ``seq``: the next incremental run starts there."""
    t = planning_automation
    conn.execute(t.update().where(t.c.country == country).values(last_seq=seq))


def record(conn: Connection, actions: Sequence[Action]) -> None:
    if actions:
        conn.execute(planning_actions.insert(), [{k: v for k, v in asdict(a).items() if k != "id"} for a in actions])


def accepted_value_since(conn: Connection, country: str, since: datetime) -> float:
    """The goods value the automation accepted in ``country`` since ``since``."""
    t = planning_actions
    query = sa.select(sa.func.coalesce(sa.func.sum(t.c.value), 0.0)).where(
        t.c.country == country, t.c.action == ACCEPTED, t.c.at >= since
    )
    return float(conn.execute(query).scalar_one())


def actions_page(
    conn: Connection, countries: frozenset[str] | None, action: str | None, limit: int, offset: int
) -> tuple[list[Action], int]:
    """A page of recorded actions, newest first, and how many match."""
    t = planning_actions
    conds: list[sa.ColumnElement[bool]] = []
    if countries is not None:
        conds.append(t.c.country.in_(sorted(countries)))
    if action is not None:
        conds.append(t.c.action == action)
    total = int(conn.execute(sa.select(sa.func.count()).select_from(t).where(*conds)).scalar_one())
    rows = conn.execute(sa.select(t).where(*conds).order_by(t.c.id.desc()).limit(limit).offset(offset))
    return [Action(r.id, r.at, r.country, r.action, r.run_id, r.suggestion_id, r.value, r.reason) for r in rows], total
