"""Channel registry table."""

from __future__ import annotations

import sqlalchemy as sa

from keel.platform.db import JsonType, Timestamp, metadata

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("countries", JsonType, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("policy", JsonType, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)
