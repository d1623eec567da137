"""catalog: families, the category tree, products, variants, every product revision, compliance profiles,
channel targets and listing states

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import keel.platform.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "catalog_families",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_families")),
    )
    op.create_table(
        "catalog_profiles",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_profiles")),
    )
    op.create_table(
        "catalog_categories",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("parent", sa.String(length=64), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent"], ["catalog_categories.code"], name=op.f("fk_catalog_categories_parent_catalog_categories")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_categories")),
    )
    op.create_table(
        "catalog_products",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family"], ["catalog_families.code"], name=op.f("fk_catalog_products_family_catalog_families")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_products")),
    )
    op.create_index(op.f("ix_catalog_products_family_code"), "catalog_products", ["family", "code"], unique=False)
    op.create_table(
        "catalog_variants",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.ForeignKeyConstraint(
            ["product"], ["catalog_products.code"], name=op.f("fk_catalog_variants_product_catalog_products")
        ),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_catalog_variants")),
    )
    op.create_index(op.f("ix_catalog_variants_product"), "catalog_variants", ["product"], unique=False)
    op.create_index(op.f("ix_catalog_variants_gtin"), "catalog_variants", ["gtin"], unique=False)
    op.create_table(
        "catalog_revisions",
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["product"], ["catalog_products.code"], name=op.f("fk_catalog_revisions_product_catalog_products")
        ),
        sa.PrimaryKeyConstraint("product", "number", name=op.f("pk_catalog_revisions")),
    )
    op.create_index(op.f("ix_catalog_revisions_product_at"), "catalog_revisions", ["product", "at"], unique=False)
    op.create_table(
        "catalog_targets",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_catalog_targets")),
    )
    op.create_table(
        "catalog_listings",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "sku", name=op.f("pk_catalog_listings")),
    )
    op.create_index(op.f("ix_catalog_listings_product"), "catalog_listings", ["product"], unique=False)
    op.create_index(op.f("ix_catalog_listings_channel_state"), "catalog_listings", ["channel", "state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_catalog_listings_channel_state"), table_name="catalog_listings")
    op.drop_index(op.f("ix_catalog_listings_product"), table_name="catalog_listings")
    op.drop_table("catalog_listings")
    op.drop_table("catalog_targets")
    op.drop_index(op.f("ix_catalog_revisions_product_at"), table_name="catalog_revisions")
    op.drop_table("catalog_revisions")
    op.drop_index(op.f("ix_catalog_variants_gtin"), table_name="catalog_variants")
    op.drop_index(op.f("ix_catalog_variants_product"), table_name="catalog_variants")
    op.drop_table("catalog_variants")
    op.drop_index(op.f("ix_catalog_products_family_code"), table_name="catalog_products")
    op.drop_table("catalog_products")
    op.drop_table("catalog_categories")
    op.drop_table("catalog_profiles")
    op.drop_table("catalog_families")
