"""The catalog's tables and every query on them.

A product is stored as its canonical JSON document (``catalog_products``) beside one row per variant
(``catalog_variants``: a SKU belongs to one product, database-enforced). Every revision keeps the changed
values and the whole document as it stood after the change, so reading a product as of a time is one
indexed lookup rather than a replay.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.catalog.model import Category, Change, Revision
from keel.platform.db import JsonType, Timestamp, locks_rows, metadata

families = sa.Table(
    "catalog_families",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("document", JsonType, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

profiles = sa.Table(  # user-defined compliance profiles (the shipped ones are files in the package)
    "catalog_profiles",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("document", JsonType, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

categories = sa.Table(
    "catalog_categories",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("parent", sa.String(64), sa.ForeignKey("catalog_categories.code"), nullable=True),
    sa.Column("label", sa.String(200), nullable=False),
)

products = sa.Table(
    "catalog_products",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("family", sa.String(64), sa.ForeignKey("catalog_families.code"), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("document", JsonType, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index(None, "family", "code"),
)

variants = sa.Table(
    "catalog_variants",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("product", sa.String(64), sa.ForeignKey("catalog_products.code"), nullable=False),
    sa.Column("gtin", sa.String(14), nullable=True),
    sa.Index(None, "product"),
    sa.Index(None, "gtin"),
)

revisions = sa.Table(
    "catalog_revisions",
    metadata,
    sa.Column("product", sa.String(64), sa.ForeignKey("catalog_products.code"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("via", sa.String(20), nullable=False),
    sa.Column("source", sa.String(80), nullable=False),
    sa.Column("changes", JsonType, nullable=False),
    sa.Column("document", JsonType, nullable=False),  # the product as it stood after this revision
    sa.Index(None, "product", "at"),
)


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


# -- products ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredProduct:
    code: str
    family: str
    revision: int
    document: dict[str, Any]
    updated_at: datetime


def _stored(row: Any) -> StoredProduct:
    return StoredProduct(row.code, row.family, row.revision, row.document, row.updated_at)


def lock_products(conn: Connection, codes: Sequence[str]) -> dict[str, StoredProduct]:
    """The stored products of ``codes``, locked until the transaction ends (PostgreSQL) so two writers of one
    product number their revisions one after the other."""
    found: dict[str, StoredProduct] = {}
    ordered = sorted(set(codes))
    for start in range(0, len(ordered), 1000):
        query = sa.select(products).where(products.c.code.in_(ordered[start : start + 1000]))
        if locks_rows(conn):
            query = query.with_for_update()
        found.update((row.code, _stored(row)) for row in conn.execute(query))
    return found


def product(conn: Connection, code: str) -> StoredProduct | None:
    row = conn.execute(sa.select(products).where(products.c.code == code)).first()
    return None if row is None else _stored(row)


def products_page(conn: Connection, family: str | None, limit: int, offset: int) -> tuple[list[StoredProduct], int]:
    """A page of products by code, of one family when given, and how many match."""
    where = [products.c.family == family] if family else []
    total = int(conn.execute(sa.select(sa.func.count()).select_from(products).where(*where)).scalar_one())
    query = sa.select(products).where(*where).order_by(products.c.code).limit(limit).offset(offset)
    return [_stored(r) for r in conn.execute(query)], total


def iter_products(conn: Connection, family: str | None = None, batch: int = 1000) -> Iterator[StoredProduct]:
    """Every product by code, fetched ``batch`` at a time (keyset pagination: memory stays flat)."""
    after = ""
    while True:
        where = [products.c.code > after] + ([products.c.family == family] if family else [])
        rows = conn.execute(sa.select(products).where(*where).order_by(products.c.code).limit(batch)).all()
        if not rows:
            return
        for row in rows:
            yield _stored(row)
        after = rows[-1].code


def sku_owners(conn: Connection, skus: Sequence[str]) -> dict[str, str]:
    """The product each of ``skus`` belongs to, for those stored."""
    found: dict[str, str] = {}
    ordered = sorted(set(skus))
    for start in range(0, len(ordered), 1000):
        query = sa.select(variants.c.sku, variants.c.product).where(variants.c.sku.in_(ordered[start : start + 1000]))
        found.update((row.sku, row.product) for row in conn.execute(query))
    return found


@dataclass(frozen=True)
class ProductWrite:
    """One product's new state and the revision that records it."""

    code: str
    family: str
    document: dict[str, Any]
    revision: int
    changes: tuple[Change, ...]
    variants: tuple[tuple[str, str | None], ...]  # (sku, gtin)


