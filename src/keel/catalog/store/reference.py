"""Families, categories, user-defined compliance profiles and channel targets: stored documents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.catalog.model import Category
from keel.catalog.store.tables import categories, families, profiles, targets


# -- families and categories --------------------------------------------------------------------------------
def family_documents(conn: Connection, codes: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """The stored families' documents by code (those of ``codes`` when given)."""
    query = sa.select(families.c.code, families.c.document).order_by(families.c.code)
    if codes is not None:
        query = query.where(families.c.code.in_(sorted(set(codes))))
    return {row.code: row.document for row in conn.execute(query)}


def save_family(conn: Connection, code: str, document: dict[str, Any], now: datetime) -> bool:
    """Insert or replace a family; False when the stored document was the same already."""
    have = conn.execute(sa.select(families.c.document).where(families.c.code == code)).scalar_one_or_none()
    if have == document:
        return False
    if have is None:
        conn.execute(families.insert().values(code=code, document=document, updated_at=now))
    else:
        conn.execute(families.update().where(families.c.code == code).values(document=document, updated_at=now))
    return True


def profile_documents(conn: Connection) -> dict[str, dict[str, Any]]:
    """The user-defined compliance profiles' documents by code."""
    rows = conn.execute(sa.select(profiles.c.code, profiles.c.document).order_by(profiles.c.code))
    return {row.code: row.document for row in rows}


def save_profile(conn: Connection, code: str, document: dict[str, Any], now: datetime) -> bool:
    """Insert or replace a user-defined profile; False when it was stored the same already."""
    have = conn.execute(sa.select(profiles.c.document).where(profiles.c.code == code)).scalar_one_or_none()
    if have == document:
        return False
    if have is None:
        conn.execute(profiles.insert().values(code=code, document=document, updated_at=now))
    else:
        conn.execute(profiles.update().where(profiles.c.code == code).values(document=document, updated_at=now))
    return True


def all_categories(conn: Connection) -> list[Category]:
    rows = conn.execute(sa.select(categories).order_by(categories.c.code))
    return [Category(r.code, r.label, r.parent) for r in rows]


def save_category(conn: Connection, category: Category) -> bool:
    """Insert or replace a category; False when it was stored the same already."""
    t = categories
    have = conn.execute(sa.select(t.c.label, t.c.parent).where(t.c.code == category.code)).first()
    if have is not None and (have.label, have.parent) == (category.label, category.parent):
        return False
    values = {"label": category.label, "parent": category.parent}
    if have is None:
        conn.execute(t.insert().values(code=category.code, **values))
    else:
        conn.execute(t.update().where(t.c.code == category.code).values(**values))
    return True


def target_documents(conn: Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(sa.select(targets.c.channel, targets.c.document).order_by(targets.c.channel))
    return {row.channel: row.document for row in rows}


def save_target(conn: Connection, channel: str, document: dict[str, Any], group: str, now: datetime) -> bool:
    """Insert or replace a channel's target (in listing group ``group``); False when it was stored the same
    already."""
    have = conn.execute(sa.select(targets.c.document).where(targets.c.channel == channel)).scalar_one_or_none()
    if have == document:
        return False
    values = {"document": document, "grp": group, "updated_at": now}
    if have is None:
        conn.execute(targets.insert().values(channel=channel, **values))
    else:
        conn.execute(targets.update().where(targets.c.channel == channel).values(**values))
    return True
