"""initial schema: events, locations, ledger, positions, channels

Revision ID: 0001
Revises:
Create Date: 2026-11-22 06:20:10.383658
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import keel.platform.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_availability",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("backorder", sa.Boolean(), nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "country", "sku", name=op.f("pk_channel_availability")),
    )
    with op.batch_alter_table("channel_availability", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channel_availability_sku"), ["sku"], unique=False)

    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("countries", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("policy", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("code", name=op.f("uq_channels_code")),
    )
    op.create_table(
        "consumer_offsets",
        sa.Column("consumer", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_consumer_offsets")),
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("recorded_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_events")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_events_idempotency_key")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_source_occurred_at"), ["source", "occurred_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_type_seq"), ["type", "seq"], unique=False)

    op.create_table(
        "location_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_groups")),
        sa.UniqueConstraint("code", name=op.f("uq_location_groups_code")),
    )
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("capabilities", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("code", name=op.f("uq_locations_code")),
    )
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_locations_country_kind"), ["country", "kind"], unique=False)

    op.create_table(
        "movements",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("occurred_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("recorded_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_movements")),
        sa.UniqueConstraint("id", name=op.f("uq_movements_id")),
    )
    with op.batch_alter_table("movements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_movements_sku_location_id_occurred_at"),
            ["sku", "location_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "positions",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("committed", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("safety_stock", sa.Integer(), nullable=False),
        sa.Column("damaged", sa.Integer(), nullable=False),
        sa.Column("quality_control", sa.Integer(), nullable=False),
        sa.Column("incoming", sa.Integer(), nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("sku", "location_id", name=op.f("pk_positions")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_positions_location_id"), ["location_id"], unique=False)

    op.create_table(
        "cycle_counts",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("book", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("variance", sa.Integer(), nullable=False),
        sa.Column("counted_at", keel.platform.db.Timestamp(), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["locations.id"], name=op.f("fk_cycle_counts_location_id_locations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_counts")),
    )
    with op.batch_alter_table("cycle_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cycle_counts_location_id_sku"), ["location_id", "sku"], unique=False)

    op.create_table(
        "location_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["location_groups.id"],
            name=op.f("fk_location_group_members_group_id_location_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_location_group_members_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("group_id", "location_id", name=op.f("pk_location_group_members")),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("expires_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("created_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("closed_at", keel.platform.db.Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(["location_id"], ["locations.id"], name=op.f("fk_reservations_location_id_locations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reservations_status_expires_at"), ["status", "expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_status_expires_at"))

    op.drop_table("reservations")
    op.drop_table("location_group_members")
    with op.batch_alter_table("cycle_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cycle_counts_location_id_sku"))

    op.drop_table("cycle_counts")
    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_positions_location_id"))

    op.drop_table("positions")
    with op.batch_alter_table("movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_movements_sku_location_id_occurred_at"))

    op.drop_table("movements")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_locations_country_kind"))

    op.drop_table("locations")
    op.drop_table("location_groups")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_type_seq"))
        batch_op.drop_index(batch_op.f("ix_events_source_occurred_at"))

    op.drop_table("events")
    op.drop_table("consumer_offsets")
    op.drop_table("channels")
    with op.batch_alter_table("channel_availability", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_availability_sku"))

    op.drop_table("channel_availability")
