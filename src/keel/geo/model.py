"""Postal-code centroids, pure: normalisation, the two file formats, row validation and averaging.

A postal code is keyed by (country, normalised code). Normalising upper-cases the code and removes every
space and hyphen, so "sw1a 1aa", "SW1A1AA" and "SW1A 1AA" are one code, and so are "00-950" and "00950".
The display form is the code as first written in the source, trimmed, with inner whitespace collapsed.

Two file formats are read, one record per line, UTF-8:
- the GeoNames postal-code dump: tab-separated, no header, 12 fields (country code, postal code, place
  name, admin name1, admin code1, admin name2, admin code2, admin name3, admin code3, latitude, longitude,
  accuracy), as in the ``allCountries.txt`` or ``DE.txt`` of GeoNames' postal-code downloads;
- CSV with a header naming at least ``country,postal_code,latitude,longitude`` (``place`` optional, other
  columns ignored).
GeoNames lists some codes several times (one row per place the code serves): the rows of one key are
averaged into one centroid, and the first row's place name and display form are kept.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from keel.platform.errors import FieldError

MAX_CODE = 20  # normalised
MAX_DISPLAY = 40
MAX_PLACE = 200
MAX_ERRORS = 1000  # errors kept for the report; counting goes on
GEONAMES_FIELDS = 12
CSV_REQUIRED = ("country", "postal_code", "latitude", "longitude")
# Length of the inward part of codes that have an outward part: GeoNames' per-country dumps of GB, CA, IE
# and NL list only the outward part ("SW1A", "M5V", "D02", "1012"), so a full code falls back to it.
INWARD_LENGTH = {"GB": 3, "CA": 3, "IE": 4, "NL": 2}


def normalise(code: str) -> str:
    """The key of a postal code: upper case, without spaces or hyphens."""
    return "".join(code.split()).replace("-", "").upper()


def display_form(code: str) -> str:
    """A code as written, trimmed, inner whitespace collapsed to one space."""
    return " ".join(code.split())


def lookup_keys(country: str, code: str) -> list[str]:
    """Keys to try for ``code``, most precise first: the whole code, then its outward part where the
    country's codes have one (GB "SW1A 1AA" -> "SW1A", CA "M5V 2T6" -> "M5V", NL "1012 AB" -> "1012")."""
    key = normalise(code)
    if not key:
        return []
    keys = [key]
    inward = INWARD_LENGTH.get(country.upper())
    if inward and len(key) >= inward + 2:
        keys.append(key[:-inward])
    return keys


def problems(count: int) -> str:
    return f"{count} problem" + ("" if count == 1 else "s")


@dataclass(frozen=True, slots=True)
class PostalCode:
    """One centroid: ``postal_code`` is the normalised key, ``source_rows`` how many rows were averaged."""

    country: str
    postal_code: str
    display: str
    place: str | None
    latitude: float
    longitude: float
    source_rows: int = 1

    def as_row(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "postal_code": self.postal_code,
            "display": self.display,
            "place": self.place,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "source_rows": self.source_rows,
        }


def validate(
    row: int | None, raw: Mapping[str, Any], countries: frozenset[str]
) -> tuple[PostalCode | None, list[FieldError]]:
    """One record (keys ``country``, ``postal_code``, ``place``, ``latitude``, ``longitude``) checked field
    by field: an ISO country, a non-empty code, latitude in [-90, 90], longitude in [-180, 180]."""
    errors: list[FieldError] = []
    country = str(raw.get("country") or "").strip().upper()
    if not country:
        errors.append(FieldError(row, "country", "required"))
    elif country not in countries:
        errors.append(FieldError(row, "country", f"unknown ISO 3166 country code {country!r}"))
    written = "" if raw.get("postal_code") is None else str(raw["postal_code"])
    key, display = normalise(written), display_form(written)
    if not key:
        errors.append(FieldError(row, "postal_code", "required"))
    elif len(key) > MAX_CODE or len(display) > MAX_DISPLAY:
        errors.append(FieldError(row, "postal_code", f"longer than {MAX_CODE} characters: {display[:30]!r}"))
    place = str(raw.get("place") or "").strip() or None
    if place is not None and len(place) > MAX_PLACE:
        errors.append(FieldError(row, "place", f"longer than {MAX_PLACE} characters"))
    lat = _coordinate(row, "latitude", raw.get("latitude"), 90.0, errors)
    lon = _coordinate(row, "longitude", raw.get("longitude"), 180.0, errors)
    if errors or lat is None or lon is None:
        return None, errors
    return PostalCode(country, key, display, place, lat, lon), []


def _coordinate(row: int | None, field: str, value: Any, limit: float, errors: list[FieldError]) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(FieldError(row, field, "required"))
        return None
    if isinstance(value, bool):
        errors.append(FieldError(row, field, "must be a number"))
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        errors.append(FieldError(row, field, f"not a number: {str(value)[:30]!r}"))
        return None
    if not math.isfinite(number) or not -limit <= number <= limit:
        errors.append(FieldError(row, field, f"{value} is outside [{-limit:g}, {limit:g}]"))
        return None
    return number


