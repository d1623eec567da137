"""Queries on the desired states (the action outbox) and the accounts' send leases.

A state row is owed to its platform while ``sent_version < version``; ``outcome`` only ever raises
``sent_version`` (a late answer for an older version cannot lower it) and a row whose ``drift`` is set is not
sent at all (a person changed the object on the platform: an operator chooses which state wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.media.model import AdState, Change, Level, Status
from keel.media.store.tables import leases_t, states_t
from keel.platform.bulk import chunks
from keel.platform.db import upsert_insert


@dataclass(frozen=True)
class StateRow:
    level: Level
    code: str
    account: str
    state: AdState
    held_by: tuple[str, ...]
    version: int
    sent_version: int
    attempts: int
    dead: bool
    error: str | None
    drift: dict[str, Any] | None
    changed_at: datetime
    sent_at: datetime | None

    @property
    def owed(self) -> bool:
        return self.sent_version < self.version


def _row(r: Any) -> StateRow:
    state = AdState(Status(r.status), r.bid, r.budget)
    return StateRow(
        Level(r.level), r.code, r.account, state, tuple(r.held_by or ()), r.version, r.sent_version, r.attempts,
        bool(r.dead), r.error, r.drift, r.changed_at, r.sent_at,
    )  # fmt: skip


def create(conn: Connection, rows: Sequence[tuple[Level, str, str, AdState]], now: datetime) -> None:
    """States for new objects, as their platform holds them (version 1, already sent); existing rows are
    left alone."""
    # ``drift`` left out: a JSON column given None would hold JSON null, not SQL NULL
    items: list[dict[str, Any]] = [
        {"level": level.value, "code": code, "account": account, "status": s.status.value, "bid": s.bid}
        | {"budget": s.budget, "held_by": [], "version": 1, "sent_version": 1, "attempts": 0, "next_at": now}
        | {"dead": False, "error": None, "changed_at": now, "sent_at": None}
        for level, code, account, s in rows
    ]
    stmt = upsert_insert(conn, states_t).on_conflict_do_nothing(index_elements=["level", "code"])
    for part in chunks(items, 1000):
        conn.execute(stmt, list(part))


def get(conn: Connection, level: Level, codes: Iterable[str]) -> dict[str, StateRow]:
    out: dict[str, StateRow] = {}
    t = states_t
    for part in chunks(sorted(set(codes)), 500):
        q = sa.select(t).where(t.c.level == level.value, t.c.code.in_(part))
        out |= {r.code: _row(r) for r in conn.execute(q)}
    return out


def change(
    conn: Connection, changes: Sequence[tuple[Level, str, AdState, tuple[str, ...]]], now: datetime
) -> dict[tuple[Level, str], int]:
    """Set new desired states (and the rules holding each paused); returns each changed row's new version.
    A row whose state and holds are already these is left as it is."""
    t = states_t
    versions: dict[tuple[Level, str], int] = {}
    for level, code, state, held in changes:
        row = conn.execute(sa.select(t).where(t.c.level == level.value, t.c.code == code)).first()
        if row is None:
            continue
        if _row(row).state == state and tuple(row.held_by or ()) == held:
            continue
        version = row.version + 1 if _row(row).state != state else row.version
        values: dict[str, Any] = {"held_by": list(held)}
        if version != row.version:
            values |= {"status": state.status.value, "bid": state.bid, "budget": state.budget, "version": version}
            values |= {"attempts": 0, "next_at": now, "dead": False, "error": None, "changed_at": now}
        conn.execute(t.update().where(t.c.level == level.value, t.c.code == code).values(**values))
        versions[(level, code)] = version
    return versions


def due(conn: Connection, account: str, now: datetime, limit: int) -> list[tuple[Change, int]]:
    """The account's owed changes whose time has come (oldest change first), with their attempts so far."""
    t = states_t
    q = (
        sa.select(t)
        .where(t.c.account == account, t.c.next_at <= now, t.c.sent_version < t.c.version)
        .where(t.c.dead.is_(False), t.c.drift.is_(None))
        .order_by(t.c.changed_at)
        .limit(limit)
    )
    out = []
    for r in conn.execute(q):
        row = _row(r)
        out.append((Change(row.level, row.code, row.state, row.version), row.attempts))
    return out


def owed_accounts(conn: Connection, now: datetime) -> list[str]:
    t = states_t
    q = (
        sa.select(t.c.account)
        .where(t.c.next_at <= now, t.c.sent_version < t.c.version, t.c.dead.is_(False), t.c.drift.is_(None))
        .distinct()
    )
    return sorted(conn.execute(q).scalars())


def accepted(conn: Connection, items: Sequence[tuple[Level, str, int]], now: datetime) -> None:
    """The platform holds these versions: ``sent_version`` rises to each (never falls)."""
    t = states_t
    for level, code, version in items:
        conn.execute(
            t.update()
            .where(t.c.level == level.value, t.c.code == code, t.c.sent_version < version)
            .values(sent_version=version, sent_at=now, error=None)
            .values(attempts=sa.case((t.c.version == version, 0), else_=t.c.attempts))
        )


