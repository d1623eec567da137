"""The product list's search: filters over products, their variants and their listings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.catalog.store.content import StoredProduct, _stored
from keel.catalog.store.syndication import by_channel
from keel.catalog.store.tables import products, variants


def _quoted(text: str) -> str:
    """``text`` as a whole JSON string inside a serialised document: it matches one element exactly, whatever
    separators the database's JSON text uses."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search_products(
    conn: Connection,
    *,
    family: str | None,
    brand: str | None,
    text: str | None,
    blocked_on: str | None,
    missing: str | None,
    rule: str | None,
    channels: frozenset[str] | None,
    limit: int,
    offset: int,
) -> tuple[list[StoredProduct], int]:
    """A page of products by code matching every filter given, and how many match. The listing filters
    (``blocked_on``, ``missing``, ``rule``) look only at blocked listings of ``channels`` (a restricted
    caller's) when given."""
    p = products
    where: list[Any] = []
    if family:
        where.append(p.c.family == family)
    if brand:
        where.append(p.c.document["brand"].as_string() == brand)
    if text:
        by_variant = sa.select(variants.c.product).where(
            sa.or_(variants.c.sku.icontains(text, autoescape=True), variants.c.gtin == text)
        )
        document = sa.cast(p.c.document, sa.Text)
        # SQLite keeps JSON as text with non-ASCII characters escaped (ü as \u00fc); PostgreSQL as they are
        escaped = json.dumps(text)[1:-1]
        where.append(
            sa.or_(
                p.c.code.icontains(text, autoescape=True),
                p.c.code.in_(by_variant),
                document.icontains(text, autoescape=True),
                *([document.icontains(escaped, autoescape=True)] if escaped != text else []),
            )
        )
    if blocked_on or missing or rule:
        t = by_channel()
        blocked = [t.c.state == "blocked"]
        if blocked_on:
            blocked.append(t.c.channel == blocked_on)
        if channels is not None:
            blocked.append(t.c.channel.in_(sorted(channels)))
        reasons = sa.cast(t.c.reasons, sa.Text)
        if missing:
            blocked.append(
                sa.or_(
                    reasons.contains(_quoted(f"family:required:{missing}"), autoescape=True),
                    reasons.contains(_quoted(f"{missing}-required"), autoescape=True),
                )
            )
        if rule:
            blocked.append(reasons.contains(_quoted(rule), autoescape=True))
        # an uncorrelated IN, read once: a correlated EXISTS made SQLite scan a channel's blocked listings
        # once per product
        where.append(p.c.code.in_(sa.select(t.c.product).where(*blocked)))
    total = int(conn.execute(sa.select(sa.func.count()).select_from(p).where(*where)).scalar_one())
    query = sa.select(p).where(*where).order_by(p.c.code).limit(limit).offset(offset)
    return [_stored(r) for r in conn.execute(query)], total


def brands(conn: Connection, limit: int = 500) -> list[str]:
    """The brands products name (at most ``limit``), for a filter's choices."""
    brand = products.c.document["brand"].as_string()
    query = sa.select(brand).where(brand.is_not(None)).distinct().order_by(brand).limit(limit)
    return [row[0] for row in conn.execute(query)]


def product_listings(conn: Connection, codes: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """The (channel, state) of each listing of ``codes``' variants, by product."""
    t = by_channel()
    found: dict[str, list[tuple[str, str]]] = {}
    for row in conn.execute(sa.select(t.c.product, t.c.channel, t.c.state).where(t.c.product.in_(sorted(codes)))):
        found.setdefault(row.product, []).append((row.channel, row.state))
    return found