class _Sum:
    """The running sums of one key; ``display`` is None when it equals the key (most codes: less memory)."""

    __slots__ = ("display", "lat", "lon", "n", "place")

    def __init__(self, code: PostalCode) -> None:
        self.display = None if code.display == code.postal_code else code.display
        self.place, self.lat, self.lon, self.n = code.place, code.latitude, code.longitude, 1

    def add(self, code: PostalCode) -> None:
        lon, mean = code.longitude, self.lon / self.n
        # Unwrap against the mean so far: a code astride the 180th meridian averages near it, not near 0.
        if lon - mean > 180:
            lon -= 360
        elif lon - mean < -180:
            lon += 360
        self.lat += code.latitude
        self.lon += lon
        self.n += 1

    def centroid(self, country: str, key: str) -> PostalCode:
        lat, lon = self.lat / self.n, self.lon / self.n
        if not -180.0 <= lon <= 180.0:
            lon = (lon + 180.0) % 360.0 - 180.0
        return PostalCode(country, key, self.display or key, self.place, round(lat, 6), round(lon, 6), self.n)


class PostalCodeReader:
    """Collects validated, averaged postal codes from file lines or mappings, and the row errors.

    ``only`` keeps one country's rows (the others are skipped unchecked). Errors past ``MAX_ERRORS`` are
    counted in ``error_count`` but not kept.
    """

    def __init__(self, countries: frozenset[str], only: str | None = None) -> None:
        self.countries = countries
        self.only = only.upper() if only else None
        self.errors: list[FieldError] = []
        self.error_count = 0
        self.rows = 0  # rows of the selected countries that were read
        self.skipped = 0  # rows of other countries
        self._sums: dict[str, dict[str, _Sum]] = {}  # country -> normalised code -> sums
        self._format: str | None = None  # "geonames", "csv" or "unreadable" once the first line is seen
        self._columns: list[str] = []

    # -- input --------------------------------------------------------------------------------------------
    def feed_lines(self, lines: Iterable[bytes | str]) -> None:
        for number, line in enumerate(lines, start=1):
            self.feed(number, line)

    def feed(self, number: int, line: bytes | str) -> None:
        """One line of a file; ``number`` is its 1-based line number, used as the row in errors."""
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                self.error(number, "", "not UTF-8 text")
                return
        line = line.rstrip("\r\n")
        if not line.strip() or self._format == "unreadable":
            return
        if self._format is None:
            self._format = "geonames" if "\t" in line else "csv"
            if self._format == "csv":
                self._header(number, line)
                return
        if self._format == "geonames":
            fields = line.split("\t")
            if len(fields) not in (GEONAMES_FIELDS - 1, GEONAMES_FIELDS):
                self.error(number, "", f"expected {GEONAMES_FIELDS} tab-separated fields, found {len(fields)}")
                return
            record = {"country": fields[0], "postal_code": fields[1], "place": fields[2]}
            record |= {"latitude": fields[9], "longitude": fields[10]}
        else:
            fields = next(csv.reader([line]))
            if len(fields) != len(self._columns):
                self.error(number, "", f"expected {len(self._columns)} comma-separated fields, found {len(fields)}")
                return
            record = dict(zip(self._columns, fields, strict=True))
        self.add(number, record)

    def _header(self, number: int, line: str) -> None:
        self._columns = [c.strip().lower() for c in next(csv.reader([line]))]
        missing = [c for c in CSV_REQUIRED if c not in self._columns]
        if missing:
            self._format = "unreadable"
            self.error(
                number,
                "header",
                f"neither a GeoNames line (tab-separated) nor a CSV header; missing columns: {', '.join(missing)}",
            )

    def add(self, row: int | None, raw: Mapping[str, Any]) -> None:
        """One record as a mapping (the CSV column names)."""
        if self.only and str(raw.get("country") or "").strip().upper() != self.only:
            self.skipped += 1
            return
        self.rows += 1
        code, errors = validate(row, raw, self.countries)
        for e in errors:
            self.error(e.row, e.field, e.reason)
        if code is None:
            return
        codes = self._sums.setdefault(code.country, {})
        found = codes.get(code.postal_code)
        if found is None:
            codes[code.postal_code] = _Sum(code)
        else:
            found.add(code)

    def error(self, row: int | None, field: str, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(FieldError(row, field, reason))

    # -- output -------------------------------------------------------------------------------------------
    def finish(self) -> list[FieldError]:
        """The errors; a source without a single row (of the selected country) is an error too."""
        if not self.error_count and not self._sums:
            self.error(None, "file", "no postal codes" + (f" of {self.only}" if self.only else "") + " found")
        return self.errors

    def codes(self) -> Iterator[PostalCode]:
        """The centroids, duplicates averaged, by country then in source order."""
        for country in sorted(self._sums):
            for key, sums in self._sums[country].items():
                yield sums.centroid(country, key)

    def found_countries(self) -> list[str]:
        """The countries of the collected codes."""
        return sorted(self._sums)

    def __len__(self) -> int:
        """How many distinct postal codes were collected."""
        return sum(len(codes) for codes in self._sums.values())

    @property
    def averaged(self) -> int:
        """Codes listed on more than one row, whose rows were averaged."""
        return sum(1 for codes in self._sums.values() for s in codes.values() if s.n > 1)


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
