"""Inventory: locations, the stock ledger, positions, reservations, cycle counts, channel availability."""

from keel.inventory.service import AvailabilityService, LocationService, StockService
from keel.inventory.service.queries import InventoryQueries
from keel.inventory.service.stock import STOCK_MOVED

__all__ = ["STOCK_MOVED", "AvailabilityService", "InventoryQueries", "LocationService", "StockService"]
