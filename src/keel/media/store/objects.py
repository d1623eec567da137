"""Queries on the ad setup: accounts, campaigns, ad groups, ads and the SKUs each ad advertises."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.media.model import (
    Account,
    Ad,
    AdGroup,
    AdState,
    Campaign,
    Guardrails,
    Level,
    Platform,
    Region,
    Status,
    Target,
)
from keel.media.store.tables import accounts_t, ad_skus_t, ads_t, campaigns_t, groups_t, revision_t
from keel.platform.bulk import chunks, select_in
from keel.platform.db import upsert_insert


def _upsert(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], key: str = "code") -> None:
    if not rows:
        return
    stmt = upsert_insert(conn, table)
    changes = {c: stmt.excluded[c] for c in rows[0] if c != key}
    stmt = stmt.on_conflict_do_update(index_elements=[key], set_=changes)
    for part in chunks(list(rows), 1000):
        conn.execute(stmt, list(part))


# -- accounts ------------------------------------------------------------------------------------------------
def save_account(conn: Connection, account: Account, token: str | None, now: datetime) -> None:
    """Store an account; a ``token`` of None keeps the stored one (it is never shown, so never sent back)."""
    row = {
        "code": account.code,
        "platform": account.platform.value,
        "channel": account.channel,
        "currency": account.currency,
        "name": account.name,
        "url": account.url,
        "token": token,
        "guardrails": {**asdict(account.guardrails), "excluded_campaigns": list(account.guardrails.excluded_campaigns)},
        "updated_at": now,
    }
    if token is None and conn.execute(sa.select(accounts_t.c.code).where(accounts_t.c.code == account.code)).first():
        del row["token"]
    _upsert(conn, accounts_t, [row])


def _account(row: Any) -> Account:
    rails = dict(row.guardrails)
    rails["excluded_campaigns"] = tuple(rails.get("excluded_campaigns") or ())
    return Account(row.code, Platform(row.platform), row.channel, row.currency, row.name, row.url, Guardrails(**rails))


def accounts(conn: Connection) -> list[Account]:
    return [_account(r) for r in conn.execute(sa.select(accounts_t).order_by(accounts_t.c.code))]


def account(conn: Connection, code: str) -> Account | None:
    row = conn.execute(sa.select(accounts_t).where(accounts_t.c.code == code)).first()
    return None if row is None else _account(row)


def token(conn: Connection, code: str) -> str | None:
    """The account's platform token (never shown through the API)."""
    return conn.execute(sa.select(accounts_t.c.token).where(accounts_t.c.code == code)).scalar_one_or_none()


# -- campaigns, ad groups, ads -------------------------------------------------------------------------------
def save_campaigns(conn: Connection, items: Sequence[Campaign], now: datetime) -> None:
    rows = [
        {
            "code": c.code,
            "account": c.account,
            "name": c.name,
            "country": c.region.country,
            "region": c.region.region,
            "store": c.region.store,
            "radius_km": c.region.radius_km,
            "daily_budget": c.daily_budget,
            "status": c.status.value,
            "updated_at": now,
        }
        for c in items
    ]
    _upsert(conn, campaigns_t, rows)


def save_groups(conn: Connection, items: Sequence[AdGroup], now: datetime) -> None:
    rows = [
        {"code": g.code, "campaign": g.campaign, "name": g.name, "default_bid": g.default_bid}
        | {"status": g.status.value, "updated_at": now}
        for g in items
    ]
    _upsert(conn, groups_t, rows)
    for g in items:  # an ad group moved to another campaign takes its ads along (``ads.campaign`` follows it)
        conn.execute(
            ads_t.update().where(ads_t.c.ad_group == g.code, ads_t.c.campaign != g.campaign).values(campaign=g.campaign)
        )


def save_ads(conn: Connection, items: Sequence[tuple[Ad, str, Sequence[str]]], now: datetime) -> None:
    """Store ads, each with its campaign and the SKUs it advertises (which replace the ones it had)."""
    rows = [
        {"code": ad.code, "ad_group": ad.ad_group, "campaign": campaign, "target": target_doc(ad.target)}
        | {"bid": ad.bid, "status": ad.status.value, "updated_at": now}
        for ad, campaign, _ in items
    ]
    _upsert(conn, ads_t, rows)
    codes = [ad.code for ad, _, _ in items]
    for part in chunks(codes, 500):
        conn.execute(ad_skus_t.delete().where(ad_skus_t.c.ad.in_(part)))
    links = [{"ad": ad.code, "sku": sku} for ad, _, skus in items for sku in sorted(set(skus))]
    for part in chunks(links, 5000):
        conn.execute(ad_skus_t.insert(), list(part))


def target_doc(target: Target) -> dict[str, Any]:
    doc: dict[str, Any] = {"skus": list(target.skus)} if target.skus else {}
    for key in ("category", "brand", "label"):
        if getattr(target, key) is not None:
            doc[key] = getattr(target, key)
    return doc


