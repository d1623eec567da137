"""The cost model shared by every strategy: shipping, handling, split and lateness, weighted per channel.

One function, ``plan_cost``, prices a finished plan; the planners use ``package_cost`` (the part that
depends on one order and one node) to rank candidates, so what they optimise is what gets reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from keel.orders.sourcing.model import Allocation, CostBreakdown, Fulfilment, Node, Order, haversine_km
from keel.platform.vocabulary import LocationKind


@dataclass(frozen=True, slots=True)
class Rate:
    """Carrier price of one package: a base plus a distance term (a stand-in for zone tables)."""

    base: float
    per_km: float


@dataclass(frozen=True, slots=True)
class Transit:
    """Transit-time estimate: hours before dispatch plus road speed in km per elapsed hour."""

    dispatch_hours: float
    km_per_hour: float

    def hours(self, km: float) -> float:
        return self.dispatch_hours + km / self.km_per_hour


@dataclass(frozen=True, slots=True)
class Weights:
    shipping: float = 1.0
    handling: float = 1.0
    split: float = 1.0
    late: float = 1.0


def _rates() -> dict[Fulfilment, Rate]:
    return {
        Fulfilment.SHIP_STANDARD: Rate(4.0, 0.004),
        Fulfilment.SHIP_EXPRESS: Rate(8.0, 0.008),
        Fulfilment.SAME_DAY: Rate(7.0, 0.25),
    }


def _transit() -> dict[Fulfilment, Transit]:
    # Standard parcels travel ~600 km a day after a day in the node; express ~1,400 km a day after 6 hours.
    return {
        Fulfilment.SHIP_STANDARD: Transit(24.0, 25.0),
        Fulfilment.SHIP_EXPRESS: Transit(6.0, 60.0),
        Fulfilment.SAME_DAY: Transit(2.0, 30.0),
        Fulfilment.PICKUP: Transit(2.0, 1e9),
        Fulfilment.CURBSIDE: Transit(1.0, 1e9),
    }


def _handling_package() -> dict[LocationKind, float]:
    # Stores pick from the shop floor with sales staff and pack without a pack line, so a parcel costs
    # several times what it costs in a warehouse.
    return {
        LocationKind.WAREHOUSE: 2.0,
        LocationKind.THREE_PL: 3.0,
        LocationKind.DARK_STORE: 2.5,
        LocationKind.STORE: 6.0,
    }


def _handling_unit() -> dict[LocationKind, float]:
    return {
        LocationKind.WAREHOUSE: 0.3,
        LocationKind.THREE_PL: 0.5,
        LocationKind.DARK_STORE: 0.4,
        LocationKind.STORE: 1.2,
    }


@dataclass(frozen=True)
class CostModel:
    """Prices as data, and the weights one channel puts on each component (each channel has its own model)."""

    rates: Mapping[Fulfilment, Rate] = field(default_factory=_rates)
    transit: Mapping[Fulfilment, Transit] = field(default_factory=_transit)
    handling_per_package: Mapping[LocationKind, float] = field(default_factory=_handling_package)
    handling_per_unit: Mapping[LocationKind, float] = field(default_factory=_handling_unit)
    split_penalty: float = 3.0
    late_penalty: float = 10.0
    late_penalty_per_hour: float = 0.25
    unfilled_per_unit: float = 100.0
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True, slots=True)
class PackageCost:
    """Weighted cost of one package for one order from one node, and the per-unit handling there."""

    shipping: float
    handling: float
    late: float
    per_unit: float
    transit_hours: float

    @property
    def fixed(self) -> float:
        return self.shipping + self.handling + self.late

    @property
    def is_late(self) -> bool:
        return self.late > 0


def distance_km(order: Order, node: Node) -> float:
    # A collected order travels nowhere: the customer comes to the node.
    if order.fulfilment.collected:
        return 0.0
    return haversine_km(order.lat, order.lon, node.lat, node.lon)


def package_cost(order: Order, node: Node, km: float, model: CostModel) -> PackageCost:
    """Everything a package from ``node`` costs this order, except per-unit handling times quantity."""
    w = model.weights
    shipping = 0.0
    rate = model.rates.get(order.fulfilment)
    if rate is not None and not order.fulfilment.collected:
        shipping = rate.base + rate.per_km * km
    hours = model.transit[order.fulfilment].hours(km)
    late = 0.0
    if order.promise_hours is not None and hours > order.promise_hours:
        late = model.late_penalty + model.late_penalty_per_hour * (hours - order.promise_hours)
    return PackageCost(
        shipping=w.shipping * shipping,
        handling=w.handling * model.handling_per_package[node.kind],
        late=w.late * late,
        per_unit=w.handling * model.handling_per_unit[node.kind],
        transit_hours=hours,
    )


def split_cost(order: Order, packages: int, model: CostModel) -> float:
    w = model.weights
    return w.split * model.split_penalty * max(0, packages - 1)


def plan_cost(
    order: Order, allocations: Iterable[Allocation], nodes: Mapping[str, Node], model: CostModel
) -> CostBreakdown:
    """The one cost function every strategy is judged by; unfilled demand is whatever the allocations miss."""
    units: dict[str, int] = {}
    taken: dict[str, int] = {}
    for a in allocations:
        units[a.node] = units.get(a.node, 0) + a.qty
        taken[a.sku] = taken.get(a.sku, 0) + a.qty
    shipping = handling = late = 0.0
    for code, qty in units.items():
        node = nodes[code]
        pc = package_cost(order, node, distance_km(order, node), model)
        shipping += pc.shipping
        handling += pc.handling + pc.per_unit * qty
        late += pc.late
    missing = sum(max(0, qty - taken.get(sku, 0)) for sku, qty in order.demand().items())
    return CostBreakdown(
        shipping=shipping,
        handling=handling,
        split=split_cost(order, len(units), model),
        late=late,
        unfilled=model.unfilled_per_unit * missing,
    )
