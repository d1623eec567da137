"""Daily demand history per SKU x location, as the ledger tells it, with the days a series was out of stock.

A day's units are what ``DEMAND_SIGNS`` counts (sold over the counter, committed to orders, less commitments
given back). A day is a stockout day when the series had no sellable stock at its start or at its end: what
sold that day is what was there, not what was wanted, so a forecast must not learn it as demand (planning
marks such days censored). Available stock at each day's end is walked back from the position's available
quantity now, less the day-by-day net change the ledger records after that day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["DailyFlow", "DemandSeries", "demand_series"]


@dataclass(frozen=True, slots=True)
class DailyFlow:
    """One (SKU, location, UTC day) of the ledger: demand units and the net change of available stock."""

    sku: str
    location: str
    day: date
    demand: int
    available_delta: int
    routed: int = 0  # of ``demand``: committed to orders routed to this node (``ROUTED_SIGNS``)


@dataclass(frozen=True, slots=True)
class DemandSeries:
    """A SKU x location's demand, one value per day from ``first_day``, and which days were out of stock."""

    sku: str
    location: str
    first_day: date
    units: tuple[int, ...]
    stockout: tuple[bool, ...]
    # Of ``units``, day by day: those committed to orders that sourcing routed to this node (shipped to a
    # customer), as opposed to sold over its counter or picked up from a reservation here. Empty: not known.
    routed: tuple[int, ...] = ()

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=len(self.units) - 1)


def demand_series(
    flows: Iterable[DailyFlow], available_now: Mapping[tuple[str, str], int], first_day: date, last_day: date
) -> list[DemandSeries]:
    """Dense daily series ``first_day``..``last_day`` for every (sku, location) of ``available_now`` (the
    positions) or of ``flows``; ``flows`` may reach past ``last_day`` (they are what walks today's stock back).
    Negative net demand (more given back than committed that day) counts as 0."""
    if last_day < first_day:
        raise ValueError("last_day is before first_day")
    days = (last_day - first_day).days + 1
    by_key: dict[tuple[str, str], dict[date, DailyFlow]] = {}
    for flow in flows:
        by_key.setdefault((flow.sku, flow.location), {})[flow.day] = flow
    out: list[DemandSeries] = []
    for key in sorted(set(available_now) | set(by_key)):
        seen = by_key.get(key, {})
        # available at the end of last_day: now, less every net change recorded after it
        end = available_now.get(key, 0) - sum(f.available_delta for d, f in seen.items() if d > last_day)
        units, routed = [0] * days, [0] * days
        stockout = [False] * days
        for i in range(days - 1, -1, -1):
            today = seen.get(first_day + timedelta(days=i))
            start = end - (today.available_delta if today else 0)
            units[i] = max(today.demand, 0) if today else 0
            routed[i] = min(max(today.routed, 0), units[i]) if today else 0
            stockout[i] = start <= 0 or end <= 0
            end = start
        out.append(DemandSeries(key[0], key[1], first_day, tuple(units), tuple(stockout), tuple(routed)))
    return out
