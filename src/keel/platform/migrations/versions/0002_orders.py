"""orders: orders, lines, shipments and their lines, timeline, returns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:05:53.333134
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import keel.platform.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("fulfilment", sa.String(length=16), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("customer_email", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("geocoded", sa.String(length=16), nullable=False),
        sa.Column("pickup_location", sa.String(length=64), nullable=True),
        sa.Column("promise_at", keel.platform.db.Timestamp(), nullable=True),
        sa.Column(
            "excluded_nodes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "routing", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("channel", "external_id", name=op.f("uq_orders_channel_external_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_status_created_at"), ["status", "created_at"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.String(length=20), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("backordered", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")),
        sa.PrimaryKeyConstraint("order_id", "line_no", name=op.f("pk_order_lines")),
    )
    op.create_table(
        "order_returns",
        sa.Column("rma", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("refund_status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("location", sa.String(length=64), nullable=True),
        sa.Column("created_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("received_at", keel.platform.db.Timestamp(), nullable=True),
        sa.Column("refunded_at", keel.platform.db.Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_returns_order_id_orders")),
        sa.PrimaryKeyConstraint("rma", name=op.f("pk_order_returns")),
    )
    with op.batch_alter_table("order_returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_returns_order_id"), ["order_id"], unique=False)

    op.create_table(
        "order_shipments",
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=True),
        sa.Column("tracking_number", sa.String(length=100), nullable=True),
        sa.Column("created_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("updated_at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("shipped_at", keel.platform.db.Timestamp(), nullable=True),
        sa.Column("delivered_at", keel.platform.db.Timestamp(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_shipments_order_id_orders")),
        sa.PrimaryKeyConstraint("order_id", "number", name=op.f("pk_order_shipments")),
    )
    with op.batch_alter_table("order_shipments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_shipments_location_created_at"), ["location", "created_at"], unique=False
        )

    op.create_table(
        "order_timeline",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("at", keel.platform.db.Timestamp(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column(
            "data", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_order_timeline_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_timeline")),
    )
    with op.batch_alter_table("order_timeline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_timeline_order_id_id"), ["order_id", "id"], unique=False)

    op.create_table(
        "order_return_lines",
        sa.Column("rma", sa.String(length=40), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["rma"], ["order_returns.rma"], name=op.f("fk_order_return_lines_rma_order_returns")),
        sa.PrimaryKeyConstraint("rma", "line_no", name=op.f("pk_order_return_lines")),
    )
    op.create_table(
        "order_shipment_lines",
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id", "number"],
            ["order_shipments.order_id", "order_shipments.number"],
            name=op.f("fk_order_shipment_lines_order_id_order_shipments"),
        ),
        sa.PrimaryKeyConstraint("order_id", "number", "line_no", name=op.f("pk_order_shipment_lines")),
    )


def downgrade() -> None:
    op.drop_table("order_shipment_lines")
    op.drop_table("order_return_lines")
    with op.batch_alter_table("order_timeline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_timeline_order_id_id"))

    op.drop_table("order_timeline")
    with op.batch_alter_table("order_shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_shipments_location_created_at"))

    op.drop_table("order_shipments")
    with op.batch_alter_table("order_returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_returns_order_id"))

    op.drop_table("order_returns")
    op.drop_table("order_lines")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_status_created_at"))
        batch_op.drop_index(batch_op.f("ix_orders_created_at"))

    op.drop_table("orders")
