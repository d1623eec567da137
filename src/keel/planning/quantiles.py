"""Quantile levels and their column names, apart from the forecast engine so that light modules (the CLI's
option defaults, the service) need not import statsforecast to name them."""

from __future__ import annotations

QUANTILES = (0.5, 0.8, 0.9, 0.95, 0.99)


def quantile_column(level: float) -> str:
    return f"q{level * 100:g}".replace(".", "_")
