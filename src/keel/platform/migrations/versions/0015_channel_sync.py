"""channels: the sync engine (desired state per channel, country and SKU; connector settings and leases;
workers; one row per request sent)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import keel.platform.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = keel.platform.db.Timestamp


def upgrade() -> None:
    op.create_table(
        "sync_channels",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("connector", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("not_before", TS(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", TS(), nullable=True),
        sa.Column("updated_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_sync_channels")),
    )
    op.create_table(
        "sync_items",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("content", sa.String(length=100), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("pushed_version", sa.BigInteger(), nullable=False),
        sa.Column("pushed_quantity", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", TS(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("changed_at", TS(), nullable=False),
        sa.Column("pushed_at", TS(), nullable=True),
        sa.PrimaryKeyConstraint("channel", "country", "sku", name=op.f("pk_sync_items")),
    )
    op.create_index(
        op.f("ix_sync_items_channel_state_due_at"), "sync_items", ["channel", "state", "due_at"], unique=False
    )
    op.create_table(
        "sync_workers",
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("seen_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_sync_workers")),
    )
    op.create_table(
        "sync_pushes",
        sa.Column("id", keel.platform.db.BigId, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("at", TS(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("lags_ms", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_pushes")),
    )
    op.create_index(op.f("ix_sync_pushes_at"), "sync_pushes", ["at"], unique=False)


def downgrade() -> None:
    for table in ("sync_pushes", "sync_workers", "sync_items", "sync_channels"):
        op.drop_table(table)
