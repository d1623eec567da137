"""FX use cases: import the ECB reference-rate file, list rates, convert amounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from keel.fx import store
from keel.fx.model import ImportReport, Rate, RateFilter, RateTable, parse_ecb_csv
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import FieldError, PayloadTooLarge, ValidationFailed
from keel.platform.events import EventLog, NewEvent
from keel.platform.geo import CURRENCIES

RATES_IMPORTED = "fx.rates_imported"
MAX_RATES = 2_000_000  # the ECB's whole history since 1999 is ~280,000 rates


class FxService:
    """Exchange rates per 1 EUR by day, and conversions at them."""

    def __init__(self, db: Database, events: EventLog) -> None:
        self.db = db
        self.events = events

    def import_ecb(self, text: str, source: str = "api") -> ImportReport:
        """Import an ECB reference-rate CSV (``Date,USD,JPY,...``), all or nothing: every row is validated
        first and any error refuses the whole file with row-level errors. Idempotent on (day, currency): a
        known rate with the same value is left alone, another value replaces it (and is counted)."""
        rates, errors = parse_ecb_csv(text, frozenset(CURRENCIES))
        if errors:
            problems = f"{len(errors)} problem" + ("s" if len(errors) != 1 else "")
            raise ValidationFailed(f"the rate file has {problems}; nothing was imported", errors)
        if len(rates) > MAX_RATES:
            raise PayloadTooLarge(f"{len(rates)} rates in one file; the limit is {MAX_RATES}")
        days = sorted({r.day for r in rates})
        currencies = tuple(sorted({r.currency for r in rates}))
        fresh: list[Rate] = []
        changed: list[Rate] = []
        now = utcnow()
        with self.db.write() as conn:
            known = store.known_between(conn, days[0], days[-1]) if days else {}
            for r in rates:
                have = known.get((r.day, r.currency))
                if have is None:
                    fresh.append(r)
                elif have != r.rate:
                    changed.append(r)
            store.insert_rates(conn, fresh, now)
            store.update_rates(conn, changed, now)
            report = ImportReport(
                rows=len(days),
                rates=len(rates),
                inserted=len(fresh),
                updated=len(changed),
                unchanged=len(rates) - len(fresh) - len(changed),
                currencies=currencies,
                first_day=days[0] if days else None,
                last_day=days[-1] if days else None,
            )
            if fresh or changed:
                data = {
                    "inserted": report.inserted,
                    "updated": report.updated,
                    "currencies": list(currencies),
                    "first_day": days[0].isoformat(),
                    "last_day": days[-1].isoformat(),
                }
                self.events.append(conn, [NewEvent(RATES_IMPORTED, "fx/rates", data, source=source)])
        return report

    def rates(self, where: RateFilter = RateFilter(), *, limit: int = 100, offset: int = 0) -> tuple[list[Rate], int]:
        """A page of stored rates (newest day first) and how many match ``where``."""
        if where.currency is not None and where.currency not in CURRENCIES:
            raise ValidationFailed("unknown currency", [FieldError(None, "currency", "not an ISO 4217 code")])
        if where.since and where.until and where.since > where.until:
            raise ValidationFailed("empty range", [FieldError(None, "since", "must not be after until")])
        with self.db.read() as conn:
            return store.rates_page(conn, where, limit, offset)

    def table(self, currencies: Sequence[str] | None = None) -> RateTable:
        """Every stored rate (of ``currencies`` when given) as a ``RateTable`` to convert with."""
        with self.db.read() as conn:
            return RateTable.of(store.all_rates(conn, currencies))

    def convert(self, amount: Decimal, source: str, target: str, on: date) -> Decimal:
        """``amount`` of ``source`` in ``target`` at the latest rates on or before ``on`` (cross rates through
        EUR), unrounded; raises ``MissingRate`` (404) when a currency has no rate by then."""
        needed = [c for c in (source, target) if c != "EUR"]
        return self.table(needed).convert(amount, source, target, on)
