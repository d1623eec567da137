"""StockService: the ledger write plus reservations, cycle counts and the rebuild."""

from __future__ import annotations

from keel.inventory.service.counts import Counts
from keel.inventory.service.ledger import POSITIONS_REBUILT, STOCK_MOVED, BatchResult, Ledger, RebuildReport
from keel.inventory.service.reservations import Reservations

__all__ = ["POSITIONS_REBUILT", "STOCK_MOVED", "BatchResult", "Ledger", "RebuildReport", "StockService"]


class StockService(Reservations, Counts):
    """Every stock use case behind one service object (``keel.stock``)."""
