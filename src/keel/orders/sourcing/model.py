"""Sourcing domain: nodes, orders, plans and their explanations. Pure data: standard library and the
platform vocabulary (location kinds and capabilities) only."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from keel.platform.vocabulary import Capability, LocationKind

EARTH_RADIUS_KM = 6371.0088


class Fulfilment(StrEnum):
    SHIP_STANDARD = "ship_standard"
    SHIP_EXPRESS = "ship_express"
    PICKUP = "pickup"
    CURBSIDE = "curbside"
    SAME_DAY = "same_day"

    @property
    def collected(self) -> bool:
        """The customer collects at a node: nothing is shipped, so distance and packages cost nothing."""
        return self in (Fulfilment.PICKUP, Fulfilment.CURBSIDE)


SHIPPED = frozenset({Fulfilment.SHIP_STANDARD, Fulfilment.SHIP_EXPRESS, Fulfilment.SAME_DAY})


@dataclass(slots=True)
class Node:
    """A stock location as the planner sees it. ``stock`` and ``used`` change only through ``Network.commit``."""

    code: str
    kind: LocationKind
    country: str
    lat: float
    lon: float
    capabilities: frozenset[Capability]
    capacity: int  # units the node can pick per day
    used: int = 0
    stock: dict[str, int] = field(default_factory=dict)

    @property
    def capacity_left(self) -> int:
        return max(0, self.capacity - self.used)


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    qty: int


@dataclass(frozen=True, slots=True)
class Order:
    """An order to source. ``promise_hours`` counts from now; ``None`` means no promise (never late)."""

    id: str
    channel: str
    lines: tuple[OrderLine, ...]
    lat: float
    lon: float
    country: str
    fulfilment: Fulfilment = Fulfilment.SHIP_STANDARD
    promise_hours: float | None = None
    pickup_node: str | None = None
    # Nodes this order may take stock from (the channel's sources, minus nodes that rejected it); None
    # means any node of the network. A wave plans many channels' orders on one network, so it needs this.
    sources: frozenset[str] | None = None

    def demand(self) -> dict[str, int]:
        """Quantity per SKU, duplicate lines merged (the planner sources SKUs, not line numbers)."""
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.sku] = out.get(line.sku, 0) + line.qty
        return out


@dataclass(frozen=True, slots=True)
class Allocation:
    node: str
    sku: str
    qty: int


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Weighted cost components of one plan; ``total`` is their sum."""

    shipping: float = 0.0
    handling: float = 0.0
    split: float = 0.0
    late: float = 0.0
    unfilled: float = 0.0

    @property
    def total(self) -> float:
        return self.shipping + self.handling + self.split + self.late + self.unfilled


@dataclass(frozen=True, slots=True)
class Candidate:
    node: str
    kind: LocationKind
    distance_km: float


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a candidate node cannot serve the order: the first policy filter that said no, and its numbers."""

    node: str
    filter: str
    reason: str


@dataclass(frozen=True, slots=True)
class RankedPlan:
    nodes: tuple[str, ...]
    splits: int
    unfilled_units: int
    late_packages: int
    cost: float


@dataclass(frozen=True, slots=True)
class Explanation:
    candidates: tuple[Candidate, ...]
    rejections: tuple[Rejection, ...]
    ranking: tuple[RankedPlan, ...]  # best first, as the policy's objective orders them
    plans_evaluated: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    order_id: str
    strategy: str
    allocations: tuple[Allocation, ...]
    unfilled: tuple[OrderLine, ...]
    cost: CostBreakdown
    explanation: Explanation | None = None

    @property
    def nodes(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for a in self.allocations:
            seen.setdefault(a.node, None)
        return tuple(seen)

    @property
    def splits(self) -> int:
        """Extra packages beyond the first: 0 for a single-node plan."""
        return max(0, len(self.nodes) - 1)

    @property
    def complete(self) -> bool:
        return not self.unfilled


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; shipping is priced by it when no carrier zone table is given."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class Network:
    """Nodes plus an index from SKU to the nodes holding it, so an order only looks at nodes that matter.

    The index is what keeps real-time planning independent of the node count: an order's candidates
    are the holders of its SKUs (plus its pick-up node), never a scan of every node.
    """

    def __init__(self, nodes: list[Node]) -> None:
        codes = [n.code for n in nodes]
        if len(set(codes)) != len(codes):
            raise ValueError("node codes must be unique")
        self.nodes: dict[str, Node] = {n.code: n for n in nodes}
        self._holders: dict[str, set[str]] = {}
        for n in nodes:
            for sku, qty in n.stock.items():
                if qty > 0:
                    self._holders.setdefault(sku, set()).add(n.code)

    def holders(self, sku: str) -> set[str]:
        """Codes of nodes that held the SKU at some point (stock may since have reached zero)."""
        return self._holders.get(sku, set())

    def receive(self, node: str, sku: str, qty: int) -> None:
        """Add stock (a receipt or a release); keeps the SKU index current."""
        if qty < 0:
            raise ValueError("receive a positive quantity")
        target = self.nodes[node]
        target.stock[sku] = target.stock.get(sku, 0) + qty
        if target.stock[sku] > 0:
            self._holders.setdefault(sku, set()).add(node)

    def commit(self, plan: Plan, *, within_capacity: bool = True) -> None:
        """Take a plan's quantities out of stock and capacity, all or nothing. ``within_capacity=False`` puts
        back a plan already carried out (its units were picked against an earlier day's capacity)."""
        need: dict[tuple[str, str], int] = {}
        units: dict[str, int] = {}
        for a in plan.allocations:
            need[(a.node, a.sku)] = need.get((a.node, a.sku), 0) + a.qty
            units[a.node] = units.get(a.node, 0) + a.qty
        for (code, sku), qty in need.items():
            if qty <= 0 or self.nodes[code].stock.get(sku, 0) < qty:
                raise ValueError(f"plan {plan.order_id} takes {qty} x {sku} from {code} beyond its stock")
        for code, qty in units.items():
            if within_capacity and self.nodes[code].capacity_left < qty:
                raise ValueError(f"plan {plan.order_id} takes {qty} units from {code} beyond its capacity")
        for (code, sku), qty in need.items():
            self.nodes[code].stock[sku] -= qty
        for code, qty in units.items():
            self.nodes[code].used += qty

    def copy(self) -> Network:
        """An independent copy, so several strategies can start from the same stock."""
        return Network(
            [
                Node(n.code, n.kind, n.country, n.lat, n.lon, n.capabilities, n.capacity, n.used, dict(n.stock))
                for n in self.nodes.values()
            ]
        )
