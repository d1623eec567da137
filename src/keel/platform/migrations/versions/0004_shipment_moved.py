"""orders: units a wave re-planned to another shipment; an index to find backordered lines

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_shipment_lines") as batch:
        batch.add_column(sa.Column("moved", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("order_lines") as batch:
        batch.create_index(batch.f("ix_order_lines_backordered"), ["backordered"], unique=False)


def downgrade() -> None:
    # Lossy: shipments a wave closed keep the status "replanned", which code before 0004 does not know.
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_index(batch.f("ix_order_lines_backordered"))
    with op.batch_alter_table("order_shipment_lines") as batch:
        batch.drop_column("moved")
