"""pricing: competitors' observed prices per (competitor, country, SKU), read by the competitor rule

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import keel.platform.db

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TS = keel.platform.db.Timestamp


def upgrade() -> None:
    op.create_table(
        "pricing_competitor_prices",
        sa.Column("competitor", sa.String(length=64), primary_key=True),
        sa.Column("country", sa.String(length=2), primary_key=True),
        sa.Column("sku", sa.String(length=64), primary_key=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("observed_at", TS(), nullable=False),
    )
    op.create_index("ix_pricing_competitor_prices_sku", "pricing_competitor_prices", ["sku"])


def downgrade() -> None:
    op.drop_index("ix_pricing_competitor_prices_sku", table_name="pricing_competitor_prices")
    op.drop_table("pricing_competitor_prices")
