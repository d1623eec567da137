"""planning: replenishment policies, planning runs and their purchase and transfer suggestions

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import keel.platform.db

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

TS = keel.platform.db.Timestamp
JSON = keel.platform.db.JsonType


def upgrade() -> None:
    op.create_table(
        "planning_policies",
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("location", sa.String(64), primary_key=True),
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("updated_at", TS(), nullable=False),
    )
    op.create_table(
        "planning_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("started_at", TS(), nullable=False),
        sa.Column("locations", sa.Integer(), nullable=False),
        sa.Column("series", sa.Integer(), nullable=False),
        sa.Column("suggestions", sa.Integer(), nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("superseded", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("forecast_seconds", sa.Float(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
    )
    op.create_table(
        "planning_suggestions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("location", sa.String(64), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("explanation", JSON, nullable=False),
        sa.Column("created_at", TS(), nullable=False),
        sa.Column("decided_at", TS(), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("received_at", TS(), nullable=True),
    )
    op.create_index("ix_planning_suggestions_status_location", "planning_suggestions", ["status", "location"])
    op.create_index("ix_planning_suggestions_sku_location", "planning_suggestions", ["sku", "location"])


def downgrade() -> None:
    op.drop_table("planning_suggestions")
    op.drop_table("planning_runs")
    op.drop_table("planning_policies")