def write_products(
    conn: Connection, writes: Sequence[ProductWrite], *, now: datetime, author: str, via: str, source: str
) -> None:
    """Store new and changed products, their variants and one revision each."""
    if not writes:
        return
    fresh = [w for w in writes if w.revision == 1]
    known = [w for w in writes if w.revision > 1]
    if fresh:
        conn.execute(
            products.insert(),
            [
                {"code": w.code, "family": w.family, "revision": 1, "document": w.document, "updated_at": now}
                for w in fresh
            ],
        )
    if known:
        stmt = (
            products.update()
            .where(products.c.code == sa.bindparam("b_code"))
            .values(
                family=sa.bindparam("b_family"),
                revision=sa.bindparam("b_revision"),
                document=sa.bindparam("b_document"),
                updated_at=now,
            )
        )
        conn.execute(
            stmt,
            [
                {"b_code": w.code, "b_family": w.family, "b_revision": w.revision, "b_document": w.document}
                for w in known
            ],
        )
        codes = [w.code for w in known]
        for start in range(0, len(codes), 1000):
            conn.execute(variants.delete().where(variants.c.product.in_(codes[start : start + 1000])))
    rows = [{"sku": sku, "product": w.code, "gtin": gtin} for w in writes for sku, gtin in w.variants]
    if rows:
        conn.execute(variants.insert(), rows)
    conn.execute(
        revisions.insert(),
        [
            {
                "product": w.code,
                "number": w.revision,
                "at": now,
                "author": author,
                "via": via,
                "source": source,
                "changes": [[c.path, c.before, c.after] for c in w.changes],
                "document": w.document,
            }
            for w in writes
        ],
    )


# -- revisions --------------------------------------------------------------------------------------------------
def _revision(row: Any) -> Revision:
    changes = tuple(Change(path, before, after) for path, before, after in row.changes)
    return Revision(row.product, row.number, row.at, row.author, row.via, row.source, changes)


_REVISION_COLUMNS = [c for c in revisions.c if c.name != "document"]


def revisions_page(conn: Connection, code: str, limit: int, offset: int) -> tuple[list[Revision], int]:
    """A product's revisions, newest first, and how many it has."""
    t = revisions
    total = int(conn.execute(sa.select(sa.func.count()).where(t.c.product == code)).scalar_one())
    query = sa.select(*_REVISION_COLUMNS).where(t.c.product == code).order_by(t.c.number.desc())
    return [_revision(r) for r in conn.execute(query.limit(limit).offset(offset))], total


def revision_document(conn: Connection, code: str, number: int) -> tuple[Revision, dict[str, Any]] | None:
    """One revision and the product's document as it stood after it."""
    t = revisions
    row = conn.execute(sa.select(t).where(t.c.product == code, t.c.number == number)).first()
    return None if row is None else (_revision(row), row.document)


def document_as_of(conn: Connection, code: str, at: datetime) -> tuple[Revision, dict[str, Any]] | None:
    """The newest revision of a product made at or before ``at``, and its document."""
    t = revisions
    query = sa.select(t).where(t.c.product == code, t.c.at <= at).order_by(t.c.number.desc()).limit(1)
    row = conn.execute(query).first()
    return None if row is None else (_revision(row), row.document)


