"""Planning: demand forecasts with honest uncertainty (issue 15).

The public face: the CLI and the benches import only these.
"""

from keel.planning.forecast import QUANTILES, Forecast, Forecaster, quantile_column

__all__ = ["QUANTILES", "Forecast", "Forecaster", "quantile_column"]
