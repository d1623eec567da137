"""Geo tables: postal-code centroids, keyed by (country, normalised code); see ``keel.geo.model``."""

from __future__ import annotations

import sqlalchemy as sa

from keel.platform.db import Timestamp, metadata

postal_codes = sa.Table(
    "postal_codes",
    metadata,
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("postal_code", sa.String(20), primary_key=True),  # normalised: upper case, no spaces or hyphens
    sa.Column("display", sa.String(40), nullable=False),  # as first written in the source
    sa.Column("place", sa.String(200), nullable=True),
    sa.Column("latitude", sa.Float, nullable=False),
    sa.Column("longitude", sa.Float, nullable=False),
    sa.Column("source_rows", sa.Integer, nullable=False),  # rows of the source averaged into this centroid
    sa.Column("source", sa.String(80), nullable=False),  # the file name, or "sim" for the retail twin
    sa.Column("imported_at", Timestamp, nullable=False),
)
