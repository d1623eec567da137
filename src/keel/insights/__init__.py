"""Insights: cross-context KPIs, alerts and aggregates for the control tower (reads only).

The public face: the service bootstrap builds, the snapshot it returns and the rows and roll-ups the pages
draw from it.
"""

from keel.insights.model import (
    Alert,
    AlertRule,
    CurrencyTotals,
    Listing,
    OrderFigure,
    Revenue,
    SalesTotals,
    StockRow,
    StockTotals,
    rollup,
    source_label,
)
from keel.insights.service import InsightsService, Snapshot

__all__ = [
    "Alert",
    "AlertRule",
    "CurrencyTotals",
    "InsightsService",
    "Listing",
    "OrderFigure",
    "Revenue",
    "SalesTotals",
    "Snapshot",
    "StockRow",
    "StockTotals",
    "rollup",
    "source_label",
]
