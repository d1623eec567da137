"""Orders context: capture, commit, sourcing, fulfilment and returns.

Public face: ``Orders`` (built by ``build_orders``) with one use case per attribute, the commands they
take and the results they give (with the records they are made of), the sourcing engine and the
``BackorderFiller`` consumer. The shared order and shipment vocabulary lives in ``keel.platform.vocabulary``.
"""

from keel.orders.consumers import BackorderFiller
from keel.orders.model import ORDER_STATUSES, Capture, Metrics, Outcome
from keel.orders.service import Orders, build_orders
from keel.orders.service.capture import capture_command
from keel.orders.service.reads import OrderCart, OrderUnits
from keel.orders.service.waves import MAX_WAVE
from keel.orders.sourcing import (
    CostModel,
    Fulfilment,
    Network,
    Node,
    Order,
    OrderLine,
    Plan,
    Policy,
    Weights,
    haversine_km,
    plan_greedy,
    plan_order,
)
from keel.orders.sourcing.batch import plan_wave
from keel.orders.views import (
    AdvanceShipment,
    BackorderFill,
    BackorderReport,
    CancelOrder,
    Captured,
    CreateReturn,
    OrderLineView,
    OrderPage,
    OrderSummary,
    OrderView,
    PlanWave,
    ReceiveReturn,
    RejectShipment,
    ReturnLine,
    ReturnView,
    Shipment,
    ShipmentLine,
    SourcingPolicyView,
    StoredPolicy,
    TimelineEntry,
    WaveChange,
    WaveReport,
)

__all__ = [
    "MAX_WAVE",
    "ORDER_STATUSES",
    "AdvanceShipment",
    "BackorderFill",
    "BackorderFiller",
    "BackorderReport",
    "CancelOrder",
    "Capture",
    "Captured",
    "CostModel",
    "CreateReturn",
    "Fulfilment",
    "Metrics",
    "Network",
    "Node",
    "Order",
    "OrderCart",
    "OrderLine",
    "OrderLineView",
    "OrderPage",
    "OrderSummary",
    "OrderUnits",
    "OrderView",
    "Orders",
    "Outcome",
    "Plan",
    "PlanWave",
    "Policy",
    "ReceiveReturn",
    "RejectShipment",
    "ReturnLine",
    "ReturnView",
    "Shipment",
    "ShipmentLine",
    "SourcingPolicyView",
    "StoredPolicy",
    "TimelineEntry",
    "WaveChange",
    "WaveReport",
    "Weights",
    "build_orders",
    "capture_command",
    "haversine_km",
    "plan_greedy",
    "plan_order",
    "plan_wave",
]
