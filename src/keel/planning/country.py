"""A SKU's demand in a whole country: the forecast of the country and of each of its locations, made coherent
(``forecast.hierarchy``): the locations' forecasts add up to the country's, each moved the least to get there.

A planner reads the country line to buy and the location lines to place stock; before this view the two came
from separate forecasts that disagreed. The reconciliation method is chosen per request by the forecaster's
own backtest (plain summing of the locations, or MinTrace), and reported with the errors that chose it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from keel.inventory import DemandSeries, InventoryQueries, Location
from keel.planning.imported import with_imported
from keel.planning.model import country_code
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import NotFound
from keel.platform.scope import Scope
from keel.platform.vocabulary import LocationKind

WEEK = 7
# The reconciliation is chosen (and wls_var weighted) on the backtest's last window, as long as the horizon:
# two days ahead would choose on two days of errors, so the forecast goes at least two weeks out and is cut.
CHOICE_DAYS = 2 * WEEK


@dataclass(frozen=True)
class CountryForecast:
    """One SKU in one country: per location its history and reconciled forecast, and the country's total."""

    sku: str
    country: str
    history: tuple[DemandSeries, ...]  # one per location of the country holding a position of the SKU
    first_day: date  # the first day ahead
    mean: tuple[float, ...]  # the country, per day ahead (empty: nothing to forecast)
    quantiles: dict[str, tuple[float, ...]] = field(default_factory=dict)  # the country's q50...q99
    base: tuple[float, ...] = ()  # the country's own forecast before reconciliation
    locations: dict[str, tuple[float, ...]] = field(default_factory=dict)  # per location, reconciled
    method: str = ""  # bottom_up, ols, wls_struct or wls_var
    backtest: dict[str, dict[str, float]] = field(default_factory=dict)  # per method, per level: WAPE
    note: str = ""  # why there is no forecast, when there is none
    seconds: float = 0.0

    @property
    def days_ahead(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(len(self.mean))]

    @property
    def sold(self) -> tuple[int, ...]:
        """The country's units sold per day of the window (every location summed)."""
        if not self.history:
            return ()
        return tuple(sum(day) for day in zip(*(h.units for h in self.history), strict=True))


def country_forecast(
    db: Database,
    queries: InventoryQueries,
    locations: Mapping[str, Location],
    sku: str,
    country: str,
    *,
    days: int,
    horizon: int,
    scope: Scope,
    scheduler: str = "",
) -> CountryForecast:
    country = country_code(country)
    if not scope.sees_country(country):
        raise NotFound(f"no country {country!r}")
    sites = [
        code
        for code, loc in locations.items()
        if loc.active and loc.kind != LocationKind.SUPPLIER and loc.country == country
    ]
    today = utcnow().date()
    found = (
        queries.demand_history(sites, today - timedelta(days=days), today - timedelta(days=1), [sku]) if sites else []
    )
    if not found:
        raise NotFound(f"no stock position of {sku!r} in {country}")
    history = tuple(with_imported(db, found))
    first_day = history[0].last_day + timedelta(days=1)
    if not any(any(h.units) for h in history):
        return CountryForecast(
            sku, country, history, first_day, (), note=f"no sales of {sku} in {country} in {days} days"
        )
    return _reconciled(sku, country, history, first_day, horizon, scheduler)


def _reconciled(
    sku: str, country: str, history: tuple[DemandSeries, ...], first_day: date, horizon: int, scheduler: str
) -> CountryForecast:
    import pandas as pd  # with statsforecast below: seconds to import, so only when forecasting

    from keel.planning.forecast.hierarchy import forecast_hierarchy
    from keel.planning.outlook import YEAR, fits_on, planning_forecaster

    frames = [
        pd.DataFrame(
            {
                "sku": sku,
                "location": h.location,
                "ds": pd.date_range(h.first_day, periods=len(h.units), freq="D"),
                "y": h.units,
                "censored": h.stockout,
            }
        )
        for h in history
    ]
    with fits_on(scheduler) as fits:
        found = forecast_hierarchy(
            planning_forecaster(engine=fits), pd.concat(frames, ignore_index=True), ("sku", "location"),
            max(horizon, CHOICE_DAYS), WEEK, year_length=YEAR,
        )  # fmt: skip
    frame = found.frame[found.frame["step"] <= horizon].sort_values("step", kind="stable")
    top = frame[frame["level"] == "sku"]
    bands = {c: tuple(round(float(v), 2) for v in top[c]) for c in top.columns if c.startswith("q")}
    per_location = {
        str(code): tuple(float(v) for v in rows["mean"])
        for code, rows in frame[frame["level"] == "location"].groupby("location", sort=True)
    }
    return CountryForecast(
        sku, country, history, first_day, tuple(float(v) for v in top["mean"]), bands,
        tuple(float(v) for v in top["base"]), per_location, found.method, found.scores, seconds=found.seconds,
    )  # fmt: skip
