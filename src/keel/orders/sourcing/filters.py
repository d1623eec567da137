"""Sourcing policy as data: an ordered list of node filters, then an objective.

A filter can reject a node outright (``reject`` returns the reason) and can cap how many units of a SKU
the node may give (``limit``). Filters run in the policy's order and the first rejection is the one
reported, so a policy reads top to bottom like the rule list an operator would write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from keel.orders.sourcing.cost import CostModel, PackageCost, distance_km, package_cost
from keel.orders.sourcing.model import (
    SHIPPED,
    Candidate,
    Fulfilment,
    Network,
    Node,
    Order,
    Rejection,
)
from keel.platform.vocabulary import Capability, LocationKind

SHIP_CAPABLE = frozenset({Capability.SHIP, Capability.SHIP_FROM_STORE})


class NodeFilter:
    """Base of every filter: by default it neither rejects nor limits."""

    name = "filter"

    def reject(self, order: Order, node: Node, km: float) -> str | None:
        return None

    def limit(self, order: Order, node: Node, sku: str, qty: int) -> int:
        return qty


@dataclass(frozen=True)
class CapabilityFilter(NodeFilter):
    """Shipped orders need a node that ships; collected orders need their own pick-up node."""

    name = "capability"

    def reject(self, order: Order, node: Node, km: float) -> str | None:
        if order.fulfilment.collected:
            if node.code != order.pickup_node:
                return f"{order.fulfilment.value} order is collected at {order.pickup_node}"
            if Capability.PICKUP not in node.capabilities:
                return f"{node.code} does not offer pick-up"
            return None
        if not node.capabilities & SHIP_CAPABLE:
            return f"{node.kind.value} {node.code} cannot ship ({order.fulfilment.value})"
        return None


@dataclass(frozen=True)
class SameCountry(NodeFilter):
    name = "same_country"

    def reject(self, order: Order, node: Node, km: float) -> str | None:
        if node.country != order.country:
            return f"node in {node.country}, order ships to {order.country}"
        return None


def _same_day_limit() -> dict[Fulfilment, float]:
    return {Fulfilment.SAME_DAY: 60.0}


@dataclass(frozen=True)
class MaxDistance(NodeFilter):
    """A cap on great-circle distance, tighter per fulfilment type (same-day couriers drive, not fly)."""

    km: float = 1500.0
    per_fulfilment: Mapping[Fulfilment, float] = field(default_factory=_same_day_limit)
    name = "max_distance"

    def reject(self, order: Order, node: Node, km: float) -> str | None:
        cap = self.per_fulfilment.get(order.fulfilment, self.km)
        if km > cap:
            return f"{km:.0f} km away, limit {cap:.0f} km for {order.fulfilment.value}"
        return None


def _shipped() -> frozenset[Fulfilment]:
    return SHIPPED


def _stores() -> frozenset[LocationKind]:
    return frozenset({LocationKind.STORE})


@dataclass(frozen=True)
class StoreProtection(NodeFilter):
    """Never ship from a store below ``min_units`` of a SKU after the pick: the shelf keeps serving walk-ins."""

    min_units: int = 2
    kinds: frozenset[LocationKind] = field(default_factory=_stores)
    applies_to: frozenset[Fulfilment] = field(default_factory=_shipped)
    name = "store_protection"

    def limit(self, order: Order, node: Node, sku: str, qty: int) -> int:
        if node.kind in self.kinds and order.fulfilment in self.applies_to:
            return max(0, min(qty, node.stock.get(sku, 0) - self.min_units))
        return qty

    def reject(self, order: Order, node: Node, km: float) -> str | None:
        if node.kind not in self.kinds or order.fulfilment not in self.applies_to:
            return None
        demand = order.demand()
        held = {sku: node.stock.get(sku, 0) for sku in demand}
        if any(qty > 0 for qty in held.values()) and all(qty <= self.min_units for qty in held.values()):
            return f"store keeps {self.min_units} units; holds {', '.join(f'{s}={q}' for s, q in held.items())}"
        return None


@dataclass(frozen=True)
class NodeCapacity(NodeFilter):
    """Daily pick capacity, minus ``headroom`` units kept back (for store walk-ins or late rush orders)."""

    headroom: int = 0
    name = "capacity"

    def reject(self, order: Order, node: Node, km: float) -> str | None:
        if node.capacity_left - self.headroom <= 0:
            return f"used {node.used} of {node.capacity} units today (headroom {self.headroom})"
        return None

    def units(self, node: Node) -> int:
        return max(0, node.capacity_left - self.headroom)


@dataclass(frozen=True)
class OrderSources(NodeFilter):
    """Only the nodes the order itself allows (``Order.sources``), when it names any."""

    name = "sources"

    def reject(self, order: Order, node: Node, km: float) -> str | None:
        if order.sources is not None and node.code not in order.sources:
            return f"{node.code} is not a source of {order.channel} in {order.country} for this order"
        return None


@dataclass(frozen=True)
class ExcludedNodes(NodeFilter):
    codes: frozenset[str] = frozenset()
    name = "excluded"

    def reject(self, order: Order, node: Node, km: float) -> str | None:
        return f"{node.code} is excluded by policy" if node.code in self.codes else None


class Objective(StrEnum):
    """How feasible plans rank: the issue's lexicographic rule, or the cost model alone."""

    FEWEST_SPLITS_THEN_COST = "fewest_splits_then_cost"
    LOWEST_COST = "lowest_cost"


