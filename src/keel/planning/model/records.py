"""The records the planning services answer with and the filters they take."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from keel.inventory import DemandSeries
from keel.planning.model.replenish import Explanation

__all__ = ["PlanReport", "SeriesForecast", "Status", "Suggestion", "SuggestionFilter"]


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
class SeriesForecast:
    """One SKU x location: its demand history from the ledger and the forecast planning makes of it."""

    history: DemandSeries
    service_level: float  # the series' policy's: the quantile its order-up-to level reads
    mean: tuple[float, ...]  # per day ahead, from the day after the history's last; empty: nothing to forecast
    quantiles: dict[str, tuple[float, ...]] = field(default_factory=dict)  # q50, q80, q90, q95, q99 per day
    note: str = ""  # why there is no forecast, when there is none
    seconds: float = 0.0

    @property
    def days_ahead(self) -> list[date]:
        return [self.history.last_day + timedelta(days=i) for i in range(1, len(self.mean) + 1)]