def refused(conn: Connection, items: Sequence[tuple[Level, str, int, int, datetime, str, bool]]) -> None:
    """Failed sends: (level, code, version, attempts, next try, error, dead), for rows still at that version
    (a newer state is owed afresh)."""
    t = states_t
    for level, code, version, attempts, next_at, error, dead in items:
        conn.execute(
            t.update()
            .where(t.c.level == level.value, t.c.code == code, t.c.version == version)
            .values(attempts=attempts, next_at=next_at, error=error[:2000], dead=dead)
        )


def page(
    conn: Connection, account: str | None, only: str | None, limit: int, offset: int
) -> tuple[list[StateRow], int]:
    """States by level and code; ``only``: ``owed``, ``dead`` or ``drift``."""
    t = states_t
    where: list[Any] = [] if account is None else [t.c.account == account]
    if only == "owed":
        where += [t.c.sent_version < t.c.version, t.c.dead.is_(False), t.c.drift.is_(None)]
    elif only == "dead":
        where.append(t.c.dead.is_(True))
    elif only == "drift":
        where.append(t.c.drift.is_not(None))
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
    q = sa.select(t).where(*where).order_by(t.c.level, t.c.code).limit(limit).offset(offset)
    return [_row(r) for r in conn.execute(q)], int(total)


def in_sync(conn: Connection, account: str, after: tuple[str, str], limit: int) -> list[StateRow]:
    """The account's rows the platform should hold as they are (sent, no drift), in (level, code) order after
    ``after``: what a drift check reads back, a page at a time."""
    t = states_t
    q = (
        sa.select(t)
        .where(t.c.account == account, t.c.sent_version == t.c.version, t.c.drift.is_(None))
        .where(sa.tuple_(t.c.level, t.c.code) > sa.tuple_(sa.literal(after[0]), sa.literal(after[1])))
        .order_by(t.c.level, t.c.code)
        .limit(limit)
    )
    return [_row(r) for r in conn.execute(q)]


def set_drift(
    conn: Connection, level: Level, code: str, remote: dict[str, Any] | None, version: int | None = None
) -> bool:
    """Record (or clear) what the platform holds instead of Keel's state. With ``version``, only for a row
    still at that version and sent: a change made and sent meanwhile (by another process) is not drift."""
    t = states_t
    value = sa.null() if remote is None else remote  # SQL NULL, not JSON null: ``drift IS NULL`` reads it
    q = t.update().where(t.c.level == level.value, t.c.code == code)
    if version is not None:
        q = q.where(t.c.version == version, t.c.sent_version == version)
    return bool(conn.execute(q.values(drift=value)).rowcount)


def force(conn: Connection, level: Level, code: str, now: datetime) -> None:
    """Owe the row's state to its platform again (a new version of the same state)."""
    t = states_t
    conn.execute(
        t.update()
        .where(t.c.level == level.value, t.c.code == code)
        .values(version=t.c.version + 1, attempts=0, next_at=now, dead=False, error=None, changed_at=now)
    )


def adopt(conn: Connection, level: Level, code: str, state: AdState, now: datetime) -> None:
    """Take the platform's state as the row's, already sent (what the platform holds is now Keel's, a
    person's choice: no rule holds it any more)."""
    t = states_t
    conn.execute(
        t.update()
        .where(t.c.level == level.value, t.c.code == code)
        .values(status=state.status.value, bid=state.bid, budget=state.budget, version=t.c.version + 1, held_by=[])
        .values(sent_version=t.c.version + 1, attempts=0, dead=False, error=None, changed_at=now, sent_at=now)
    )


def lease(conn: Connection, account: str, owner: str, now: datetime, until: datetime) -> bool:
    """Take or renew the right to send the account's changes until ``until``; False: another owner holds it."""
    t = leases_t
    stmt = upsert_insert(conn, t).values(account=account, owner=owner, until=until)
    stmt = stmt.on_conflict_do_update(
        index_elements=["account"],
        set_={"owner": owner, "until": until},
        where=sa.or_(t.c.owner == owner, t.c.until < now),
    )
    conn.execute(stmt)
    held = conn.execute(sa.select(t.c.owner).where(t.c.account == account)).scalar_one()
    return bool(held == owner)


def release(conn: Connection, account: str, owner: str) -> None:
    conn.execute(leases_t.delete().where(leases_t.c.account == account, leases_t.c.owner == owner))


def totals(conn: Connection) -> dict[str, int]:
    t = states_t
    q = sa.select(
        sa.func.count(),
        sa.func.sum(sa.case((sa.and_(t.c.sent_version < t.c.version, t.c.dead.is_(False)), 1), else_=0)),
        sa.func.sum(sa.case((t.c.dead.is_(True), 1), else_=0)),
        sa.func.sum(sa.case((t.c.drift.is_not(None), 1), else_=0)),
        sa.func.sum(sa.case((t.c.status == Status.PAUSED.value, 1), else_=0)),
    )
    n, owed, dead, drift, paused = conn.execute(q).one()
    return {"objects": int(n), "owed": int(owed or 0), "dead": int(dead or 0), "drift": int(drift or 0)} | {
        "paused": int(paused or 0)
    }