# -- syndication --------------------------------------------------------------------------------------------------
targets = sa.Table(
    "catalog_targets",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("document", JsonType, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

listings = sa.Table(
    "catalog_listings",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("product", sa.String(64), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("reasons", JsonType, nullable=False),
    sa.Column("payload", JsonType, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index(None, "product"),
    sa.Index(None, "channel", "state"),
)


def target_documents(conn: Connection) -> dict[str, dict[str, Any]]:
    rows = conn.execute(sa.select(targets.c.channel, targets.c.document).order_by(targets.c.channel))
    return {row.channel: row.document for row in rows}


def save_target(conn: Connection, channel: str, document: dict[str, Any], now: datetime) -> bool:
    """Insert or replace a channel's target; False when it was stored the same already."""
    have = conn.execute(sa.select(targets.c.document).where(targets.c.channel == channel)).scalar_one_or_none()
    if have == document:
        return False
    if have is None:
        conn.execute(targets.insert().values(channel=channel, document=document, updated_at=now))
    else:
        conn.execute(targets.update().where(targets.c.channel == channel).values(document=document, updated_at=now))
    return True


@dataclass(frozen=True)
class StoredListing:
    channel: str
    sku: str
    product: str
    state: str
    reasons: list[list[str]]
    payload: dict[str, Any]
    revision: int
    updated_at: datetime


def _listing(row: Any) -> StoredListing:
    return StoredListing(
        row.channel, row.sku, row.product, row.state, row.reasons, row.payload, row.revision, row.updated_at
    )


def listings_of(
    conn: Connection, products: Sequence[str], channel: str | None = None
) -> dict[tuple[str, str], StoredListing]:
    """The stored listings of ``products`` (on one channel when given), by (channel, sku)."""
    found: dict[tuple[str, str], StoredListing] = {}
    ordered = sorted(set(products))
    for start in range(0, len(ordered), 1000):
        query = sa.select(listings).where(listings.c.product.in_(ordered[start : start + 1000]))
        if channel is not None:
            query = query.where(listings.c.channel == channel)
        found.update(((row.channel, row.sku), _listing(row)) for row in conn.execute(query))
    return found


def save_listings(conn: Connection, rows: Sequence[StoredListing], gone: Sequence[tuple[str, str]]) -> None:
    """Replace the listings of ``rows``' (channel, sku) and delete those of ``gone``."""
    keys = [(r.channel, r.sku) for r in rows] + list(gone)
    t = listings
    stmt = t.delete().where(t.c.channel == sa.bindparam("b_channel"), t.c.sku == sa.bindparam("b_sku"))
    for start in range(0, len(keys), 1000):
        conn.execute(stmt, [{"b_channel": c, "b_sku": s} for c, s in keys[start : start + 1000]])
    if rows:
        conn.execute(
            t.insert(),
            [
                {
                    "channel": r.channel,
                    "sku": r.sku,
                    "product": r.product,
                    "state": r.state,
                    "reasons": r.reasons,
                    "payload": r.payload,
                    "revision": r.revision,
                    "updated_at": r.updated_at,
                }
                for r in rows
            ],
        )


def listings_page(
    conn: Connection, channel: str | None, state: str | None, limit: int, offset: int
) -> tuple[list[StoredListing], int]:
    """A page of listings by channel then SKU, filtered by channel and state, and how many match."""
    where = [
        c
        for c in (listings.c.channel == channel if channel else None, listings.c.state == state if state else None)
        if c is not None
    ]
    total = int(conn.execute(sa.select(sa.func.count()).select_from(listings).where(*where)).scalar_one())
    query = sa.select(listings).where(*where).order_by(listings.c.channel, listings.c.sku).limit(limit).offset(offset)
    return [_listing(r) for r in conn.execute(query)], total


def state_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Listings per channel and state."""
    t = listings
    rows = conn.execute(sa.select(t.c.channel, t.c.state, sa.func.count()).group_by(t.c.channel, t.c.state))
    out: dict[str, dict[str, int]] = {}
    for channel, state, n in rows:
        out.setdefault(channel, {})[state] = int(n)
    return out


def blocked_reasons(conn: Connection, channel: str, limit: int = 100_000) -> Iterator[list[list[str]]]:
    """The reasons of a channel's blocked listings (at most ``limit``), to count the top ones."""
    t = listings
    query = sa.select(t.c.reasons).where(t.c.channel == channel, t.c.state == "blocked").limit(limit)
    for row in conn.execute(query):
        yield row.reasons
