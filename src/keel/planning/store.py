"""The planning tables (policies, runs, suggestions) and every query on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.planning.model import Explanation, Planned, PlanReport, PolicyRow, Status, Suggestion, SuggestionFilter
from keel.platform.db import JsonType, Timestamp, metadata

planning_policies = sa.Table(
    "planning_policies",
    metadata,
    # '' where a row does not name it: a location kind's row, a location's, or a SKU's at a location
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("fields", JsonType, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

planning_runs = sa.Table(
    "planning_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("locations", sa.Integer, nullable=False),
    sa.Column("series", sa.Integer, nullable=False),
    sa.Column("suggestions", sa.Integer, nullable=False),
    sa.Column("purchases", sa.Integer, nullable=False),
    sa.Column("transfers", sa.Integer, nullable=False),
    sa.Column("superseded", sa.Integer, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("forecast_seconds", sa.Float, nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("country", sa.String(2), nullable=True),
)

planning_suggestions = sa.Table(
    "planning_suggestions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("location", sa.String(64), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("explanation", JsonType, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("decided_at", Timestamp, nullable=True),
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Column("received_at", Timestamp, nullable=True),
    sa.Index(None, "status", "location"),
    sa.Index(None, "sku", "location"),
)


def policy_rows(conn: Connection) -> dict[tuple[str, str, str], PolicyRow]:
    """Every stored policy row by (kind, location, sku), '' where the row names none."""
    t = planning_policies
    out: dict[tuple[str, str, str], PolicyRow] = {}
    for r in conn.execute(sa.select(t.c.kind, t.c.location, t.c.sku, t.c.fields)):
        out[(r.kind, r.location, r.sku)] = PolicyRow(r.kind or None, r.location or None, r.sku or None, r.fields)
    return out


def upsert_policies(conn: Connection, rows: Sequence[PolicyRow], now: datetime) -> int:
    """Write ``rows`` (replacing a stored row of the same key); returns how many differed from what was stored."""
    t = planning_policies
    stored = policy_rows(conn)
    changed = 0
    for row in rows:
        have = stored.get(row.key)
        if have is not None and dict(have.values) == dict(row.values):
            continue
        changed += 1
        key = dict(zip(("kind", "location", "sku"), row.key, strict=True))
        if have is not None:
            conn.execute(t.delete().where(*(t.c[k] == v for k, v in key.items())))
        conn.execute(t.insert().values(**key, fields=dict(row.values), updated_at=now))
    return changed


def delete_policy(conn: Connection, key: tuple[str, str, str]) -> bool:
    t = planning_policies
    kind, location, sku = key
    result = conn.execute(t.delete().where(t.c.kind == kind, t.c.location == location, t.c.sku == sku))
    return bool(result.rowcount)


def supersede_open(
    conn: Connection, locations: Sequence[str], kinds: Sequence[str], now: datetime, skus: Sequence[str] | None
) -> int:
    """Mark the proposed suggestions of ``kinds`` into ``locations`` (of ``skus`` when given) superseded;
    returns how many."""
    t = planning_suggestions
    count = 0
    for i in range(0, len(locations), 500):
        part = list(locations[i : i + 500])
        base = t.update().where(t.c.status == Status.PROPOSED.value, t.c.location.in_(part), t.c.kind.in_(list(kinds)))
        for j in [None] if skus is None else range(0, len(skus), 500):
            stmt = base if j is None or skus is None else base.where(t.c.sku.in_(list(skus[j : j + 500])))
            count += conn.execute(stmt.values(status=Status.SUPERSEDED.value, decided_at=now)).rowcount
    return count


def insert_run(conn: Connection, report: PlanReport) -> int:
    values = asdict(report)
    del values["run_id"]
    return int(conn.execute(planning_runs.insert().values(**values)).inserted_primary_key[0])  # type: ignore[index]


def insert_suggestions(
    conn: Connection, run_id: int, planned: Sequence[Planned], countries: dict[str, str], now: datetime
) -> None:
    if not planned:
        return
    rows = [
        {
            "run_id": run_id, "kind": p.kind, "sku": p.sku, "location": p.location, "country": countries[p.location],
            "source": p.source, "quantity": p.quantity, "status": Status.PROPOSED.value,
            "explanation": asdict(p.explanation), "created_at": now,
        }
        for p in planned
    ]  # fmt: skip
    for i in range(0, len(rows), 1000):
        conn.execute(planning_suggestions.insert(), rows[i : i + 1000])


def _suggestion(r: Any) -> Suggestion:
    doc = dict(r.explanation)
    doc["notes"] = tuple(doc.get("notes", ()))
    doc["daily"] = {name: tuple(values) for name, values in doc.get("daily", {}).items()}
    return Suggestion(
        r.id, r.run_id, r.kind, r.sku, r.location, r.country, r.source, r.quantity, Status(r.status),
        Explanation(**doc), r.created_at, r.decided_at, r.decided_by, r.received_at,
    )  # fmt: skip


def get_suggestion(conn: Connection, suggestion_id: int, *, lock: bool = False) -> Suggestion | None:
    t = planning_suggestions
    query = sa.select(t).where(t.c.id == suggestion_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _suggestion(row)


def suggestions_page(
    conn: Connection, where: SuggestionFilter, limit: int, offset: int
) -> tuple[list[Suggestion], int]:
    """A page of suggestions, newest first, and how many match."""
    t = planning_suggestions
    conds: list[sa.ColumnElement[bool]] = []
    if where.status is not None:
        conds.append(t.c.status == where.status.value)
    if where.kind is not None:
        conds.append(t.c.kind == where.kind)
    if where.sku is not None:
        conds.append(t.c.sku == where.sku)
    if where.location is not None:
        conds.append(t.c.location == where.location)
    if where.countries is not None:
        conds.append(t.c.country.in_(sorted(where.countries)))
    if where.runs is not None:
        conds.append(t.c.run_id.in_(sorted(where.runs)))
    total = int(conn.execute(sa.select(sa.func.count()).select_from(t).where(*conds)).scalar_one())
    rows = conn.execute(sa.select(t).where(*conds).order_by(t.c.id.desc()).limit(limit).offset(offset))
    return [_suggestion(r) for r in rows], total


def set_status(
    conn: Connection, suggestion_id: int, status: Status, now: datetime, actor: str | None, *, received: bool = False
) -> None:
    t = planning_suggestions
    values: dict[str, Any] = {"status": status.value}
    if received:
        values["received_at"] = now
    else:
        values |= {"decided_at": now, "decided_by": actor}
    conn.execute(t.update().where(t.c.id == suggestion_id).values(**values))


def last_runs(conn: Connection, limit: int, countries: frozenset[str] | None = None) -> list[PlanReport]:
    """The newest runs first; with ``countries``, only the runs of one of them."""
    t = planning_runs
    query = sa.select(t).order_by(t.c.id.desc()).limit(limit)
    if countries is not None:
        query = query.where(t.c.country.in_(sorted(countries)))
    rows = conn.execute(query)
    return [
        PlanReport(
            r.id, r.started_at, r.locations, r.series, r.suggestions, r.purchases, r.transfers, r.superseded,
            r.seconds, r.forecast_seconds, r.trigger, r.mode, r.country,
        )
        for r in rows
    ]  # fmt: skip


def counts_by_status(conn: Connection, countries: frozenset[str] | None) -> dict[str, dict[str, int]]:
    """kind -> status -> how many suggestions (in ``countries`` when given)."""
    t = planning_suggestions
    query = sa.select(t.c.kind, t.c.status, sa.func.count()).group_by(t.c.kind, t.c.status)
    if countries is not None:
        query = query.where(t.c.country.in_(sorted(countries)))
    out: dict[str, dict[str, int]] = {}
    for kind, status, n in conn.execute(query).tuples():
        out.setdefault(kind, {})[status] = int(n)
    return out
