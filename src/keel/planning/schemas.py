"""Request and response models of the planning API."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from keel.inventory import DemandSeries
from keel.planning.model import HistoryImport, PlanReport, PolicyRow, Suggestion
from keel.platform.schemas import StrictModel, clean_document

if TYPE_CHECKING:
    from keel.planning.country import CountryForecast
    from keel.planning.series import SeriesForecast

Rows = Annotated[list[dict[str, Any]], AfterValidator(clean_document)]


class PolicyBatch(StrictModel):
    rows: Rows = Field(
        description="policy rows: exactly one of `kind` (a location kind) or `location`, optionally `sku` with a "
        "location, and the fields they set (review_days, lead_time_days, lead_time_sd_days, service_level, moq, "
        "pack_size, shelf_capacity, order_weekdays, source, history_days; for rebalancing unit_margin, transfer_cost, "
        "handling_cost, min_transfer; for automation unit_cost; fill_rate, a target fill rate that sets the safety "
        "stock instead of service_level; supplier_lead_time_days and supplier_lead_time_sd_days, the lead time of a "
        "location that buys from the supplier because no DC of its country holds the SKU)",
        max_length=10_000,
    )


class PolicyPublic(BaseModel):
    kind: str | None
    location: str | None
    sku: str | None
    fields: dict[str, Any]

    @classmethod
    def of(cls, row: PolicyRow) -> PolicyPublic:
        return cls(kind=row.kind, location=row.location, sku=row.sku, fields=dict(row.values))


class PoliciesPublic(BaseModel):
    items: list[PolicyPublic]
    defaults: dict[str, dict[str, Any]] = Field(description="the built-in policy of each location kind")


class PoliciesSaved(BaseModel):
    rows: int
    changed: int = Field(description="rows that differed from what was stored (0: the same batch again)")


class PlanCreate(StrictModel):
    mode: Literal["replenish", "rebalance"] = Field(
        default="replenish",
        description="replenish: purchases and transfers from DCs; rebalance: transfers between the locations of "
        "one country",
    )
    country: str | None = Field(
        default=None, pattern="^[A-Z]{2}$", description="plan one country (default: all; rebalance needs one)"
    )
    skus: list[Annotated[str, Field(max_length=64)]] | None = Field(default=None, max_length=10_000)
    top: int | None = Field(default=None, ge=1, le=100_000, description="only the N best-selling SKUs")
    today: date | None = Field(default=None, description="the day planned for (default: today, UTC)")


class RunPublic(BaseModel):
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
    trigger: str
    mode: str = Field(description="replenish or rebalance")
    country: str | None = Field(description="the country planned; null: every country")

    @classmethod
    def of(cls, report: PlanReport) -> RunPublic:
        return cls(**asdict(report))


class SuggestionPublic(BaseModel):
    id: int
    run_id: int
    kind: str
    sku: str
    location: str
    country: str
    source: str
    quantity: int
    status: str
    explanation: dict[str, Any] = Field(description="every number behind the quantity, and notes")
    reference: str = Field(description="the ledger reference of the movements it writes")
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    received_at: datetime | None

    @classmethod
    def of(cls, s: Suggestion) -> SuggestionPublic:
        values = {k: getattr(s, k) for k in ("id", "run_id", "kind", "sku", "location", "country", "source")}
        return cls(
            **values, quantity=s.quantity, status=s.status.value, explanation=asdict(s.explanation),
            reference=s.reference, created_at=s.created_at, decided_at=s.decided_at, decided_by=s.decided_by,
            received_at=s.received_at,
        )  # fmt: skip


class SuggestionsPage(BaseModel):
    items: list[SuggestionPublic]
    total: int
    limit: int
    offset: int


class HistoryPublic(BaseModel):
    sku: str
    location: str
    first_day: date
    units: list[int]
    stockout: list[bool] = Field(description="days with no sellable stock at their start or end: censored")
    routed: list[int] = Field(
        description="of each day's units, those orders committed here to be shipped or picked up (the rest sold "
        "over the counter or from a reservation); planning forecasts shipped orders at their ship-to country"
    )

    @classmethod
    def of(cls, s: DemandSeries) -> HistoryPublic:
        return cls(
            sku=s.sku, location=s.location, first_day=s.first_day, units=list(s.units), stockout=list(s.stockout),
            routed=list(s.routed) or [0] * len(s.units),
        )  # fmt: skip


class ForecastPublic(BaseModel):
    sku: str
    location: str
    service_level: float = Field(description="the series' policy's cycle service level: the quantile it orders up to")
    history: HistoryPublic
    first_day_ahead: date = Field(description="the day after the history's last: the first forecast day")
    mean: list[float] = Field(description="expected units per day ahead; empty when there is nothing to forecast")
    quantiles: dict[str, list[float]] = Field(
        description="q50, q80, q90, q95, q99: units per day ahead that demand stays at or below with that probability"
    )
    note: str = Field(description="why there is no forecast, when there is none")
    seconds: float
    shipped_shares: dict[str, float] = Field(
        description="ship-to country -> this location's share of the orders shipped there, which the forecast "
        "includes (counted on the days every location of its country shipping there had stock)"
    )

    @classmethod
    def of(cls, f: SeriesForecast) -> ForecastPublic:
        h = f.history
        return cls(
            sku=h.sku, location=h.location, service_level=f.service_level, history=HistoryPublic.of(h),
            first_day_ahead=h.last_day + timedelta(days=1), mean=[round(v, 3) for v in f.mean],
            quantiles={k: list(v) for k, v in f.quantiles.items()}, note=f.note, seconds=round(f.seconds, 3),
            shipped_shares={k: round(v, 4) for k, v in f.shares.items()},
        )  # fmt: skip


class CountryForecastPublic(BaseModel):
    sku: str
    country: str
    first_day_ahead: date
    sold: list[int] = Field(description="the country's units sold per day of the window, every location summed")
    mean: list[float] = Field(description="the country's expected units per day ahead: the locations' sum")
    quantiles: dict[str, list[float]] = Field(description="the country's q50...q99 per day ahead")
    base: list[float] = Field(description="the country's own forecast per day ahead, before reconciliation")
    locations: dict[str, list[float]] = Field(description="per location, its reconciled expected units per day ahead")
    method: str = Field(description="the reconciliation the backtest chose: bottom_up, ols, wls_struct or wls_var")
    backtest: dict[str, dict[str, float]] = Field(
        description="per method (and base: unreconciled), per level (sku: the country, location): the WAPE of the"
        " last cross-validation origin, which chose the method"
    )
    history: list[HistoryPublic]
    note: str = Field(description="why there is no forecast, when there is none")
    seconds: float

    @classmethod
    def of(cls, f: CountryForecast) -> CountryForecastPublic:
        def rounded(values: tuple[float, ...]) -> list[float]:
            return [round(v, 3) for v in values]

        return cls(
            sku=f.sku, country=f.country, first_day_ahead=f.first_day, sold=list(f.sold), mean=rounded(f.mean),
            quantiles={k: list(v) for k, v in f.quantiles.items()}, base=rounded(f.base),
            locations={k: rounded(v) for k, v in f.locations.items()}, method=f.method, backtest=f.backtest,
            history=[HistoryPublic.of(h) for h in f.history], note=f.note, seconds=round(f.seconds, 3),
        )  # fmt: skip


class HistoryImportPublic(BaseModel):
    rows: int
    series: int
    changed: int = Field(description="rows new or different from what was stored (0: the same file again)")
    first_day: date
    last_day: date

    @classmethod
    def of(cls, r: HistoryImport) -> HistoryImportPublic:
        return cls(**asdict(r))
