"""media: ad accounts, campaigns, ad groups, ads and their SKUs; the desired state of each object on its
platform (the action outbox), rules, the action log, stock and pause intervals, performance rows

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import keel.platform.db

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

TS = keel.platform.db.Timestamp
JSON = keel.platform.db.JsonType
BIG_ID = keel.platform.db.BigId


def upgrade() -> None:
    op.create_table(
        "media_accounts",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("token", sa.String(500), nullable=True),
        sa.Column("guardrails", JSON, nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "media_campaigns",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("account", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("store", sa.String(64), nullable=True),
        sa.Column("radius_km", sa.Float(), nullable=True),
        sa.Column("daily_budget", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "media_ad_groups",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("campaign", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("default_bid", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "media_ads",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("ad_group", sa.String(64), nullable=False, index=True),
        sa.Column("campaign", sa.String(64), nullable=False, index=True),
        sa.Column("target", JSON, nullable=False),
        sa.Column("bid", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "media_ad_skus",
        sa.Column("ad", sa.String(64), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True, index=True),
    )
    op.create_table(
        "media_states",
        sa.Column("level", sa.String(16), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bid", sa.BigInteger(), nullable=True),
        sa.Column("budget", sa.BigInteger(), nullable=True),
        sa.Column("held_by", JSON, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("sent_version", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", TS(), nullable=False),
        sa.Column("dead", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("drift", JSON, nullable=True),
        sa.Column("changed_at", TS(), nullable=False),
        sa.Column("sent_at", TS(), nullable=True),
    )
    op.create_index("ix_media_states_account_next_at", "media_states", ["account", "next_at"])
    op.create_table(
        "media_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "media_leases",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("until", TS(), nullable=False),
    )
    op.create_table(
        "media_rules",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("document", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "media_guardrails",
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("document", JSON, nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "media_actions",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("at", TS(), nullable=False, index=True),
        sa.Column("rule", sa.String(100), nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False, index=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("before", JSON, nullable=False),
        sa.Column("after", JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("numbers", JSON, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=True),
        sa.Column("caused_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(128), nullable=True),
    )
    op.create_table(
        "media_stock",
        sa.Column("ad", sa.String(64), primary_key=True),
        sa.Column("sellable", sa.BigInteger(), nullable=False),
        sa.Column("cover_days", sa.Float(), nullable=True),
        sa.Column("since", TS(), nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "media_intervals",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("ad", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(100), nullable=True),
        sa.Column("start", TS(), nullable=False),
        sa.Column("end", TS(), nullable=True),
    )
    op.create_table(
        "media_performance",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("hour", sa.SmallInteger(), primary_key=True),
        sa.Column("ad", sa.String(64), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("campaign", sa.String(64), nullable=False, index=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("orders_7d", sa.BigInteger(), nullable=False),
        sa.Column("units_7d", sa.BigInteger(), nullable=False),
        sa.Column("sales_7d", sa.BigInteger(), nullable=False),
        sa.Column("orders_14d", sa.BigInteger(), nullable=False),
        sa.Column("units_14d", sa.BigInteger(), nullable=False),
        sa.Column("sales_14d", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_media_performance_sku", "media_performance", ["sku"])


def downgrade() -> None:
    for table in (
        "media_performance", "media_intervals", "media_stock", "media_actions", "media_guardrails", "media_rules",
        "media_leases", "media_revision", "media_states", "media_ad_skus", "media_ads", "media_ad_groups",
        "media_campaigns", "media_accounts",
    ):  # fmt: skip
        op.drop_table(table)
