"""Read-only queries behind the media pages and API: campaigns a page at a time with the stock and outbox
figures of their ads, the counts of the summary, and the recent actions on a set of objects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.media.model import Level
from keel.media.store.log import ActionRow
from keel.media.store.tables import actions_t, ads_t, campaigns_t, groups_t, states_t, stock_t
from keel.platform.bulk import chunks


@dataclass(frozen=True)
class Tally:
    """One campaign's figures over its ads (stock, rules' holds) and over every object of it (the outbox)."""

    ads: int = 0
    out_of_stock: int = 0  # ads whose SKUs had no sellable unit when the watcher last looked
    held: int = 0  # ads a rule holds paused now
    owed: int = 0  # objects whose newest state the platform has not accepted yet (not dead, no drift)
    dead: int = 0
    drift: int = 0


def _held() -> Any:
    # a JSON list reads back as text "[]" when empty, on SQLite and PostgreSQL alike
    return sa.cast(states_t.c.held_by, sa.String) != "[]"


def _owed() -> Any:
    t = states_t
    return sa.and_(t.c.sent_version < t.c.version, t.c.dead.is_(False), t.c.drift.is_(None))


def _flag(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _stock_outs() -> Any:
    """The campaigns with at least one ad out of stock."""
    return (
        sa.select(ads_t.c.campaign).join(stock_t, stock_t.c.ad == ads_t.c.code).where(stock_t.c.sellable <= 0)
    ).distinct()


def campaign_codes(
    conn: Connection,
    account: str | None,
    country: str | None,
    status: str | None,
    stock_outs: bool,
    limit: int,
    offset: int,
) -> tuple[list[str], int]:
    """The codes of a page of campaigns (by code) and how many match."""
    t = campaigns_t
    where = [c for c in (
        t.c.account == account if account else None,
        t.c.country == country if country else None,
        t.c.status == status if status else None,
        t.c.code.in_(_stock_outs()) if stock_outs else None,
    ) if c is not None]  # fmt: skip
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
    q = sa.select(t.c.code).where(*where).order_by(t.c.code).limit(limit).offset(offset)
    return list(conn.execute(q).scalars()), int(total)


def tallies(conn: Connection, campaigns: Iterable[str]) -> dict[str, Tally]:
    """campaign -> its tally (campaigns without ads or states count zeros)."""
    s = states_t
    sums: dict[str, list[int]] = {}
    for part in chunks(sorted(set(campaigns)), 500):
        ads = (
            sa.select(
                ads_t.c.campaign, sa.func.count(), _flag(stock_t.c.sellable <= 0), _flag(_held()),
                _flag(_owed()), _flag(s.c.dead.is_(True)), _flag(s.c.drift.is_not(None)),
            )
            .select_from(ads_t)
            .outerjoin(stock_t, stock_t.c.ad == ads_t.c.code)
            .outerjoin(s, sa.and_(s.c.level == Level.AD.value, s.c.code == ads_t.c.code))
            .where(ads_t.c.campaign.in_(part))
            .group_by(ads_t.c.campaign)
        )  # fmt: skip
        for campaign, *figures in conn.execute(ads):
            sums[campaign] = [int(f or 0) for f in figures]
        above = sa.union_all(
            sa.select(groups_t.c.campaign.label("campaign"), s.c.version, s.c.sent_version, s.c.dead, s.c.drift)
            .join(s, sa.and_(s.c.level == Level.AD_GROUP.value, s.c.code == groups_t.c.code))
            .where(groups_t.c.campaign.in_(part)),
            sa.select(s.c.code.label("campaign"), s.c.version, s.c.sent_version, s.c.dead, s.c.drift).where(
                s.c.level == Level.CAMPAIGN.value, s.c.code.in_(part)
            ),
        ).subquery()
        u = above.c
        owed = sa.and_(u.sent_version < u.version, u.dead.is_(False), u.drift.is_(None))
        q = sa.select(u.campaign, _flag(owed), _flag(u.dead.is_(True)), _flag(u.drift.is_not(None))).group_by(
            u.campaign
        )
        for campaign, owed_n, dead_n, drift_n in conn.execute(q):
            row = sums.setdefault(campaign, [0] * 6)
            row[3] += int(owed_n or 0)
            row[4] += int(dead_n or 0)
            row[5] += int(drift_n or 0)
    return {c: Tally(*figures) for c, figures in sums.items()}


def held_ads(conn: Connection) -> int:
    """How many ads a rule holds paused now."""
    q = sa.select(sa.func.count()).select_from(states_t).where(states_t.c.level == Level.AD.value, _held())
    return int(conn.execute(q).scalar_one())


def out_of_stock_ads(conn: Connection) -> int:
    """How many ads had no sellable unit when the watcher last looked."""
    q = sa.select(sa.func.count()).select_from(stock_t).where(stock_t.c.sellable <= 0)
    return int(conn.execute(q).scalar_one())


def countries(conn: Connection) -> list[str]:
    """The countries campaigns target (for a filter's choices)."""
    return list(conn.execute(sa.select(campaigns_t.c.country).distinct().order_by(campaigns_t.c.country)).scalars())


def recent_actions(conn: Connection, codes: Iterable[str], limit: int) -> list[ActionRow]:
    """The newest ``limit`` actions on any of ``codes`` (a campaign, its ad groups and ads)."""
    t = actions_t
    found: list[ActionRow] = []
    for part in chunks(sorted(set(codes)), 500):
        q = sa.select(t).where(t.c.code.in_(part)).order_by(t.c.id.desc()).limit(limit)
        found += [ActionRow(**r._mapping) for r in conn.execute(q)]
    return sorted(found, key=lambda a: a.id, reverse=True)[:limit]
