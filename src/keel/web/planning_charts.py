"""Demand charts: a SKU x location's daily sales with its stockout days shaded, and the forecast ahead with
its quantile fan: on a planning suggestion (over its protection period) and on the forecast page of any series
(Plotly figures, drawn by tower.js)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from keel.inventory import DemandSeries
from keel.planning import CountryForecast, Explanation, SeriesForecast

COLOURS = {"units": "#0f766e", "stockout": "#d92d20", "forecast": "#f79009"}
# the quantile lines of the forecast fan: the median, then the bands above it
BANDS = {"q50": "Median", "q80": "Range to 80 %", "q95": "Range to 95 %"}
LINE = {"color": COLOURS["forecast"], "dash": "dash", "width": 2}


def history_chart(series: DemandSeries, e: Explanation) -> dict[str, Any]:
    """Daily units at the destination as bars, stockout days shaded red (their demand was lost, not low: the
    forecast does not learn from them), and the forecast's daily average over the protection period ahead."""
    ahead = [(series.last_day + timedelta(days=i)).isoformat() for i in range(1, e.protection_days + 1)]
    return _figure("chart-history", series, max(e.protection_days, 1), forecast_traces(ahead, e))


def outlook_chart(f: SeriesForecast) -> dict[str, Any]:
    """Any series' history, as on a suggestion's chart, and its forecast with the quantile fan over the days
    ahead (a flat zero line when there is nothing to forecast)."""
    days = [d.isoformat() for d in f.days_ahead]
    traces = fan_traces(days, f.mean, f.quantiles) if f.mean else []
    return _figure("chart-forecast", f.history, max(len(days), 1), traces)


def _figure(chart_id: str, series: DemandSeries, days_ahead: int, forecast: list[dict[str, Any]]) -> dict[str, Any]:
    days = [series.first_day + timedelta(days=i) for i in range(len(series.units))]
    x = [d.isoformat() for d in days]
    out = [d for d, flag in zip(days, series.stockout, strict=True) if flag]
    # a date axis centres each day's bar on its midnight, so a day's band runs from noon before to noon after
    shapes = [
        {"type": "rect", "xref": "x", "yref": "paper", "x0": f"{d - timedelta(days=1)} 12:00", "x1": f"{d} 12:00",
         "y0": 0, "y1": 1, "fillcolor": COLOURS["stockout"], "opacity": 0.13, "line": {"width": 0}, "layer": "below"}
        for d in out
    ]  # fmt: skip
    end = series.last_day + timedelta(days=days_ahead)
    data: list[dict[str, Any]] = [
        {"type": "bar", "name": "Units sold", "x": x, "y": list(series.units), "marker": {"color": COLOURS["units"]},
         "hovertemplate": "%{x}: %{y} units<extra></extra>"},
        {"type": "scatter", "mode": "markers", "name": "Out of stock (not learned)", "x": [d.isoformat() for d in out],
         "y": [0] * len(out), "marker": {"color": COLOURS["stockout"], "symbol": "x", "size": 9},
         "hovertemplate": "%{x}: out of stock<extra></extra>"},
    ]  # fmt: skip
    return {
        "id": chart_id,
        "data": data + forecast,
        "layout": {
            "height": 320,
            "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
            "bargap": 0.15,
            "shapes": shapes,
            "yaxis": {"title": {"text": "units a day"}, "rangemode": "tozero"},
            "xaxis": {"type": "date", "range": [f"{series.first_day - timedelta(days=1)} 12:00", f"{end} 12:00"]},
            "legend": {"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def forecast_traces(days: list[str], e: Explanation) -> list[dict[str, Any]]:
    """The forecast over the protection period: day by day with its quantile fan where the suggestion kept its
    own forecast; a DC's level also covers its stores, so it shows the daily average of what it planned for."""
    if {"mean", *BANDS} <= set(e.daily):
        return fan_traces(days, e.daily["mean"], e.daily)
    per_day = round(e.forecast_units / e.protection_days, 2) if e.protection_days else 0.0
    return [
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"Forecast, {per_day:g} a day",
            "x": days,
            "y": [per_day] * len(days),
            "line": LINE,
            "hovertemplate": "%{x}: forecast %{y} units<extra></extra>",
        }
    ]


def fan_traces(days: list[str], mean: Sequence[float], bands: Mapping[str, Sequence[float]]) -> list[dict[str, Any]]:
    """The forecast day by day with its quantile fan: demand stays under the 80 % line on four days in five,
    under the 95 % line on nineteen in twenty."""
    traces: list[dict[str, Any]] = []
    for (name, label), fill in zip(BANDS.items(), (None, "rgba(247,144,9,0.30)", "rgba(247,144,9,0.14)"), strict=True):
        traces.append(
            {"type": "scatter", "mode": "lines", "x": days, "y": list(bands[name]), "name": label,
             "line": {"color": COLOURS["forecast"], "width": 0.5}, "fill": "tonexty" if fill else "none",
             "fillcolor": fill, "showlegend": fill is not None, "legendgroup": name,
             "hovertemplate": f"%{{x}}: {label.lower()}: %{{y}} units<extra></extra>"}
        )  # fmt: skip
    traces.append({"type": "scatter", "mode": "lines", "name": "Forecast (mean)", "x": days, "y": list(mean),
                   "line": LINE, "hovertemplate": "%{x}: forecast %{y} units<extra></extra>"})  # fmt: skip
    return traces


def country_chart(f: CountryForecast) -> dict[str, Any]:
    """A SKU's units sold in a whole country per day (its locations summed; a day any of them was out of stock
    shaded), the country's reconciled forecast with its fan, and its own forecast before reconciliation."""
    units = f.sold
    flags = tuple(any(day) for day in zip(*(h.stockout for h in f.history), strict=True))
    first = f.history[0].first_day
    total = DemandSeries(f.sku, f.country, first, units, flags)
    days = [d.isoformat() for d in f.days_ahead]
    traces = fan_traces(days, f.mean, f.quantiles) if f.mean else []
    if f.base:
        traces.append({"type": "scatter", "mode": "lines", "name": "Country's own forecast", "x": days,
                       "y": list(f.base), "line": {"color": "#667085", "dash": "dot", "width": 1.5},
                       "hovertemplate": "%{x}: own forecast %{y:.1f} units<extra></extra>"})  # fmt: skip
    return _figure("chart-country", total, max(len(days), 1), traces)
