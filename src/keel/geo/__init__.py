"""Geo: postal-code centroids. The public face other contexts, the CLI/API composition and the twin use."""

from keel.geo.model import Centroid, ImportResult, PostalCode, PostalCodeReader
from keel.geo.service import PostalCodeService

__all__ = ["Centroid", "ImportResult", "PostalCode", "PostalCodeReader", "PostalCodeService"]
