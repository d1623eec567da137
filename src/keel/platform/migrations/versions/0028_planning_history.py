"""planning history: daily demand imported from another system, for the days before Keel's ledger

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planning_history",
        sa.Column("location", sa.String(64), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("censored", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("planning_history")
