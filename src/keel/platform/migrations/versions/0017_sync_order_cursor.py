"""channels: where each channel's next order download starts

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_channels") as batch:
        batch.add_column(sa.Column("order_cursor", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_channels") as batch:
        batch.drop_column("order_cursor")
