"""Order use cases behind one service object (``keel.orders``): capture, fulfilment, returns, waves,
backorders, sourcing policies, reads."""

from keel.orders.service.backorders import BackorderOrders
from keel.orders.service.capture import CaptureOrders
from keel.orders.service.fulfilment import FulfilOrders
from keel.orders.service.policies import PolicyOrders
from keel.orders.service.reads import ReadOrders
from keel.orders.service.returns import ReturnOrders
from keel.orders.service.waves import WaveOrders

__all__ = ["OrdersService"]


class OrdersService(CaptureOrders, FulfilOrders, ReturnOrders, WaveOrders, BackorderOrders, PolicyOrders, ReadOrders):
    """Every order use case; the parts share ``OrdersBase`` (sourcing network, ledger rows, timeline)."""
