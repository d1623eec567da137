"""pricing: promotions with their counters, coupon codes, per-customer uses and redemptions

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import keel.platform.db

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = keel.platform.db.Timestamp


def upgrade() -> None:
    op.create_table(
        "pricing_promotions",
        sa.Column("code", sa.String(length=64), primary_key=True),
        sa.Column("document", JSON, nullable=False),
        sa.Column("uses", sa.BigInteger(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "pricing_coupons",
        sa.Column("code", sa.String(length=64), primary_key=True),
        sa.Column("promotion", sa.String(length=64), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("created_at", TS(), nullable=False),
    )
    op.create_index("ix_pricing_coupons_promotion", "pricing_coupons", ["promotion"])
    op.create_table(
        "pricing_customer_uses",
        sa.Column("promotion", sa.String(length=64), primary_key=True),
        sa.Column("customer", sa.String(length=128), primary_key=True),
        sa.Column("uses", sa.Integer(), nullable=False),
    )
    op.create_table(
        "pricing_redemptions",
        sa.Column("reference", sa.String(length=128), primary_key=True),
        sa.Column("promotion", sa.String(length=64), primary_key=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("customer", sa.String(length=128), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("at", TS(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pricing_redemptions")
    op.drop_table("pricing_customer_uses")
    op.drop_index("ix_pricing_coupons_promotion", table_name="pricing_coupons")
    op.drop_table("pricing_coupons")
    op.drop_table("pricing_promotions")
