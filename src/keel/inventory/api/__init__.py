"""HTTP API of the inventory context, one module per resource family; ``router`` holds locations, groups
and stock, ``availability_router`` the availability reads (mounted first: route matching is linear, and it
holds the hottest read in Keel)."""

from fastapi import APIRouter

from keel.inventory.api import locations, stock
from keel.inventory.api.availability import availability_router

router = APIRouter()
router.include_router(locations.router)
router.include_router(stock.router)

__all__ = ["availability_router", "router"]
