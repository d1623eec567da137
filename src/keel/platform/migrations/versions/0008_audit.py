"""audit: the append-only audit log; events name their actor, path and request

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import keel.platform.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

APPEND_ONLY = "audit_log is append-only"


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("via", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("request_id", sa.String(length=40), nullable=True))
        batch.create_index(batch.f("ix_events_request_id"), ["request_id"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_actor_seq"), "audit_log", ["actor", "seq"], unique=False)
    # History cannot be rewritten through SQL either: UPDATE and DELETE are refused by the database.
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION keel_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION keel_audit_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION keel_audit_append_only()")
    op.drop_index(op.f("ix_audit_log_actor_seq"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")  # the SQLite triggers go with their table
    with op.batch_alter_table("events") as batch:
        batch.drop_index(batch.f("ix_events_request_id"))
        batch.drop_column("request_id")
        batch.drop_column("via")
        batch.drop_column("actor")
