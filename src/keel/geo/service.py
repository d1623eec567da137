"""Postal-code centroids: import (validated, averaged, upserted all-or-nothing) and look-up."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from keel.geo import store
from keel.geo.model import PostalCode, PostalCodeReader, display_form, lookup_keys, problems
from keel.platform.clock import utcnow
from keel.platform.db import Database, upsert_insert
from keel.platform.errors import NotFound, ValidationFailed, single_field
from keel.platform.events import EventLog, NewEvent
from keel.platform.geo import COUNTRIES

SOURCE = "geo"
BATCH = 5000
_CONTENT = ("display", "place", "latitude", "longitude", "source_rows")
_UPDATED = (*_CONTENT, "source", "imported_at")


@dataclass(frozen=True)
class ImportResult:
    rows: int  # source rows read (of the selected country)
    codes: int  # distinct postal codes in the source
    changed: int  # of which new or different from the stored centroid (the rest were already stored as is)
    averaged: int  # codes listed on several rows, whose rows were averaged
    countries: tuple[str, ...]


@dataclass(frozen=True)
class Centroid:
    """Where a postal code is; ``exact`` is False when only the code's outward part is known."""

    country: str
    postal_code: str
    display: str
    place: str | None
    latitude: float
    longitude: float
    source_rows: int
    exact: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "postal_code": self.postal_code,
            "display": self.display,
            "place": self.place,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "source_rows": self.source_rows,
            "exact": self.exact,
        }


class PostalCodeService:
    """The postal-code table: operator imports (``keel geo import-postcodes``, the twin loader) and the
    look-up order capture uses when a ship-to address has no coordinates."""

    def __init__(self, db: Database, events: EventLog) -> None:
        self.db = db
        self.events = events

    def reader(self, country: str | None = None) -> PostalCodeReader:
        """A reader for a file's lines (``feed``) or mappings (``add``), keeping ``country``'s rows only."""
        if country is not None and country.upper() not in COUNTRIES:
            raise single_field("country", f"unknown ISO 3166 country code {country!r}")
        return PostalCodeReader(COUNTRIES, country)

    def load(self, rows: Iterable[Mapping[str, Any]], *, source: str) -> ImportResult:
        """Validate mappings (keys ``country``, ``postal_code``, ``place``, ``latitude``, ``longitude``),
        average duplicates and write them; any bad row raises ``ValidationFailed`` and writes nothing."""
        reader = self.reader()
        for number, raw in enumerate(rows, start=1):
            reader.add(number, raw)
        return self.write(reader, source=source)

    def write(
        self, reader: PostalCodeReader, *, source: str, progress: Callable[[int], None] | None = None
    ) -> ImportResult:
        """Upsert what ``reader`` collected, in one transaction, after checking it has no error.

        A new key is inserted and a known key with other content replaced; an unchanged one is left alone
        (keeping its source and time), so importing a file again changes nothing. When anything changed, one
        ``postal_codes.imported`` event records the import.
        """
        errors = reader.finish()
        if errors:
            raise ValidationFailed(f"{source}: {problems(reader.error_count)}; nothing was imported", errors)
        changed = self._upsert(reader.codes(), source[-80:], progress)
        return ImportResult(reader.rows, len(reader), changed, reader.averaged, tuple(reader.found_countries()))

    def _upsert(self, codes: Iterable[PostalCode], source: str, progress: Callable[[int], None] | None) -> int:
        now = utcnow()
        changed: dict[str, int] = {}
        with self.db.write() as conn:
            stmt = upsert_insert(conn, store.postal_codes)
            t, new = store.postal_codes, stmt.excluded
            stmt = stmt.on_conflict_do_update(
                index_elements=["country", "postal_code"],
                set_={c: new[c] for c in _UPDATED},
                where=sa.or_(*(t.c[c].is_distinct_from(new[c]) for c in _CONTENT)),
            ).returning(t.c.country)  # rows inserted or replaced; unchanged ones return nothing
            batch = list(itertools.islice(codes, BATCH))
            while batch:
                rows = [{**c.as_row(), "source": source, "imported_at": now} for c in batch]
                for country in conn.execute(stmt, rows).scalars():
                    changed[country] = changed.get(country, 0) + 1
                if progress:
                    progress(len(batch))
                batch = list(itertools.islice(codes, BATCH))
            if changed:
                data = {"changed": sum(changed.values()), "countries": changed, "source": source}
                self.events.append(conn, [NewEvent("postal_codes.imported", "postal_codes", data, SOURCE)])
        return sum(changed.values())

    def centroid(self, country: str, code: str) -> Centroid | None:
        """The centroid of ``code`` in ``country``: the whole code when known, else its outward part
        (GB, CA, IE, NL), else None."""
        country = country.strip().upper()
        keys = lookup_keys(country, code)
        if not keys:
            return None
        t = store.postal_codes
        with self.db.read() as conn:
            rows = {
                r.postal_code: r
                for r in conn.execute(sa.select(t).where(t.c.country == country, t.c.postal_code.in_(keys)))
            }
        for key in keys:
            row = rows.get(key)
            if row is not None:
                return Centroid(
                    row.country,
                    row.postal_code,
                    row.display,
                    row.place,
                    float(row.latitude),
                    float(row.longitude),
                    int(row.source_rows),
                    exact=key == keys[0],
                )
        return None

    def get(self, country: str, code: str) -> dict[str, Any]:
        """Like ``centroid`` but raises ``NotFound`` when the table knows neither the code nor its area."""
        found = self.centroid(country, code)
        if found is None:
            raise NotFound(
                f"no centroid is known for postal code {display_form(code)!r} in {country.strip().upper()!r};"
                " an operator loads them with `keel geo import-postcodes`"
            )
        return found.as_dict()

    def count(self, country: str | None = None) -> int:
        """How many postal codes are stored (of ``country``)."""
        t = store.postal_codes
        query = sa.select(sa.func.count()).select_from(t)
        if country:
            query = query.where(t.c.country == country.upper())
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())