def _default_filters() -> tuple[NodeFilter, ...]:
    return (
        CapabilityFilter(),
        OrderSources(),
        SameCountry(),
        MaxDistance(),
        StoreProtection(),
        NodeCapacity(),
        ExcludedNodes(),
    )


@dataclass(frozen=True)
class Policy:
    filters: tuple[NodeFilter, ...] = field(default_factory=_default_filters)
    objective: Objective = Objective.FEWEST_SPLITS_THEN_COST
    max_nodes: int = 4  # packages per order at most; demand beyond that is reported unfilled
    search_budget: int = 400  # node combinations tried per split size before settling


@dataclass(slots=True)
class Option:
    """A node that passed every filter, with what it may give this order and what a package from it costs."""

    node: Node
    km: float
    usable: dict[str, int]
    units: int  # capacity left for this order, in units
    cost: PackageCost


@dataclass(slots=True)
class Screen:
    candidates: list[Candidate]
    options: list[Option]
    rejections: list[Rejection]


def screen(order: Order, network: Network, policy: Policy, model: CostModel) -> Screen:
    """Run the policy's filters over the order's candidate nodes: holders of its SKUs and its pick-up node."""
    demand = order.demand()
    codes: set[str] = set()
    for sku in demand:
        codes |= network.holders(sku)
    if order.pickup_node is not None and order.pickup_node in network.nodes:
        codes.add(order.pickup_node)
    capacity = next((f for f in policy.filters if isinstance(f, NodeCapacity)), NodeCapacity())
    out = Screen([], [], [])
    for code in sorted(codes):  # sorted so ties break the same way on every run
        node = network.nodes[code]
        km = distance_km(order, node)
        out.candidates.append(Candidate(code, node.kind, km))
        rejected = next(((f.name, r) for f in policy.filters if (r := f.reject(order, node, km)) is not None), None)
        if rejected is not None:
            out.rejections.append(Rejection(code, rejected[0], rejected[1]))
            continue
        usable: dict[str, int] = {}
        for sku, qty in demand.items():
            give = min(qty, node.stock.get(sku, 0))
            for f in policy.filters:
                give = f.limit(order, node, sku, give)
            if give > 0:
                usable[sku] = give
        if not usable:
            out.rejections.append(Rejection(code, "stock", "no stock of the order's SKUs"))
            continue
        cost = package_cost(order, node, km, model)
        out.options.append(Option(node, km, usable, capacity.units(node), cost))
    return out
