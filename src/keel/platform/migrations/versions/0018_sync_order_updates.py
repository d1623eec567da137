"""channels: the outbox of order updates owed to channels (shipments, cancellations, refunds)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import keel.platform.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = keel.platform.db.Timestamp


def upgrade() -> None:
    op.create_table(
        "sync_order_updates",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("lines", JSON, nullable=False),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("tracking", sa.String(length=100), nullable=True),
        sa.Column("amount", sa.String(length=30), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", TS(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TS(), nullable=False),
        sa.Column("sent_at", TS(), nullable=True),
        sa.PrimaryKeyConstraint("channel", "key", name=op.f("pk_sync_order_updates")),
    )
    op.create_index(
        op.f("ix_sync_order_updates_channel_state_due_at"),
        "sync_order_updates",
        ["channel", "state", "due_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("sync_order_updates")
