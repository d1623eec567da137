"""pricing: price lists and their prices, SKU costs and tax classes, tax rates, policies, computed prices

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import keel.platform.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = keel.platform.db.Timestamp


def upgrade() -> None:
    op.create_table(
        "pricing_lists",
        sa.Column("code", sa.String(length=64), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("customer_group", sa.String(length=64), nullable=True),
        sa.Column("valid_from", TS(), nullable=True),
        sa.Column("valid_to", TS(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "pricing_entries",
        sa.Column("list_code", sa.String(length=64), primary_key=True),
        sa.Column("sku", sa.String(length=64), primary_key=True),
        sa.Column("min_quantity", sa.Integer(), primary_key=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("compare_at", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_pricing_entries_sku", "pricing_entries", ["sku"])
    op.create_table(
        "pricing_skus",
        sa.Column("sku", sa.String(length=64), primary_key=True),
        sa.Column("cost_currency", sa.String(length=3), nullable=True),
        sa.Column("cost", sa.BigInteger(), nullable=True),
        sa.Column("tax_class", sa.String(length=32), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "pricing_tax_rates",
        sa.Column("country", sa.String(length=2), primary_key=True),
        sa.Column("tax_class", sa.String(length=32), primary_key=True),
        sa.Column("rate", sa.String(length=12), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "pricing_policies",
        sa.Column("scope", sa.String(length=64), primary_key=True),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "pricing_prices",
        sa.Column("channel", sa.String(length=64), primary_key=True),
        sa.Column("country", sa.String(length=2), primary_key=True),
        sa.Column("sku", sa.String(length=64), primary_key=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("compare_at", sa.BigInteger(), nullable=True),
        sa.Column("price_list", sa.String(length=64), nullable=False),
        sa.Column("floor", sa.BigInteger(), nullable=False),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("digest", sa.String(length=16), nullable=False),
        sa.Column("day_base", sa.BigInteger(), nullable=False),
        sa.Column("day_start", TS(), nullable=False),
        sa.Column("changed_at", TS(), nullable=False),
    )
    op.create_index("ix_pricing_prices_sku", "pricing_prices", ["sku"])


def downgrade() -> None:
    op.drop_index("ix_pricing_prices_sku", table_name="pricing_prices")
    op.drop_table("pricing_prices")
    op.drop_table("pricing_policies")
    op.drop_table("pricing_tax_rates")
    op.drop_table("pricing_skus")
    op.drop_index("ix_pricing_entries_sku", table_name="pricing_entries")
    op.drop_table("pricing_entries")
    op.drop_table("pricing_lists")
