"""The inventory tables (SQLAlchemy Core) and the column orders the hand-written bulk statements use."""

from __future__ import annotations

import sqlalchemy as sa

from keel.platform.db import BigId, JsonType, Timestamp, metadata

locations = sa.Table(
    "locations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("region", sa.String(100), nullable=True),
    sa.Column("city", sa.String(100), nullable=True),
    sa.Column("latitude", sa.Float, nullable=True),
    sa.Column("longitude", sa.Float, nullable=True),
    sa.Column("capabilities", JsonType, nullable=False),
    sa.Column("daily_capacity", sa.Integer, nullable=True),  # units it can pick a day; null: its kind's default
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index(None, "country", "kind"),
)

location_groups = sa.Table(
    "location_groups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
)

location_group_members = sa.Table(
    "location_group_members",
    metadata,
    sa.Column("group_id", sa.Integer, sa.ForeignKey("location_groups.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("location_id", sa.Integer, sa.ForeignKey("locations.id"), primary_key=True),
)

# The ledger. No foreign key on location_id: the service validates every row before the batch insert,
# and a per-row FK probe would cost the hot path a B-tree lookup per movement.
movements = sa.Table(
    "movements",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=False),
    sa.Column("id", sa.String(128), nullable=False, unique=True),
    sa.Column("kind", sa.SmallInteger, nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("location_id", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("occurred_at", Timestamp, nullable=False),
    sa.Column("recorded_at", Timestamp, nullable=False),
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("reference", sa.String(200), nullable=True),
    # One secondary index serves SKU, SKU x location and (through the positions of a location) location
    # queries; a second (location_id, occurred_at) index cost the ledger write ~20 % of its throughput.
    sa.Index(None, "sku", "location_id", "occurred_at"),
)

QTY_COLUMNS = (
    "on_hand",
    "available",
    "committed",
    "reserved",
    "safety_stock",
    "damaged",
    "quality_control",
    "incoming",
)

positions = sa.Table(
    "positions",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("location_id", sa.Integer, primary_key=True),
    *(sa.Column(name, sa.Integer, nullable=False) for name in QTY_COLUMNS),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index(None, "location_id"),
    # Clustered on (sku, location_id): an upsert touches one B-tree instead of a rowid table plus its key.
    # On PostgreSQL migration 0011 leaves 30 % of each page free, so a position's update stays on its page
    # and touches neither index (a heap-only update).
    sqlite_with_rowid=False,
)

# The ledger checkpoint: each position's quantities after every movement up to ``ledger_head.through_seq``.
# Retention (``StockService.fold_history``) folds old movements into it before deleting them, so the
# positions can still be rebuilt: checkpoint + the movements after it (docs/twin.md, "How big it gets").
ledger_checkpoint = sa.Table(
    "ledger_checkpoint",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("location_id", sa.Integer, primary_key=True),
    *(sa.Column(name, sa.Integer, nullable=False) for name in QTY_COLUMNS),
    sqlite_with_rowid=False,
)

ledger_head = sa.Table(
    "ledger_head",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),  # one row, id 1
    sa.Column("through_seq", sa.BigInteger, nullable=False),
    sa.Column("folded", sa.BigInteger, nullable=False),  # movements deleted after folding, in total
    sa.Column("updated_at", Timestamp, nullable=False),
)

reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("location_id", sa.Integer, sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reference", sa.String(200), nullable=True),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("closed_at", Timestamp, nullable=True),
    sa.Index(None, "status", "expires_at"),
)

cycle_counts = sa.Table(
    "cycle_counts",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("location_id", sa.Integer, sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("book", sa.Integer, nullable=False),
    sa.Column("counted", sa.Integer, nullable=False),
    sa.Column("variance", sa.Integer, nullable=False),
    sa.Column("counted_at", Timestamp, nullable=False),
    sa.Index(None, "location_id", "sku"),
)

channel_availability = sa.Table(
    "channel_availability",
    metadata,
    sa.Column("channel_id", sa.Integer, primary_key=True),
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("backorder", sa.Boolean, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index(None, "sku"),
)

MOVEMENT_COLUMNS = (
    "seq",
    "id",
    "kind",
    "sku",
    "location_id",
    "quantity",
    "occurred_at",
    "recorded_at",
    "reason",
    "reference",
)
POSITION_COLUMNS = ("sku", "location_id", *QTY_COLUMNS, "updated_at")
CHECKPOINT_COLUMNS = ("sku", "location_id", *QTY_COLUMNS)
