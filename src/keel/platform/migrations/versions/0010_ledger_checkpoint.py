"""inventory: the ledger checkpoint retention folds old movements into (positions as of a ledger seq)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import keel.platform.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

QTY = ("on_hand", "available", "committed", "reserved", "safety_stock", "damaged", "quality_control", "incoming")


def upgrade() -> None:
    op.create_table(
        "ledger_checkpoint",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in QTY),
        sa.PrimaryKeyConstraint("sku", "location_id", name=op.f("pk_ledger_checkpoint")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("through_seq", sa.BigInteger(), nullable=False),
        sa.Column("folded", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_head")),
    )


def downgrade() -> None:
    op.drop_table("ledger_head")
    op.drop_table("ledger_checkpoint")
