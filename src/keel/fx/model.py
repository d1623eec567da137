"""Foreign-exchange rates as data: the European Central Bank's reference-rate CSV, and conversion.

A rate is how many units of a currency one euro buys on a day (the ECB's quotation: ``USD 1.0823`` on
2026-03-02 means 1 EUR = 1.0823 USD). Conversion uses the latest rate on or before the day asked for
(weekends and holidays have no fixing) and goes through the euro for every other pair (a cross rate).
Everything is ``Decimal``: a rate is parsed from its text, never through a float.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from keel.platform.errors import FieldError, NotFound
from keel.platform.money import UnknownCurrency, exponent

BASE = "EUR"  # every stored rate is per one euro
CURRENCY_RE = re.compile(r"[A-Z]{3}")
RATE_RE = re.compile(r"\d{1,12}(\.\d{1,10})?")  # the ECB publishes at most 4 decimals; room for others
MISSING = frozenset({"", "N/A", "NA", "-"})  # what the ECB file leaves in a cell before a currency existed
MAX_ERRORS = 200  # a file that is wrong everywhere gets this many row errors, not millions


@dataclass(frozen=True)
class Rate:
    """Units of ``currency`` one euro buys on ``day``."""

    day: date
    currency: str
    rate: Decimal


@dataclass(frozen=True)
class RateFilter:
    currency: str | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class ImportReport:
    """What an import did: ``rows`` dated rows read, ``rates`` cells with a rate, and how many were new,
    changed (the file had another value for a known day and currency) or already known."""

    rows: int
    rates: int
    inserted: int
    updated: int
    unchanged: int
    currencies: tuple[str, ...]
    first_day: date | None
    last_day: date | None


class MissingRate(NotFound):
    """No rate is known for a currency on or before a day (nothing to convert with)."""

    title = "Missing exchange rate"
    slug = "missing-rate"

    def __init__(self, currency: str, day: date) -> None:
        super().__init__(f"no {currency} rate is known on or before {day.isoformat()}; import one with POST /fx/rates")
        self.currency = currency
        self.day = day


def parse_ecb_csv(text: str, known: frozenset[str]) -> tuple[list[Rate], list[FieldError]]:
    """The rates of an ECB reference-rate file (``Date,USD,JPY,...`` then one row per day, ``N/A`` where a
    currency had no fixing; the daily and the historical files alike, with or without their trailing comma).

    Every row is checked; rows are numbered as lines of the file (the header is row 1). ``known`` is the set
    of ISO 4217 codes a column may name. Returns the rates, or no rate and the errors (at most ``MAX_ERRORS``)."""
    errors: list[FieldError] = []
    if "\x00" in text:
        at = text[: text.index("\x00")].count("\n") + 1
        return [], [FieldError(at, "", "the file contains a NUL character")]
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return [], [FieldError(None, "", "the file is empty; expected a header Date,USD,JPY,...")]
    header = [cell.strip() for cell in lines[0].lstrip("\ufeff").split(",")]
    if header and header[-1] == "":
        header.pop()  # the ECB ends every line with a comma
    if not header or header[0] != "Date":
        return [], [FieldError(1, "Date", "the first column must be Date (the ECB reference-rate format)")]
    columns = header[1:]
    if not columns:
        errors.append(FieldError(1, "", "no currency columns after Date"))
    seen: set[str] = set()
    for name in columns:
        if not CURRENCY_RE.fullmatch(name) or name not in known:
            errors.append(FieldError(1, name, "not an ISO 4217 currency code"))
        elif name == BASE:
            errors.append(FieldError(1, name, f"rates are per 1 {BASE}; {BASE} itself is no column"))
        elif name in seen:
            errors.append(FieldError(1, name, "the currency appears twice"))
        seen.add(name)
    if errors:
        return [], errors[:MAX_ERRORS]
    rates: list[Rate] = []
    days: dict[date, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        if len(errors) >= MAX_ERRORS:
            break
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) == len(columns) + 2 and cells[-1] == "":
            cells.pop()
        if len(cells) != len(columns) + 1:
            errors.append(FieldError(number, "", f"{len(cells)} cells; the header has {len(columns) + 1}"))
            continue
        try:
            day = date.fromisoformat(cells[0])
        except ValueError:
            errors.append(FieldError(number, "Date", f"{cells[0][:40]!r} is not a date (YYYY-MM-DD)"))
            continue
        if day in days:
            errors.append(FieldError(number, "Date", f"{day.isoformat()} appears again (first on row {days[day]})"))
            continue
        days[day] = number
        for currency, cell in zip(columns, cells[1:], strict=True):
            if cell in MISSING:
                continue
            value = parse_rate(cell)
            if value is None:
                errors.append(FieldError(number, currency, f"{cell[:40]!r} is not a positive decimal rate"))
            else:
                rates.append(Rate(day, currency, value))
    if not errors and not days:
        errors.append(FieldError(None, "", "the file has a header but no dated rows"))
    return ([], errors[:MAX_ERRORS]) if errors else (rates, [])


def parse_rate(text: str) -> Decimal | None:
    """A rate written as a plain positive decimal (``1.0823``), or None."""
    if not RATE_RE.fullmatch(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return None
    return value if value > 0 else None


def rate_text(value: Decimal) -> str:
    """The stored and published form of a rate: plain notation, no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


@dataclass
class RateTable:
    """Rates by currency, each a date-sorted series; answers conversions on any day (pure, no I/O)."""

    series: dict[str, tuple[list[date], list[Decimal]]] = field(default_factory=dict)

    @classmethod
    def of(cls, rates: Iterable[Rate]) -> RateTable:
        by: dict[str, dict[date, Decimal]] = {}
        for r in rates:
            by.setdefault(r.currency, {})[r.day] = r.rate
        table = cls()
        for currency, days in by.items():
            ordered = sorted(days)
            table.series[currency] = (ordered, [days[d] for d in ordered])
        return table

    @property
    def currencies(self) -> frozenset[str]:
        return frozenset(self.series) | {BASE}

    def rate(self, currency: str, on: date) -> Decimal:
        """Units of ``currency`` per euro on ``on``: the latest rate on or before that day. Raises
        ``MissingRate`` when the currency has none by then."""
        if currency == BASE:
            return Decimal(1)
        found = self.series.get(currency)
        if found is None:
            raise MissingRate(currency, on)
        days, values = found
        i = bisect.bisect_right(days, on)
        if i == 0:
            raise MissingRate(currency, on)
        return values[i - 1]

    def convert(self, amount: Decimal, source: str, target: str, on: date) -> Decimal:
        """``amount`` of ``source`` in ``target`` at the rates of ``on`` (through the euro), unrounded."""
        if source == target:
            return amount
        in_euro = amount / self.rate(source, on)
        return in_euro if target == BASE else in_euro * self.rate(target, on)


def round_to(amount: Decimal, places: int) -> Decimal:
    """``amount`` rounded half-even to ``places`` decimals (the way banks round a converted total)."""
    return amount.quantize(Decimal(1).scaleb(-places))


def minor_units(currency: str) -> int:
    """The currency's ISO 4217 exponent (``keel.platform.money``); 2 for a code that is not a currency (a
    figure shown in it still needs a shape)."""
    try:
        return exponent(currency)
    except UnknownCurrency:
        return 2
