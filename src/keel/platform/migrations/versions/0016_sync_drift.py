"""channels: sync drift (differences read back from channels, each check) and per-channel health thresholds

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import keel.platform.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = keel.platform.db.Timestamp


def upgrade() -> None:
    op.create_table(
        "sync_drift",
        sa.Column("id", keel.platform.db.BigId, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("keel_quantity", sa.Integer(), nullable=True),
        sa.Column("channel_quantity", sa.Integer(), nullable=True),
        sa.Column("found_at", TS(), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_drift")),
    )
    op.create_index(op.f("ix_sync_drift_channel_id"), "sync_drift", ["channel", "id"], unique=False)
    op.create_table(
        "sync_drift_checks",
        sa.Column("id", keel.platform.db.BigId, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("at", TS(), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("corrected", sa.Integer(), nullable=False),
        sa.Column("adopted", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_drift_checks")),
    )
    op.create_index(op.f("ix_sync_drift_checks_channel_id"), "sync_drift_checks", ["channel", "id"], unique=False)
    op.create_table(
        "sync_thresholds",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("thresholds", JSON, nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_sync_thresholds")),
    )


def downgrade() -> None:
    for table in ("sync_thresholds", "sync_drift_checks", "sync_drift"):
        op.drop_table(table)