def _target(doc: dict[str, Any]) -> Target:
    return Target(tuple(doc.get("skus") or ()), doc.get("category"), doc.get("brand"), doc.get("label"))


def _campaign(r: Any) -> Campaign:
    region = Region(r.country, r.region, r.store, r.radius_km)
    return Campaign(r.code, r.account, r.name, region, r.daily_budget, Status(r.status))


def campaigns(conn: Connection, codes: Iterable[str] | None = None, account: str | None = None) -> list[Campaign]:
    q = sa.select(campaigns_t).order_by(campaigns_t.c.code)
    if account is not None:
        q = q.where(campaigns_t.c.account == account)
    rows = select_in(conn, q, campaigns_t.c.code, codes)
    return [_campaign(r) for r in sorted(rows, key=lambda r: r.code)]


def campaign_page(
    conn: Connection, account: str | None, country: str | None, status: str | None, limit: int, offset: int
) -> tuple[list[Campaign], int]:
    t = campaigns_t
    where = [c for c in (
        t.c.account == account if account else None,
        t.c.country == country if country else None,
        t.c.status == status if status else None,
    ) if c is not None]  # fmt: skip
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
    q = sa.select(t).where(*where).order_by(t.c.code).limit(limit).offset(offset)
    return [_campaign(r) for r in conn.execute(q)], int(total)


def groups(conn: Connection, campaigns: Iterable[str] | None = None) -> list[AdGroup]:
    rows = select_in(conn, sa.select(groups_t).order_by(groups_t.c.code), groups_t.c.campaign, campaigns)
    return [AdGroup(r.code, r.campaign, r.name, r.default_bid, Status(r.status)) for r in rows]


def ads(conn: Connection, campaigns: Iterable[str] | None = None) -> list[tuple[Ad, str]]:
    """Ads (of ``campaigns``, or all), each with its campaign."""
    rows = select_in(conn, sa.select(ads_t).order_by(ads_t.c.code), ads_t.c.campaign, campaigns)
    return [(Ad(r.code, r.ad_group, _target(r.target), r.bid, Status(r.status)), r.campaign) for r in rows]


def ad_skus(conn: Connection, ads: Iterable[str] | None = None) -> dict[str, list[str]]:
    """ad -> the SKUs it advertises."""
    q = sa.select(ad_skus_t.c.ad, ad_skus_t.c.sku).order_by(ad_skus_t.c.ad, ad_skus_t.c.sku)
    out: dict[str, list[str]] = {}
    for ad, sku in select_in(conn, q, ad_skus_t.c.ad, ads):
        out.setdefault(ad, []).append(sku)
    return out


def existing(conn: Connection, table: str, codes: Iterable[str]) -> set[str]:
    """Which of ``codes`` exist at a level (``campaigns``, ``groups``, ``ads``)."""
    t = {"campaigns": campaigns_t, "groups": groups_t, "ads": ads_t, "accounts": accounts_t}[table]
    return {r.code for r in select_in(conn, sa.select(t.c.code), t.c.code, codes)}


def counts(conn: Connection) -> dict[str, int]:
    return {
        name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
        for name, t in (("accounts", accounts_t), ("campaigns", campaigns_t), ("ad_groups", groups_t), ("ads", ads_t))
    }


SETUP_REVISION, RULES_REVISION = 1, 2  # the counters' rows


def bump(conn: Connection, counter: int = SETUP_REVISION) -> None:
    """Count a change of the setup or of the rules (in the transaction that makes it)."""
    t = revision_t
    done = conn.execute(t.update().where(t.c.id == counter).values(revision=t.c.revision + 1))
    if not done.rowcount:
        conn.execute(upsert_insert(conn, t).values(id=counter, revision=1).on_conflict_do_nothing())


def revision(conn: Connection, counter: int = SETUP_REVISION) -> int:
    return int(
        conn.execute(sa.select(revision_t.c.revision).where(revision_t.c.id == counter)).scalar_one_or_none() or 0
    )


def adopt(conn: Connection, level: Level, code: str, state: AdState, now: datetime) -> None:
    """Make a state found on the platform the person's own setting of the object (a drift kept)."""
    if level is Level.CAMPAIGN:
        values = {"status": state.status.value} | ({} if state.budget is None else {"daily_budget": state.budget})
        conn.execute(campaigns_t.update().where(campaigns_t.c.code == code).values(**values, updated_at=now))
    elif level is Level.AD_GROUP:
        values = {"status": state.status.value} | ({} if state.bid is None else {"default_bid": state.bid})
        conn.execute(groups_t.update().where(groups_t.c.code == code).values(**values, updated_at=now))
    else:
        conn.execute(
            ads_t.update().where(ads_t.c.code == code).values(status=state.status.value, bid=state.bid, updated_at=now)
        )
    bump(conn)
