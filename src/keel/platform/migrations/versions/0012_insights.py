"""insights: the control tower's projections (sums per location, distinct SKUs per place, listing counts,
sales per channel, country, currency and day), kept by the tower projector

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insights_positions",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("incoming", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sku", "location", name=op.f("pk_insights_positions")),
    )
    op.create_index(op.f("ix_insights_positions_location"), "insights_positions", ["location"], unique=False)
    op.create_table(
        "insights_location_stock",
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("incoming", sa.BigInteger(), nullable=False),
        sa.Column("out_of_stock", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("location", name=op.f("pk_insights_location_stock")),
    )
    op.create_table(
        "insights_sku_presence",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("positions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("country", "region", "sku", name=op.f("pk_insights_sku_presence")),
    )
    op.create_table(
        "insights_sku_counts",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("skus", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("country", "region", name=op.f("pk_insights_sku_counts")),
    )
    op.create_table(
        "insights_listings",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("sourced", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "country", "sku", name=op.f("pk_insights_listings")),
    )
    op.create_table(
        "insights_listing_counts",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("sourced", sa.Integer(), nullable=False),
        sa.Column("zero", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "country", name=op.f("pk_insights_listing_counts")),
    )
    op.create_table(
        "insights_orders",
        sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount", sa.String(length=40), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_insights_orders")),
    )
    op.create_table(
        "insights_sales",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("amount", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("channel", "country", "currency", "day", name=op.f("pk_insights_sales")),
    )


def downgrade() -> None:
    for table in (
        "insights_sales",
        "insights_orders",
        "insights_listing_counts",
        "insights_listings",
        "insights_sku_counts",
        "insights_sku_presence",
    ):
        op.drop_table(table)
    op.drop_index(op.f("ix_insights_positions_location"), table_name="insights_positions")
    op.drop_table("insights_location_stock")
    op.drop_table("insights_positions")
