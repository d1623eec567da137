"""Geo tables: postal-code centroids, keyed by (country, normalised code); see ``keel.geo.model``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.geo.model import PostalCode
from keel.platform.db import Later, Timestamp, any_of, metadata, placeholder, send, upsert_insert

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

_CONTENT = ("display", "place", "latitude", "longitude", "source_rows")
_UPDATED = (*_CONTENT, "source", "imported_at")


def upsert_postal_codes(conn: Connection, codes: Sequence[PostalCode], source: str, now: datetime) -> dict[str, int]:
    """Insert new keys and replace known keys whose content differs; an identical row is left alone (its
    source and time kept). Returns, per country, how many rows were inserted or replaced."""
    if not codes:
        return {}
    stmt = upsert_insert(conn, postal_codes)
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["country", "postal_code"],
        set_={c: new[c] for c in _UPDATED},
        where=sa.or_(*(postal_codes.c[c].is_distinct_from(new[c]) for c in _CONTENT)),
    ).returning(postal_codes.c.country)  # rows inserted or replaced; unchanged ones return nothing
    changed: dict[str, int] = {}
    rows = [{**c.as_row(), "source": source, "imported_at": now} for c in codes]
    for country in conn.execute(stmt, rows).scalars():
        changed[country] = changed.get(country, 0) + 1
    return changed


def find_postal_codes(conn: Connection, country: str, keys: Sequence[str]) -> Later[dict[str, PostalCode]]:
    """The stored centroids of ``country`` among the normalised ``keys``, by key (on the driver's cursor and
    sent now, see ``Later``: order capture asks for every order, with the rest it needs)."""
    named, params = any_of(conn, "postal_code", keys)
    sql = (
        "SELECT country, postal_code, display, place, latitude, longitude, source_rows FROM postal_codes "
        f"WHERE country = {placeholder(conn)} AND {named}"
    )

    def take(cur: Any) -> dict[str, PostalCode]:
        return {
            code: PostalCode(ctry, code, display, place, float(lat), float(lon), int(rows))
            for ctry, code, display, place, lat, lon, rows in cur.fetchall()
        }

    return send(conn, sql, [country, *params], take)


def count_postal_codes(conn: Connection, country: str | None = None) -> int:
    """How many centroids are stored (of ``country``, already upper case)."""
    query = sa.select(sa.func.count()).select_from(postal_codes)
    if country:
        query = query.where(postal_codes.c.country == country)
    return int(conn.execute(query).scalar_one())
