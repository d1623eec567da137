"""fx: exchange rates per 1 EUR by day (the ECB reference rates)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import keel.platform.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=False),
        sa.Column("imported_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("day", "currency", name=op.f("pk_fx_rates")),
    )
    op.create_index(op.f("ix_fx_rates_currency_day"), "fx_rates", ["currency", "day"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_fx_rates_currency_day"), table_name="fx_rates")
    op.drop_table("fx_rates")
