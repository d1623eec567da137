"""Inventory: locations, the stock ledger, positions, reservations, cycle counts, channel availability."""

from keel.inventory.service import AvailabilityService, LocationService, StockService
from keel.inventory.service.queries import InventoryQueries

__all__ = ["AvailabilityService", "InventoryQueries", "LocationService", "StockService"]
