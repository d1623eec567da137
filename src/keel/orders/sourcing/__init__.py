"""Order sourcing engine (pure): policy filters, a shared cost model, real-time, batch and greedy planners.

Public surface: build a ``Network`` of ``Node``s, describe an ``Order``, then call ``plan_order`` (one
order, real time), ``plan_wave`` (a wave, mixed-integer program) or ``plan_greedy`` (baseline); every plan
is priced by ``plan_cost``. Planners never change the network; ``Network.commit(plan)`` does.
"""

from keel.orders.sourcing.cost import CostModel, PackageCost, Rate, Transit, Weights, package_cost, plan_cost
from keel.orders.sourcing.explain import describe
from keel.orders.sourcing.filters import (
    CapabilityFilter,
    ExcludedNodes,
    MaxDistance,
    NodeCapacity,
    NodeFilter,
    Objective,
    OrderSources,
    Policy,
    SameCountry,
    StoreProtection,
    screen,
)
from keel.orders.sourcing.greedy import plan_greedy
from keel.orders.sourcing.model import (
    Allocation,
    Candidate,
    CostBreakdown,
    Explanation,
    Fulfilment,
    Network,
    Node,
    Order,
    OrderLine,
    Plan,
    RankedPlan,
    Rejection,
    haversine_km,
)
from keel.orders.sourcing.realtime import plan_order
from keel.platform.vocabulary import Capability, LocationKind

__all__ = [
    "Allocation",
    "Candidate",
    "Capability",
    "CapabilityFilter",
    "CostBreakdown",
    "CostModel",
    "ExcludedNodes",
    "Explanation",
    "Fulfilment",
    "LocationKind",
    "MaxDistance",
    "Network",
    "Node",
    "NodeCapacity",
    "NodeFilter",
    "Objective",
    "Order",
    "OrderLine",
    "OrderSources",
    "PackageCost",
    "Plan",
    "Policy",
    "RankedPlan",
    "Rate",
    "Rejection",
    "SameCountry",
    "StoreProtection",
    "Transit",
    "Weights",
    "describe",
    "haversine_km",
    "package_cost",
    "plan_cost",
    "plan_greedy",
    "plan_order",
    "screen",
]
