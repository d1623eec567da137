"""The catalog's tables."""

from __future__ import annotations

import sqlalchemy as sa

from keel.platform.db import JsonType, Timestamp, metadata

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


targets = sa.Table(
    "catalog_targets",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("document", JsonType, nullable=False),
    sa.Column("grp", sa.String(20), nullable=False),  # the listing group: equal for equal documents
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index(None, "grp"),
)

# A variant's listing, once per listing group (``channel`` empty: what every channel of the group shows) and,
# for a product that differs on one channel (an override, or a family requiring more there), that channel's
# own (``channel`` set): a channel's listing of a SKU is its own row when the product has one, else its group's.
listings = sa.Table(
    "catalog_listings",
    metadata,
    sa.Column("grp", sa.String(20), primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("product", sa.String(64), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("reasons", JsonType, nullable=False),
    sa.Column("payload", JsonType, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index(None, "product"),
    sa.Index(None, "channel", "product"),
    sa.Index(None, "grp", "channel", "state"),
)
