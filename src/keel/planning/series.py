"""The forecast of one SKU x location, as a planning run makes it: with the orders shipped from it forecast at
their ship-to countries, over every location of its country that ships them (``keel.planning.shipto``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from keel.inventory import DemandSeries, InventoryQueries, Location
from keel.planning.imported import with_imported
from keel.planning.shipto import OrderUnitsOf
from keel.platform.db import Database
from keel.platform.vocabulary import LocationKind

__all__ = ["SeriesForecast", "series_forecast"]


@dataclass(frozen=True, slots=True)
class SeriesForecast:
    """One SKU x location: its demand history from the ledger and the forecast planning makes of it."""

    history: DemandSeries
    service_level: float  # the series' policy's: the quantile its order-up-to level reads
    mean: tuple[float, ...]  # per day ahead, from the day after the history's last; empty: nothing to forecast
    quantiles: dict[str, tuple[float, ...]] = field(default_factory=dict)  # q50, q80, q90, q95, q99 per day
    note: str = ""  # why there is no forecast, when there is none
    seconds: float = 0.0
    # Its share of each ship-to country's shipped orders ("DE" -> 0.6), which the forecast includes
    shares: dict[str, float] = field(default_factory=dict)

    @property
    def days_ahead(self) -> list[date]:
        return [self.history.last_day + timedelta(days=i) for i in range(1, len(self.mean) + 1)]


def series_forecast(
    db: Database,
    queries: InventoryQueries,
    locations: Mapping[str, Location],
    series: DemandSeries,
    level: float,
    horizon: int,
    order_units: OrderUnitsOf | None,
    scheduler: str,
) -> SeriesForecast:
    """The forecast of ``series`` (with some sales). When orders were routed to it, the SKU's history at every
    active location of its country is read too: its share of the countries' shipped orders depends on theirs."""
    from keel.planning.outlook import node_outlooks  # statsforecast: seconds to import, so only when forecasting

    key = (series.sku, series.location)
    history = [series]
    country = locations[series.location].country
    if any(series.routed):
        sites = [c for c, loc in locations.items()
                 if loc.active and loc.country == country and loc.kind != LocationKind.SUPPLIER]  # fmt: skip
        others = queries.demand_history(sites, series.first_day, series.last_day, [series.sku])
        history += with_imported(db, [s for s in others if s.location != series.location])
    orders = order_units(series.first_day, series.last_day, [series.sku]) if order_units and any(series.routed) else []
    country_of = {s.location: locations[s.location].country for s in history}
    found, seconds, split = node_outlooks(history, orders, country_of, {key: level}, horizon, scheduler=scheduler)
    o = found[key]
    shares = {where[1:]: share for where, share in split.shares.get(key, {}).items()}
    return SeriesForecast(series, level, o.mean, o.bands, seconds=seconds, shares=shares)
