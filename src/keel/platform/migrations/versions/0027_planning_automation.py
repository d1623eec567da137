"""planning automation: a rule per country (schedule and acceptance guardrails) and the log of what it did

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import keel.platform.db

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

TS = keel.platform.db.Timestamp
JSON = keel.platform.db.JsonType
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "planning_automation",
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
        sa.Column("last_run_at", TS(), nullable=True),
        sa.Column("last_seq", BIG, nullable=False),
    )
    op.create_table(
        "planning_actions",
        sa.Column("id", BIG, primary_key=True, autoincrement=True),
        sa.Column("at", TS(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("suggestion_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
    )
    op.create_index("ix_planning_actions_country_at", "planning_actions", ["country", "at"])


def downgrade() -> None:
    op.drop_table("planning_actions")
    op.drop_table("planning_automation")
