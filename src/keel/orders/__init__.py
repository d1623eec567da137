"""Orders context: capture, commit, sourcing, fulfilment and returns.

Public face: ``Orders`` (built by ``build_orders``) with one use case per attribute, the commands they
take and the results they give, and the order vocabulary.
"""

from keel.orders.consumers import BackorderFiller
from keel.orders.model import MAX_LINES, ORDER_STATUSES, Capture, Metrics, Outcome
from keel.orders.service import Orders, build_orders
from keel.orders.service.capture import capture_command
from keel.orders.service.waves import MAX_WAVE, WaveStale
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
from keel.platform.vocabulary import DEAD_SHIPMENTS, OPEN_SHIPMENTS, OrderStatus, ShipmentStatus

# The event types orders append (``order.<kind>`` per timeline entry, and policy changes).
ORDER_EVENTS = (
    "order.captured",
    "order.routed",
    "order.picking",
    "order.packed",
    "order.shipped",
    "order.delivered",
    "order.cancelled",
    "order.rerouted",
    "order.replanned",
    "order.backorder_allocated",
    "order.return_opened",
    "order.return_received",
    "order.refunded",
    "sourcing.policy_set",
    "sourcing.policy_removed",
)

__all__ = [
    "DEAD_SHIPMENTS",
    "MAX_LINES",
    "MAX_WAVE",
    "OPEN_SHIPMENTS",
    "ORDER_EVENTS",
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
    "OrderLine",
    "OrderLineView",
    "OrderPage",
    "OrderStatus",
    "OrderSummary",
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
    "ShipmentStatus",
    "SourcingPolicyView",
    "StoredPolicy",
    "TimelineEntry",
    "WaveChange",
    "WaveReport",
    "WaveStale",
    "Weights",
    "build_orders",
    "capture_command",
    "haversine_km",
    "plan_greedy",
    "plan_order",
    "plan_wave",
]
