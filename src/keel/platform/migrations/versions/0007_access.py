"""access: identities (people and service accounts), API tokens and web sessions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import keel.platform.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("channels", sa.Text(), nullable=True),
        sa.Column("countries", sa.Text(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint("name", name=op.f("uq_identities_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=True),
        sa.Column("created_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("expires_at", keel.platform.db.Timestamp(), nullable=True),
        sa.Column("revoked_at", keel.platform.db.Timestamp(), nullable=True),
        sa.Column("last_used_at", keel.platform.db.Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(["identity_id"], ["identities.id"], name=op.f("fk_api_tokens_identity_id_identities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
    )
    op.create_index(op.f("ix_api_tokens_identity_id"), "api_tokens", ["identity_id"])
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("expires_at", keel.platform.db.Timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["identities.id"], name=op.f("fk_web_sessions_identity_id_identities")
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_identity_id"), "web_sessions", ["identity_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_sessions_identity_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_api_tokens_identity_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("identities")
