"""The control tower's home (KPIs, alerts, charts) and the stock drill-down by country, region and location.

Numbers come from ``keel.insights`` (built in bootstrap: one cached snapshot of its projections shared by
every browser, sums per location, listing counts per channel and country, sales per channel, country,
currency and day); the SKU positions at the bottom of the drill-down are a page of ``keel.queries``.
Charts are Plotly figures written into the page as JSON and drawn by the locally served plotly.min.js
(``static/tower.js``).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from keel.bootstrap import Keel
from keel.deps import KeelDep
from keel.fx import minor_units
from keel.insights import LocationStock, Snapshot, StockTotals, source_label
from keel.platform.errors import NotFound
from keel.web import params
from keel.web.params import Pager
from keel.web.render import UI, PageRoute, page_scope, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

REFRESH_SECONDS = 15
logger = logging.getLogger("keel.web")
NO_REGION = "-"  # the query-string value of "locations with no region"
COLOURS = {"primary": "#0f766e", "second": "#5eead4", "third": "#98a2b3"}


def warm_insights(keel: Keel) -> None:
    """Compute the first snapshot before anyone asks (run in a thread at start-up): at reference scale it
    takes seconds, which the first visitor of the home page would otherwise wait for."""
    try:
        keel.insights.snapshot()
    except Exception:  # a failure here only means the first request computes it instead
        logger.exception("warming the control tower failed")


def _refresh(raw: str | None) -> int:
    return params.integer(raw, "refresh", default=REFRESH_SECONDS, low=0, high=3600)


def bar_chart(div: str, title: str, x: list[str], series: list[tuple[str, list[float]]]) -> dict[str, Any]:
    """A grouped bar chart as a Plotly figure (plain JSON: the page draws it with plotly.min.js)."""
    colours = list(COLOURS.values())
    return {
        "id": div,
        "data": [
            {
                "type": "bar",
                "name": name,
                "x": x,
                "y": ys,
                "offsetgroup": str(i),  # keeps bars side by side even when a series has its own y axis
                "marker": {"color": colours[i % len(colours)]},
            }
            for i, (name, ys) in enumerate(series)
        ],
        "layout": {
            "title": {"text": title, "font": {"size": 14}},
            "barmode": "group",
            "height": 300,
            "margin": {"l": 50, "r": 60, "t": 40, "b": 70},
            "legend": {"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def _state(value: float | None, *, good_below: float | None = None, good_above: float | None = None) -> str:
    if value is None:
        return "off"
    if good_below is not None:
        return "ok" if value <= good_below else "bad"
    if good_above is not None:
        return "ok" if value >= good_above else "warn"
    return ""


def _money(value: Decimal, places: int = 2) -> str:
    return f"{value:,.{places}f}"


def _tiles(snap: Snapshot) -> list[dict[str, Any]]:
    acc = snap.accuracy.overall
    tolerance = snap.accuracy.tolerance_pct
    m = snap.metrics
    sourced = snap.sourced
    return [
        {
            "id": "stockout-rate",
            "label": "Stockout rate",
            "value": snap.stockout_rate,
            "pct": True,
            "note": f"of {sourced:,} stocked listings show zero",
            "state": _state(snap.stockout_rate, good_below=0.10),
        },
        {
            "id": "accuracy",
            "label": "Inventory accuracy",
            "value": acc.accuracy,
            "pct": True,
            "note": f"{acc.within_tolerance:,} of {acc.counted:,} counts within {tolerance:g}%",
            "state": _state(acc.accuracy, good_above=0.95),
        },
        {
            "id": "on-time-rate",
            "label": "On-time fulfilment",
            "value": m.on_time_rate,
            "pct": True,
            "note": f"of {m.delivered or 0:,} delivered orders",
            "state": _state(m.on_time_rate, good_above=0.95),
        },
        {
            "id": "same-day-rate",
            "label": "Same-day rate",
            "value": m.same_day_rate,
            "pct": True,
            "note": "same-day orders delivered the day they were placed",
            "state": _state(m.same_day_rate, good_above=0.90),
        },
        {
            "id": "split-rate",
            "label": "Split rate",
            "value": m.split_rate,
            "pct": True,
            "note": f"of {m.routed or 0:,} routed orders ship from 2+ locations",
            "state": _state(m.split_rate, good_below=0.20),
        },
        _sync_card(snap),
    ]


def _sync_card(snap: Snapshot) -> dict[str, Any]:
    """Channel sync lag: with channels synced, the slowest channel's p99 from a change in Keel to the channel
    accepting it (docs/sync.md); always, how far channel availability itself is behind the stock events."""
    behind = f"availability {snap.sync_lag_events:,} stock events behind"
    if snap.sync_lag_events:
        behind += f", oldest waiting {snap.sync_lag_seconds:,.0f} s"
    slowest = snap.slowest_channel
    if slowest is None:
        return {
            "id": "sync-lag",
            "label": "Channel sync lag",
            "value": snap.sync_lag_events,
            "pct": False,
            "note": behind + ("; no channel pushed to in 15 min" if snap.channel_sync else ""),
            "state": "ok" if snap.sync_lag_events == 0 else "warn",
        }
    owed = sum(c.pending for c in snap.channel_sync)
    lag = slowest.lag_p99_s or 0.0
    return {
        "id": "sync-lag",
        "label": "Channel sync lag (p99, s)",
        "value": round(lag, 1),
        "pct": False,
        "note": f"slowest of {len(snap.channel_sync)} synced: {slowest.channel}; {owed:,} values owed; {behind}",
        "state": "ok" if lag <= 60 and snap.sync_lag_events == 0 else "warn",
        "link": "/ui/sync",
    }


@router.get("/")
def home_page(request: Request, keel: KeelDep, refresh: str | None = None) -> Response:
    every = _refresh(refresh)
    snap = keel.insights.snapshot(page_scope(request))
    # Revenue is in the reporting currency, each order converted at its own day's rate (keel.fx); the
    # per-currency figures it comes from are one click away on the page.
    by_channel = snap.sales(lambda o: o.channel)
    by_country = snap.sales(lambda o: o.country)
    revenue = snap.revenue()
    reporting = revenue.currency
    places = minor_units(reporting)

    def money(value: Decimal) -> str:
        return _money(value, places)

    countries = snap.rollup(lambda r: r.country)
    charts = [
        bar_chart(
            "chart-channel",
            f"Orders and revenue ({reporting}) by channel",
            [g.key for g in by_channel],
            [
                ("Orders", [g.orders for g in by_channel]),
                (f"Revenue ({reporting})", [float(g.revenue) for g in by_channel]),
            ],
        ),
        bar_chart(
            "chart-country",
            f"Orders and revenue ({reporting}) by country",
            [g.key for g in by_country],
            [
                ("Orders", [g.orders for g in by_country]),
                (f"Revenue ({reporting})", [float(g.revenue) for g in by_country]),
            ],
        ),
        _stock_chart("chart-stock", "Stock by country", countries),
    ]
    for chart in charts[:2]:  # revenue dwarfs order counts: give it its own axis
        chart["data"][1]["yaxis"] = "y2"
        chart["layout"]["yaxis2"] = {"overlaying": "y", "side": "right", "showgrid": False}
    return render(
        request,
        "tower.html",
        {
            "title": "Control tower",
            "snap": snap,
            "tiles": _tiles(snap),
            "by_channel": by_channel,
            "by_country": by_country,
            "revenue": revenue,
            "revenue_total": f"{reporting} {money(revenue.total)}",
            "orders_total": sum(g.orders for g in by_channel),
            "charts": charts,
            "refresh": every,
            "money": money,
            "native": lambda value, currency: _money(value, minor_units(currency)),
            "source_label": source_label,
        },
    )


def _stock_chart(div: str, title: str, groups: list[StockTotals]) -> dict[str, Any]:
    return bar_chart(
        div,
        title,
        [g.key for g in groups],
        [("On hand", [g.on_hand for g in groups]), ("Available", [g.available for g in groups])],
    )


# -- stock drill-down -------------------------------------------------------------------------------------
def _region_key(row: LocationStock) -> str:
    return row.region or NO_REGION


@router.get(f"{UI}/stock")
def stock_page(
    request: Request,
    keel: KeelDep,
    country: str | None = None,
    region: str | None = None,
    location: str | None = None,
    page: str | None = None,
    size: str | None = None,
    refresh: str | None = None,
) -> Response:
    every = _refresh(refresh)
    chosen = {
        "country": params.country(country),
        "region": params.text(region, "region"),
        "location": params.text(location, "location"),
    }
    pager = Pager.parse(page, size)
    scope = page_scope(request)
    if chosen["location"]:
        try:
            loc = keel.locations.get(chosen["location"], scope)
        except NotFound:
            raise NotFound(f"There is no location {chosen['location']!r}.") from None
        chosen["country"], chosen["region"] = loc.country, loc.region or NO_REGION
    elif chosen["region"] and not chosen["country"]:
        raise params.BadQuery("region", "needs a country")
    snap = keel.insights.snapshot(scope)
    rows = snap.stock
    crumbs: list[tuple[str, str]] = [("All countries", f"{UI}/stock")]
    context: dict[str, Any] = {"level": "country", "chosen": chosen, "positions": None, "refresh": every}
    if chosen["country"]:
        rows = [r for r in rows if r.country == chosen["country"]]
        crumbs.append((chosen["country"], f"{UI}/stock?country={chosen['country']}"))
        context["level"] = "region"
    if chosen["region"]:
        rows = [r for r in rows if _region_key(r) == chosen["region"]]
        label = "(no region)" if chosen["region"] == NO_REGION else chosen["region"]
        crumbs.append((label, f"{UI}/stock?country={chosen['country']}&region={chosen['region']}"))
        context["level"] = "location"
    if chosen["location"]:
        crumbs.append((chosen["location"], ""))
        context["level"] = "sku"
        items, total = keel.queries.positions(
            location=chosen["location"], limit=pager.size, offset=pager.offset, scope=scope
        )
        context["positions"] = items
        pager = pager.with_total(total)
    key = {"country": lambda r: r.country, "region": _region_key, "location": lambda r: r.location}.get(
        context["level"], lambda r: r.location
    )
    groups = snap.rollup(key, rows)
    totals = snap.rollup(lambda r: "all", rows)
    heading = {"country": "Stock by country", "region": "Stock by region", "location": "Stock by location"}
    return render(
        request,
        "tower_stock.html",
        {
            **context,
            "title": "Stock by region" if context["level"] != "sku" else f"Stock at {chosen['location']}",
            "crumbs": crumbs,
            "groups": groups,
            "total": totals[0] if totals else None,
            "pager": pager,
            "filtered": False,
            "no_region": NO_REGION,
            "charts": [_stock_chart("chart-stock", heading.get(context["level"], "Stock"), groups)]
            if groups and context["level"] != "sku"
            else [],
        },
    )
