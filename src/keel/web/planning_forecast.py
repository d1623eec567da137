"""The forecast page of the control tower: any SKU at any location, planned or not. Its daily demand from the
ledger with the days out of stock shaded (never learned as demand), and the forecast a planning run would make
of it, day by day with its quantile fan, beside the numbers in a table. A form picks the series; the page is a
GET, so a forecast is a link that can be shared."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from keel.deps import KeelDep
from keel.inventory import Location
from keel.planning import CountryForecast, SeriesForecast
from keel.platform.clock import utcnow
from keel.platform.errors import NotFound, ValidationFailed
from keel.web import params
from keel.web.planning_charts import country_chart, outlook_chart
from keel.web.render import UI, PageRoute, page_scope, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
FORECAST = f"{UI}/planning/forecast"
COUNTRY = f"{FORECAST}/country"
DAYS, HORIZON = 56, 14
WINDOW = {"low": 14, "high": 730, "ahead": 56}  # the bounds of the form's days and horizon, as the service's
TABLE_LEVELS = ("q50", "q80", "q95")
COLUMNS = 8  # locations shown one by one in the country's table; the rest summed in one column
METHODS = {  # the reconciliation candidates (keel.planning.forecast.hierarchy), as a planner reads them
    "base": "Unreconciled",
    "bottom_up": "Sum of the locations",
    "ols": "MinTrace, equal weights",
    "wls_struct": "MinTrace, weighted by size",
    "wls_var": "MinTrace, weighted by error",
}


@router.get(FORECAST)
def forecast_page(
    request: Request,
    keel: KeelDep,
    sku: str | None = None,
    location: str | None = None,
    days: str | None = None,
    horizon: str | None = None,
) -> Response:
    scope = page_scope(request)
    chosen_sku, chosen_location = params.text(sku, "sku"), params.text(location, "location")
    window, ahead = _window(days, horizon)
    places = {loc.code: loc for loc in keel.locations.list(limit=1_000_000)[0] if scope.sees_country(loc.country)}
    found: SeriesForecast | None = None
    problem, status = None, 200
    if chosen_sku and chosen_location:
        try:
            found = keel.planning.forecast(chosen_sku, chosen_location, days=window, horizon=ahead, scope=scope)
        except (NotFound, ValidationFailed) as exc:
            problem, status = exc.detail, exc.status
    elif chosen_sku or chosen_location:
        problem, status = "Give both a SKU and a location.", 400
    context = {
        "title": f"Forecast of {chosen_sku} at {chosen_location}" if found else "Demand forecast",
        "sku": chosen_sku or "",
        "location": chosen_location or "",
        "days": window,
        "horizon": ahead,
        "window": WINDOW,
        "places": sorted(places.values(), key=lambda loc: loc.code),
        "place": places.get(chosen_location or ""),
        "f": found,
        "summary": _summary(found, places.get(chosen_location or "")) if found else None,
        "rows": _rows(found) if found and found.mean else [],
        "levels": TABLE_LEVELS,
        "problem": problem,
        "charts": [outlook_chart(found)] if found else [],
        "now": utcnow(),
    }
    return render(request, "planning_forecast.html", context, status)


def _window(days: str | None, horizon: str | None) -> tuple[int, int]:
    """The days of history and the days ahead a forecast form asks for, each within its bounds (else a 400)."""
    return (
        params.integer(days, "days", default=DAYS, low=WINDOW["low"], high=WINDOW["high"]),
        params.integer(horizon, "horizon", default=HORIZON, low=1, high=WINDOW["ahead"]),
    )


def _summary(f: SeriesForecast, place: Location | None) -> dict[str, object]:
    h = f.history
    sold, out = sum(h.units), sum(h.stockout)
    open_days = len(h.units) - out
    return {
        "sold": sold,
        "routed": sum(h.routed),
        "stockout_days": out,
        "per_day": sold / open_days if open_days else 0.0,
        "ahead": sum(f.mean),
        "upper": sum(f.quantiles.get("q95", ())),
        "kind": str(place.kind) if place is not None else "",
    }


def _rows(f: SeriesForecast) -> list[tuple[str, str, float, list[float]]]:
    """Per day ahead: the date, its weekday, the mean and the table's quantiles."""
    return [
        (day.isoformat(), day.strftime("%a"), f.mean[i], [f.quantiles[q][i] for q in TABLE_LEVELS if q in f.quantiles])
        for i, day in enumerate(f.days_ahead)
    ]


@router.get(COUNTRY)
def country_page(
    request: Request,
    keel: KeelDep,
    sku: str | None = None,
    country: str | None = None,
    days: str | None = None,
    horizon: str | None = None,
) -> Response:
    scope = page_scope(request)
    chosen_sku, chosen_country = params.text(sku, "sku"), params.text(country, "country")
    window, ahead = _window(days, horizon)
    countries = sorted(
        {loc.country for loc in keel.locations.list(limit=1_000_000)[0] if scope.sees_country(loc.country)}
    )
    found: CountryForecast | None = None
    problem, status = None, 200
    if chosen_sku and chosen_country:
        try:
            found = keel.planning.country_forecast(chosen_sku, chosen_country, days=window, horizon=ahead, scope=scope)
        except (NotFound, ValidationFailed) as exc:
            problem, status = exc.detail, exc.status
    elif chosen_sku or chosen_country:
        problem, status = "Give both a SKU and a country.", 400
    shown, rest = _columns(found) if found else ([], [])
    context = {
        "title": f"Forecast of {chosen_sku} in {found.country}" if found else "Demand forecast by country",
        "sku": chosen_sku or "",
        "country": found.country if found else (chosen_country or "").upper(),
        "countries": countries,
        "days": window,
        "horizon": ahead,
        "window": WINDOW,
        "f": found,
        "shown": shown,
        "rest": rest,
        "rows": _country_rows(found, shown, rest) if found and found.mean else [],
        "problem": problem,
        "charts": [country_chart(found)] if found else [],
        "methods": METHODS,
        "now": utcnow(),
    }
    return render(request, "planning_country.html", context, status)


def _columns(f: CountryForecast) -> tuple[list[str], list[str]]:
    """The locations with the most demand ahead, one column each; the others, summed in one."""
    ranked = sorted(f.locations, key=lambda code: (-sum(f.locations[code]), code))
    return ranked[:COLUMNS], ranked[COLUMNS:]


def _country_rows(f: CountryForecast, shown: list[str], rest: list[str]) -> list[dict[str, object]]:
    return [
        {
            "day": day.isoformat(),
            "weekday": day.strftime("%a"),
            "mean": f.mean[i],
            "base": f.base[i],
            "q95": f.quantiles["q95"][i],
            "places": [f.locations[code][i] for code in shown],
            "rest": sum(f.locations[code][i] for code in rest),
        }
        for i, day in enumerate(f.days_ahead)
    ]
