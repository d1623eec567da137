"""Geo: postal-code and city centroids. The public face other contexts, the CLI/API composition and the twin use."""

from keel.geo.cities import CITIES, city_centroid
from keel.geo.model import Centroid, ImportResult, PostalCode, PostalCodeReader
from keel.geo.service import PostalCodeService

__all__ = ["CITIES", "Centroid", "ImportResult", "PostalCode", "PostalCodeReader", "PostalCodeService", "city_centroid"]
