"""channels: the order facts of synced channels (placed, promised, shipped, delivered, cancelled, defect),
for the seller standards

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import keel.platform.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TS = keel.platform.db.Timestamp


def upgrade() -> None:
    op.create_table(
        "sync_order_facts",
        sa.Column("order_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("placed_at", TS(), nullable=False),
        sa.Column("promise_at", TS(), nullable=True),
        sa.Column("ship_by", TS(), nullable=False),
        sa.Column("shipped_at", TS(), nullable=True),
        sa.Column("tracking_valid", sa.Boolean(), nullable=True),
        sa.Column("delivered_at", TS(), nullable=True),
        sa.Column("cancelled_at", TS(), nullable=True),
        sa.Column("defect_at", TS(), nullable=True),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_sync_order_facts")),
    )
    # one index per metric's window column: every seller standard is an indexed range count
    for column in ("placed_at", "ship_by", "shipped_at", "delivered_at"):
        op.create_index(
            op.f(f"ix_sync_order_facts_channel_{column}"), "sync_order_facts", ["channel", column], unique=False
        )


def downgrade() -> None:
    op.drop_table("sync_order_facts")
