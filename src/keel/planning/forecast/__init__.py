"""The forecast engine: candidate models, the pooled model, the cross-validated choice and the quantiles."""

from keel.planning.forecast.engine import FitEngine, Forecast, Forecaster
from keel.planning.quantiles import QUANTILES, quantile_column

__all__ = ["QUANTILES", "FitEngine", "Forecast", "Forecaster", "quantile_column"]
