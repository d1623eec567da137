"""The promotions' tables and every query on them.

- ``pricing_promotions``: each promotion's document (as ``model.promotions.document_of`` writes it) with its
  counters: ``uses`` (carts redeemed) and ``spent`` (discount given, minor units of its currency);
- ``pricing_coupons``: codes (stored upper-case: codes are read aloud and typed) unlocking a coupon
  promotion, each with its own use limit (1: single use) and count;
- ``pricing_customer_uses``: per promotion and customer, how many carts they redeemed (per-customer limits);
- ``pricing_redemptions``: what each redeemed cart (by its reference: an order, a receipt) took, per
  promotion: a repeated redemption of the same reference finds it and counts nothing twice.

Limits hold under concurrency by conditional updates: a counter moves only while it is below its limit, in
the transaction that records the redemption, so two carts racing for the last use cannot both have it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.platform.db import JsonType, Timestamp, metadata, upsert_insert
from keel.pricing.store import prices_t, skus_t

promotions_t = sa.Table(
    "pricing_promotions",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("document", JsonType, nullable=False),
    sa.Column("uses", sa.BigInteger, nullable=False),
    sa.Column("spent", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
coupons_t = sa.Table(
    "pricing_coupons",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("promotion", sa.String(64), nullable=False),
    sa.Column("max_uses", sa.Integer, nullable=True),
    sa.Column("uses", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index(None, "promotion"),
)
customer_uses_t = sa.Table(
    "pricing_customer_uses",
    metadata,
    sa.Column("promotion", sa.String(64), primary_key=True),
    sa.Column("customer", sa.String(128), primary_key=True),
    sa.Column("uses", sa.Integer, nullable=False),
)
revision_t = sa.Table(  # one row: bumped by every save and delete, in their transaction
    "pricing_promotion_revision",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
)
redeemed_t = sa.Table(  # one row per redeemed reference, whatever applied: a reference is counted once
    "pricing_redeemed",
    metadata,
    sa.Column("reference", sa.String(128), primary_key=True),
    sa.Column("at", Timestamp, nullable=False),
)
redemptions_t = sa.Table(
    "pricing_redemptions",
    metadata,
    sa.Column("reference", sa.String(128), primary_key=True),
    sa.Column("promotion", sa.String(64), primary_key=True),
    sa.Column("code", sa.String(64), nullable=True),
    sa.Column("customer", sa.String(128), nullable=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("at", Timestamp, nullable=False),
)


@dataclass(frozen=True)
class StoredPromotion:
    code: str
    document: dict[str, Any]
    uses: int
    spent: int
    updated_at: datetime


@dataclass(frozen=True)
class Coupon:
    code: str
    promotion: str
    max_uses: int | None
    uses: int


@dataclass(frozen=True)
class Redemption:
    promotion: str
    code: str | None
    amount: int
    currency: str  # the cart's currency when it was redeemed (a channel's currency may change since)


def version(conn: Connection) -> int:
    """What changes whenever a promotion is saved or deleted (a counter bumped in their transactions, so two
    writers cannot leave it unchanged as timestamps could): a cache of the documents checks it per cart."""
    found = conn.execute(sa.select(revision_t.c.revision).where(revision_t.c.id == 1)).scalar()
    return int(found or 0)


def _bump(conn: Connection) -> None:
    t = revision_t
    stmt = upsert_insert(conn, t).values(id=1, revision=1)
    conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={"revision": t.c.revision + 1}))


def promotions(conn: Connection) -> list[StoredPromotion]:
    rows = conn.execute(sa.select(promotions_t).order_by(promotions_t.c.code))
    return [StoredPromotion(r.code, r.document, r.uses, r.spent, r.updated_at) for r in rows]


def counters(conn: Connection, codes: Iterable[str]) -> dict[str, tuple[int, int]]:
    """promotion -> (uses, spent), for ``codes``."""
    query = sa.select(promotions_t.c.code, promotions_t.c.uses, promotions_t.c.spent)
    return {r.code: (r.uses, r.spent) for r in conn.execute(query.where(promotions_t.c.code.in_(sorted(codes))))}


def save(conn: Connection, code: str, document: dict[str, Any], now: datetime) -> None:
    """Insert or replace a promotion's document, keeping its counters."""
    stmt = upsert_insert(conn, promotions_t).values(code=code, document=document, uses=0, spent=0, updated_at=now)
    conn.execute(stmt.on_conflict_do_update(index_elements=["code"], set_={"document": document, "updated_at": now}))
    _bump(conn)


def delete(conn: Connection, code: str) -> bool:
    """Delete a promotion and its codes (its redemptions stay: they are history)."""
    conn.execute(coupons_t.delete().where(coupons_t.c.promotion == code))
    conn.execute(customer_uses_t.delete().where(customer_uses_t.c.promotion == code))
    gone = conn.execute(promotions_t.delete().where(promotions_t.c.code == code)).rowcount > 0
    _bump(conn)
    return gone


# -- coupons ------------------------------------------------------------------------------------------------
def add_coupons(conn: Connection, promotion: str, codes: Sequence[str], max_uses: int | None, now: datetime) -> int:
    """Insert the codes not stored yet; how many were new."""
    existing = set(conn.execute(sa.select(coupons_t.c.code).where(coupons_t.c.code.in_(codes))).scalars())
    rows = [
        {"code": c, "promotion": promotion, "max_uses": max_uses, "uses": 0, "created_at": now}
        for c in codes
        if c not in existing
    ]
    if rows:
        conn.execute(coupons_t.insert(), rows)
    return len(rows)


