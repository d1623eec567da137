"""Order use cases behind one service object (``keel.orders``): capture, fulfilment, returns, reads."""

from keel.orders.service.capture import CaptureOrders
from keel.orders.service.fulfilment import FulfilOrders
from keel.orders.service.reads import ReadOrders
from keel.orders.service.returns import ReturnOrders

__all__ = ["OrdersService"]


class OrdersService(CaptureOrders, FulfilOrders, ReturnOrders, ReadOrders):
    """Every order use case; the parts share ``OrdersBase`` (sourcing network, ledger rows, timeline)."""
