"""Inventory use cases: locations, stock movements and reservations, channel availability."""

from keel.inventory.service.availability import AvailabilityService
from keel.inventory.service.locations import LocationService
from keel.inventory.service.stock import BatchResult, StockService

__all__ = ["AvailabilityService", "BatchResult", "LocationService", "StockService"]
