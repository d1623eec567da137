"""geo: postal-code centroids, keyed by country and normalised code

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import keel.platform.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postal_codes",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("display", sa.String(length=40), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("source_rows", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("imported_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("country", "postal_code", name=op.f("pk_postal_codes")),
    )


def downgrade() -> None:
    op.drop_table("postal_codes")
