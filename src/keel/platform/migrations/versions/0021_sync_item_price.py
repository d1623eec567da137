"""channels: the price of each synced listing, from the pricing engine's price.changed events

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 23:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_items") as batch:
        batch.add_column(sa.Column("price", sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_items") as batch:
        batch.drop_column("price")
