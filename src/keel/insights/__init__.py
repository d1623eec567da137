"""Insights: cross-context KPIs, alerts and aggregates for the control tower.

The public face: the service bootstrap builds, its projector's consumer, the snapshot it returns and the
rows and roll-ups the pages draw from it. Insights writes only its own projection tables.
"""

from keel.insights.alerts import Alert, AlertRule
from keel.insights.consumers import TowerConsumer
from keel.insights.model import (
    CurrencyTotals,
    Listing,
    ListingCount,
    LocationStock,
    OrderFigure,
    Revenue,
    SalesCell,
    SalesTotals,
    StockRow,
    StockTotals,
    listing_counts,
    per_location,
    sales_cells,
    source_label,
)
from keel.insights.projector import TowerProjector
from keel.insights.service import InsightsService, Snapshot

__all__ = [
    "Alert",
    "AlertRule",
    "CurrencyTotals",
    "InsightsService",
    "Listing",
    "ListingCount",
    "LocationStock",
    "OrderFigure",
    "Revenue",
    "SalesCell",
    "SalesTotals",
    "Snapshot",
    "StockRow",
    "StockTotals",
    "TowerConsumer",
    "TowerProjector",
    "listing_counts",
    "per_location",
    "sales_cells",
    "source_label",
]
