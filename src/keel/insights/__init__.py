"""Insights: cross-context KPIs, alerts and aggregates for the control tower."""
