"""inventory: room on every positions page for PostgreSQL's heap-only updates (fillfactor 70)

A ledger batch rewrites ~10,000 random positions. With full pages PostgreSQL puts each new row version on
another page and adds an entry to both of the table's indexes for it; with free room on the page the update
stays on the page (HOT) and no index is touched. Existing pages gain the room as they are rewritten (or at
once with ``VACUUM FULL positions`` in a maintenance window). SQLite updates in place: nothing to do there.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE positions SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE positions RESET (fillfactor)")
