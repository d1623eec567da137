"""Postal-code centroids: import (validated, averaged, upserted all-or-nothing) and look-up."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from keel.geo import store
from keel.geo.model import Centroid, ImportResult, PostalCode, PostalCodeReader, display_form, lookup_keys, problems
from keel.platform.clock import utcnow
from keel.platform.db import Database, Later
from keel.platform.errors import NotFound, ValidationFailed, single_field
from keel.platform.events import EventLog, NewEvent
from keel.platform.geo import COUNTRIES

SOURCE = "geo"
BATCH = 5000


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
            batch = list(itertools.islice(codes, BATCH))
            while batch:
                for country, count in store.upsert_postal_codes(conn, batch, source, now).items():
                    changed[country] = changed.get(country, 0) + count
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
        with self.db.read() as conn:
            return self.find_centroid(conn, country, code)()

    def find_centroid(self, conn: Connection, country: str, code: str) -> Later[Centroid | None]:
        """``centroid`` read in ``conn``'s transaction and sent now (order capture reads it with everything
        else it needs; see ``Later``)."""
        country = country.strip().upper()
        keys = lookup_keys(country, code)
        if not keys:
            return Later(lambda: None)

        def best(found: dict[str, PostalCode]) -> Centroid | None:
            for key in keys:
                hit = found.get(key)
                if hit is not None:
                    return Centroid(
                        hit.country,
                        hit.postal_code,
                        hit.display,
                        hit.place,
                        hit.latitude,
                        hit.longitude,
                        hit.source_rows,
                        exact=key == keys[0],
                    )
            return None

        return store.find_postal_codes(conn, country, keys).then(best)

    def get(self, country: str, code: str) -> Centroid:
        """Like ``centroid`` but raises ``NotFound`` when the table knows neither the code nor its area."""
        found = self.centroid(country, code)
        if found is None:
            raise NotFound(
                f"no centroid is known for postal code {display_form(code)!r} in {country.strip().upper()!r};"
                " an operator loads them with `keel geo import-postcodes`"
            )
        return found

    def count(self, country: str | None = None) -> int:
        """How many postal codes are stored (of ``country``)."""
        with self.db.read() as conn:
            return store.count_postal_codes(conn, country.upper() if country else None)
