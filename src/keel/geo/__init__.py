"""Geo: operator-loaded reference geography; today postal-code centroids (GeoNames dump or CSV)."""
