"""Planning: demand forecasts with honest uncertainty, and the replenishment that acts on them (issue 15).

The public face: the API, CLI, web pages, bootstrap and benches import only these. The forecast engine's
names are loaded on first use: statsforecast takes seconds to import, which a server or a CLI command that
does not forecast should not pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keel.planning.automation import AutomationReport, AutomationState, PlanningAutomation
from keel.planning.consumers import automation_job
from keel.planning.country import CountryForecast
from keel.planning.model import (
    AUTO_KINDS,
    DEFAULTS,
    Action,
    Automation,
    Explanation,
    HistoryImport,
    PlanReport,
    Policy,
    PolicyRow,
    Status,
    Suggestion,
    SuggestionFilter,
)
from keel.planning.quantiles import QUANTILES, quantile_column
from keel.planning.rebalance import Move, Site, expected_lost, greedy, net_value, solve_proven
from keel.planning.series import SeriesForecast
from keel.planning.service import PLANNED, SUGGESTION_DECIDED, SUGGESTION_RECEIVED, PlanningService

if TYPE_CHECKING:
    from keel.planning.forecast import FitEngine, Forecast, Forecaster
    from keel.planning.forecast.cluster import DaskEngine
    from keel.planning.forecast.hierarchy import HierarchicalForecast, forecast_hierarchy
    from keel.planning.outlook import planning_forecaster

__all__ = [
    "AUTO_KINDS",
    "DEFAULTS",
    "PLANNED",
    "QUANTILES",
    "SUGGESTION_DECIDED",
    "SUGGESTION_RECEIVED",
    "Action",
    "Automation",
    "AutomationReport",
    "AutomationState",
    "CountryForecast",
    "DaskEngine",
    "Explanation",
    "FitEngine",
    "Forecast",
    "Forecaster",
    "HierarchicalForecast",
    "HistoryImport",
    "Move",
    "PlanReport",
    "PlanningAutomation",
    "PlanningService",
    "Policy",
    "PolicyRow",
    "SeriesForecast",
    "Site",
    "Status",
    "Suggestion",
    "SuggestionFilter",
    "automation_job",
    "expected_lost",
    "forecast_hierarchy",
    "greedy",
    "net_value",
    "planning_forecaster",
    "quantile_column",
    "solve_proven",
]


def __getattr__(name: str) -> Any:
    if name in ("FitEngine", "Forecast", "Forecaster"):
        from keel.planning import forecast

        return getattr(forecast, name)
    if name == "DaskEngine":  # imports Dask, an optional dependency (keel[dask])
        from keel.planning.forecast import cluster

        return cluster.DaskEngine
    if name in ("HierarchicalForecast", "forecast_hierarchy"):
        from keel.planning.forecast import hierarchy

        return getattr(hierarchy, name)
    if name == "planning_forecaster":
        from keel.planning import outlook

        return outlook.planning_forecaster
    raise AttributeError(f"module 'keel.planning' has no attribute {name!r}")
