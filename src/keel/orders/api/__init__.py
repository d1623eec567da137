"""HTTP API of the orders context: orders and returns, then sourcing policies, as one router."""

from fastapi import APIRouter

from keel.orders.api import orders, policies

router = APIRouter()
router.include_router(orders.router)
router.include_router(policies.router)

__all__ = ["router"]
