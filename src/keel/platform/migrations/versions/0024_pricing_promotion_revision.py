"""pricing: a revision counter of the promotions (what carts' caches check) and one row per redeemed reference

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 03:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import keel.platform.db

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TS = keel.platform.db.Timestamp


def upgrade() -> None:
    op.create_table(
        "pricing_promotion_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "pricing_redeemed",
        sa.Column("reference", sa.String(length=128), primary_key=True),
        sa.Column("at", TS(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pricing_redeemed")
    op.drop_table("pricing_promotion_revision")
