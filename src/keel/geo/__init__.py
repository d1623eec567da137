"""Geo: operator-loaded reference geography; today postal-code centroids (GeoNames dump or CSV)."""

from keel.geo.cities import city_centroid

__all__ = ["city_centroid"]
