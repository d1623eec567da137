"""catalog: listings stored once per listing group (channels with equal targets), a channel's own rows only
where a product differs on it

A target's group is a digest of its document; the existing targets get theirs here. The existing listings are
kept, each as its channel's own row, which is a correct state (a channel's own row wins over its group's);
a product's next write stores it once per group.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 17:00:00
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import keel.platform.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
COLUMNS = "sku, product, state, reasons, payload, revision, updated_at"


def _group(document: dict[str, object]) -> str:
    # the same digest as keel.catalog.model.listings.group_of (a migration keeps its own copy: it must not
    # change when the model does)
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "g" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _listings(grouped: bool) -> None:
    keys = ["grp", "channel", "sku"] if grouped else ["channel", "sku"]
    op.create_table(
        "catalog_listings",
        *([sa.Column("grp", sa.String(length=20), nullable=False)] if grouped else []),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint(*keys, name=op.f("pk_catalog_listings")),
    )
    op.create_index(op.f("ix_catalog_listings_product"), "catalog_listings", ["product"], unique=False)
    if grouped:
        op.create_index(
            op.f("ix_catalog_listings_channel_product"), "catalog_listings", ["channel", "product"], unique=False
        )
        op.create_index(
            op.f("ix_catalog_listings_grp_channel_state"), "catalog_listings", ["grp", "channel", "state"], unique=False
        )
    else:
        op.create_index(
            op.f("ix_catalog_listings_channel_state"), "catalog_listings", ["channel", "state"], unique=False
        )


def _set_aside() -> None:
    """Copy the listings to a plain table and drop the original (its constraint and index names are reused)."""
    op.execute("CREATE TABLE catalog_listings_copy AS SELECT * FROM catalog_listings")
    op.drop_table("catalog_listings")


def upgrade() -> None:
    with op.batch_alter_table("catalog_targets") as batch:
        batch.add_column(sa.Column("grp", sa.String(length=20), nullable=True))
    targets = sa.table("catalog_targets", sa.column("channel", sa.String), sa.column("document", JSON),
                       sa.column("grp", sa.String))  # fmt: skip
    conn = op.get_bind()
    for channel, document in conn.execute(sa.select(targets.c.channel, targets.c.document)).all():
        conn.execute(targets.update().where(targets.c.channel == channel).values(grp=_group(document)))
    with op.batch_alter_table("catalog_targets") as batch:
        batch.alter_column("grp", existing_type=sa.String(length=20), nullable=False)
        batch.create_index(batch.f("ix_catalog_targets_grp"), ["grp"], unique=False)
    _set_aside()
    _listings(grouped=True)
    op.execute(
        f"INSERT INTO catalog_listings (grp, channel, {COLUMNS}) SELECT t.grp, l.channel, "
        + ", ".join(f"l.{c.strip()}" for c in COLUMNS.split(","))
        + " FROM catalog_listings_copy l JOIN catalog_targets t ON t.channel = l.channel"
    )
    op.drop_table("catalog_listings_copy")


def downgrade() -> None:
    _set_aside()
    _listings(grouped=False)
    picked = ", ".join(f"l.{c.strip()}" for c in COLUMNS.split(","))
    op.execute(  # a channel's own rows, then its group's for the products it has none of
        f"INSERT INTO catalog_listings (channel, {COLUMNS}) SELECT l.channel, {picked}"
        " FROM catalog_listings_copy l WHERE l.channel <> ''"
    )
    op.execute(
        f"INSERT INTO catalog_listings (channel, {COLUMNS}) SELECT t.channel, {picked}"
        " FROM catalog_listings_copy l JOIN catalog_targets t ON t.grp = l.grp WHERE l.channel = ''"
        " AND NOT EXISTS (SELECT 1 FROM catalog_listings_copy o WHERE o.channel = t.channel AND o.product = l.product)"
    )
    op.drop_table("catalog_listings_copy")
    with op.batch_alter_table("catalog_targets") as batch:
        batch.drop_index(batch.f("ix_catalog_targets_grp"))
        batch.drop_column("grp")
