"""StockService: the ledger write plus reservations, cycle counts, the rebuild and ledger retention."""

from __future__ import annotations

from keel.inventory.service.counts import Counts
from keel.inventory.service.history import FoldReport, History
from keel.inventory.service.ledger import POSITIONS_REBUILT, STOCK_MOVED, BatchResult, Ledger, RebuildReport
from keel.inventory.service.reservations import Reservations

__all__ = ["POSITIONS_REBUILT", "STOCK_MOVED", "BatchResult", "FoldReport", "Ledger", "RebuildReport", "StockService"]


class StockService(Reservations, Counts, History):
    """Every stock use case behind one service object (``keel.stock``)."""
