"""HTTP API of the catalog, one module per resource family: reference data (GTINs, families, categories,
profiles), products (documents, compliance, revisions, files) and listings (targets, states, readiness, feeds)."""

from fastapi import APIRouter

from keel.catalog.api import feeds, listings, products, reference

router = APIRouter()
router.include_router(reference.router)
router.include_router(products.router)
router.include_router(listings.router)
router.include_router(feeds.router)
EXPOSED_HEADERS = tuple(feeds.FEED_HEADERS)  # what a browser on another origin may read (CORS)

__all__ = ["EXPOSED_HEADERS", "router"]