def coupons(conn: Connection, codes: Iterable[str]) -> dict[str, Coupon]:
    query = sa.select(coupons_t).where(coupons_t.c.code.in_(sorted(codes)))
    return {r.code: Coupon(r.code, r.promotion, r.max_uses, r.uses) for r in conn.execute(query)}


def coupon_page(conn: Connection, promotion: str, limit: int, offset: int) -> tuple[list[Coupon], int]:
    where = coupons_t.c.promotion == promotion
    total = conn.execute(sa.select(sa.func.count()).select_from(coupons_t).where(where)).scalar_one()
    rows = conn.execute(sa.select(coupons_t).where(where).order_by(coupons_t.c.code).limit(limit).offset(offset))
    return [Coupon(r.code, r.promotion, r.max_uses, r.uses) for r in rows], total


def customer_uses(conn: Connection, customer: str, promotions: Iterable[str]) -> dict[str, int]:
    t = customer_uses_t
    query = sa.select(t.c.promotion, t.c.uses).where(t.c.customer == customer, t.c.promotion.in_(sorted(promotions)))
    return {r.promotion: r.uses for r in conn.execute(query)}


# -- redemptions --------------------------------------------------------------------------------------------
def claim(conn: Connection, reference: str, now: datetime) -> bool:
    """Record ``reference`` as redeemed; False when it was (a concurrent claim waits for the first to end)."""
    stmt = upsert_insert(conn, redeemed_t).values(reference=reference, at=now).on_conflict_do_nothing()
    return conn.execute(stmt.returning(redeemed_t.c.reference)).first() is not None


def redeemed(conn: Connection, reference: str) -> list[Redemption]:
    query = sa.select(redemptions_t).where(redemptions_t.c.reference == reference).order_by(redemptions_t.c.promotion)
    return [Redemption(r.promotion, r.code, r.amount, r.currency) for r in conn.execute(query)]


def use_coupon(conn: Connection, code: str) -> bool:
    """Count one use of ``code`` if it has one left."""
    t = coupons_t
    limit = sa.or_(t.c.max_uses.is_(None), t.c.uses < t.c.max_uses)
    return conn.execute(t.update().where(t.c.code == code, limit).values(uses=t.c.uses + 1)).rowcount == 1


def use_promotion(conn: Connection, code: str, amount: int, usage_limit: int | None, budget: int | None) -> bool:
    """Count one use of promotion ``code`` giving ``amount``, if its usage limit and budget allow it."""
    t = promotions_t
    query = t.update().where(t.c.code == code)
    if usage_limit is not None:
        query = query.where(t.c.uses < usage_limit)
    if budget is not None:
        query = query.where(t.c.spent + amount <= budget)
    return conn.execute(query.values(uses=t.c.uses + 1, spent=t.c.spent + amount)).rowcount == 1


def use_by_customer(conn: Connection, promotion: str, customer: str, limit: int | None) -> bool:
    """Count one use of ``promotion`` by ``customer`` if they are below ``limit``."""
    t = customer_uses_t
    stmt = upsert_insert(conn, t).values(promotion=promotion, customer=customer, uses=1)
    set_ = {"uses": t.c.uses + 1}
    if limit is None:
        stmt = stmt.on_conflict_do_update(index_elements=["promotion", "customer"], set_=set_)
    else:
        stmt = stmt.on_conflict_do_update(index_elements=["promotion", "customer"], set_=set_, where=t.c.uses < limit)
    # RETURNING rather than rowcount: psycopg reports no row count for an INSERT ... ON CONFLICT here
    return conn.execute(stmt.returning(t.c.uses)).first() is not None


def record(conn: Connection, reference: str, customer: str | None, taken: Sequence[Redemption], now: datetime) -> None:
    rows = [
        {"reference": reference, "promotion": r.promotion, "code": r.code, "customer": customer,
         "currency": r.currency, "amount": r.amount, "at": now}
        for r in taken
    ]  # fmt: skip
    if rows:
        conn.execute(redemptions_t.insert(), rows)


# -- what a cart reads of the computed prices -----------------------------------------------------------------
@dataclass(frozen=True)
class ShelfPrice:
    """A SKU's published price in a market as a cart needs it: amount, floor, where it came from, its class."""

    amount: int
    compare_at: int | None
    floor: int
    price_list: str
    steps: list[dict[str, Any]]
    tax_class: str | None


def shelf_prices(conn: Connection, channel: str, country: str, skus: Sequence[str]) -> dict[str, ShelfPrice]:
    p, s = prices_t, skus_t
    query = (
        sa.select(p.c.sku, p.c.amount, p.c.compare_at, p.c.floor, p.c.price_list, p.c.steps, s.c.tax_class)
        .outerjoin(s, s.c.sku == p.c.sku)
        .where(p.c.channel == channel, p.c.country == country, p.c.sku.in_(sorted(set(skus))))
    )
    return {r[0]: ShelfPrice(*r[1:]) for r in conn.execute(query)}


def tax_classes(conn: Connection, skus: Sequence[str]) -> dict[str, str]:
    """The tax class of each of ``skus`` that has one stored."""
    query = sa.select(skus_t.c.sku, skus_t.c.tax_class).where(skus_t.c.sku.in_(sorted(set(skus))))
    return {r.sku: r.tax_class for r in conn.execute(query)}
