"""Queries on rules, global guardrails, the action log, each ad's stock and its out-of-stock and paused
intervals."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.media.store.objects import RULES_REVISION, bump, revision
from keel.media.store.tables import actions_t, guardrails_t, intervals_t, rules_t, stock_t
from keel.platform.bulk import chunks, select_in
from keel.platform.db import upsert_insert

OUT_OF_STOCK = "out_of_stock"
PAUSED = "paused"


# -- rules and guardrails ------------------------------------------------------------------------------------
def save_rule(conn: Connection, name: str, document: dict[str, Any], now: datetime) -> int:
    """Store a rule document; returns its new version (1 for a new rule)."""
    old = conn.execute(sa.select(rules_t.c.version).where(rules_t.c.name == name)).scalar_one_or_none()
    version = 1 if old is None else old + 1
    stmt = upsert_insert(conn, rules_t).values(name=name, document=document, version=version, updated_at=now)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["name"], set_={"document": document, "version": version, "updated_at": now}
        )
    )
    bump(conn, RULES_REVISION)
    return version


def delete_rule(conn: Connection, name: str) -> bool:
    deleted = bool(conn.execute(rules_t.delete().where(rules_t.c.name == name)).rowcount)
    if deleted:
        bump(conn, RULES_REVISION)
    return deleted


def rules(conn: Connection) -> list[tuple[str, dict[str, Any], int, datetime]]:
    q = sa.select(rules_t).order_by(rules_t.c.name)
    return [(r.name, dict(r.document), r.version, r.updated_at) for r in conn.execute(q)]


def rules_revision(conn: Connection) -> int:
    """A counter every rule save and delete bumps (what the watchers' caches check)."""
    return revision(conn, RULES_REVISION)


def save_guardrails(conn: Connection, document: dict[str, Any], now: datetime) -> None:
    stmt = upsert_insert(conn, guardrails_t).values(scope="*", document=document, updated_at=now)
    conn.execute(stmt.on_conflict_do_update(index_elements=["scope"], set_={"document": document, "updated_at": now}))


def guardrails(conn: Connection) -> dict[str, Any] | None:
    q = sa.select(guardrails_t.c.document).where(guardrails_t.c.scope == "*")
    found = conn.execute(q).scalar_one_or_none()
    return None if found is None else dict(found)


# -- the action log ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ActionRow:
    id: int
    at: datetime
    rule: str | None
    level: str
    code: str
    account: str
    mode: str  # applied, dry_run, approval (waiting), approved, rejected, drift, manual
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str
    numbers: dict[str, Any]
    version: int | None
    caused_by: int | None
    decided_by: str | None


def record(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    for part in chunks(list(rows), 1000):
        conn.execute(actions_t.insert(), list(part))


def _action(r: Any) -> ActionRow:
    return ActionRow(
        r.id, r.at, r.rule, r.level, r.code, r.account, r.mode, dict(r.before), dict(r.after), r.reason,
        dict(r.numbers), r.version, r.caused_by, r.decided_by,
    )  # fmt: skip


def actions(
    conn: Connection,
    *,
    code: str | None = None,
    rule: str | None = None,
    mode: str | None = None,
    account: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ActionRow], int]:
    """The newest actions first, filtered."""
    t = actions_t
    where = [c for c in (
        t.c.code == code if code else None,
        t.c.rule == rule if rule else None,
        t.c.mode == mode if mode else None,
        t.c.account == account if account else None,
        t.c.at >= since if since else None,
    ) if c is not None]  # fmt: skip
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
    q = sa.select(t).where(*where).order_by(t.c.id.desc()).limit(limit).offset(offset)
    return [_action(r) for r in conn.execute(q)], int(total)


def action(conn: Connection, action_id: int) -> ActionRow | None:
    row = conn.execute(sa.select(actions_t).where(actions_t.c.id == action_id)).first()
    return None if row is None else _action(row)


def decide(conn: Connection, action_id: int, mode: str, by: str, version: int | None) -> bool:
    """Mark a waiting action approved or rejected (only one that is still waiting)."""
    t = actions_t
    done = conn.execute(
        t.update().where(t.c.id == action_id, t.c.mode == "approval").values(mode=mode, decided_by=by, version=version)
    )
    return bool(done.rowcount)


def waiting(conn: Connection, codes: Sequence[str]) -> set[tuple[str | None, str, str, str]]:
    """(rule, level, code, the state asked for as canonical JSON) of the changes waiting for approval on
    these objects."""
    t = actions_t
    q = sa.select(t.c.rule, t.c.level, t.c.code, t.c.after).where(t.c.mode == "approval")
    return {(r.rule, r.level, r.code, canonical(dict(r.after))) for r in select_in(conn, q, t.c.code, codes)}


def canonical(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True)


def last_acted(conn: Connection, codes: Iterable[str], since: datetime) -> dict[tuple[str, str], datetime]:
    """(code, rule) -> when that rule last changed the object (applied actions since ``since``)."""
    t = actions_t
    q = (
        sa.select(t.c.code, t.c.rule, sa.func.max(t.c.at))
        .where(t.c.mode == "applied", t.c.at >= since, t.c.rule.is_not(None))
        .group_by(t.c.code, t.c.rule)
    )
    return {(code, rule): at for code, rule, at in select_in(conn, q, t.c.code, codes)}


def budget_actions(conn: Connection, since: datetime, until: datetime) -> list[ActionRow]:
    """Every budget change rules made (applied or approved) to campaigns from ``since`` to ``until``, oldest
    first: what budget moves are read off."""
    t = actions_t
    q = sa.select(t).where(
        t.c.level == "campaign", t.c.at >= since, t.c.at < until, t.c.mode.in_(("applied", "approved")),
        t.c.rule.is_not(None),
    ).order_by(t.c.id)  # fmt: skip
    return [_action(r) for r in conn.execute(q)]


def moved_today(conn: Connection, day_start: datetime) -> dict[str, int]:
    """campaign -> the net budget rules moved it by since ``day_start`` (applied and approved actions)."""
    t = actions_t
    q = sa.select(t.c.code, t.c.before, t.c.after).where(
        t.c.level == "campaign", t.c.at >= day_start, t.c.mode.in_(("applied", "approved")), t.c.rule.is_not(None)
    )
    out: dict[str, int] = {}
    for code, before, after in conn.execute(q):
        if before.get("budget") is not None and after.get("budget") is not None:
            out[code] = out.get(code, 0) + int(after["budget"]) - int(before["budget"])
    return out


# -- stock and intervals -------------------------------------------------------------------------------------
def stock(conn: Connection, ads: Iterable[str] | None = None) -> dict[str, tuple[int, float | None, datetime]]:
    """ad -> (sellable, cover days, since when its in/out-of-stock side holds)."""
    return {r.ad: (r.sellable, r.cover_days, r.since) for r in select_in(conn, sa.select(stock_t), stock_t.c.ad, ads)}


def save_stock(conn: Connection, rows: Sequence[tuple[str, int, float | None, datetime]], now: datetime) -> None:
    """(ad, sellable, cover, since) for each ad whose stock changed."""
    if not rows:
        return
    stmt = upsert_insert(conn, stock_t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["ad"],
        set_={"sellable": stmt.excluded.sellable, "cover_days": stmt.excluded.cover_days}
        | {"since": stmt.excluded.since, "updated_at": stmt.excluded.updated_at},
    )
    items = [{"ad": a, "sellable": s, "cover_days": c, "since": since, "updated_at": now} for a, s, c, since in rows]
    for part in chunks(items, 1000):
        conn.execute(stmt, list(part))


def open_intervals(conn: Connection, items: Sequence[tuple[str, str, str | None]], at: datetime) -> None:
    """Start (ad, kind, rule) intervals at ``at``."""
    rows = [{"ad": ad, "kind": kind, "rule": rule, "start": at} for ad, kind, rule in items]
    for part in chunks(rows, 1000):
        conn.execute(intervals_t.insert(), list(part))


def close_intervals(conn: Connection, items: Sequence[tuple[str, str]], at: datetime) -> None:
    """End the open (ad, kind) intervals at ``at``."""
    t = intervals_t
    for ad, kind in items:
        conn.execute(t.update().where(t.c.ad == ad, t.c.kind == kind, t.c.end.is_(None)).values(end=at))


def intervals(
    conn: Connection, since: datetime, until: datetime, ads: Iterable[str] | None = None
) -> list[tuple[str, str, str | None, datetime, datetime | None]]:
    """(ad, kind, rule, start, end) of the intervals overlapping [since, until)."""
    t = intervals_t
    q = sa.select(t.c.ad, t.c.kind, t.c.rule, t.c.start, t.c.end).where(
        t.c.start < until, sa.or_(t.c.end.is_(None), t.c.end > since)
    )
    return [tuple(r) for r in select_in(conn, q.order_by(t.c.id), t.c.ad, ads)]
