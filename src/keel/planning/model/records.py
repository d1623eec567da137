"""The records the planning services answer with and the filters they take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from keel.planning.model.replenish import Explanation
from keel.platform.errors import single_field

__all__ = ["HistoryImport", "PlanReport", "Status", "Suggestion", "SuggestionFilter", "country_code"]


def country_code(value: str) -> str:
    """A country as planning takes it (runs, automation rules, country forecasts): two ISO letters, upper case."""
    code = value.upper()
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        raise single_field("country", "a two-letter ISO country code")
    return code


class Status(StrEnum):
    PROPOSED = "proposed"  # waiting for a decision
    ACCEPTED = "accepted"  # recorded as incoming at the destination (and, for a transfer, out of the DC)
    RECEIVED = "received"  # arrived: stock received (or transferred in) at the destination
    REJECTED = "rejected"  # an operator said no
    SUPERSEDED = "superseded"  # a later run replaced it before anyone decided


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: int
    run_id: int
    kind: str  # purchase | transfer
    sku: str
    location: str  # where the stock goes
    country: str
    source: str  # "supplier" or the DC a transfer comes from
    quantity: int
    status: Status
    explanation: Explanation
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    received_at: datetime | None

    @property
    def reference(self) -> str:
        """The ledger reference of the movements it writes."""
        return f"planning suggestion {self.id}"


@dataclass(frozen=True, slots=True)
class SuggestionFilter:
    status: Status | None = None
    kind: str | None = None
    sku: str | None = None
    location: str | None = None
    countries: frozenset[str] | None = None  # the caller's scope
    runs: frozenset[int] | None = None  # made by these planning runs


@dataclass(frozen=True, slots=True)
class PlanReport:
    """One planning run: what it looked at and what it suggested."""

    run_id: int
    started_at: datetime
    locations: int
    series: int
    suggestions: int
    purchases: int
    transfers: int
    superseded: int
    seconds: float
    forecast_seconds: float
    trigger: str  # manual | schedule | twin
    mode: str = "replenish"  # replenish (purchases and DC transfers) | rebalance (transfers between locations)
    country: str | None = None  # None: every country


@dataclass(frozen=True, slots=True)
class HistoryImport:
    """What an import of demand history did: rows read, series, rows new or changed, the days covered."""

    rows: int
    series: int
    changed: int
    first_day: date
    last_day: date
