"""Products, their variants and revisions."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.catalog.model import Change, Revision
from keel.catalog.store.bulk import append_rows
from keel.catalog.store.tables import products, revisions, variants
from keel.platform.db import locks_rows, to_micros


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


def sku_tags(conn: Connection, skus: Sequence[str]) -> dict[str, tuple[str | None, list[str]]]:
    """The brand and category codes of the product each of ``skus`` belongs to, for those stored."""
    found: dict[str, tuple[str | None, list[str]]] = {}
    ordered = sorted(set(skus))
    for start in range(0, len(ordered), 1000):
        query = (
            sa.select(variants.c.sku, products.c.document)
            .join(products, products.c.code == variants.c.product)
            .where(variants.c.sku.in_(ordered[start : start + 1000]))
        )
        for row in conn.execute(query):
            doc = row.document if isinstance(row.document, dict) else json.loads(row.document)
            found[row.sku] = (doc.get("brand") or None, list(doc.get("categories") or []))
    return found


LABEL_ATTRIBUTES = frozenset({"label", *(f"custom_label_{i}" for i in range(5))})


def skus_tagged(conn: Connection, categories: frozenset[str] | None, brand: str | None, label: str | None) -> list[str]:
    """The SKUs of the products in any of ``categories`` (codes, descendants included by the caller), of
    ``brand``, or carrying ``label`` as a value of a label attribute (``label``, ``custom_label_0``..``4``):
    each given criterion must hold. One pass over the products (an ad's product group is resolved on save)."""
    found: list[str] = []
    query = sa.select(variants.c.sku, products.c.document).join(products, products.c.code == variants.c.product)
    for row in conn.execute(query.order_by(variants.c.sku)):
        doc = row.document if isinstance(row.document, dict) else json.loads(row.document)
        if brand is not None and doc.get("brand") != brand:
            continue
        if categories is not None and not categories & set(doc.get("categories") or ()):
            continue
        if label is not None and not any(
            v.get("attribute") in LABEL_ATTRIBUTES and v.get("value") == label for v in doc.get("values") or ()
        ):
            continue
        found.append(row.sku)
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
    # each document serialised once for its row and its revision (as the JSON type would), and written by the
    # bulk path (executemany on SQLite, COPY on PostgreSQL): an import writes thousands per batch
    documents = {w.code: json.dumps(w.document) for w in writes}
    stamp = to_micros(now)
    fresh = [w for w in writes if w.revision == 1]
    known = [w for w in writes if w.revision > 1]
    rows = [(w.code, w.family, 1, documents[w.code], stamp) for w in fresh]
    append_rows(conn, products.name, ("code", "family", "revision", "document", "updated_at"), rows)
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
    skus = [(sku, w.code, gtin) for w in writes for sku, gtin in w.variants]
    append_rows(conn, variants.name, ("sku", "product", "gtin"), skus)
    columns = ("product", "number", "at", "author", "via", "source", "changes", "document")
    kept = [
        (w.code, w.revision, stamp, author, via, source, json.dumps([[c.path, c.before, c.after] for c in w.changes]),
         documents[w.code])
        for w in writes
    ]  # fmt: skip
    append_rows(conn, revisions.name, columns, kept)


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
