"""Sourcing policies as documents: what an operator stores per channel, parsed into ``Policy`` and ``Weights``.

A document lists the filters in the order they run, each with its numbers, then the objective, the package
limit and the cost weights. Two filters are always applied first whatever the document says: capability
(a shipped order needs a node that ships, a collected one its pick-up node) and sources (the nodes the
order may take stock from), because without them a plan could be impossible to carry out.

    {"filters": [{"kind": "max_distance", "km": 800, "same_day_km": 40},
                 {"kind": "store_protection", "min_units": 3},
                 {"kind": "capacity", "headroom": 20},
                 {"kind": "excluded", "nodes": ["ST-DE-009"]}],
     "objective": "lowest_cost", "max_nodes": 3,
     "weights": {"split": 2.0, "late": 1.5}}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from keel.orders.sourcing.cost import CostModel, Weights
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
)
from keel.orders.sourcing.model import Fulfilment
from keel.orders.sourcing.prices import PriceError, parse_prices, prices_document

ALWAYS = (CapabilityFilter(), OrderSources())
MAX_NODES = 10
MAX_KM = 20_000.0
WEIGHT_NAMES = ("shipping", "handling", "split", "late")


@dataclass(frozen=True)
class SpecError:
    field: str  # a path into the document, e.g. "filters[2].km"
    reason: str


@dataclass(frozen=True)
class Sourcing:
    """A parsed document: the filters and objective, the channel's cost weights and its prices."""

    policy: Policy
    weights: Weights
    prices: CostModel = field(default_factory=CostModel)

    @property
    def model(self) -> CostModel:
        """The channel's cost model: its prices, weighted by its weights."""
        return replace(self.prices, weights=self.weights)


def default_sourcing() -> Sourcing:
    return Sourcing(Policy(), Weights())


def _number(doc: Mapping[str, Any], key: str, path: str, low: float, high: float, errors: list[SpecError]) -> Any:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        errors.append(SpecError(f"{path}.{key}", f"a number from {low:g} to {high:g}"))
        return None
    return value


def _whole(doc: Mapping[str, Any], key: str, path: str, low: int, high: int, errors: list[SpecError]) -> Any:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(SpecError(f"{path}.{key}", f"a whole number from {low} to {high}"))
        return None
    return value


def _max_distance(doc: Mapping[str, Any], path: str, errors: list[SpecError]) -> NodeFilter | None:
    km = _number(doc, "km", path, 1, MAX_KM, errors)
    same_day = _number({"same_day_km": 60, **doc}, "same_day_km", path, 1, MAX_KM, errors)
    if km is None or same_day is None:
        return None
    return MaxDistance(km=float(km), per_fulfilment={Fulfilment.SAME_DAY: float(same_day)})


def _store_protection(doc: Mapping[str, Any], path: str, errors: list[SpecError]) -> NodeFilter | None:
    units = _whole(doc, "min_units", path, 0, 1_000_000, errors)
    return None if units is None else StoreProtection(min_units=units)


def _capacity(doc: Mapping[str, Any], path: str, errors: list[SpecError]) -> NodeFilter | None:
    headroom = _whole({"headroom": 0, **doc}, "headroom", path, 0, 1_000_000, errors)
    return None if headroom is None else NodeCapacity(headroom=headroom)


def _excluded(doc: Mapping[str, Any], path: str, errors: list[SpecError]) -> NodeFilter | None:
    nodes = doc.get("nodes", [])
    if not isinstance(nodes, list) or not all(isinstance(n, str) and n.strip() for n in nodes):
        errors.append(SpecError(f"{path}.nodes", "a list of location codes"))
        return None
    return ExcludedNodes(frozenset(n.strip() for n in nodes))


FILTERS: dict[str, tuple[Callable[[Mapping[str, Any], str, list[SpecError]], NodeFilter | None], frozenset[str]]] = {
    "same_country": (lambda doc, path, errors: SameCountry(), frozenset()),
    "max_distance": (_max_distance, frozenset({"km", "same_day_km"})),
    "store_protection": (_store_protection, frozenset({"min_units"})),
    "capacity": (_capacity, frozenset({"headroom"})),
    "excluded": (_excluded, frozenset({"nodes"})),
}
TOP = frozenset({"filters", "objective", "max_nodes", "weights", "prices"})


def parse_sourcing(doc: Any) -> tuple[Sourcing | None, list[SpecError]]:
    """Validate a policy document completely (every problem, each with its path) and build it."""
    errors: list[SpecError] = []
    if not isinstance(doc, Mapping):
        return None, [SpecError("", "a JSON object")]
    errors += [SpecError(key, f"unknown field; allowed: {', '.join(sorted(TOP))}") for key in doc if key not in TOP]
    # Without a "filters" list the default filters apply; with one, exactly those (after the two above).
    filters = list(Policy().filters) if "filters" not in doc else list(ALWAYS)
    raw = doc.get("filters", [])
    if not isinstance(raw, list):
        errors.append(SpecError("filters", "a list of filters, in the order they run"))
        raw = []
    seen: set[str] = set()
    for i, item in enumerate(raw, start=1):
        path = f"filters[{i}]"
        kind = item.get("kind") if isinstance(item, Mapping) else None
        if not isinstance(kind, str) or kind not in FILTERS:
            errors.append(SpecError(f"{path}.kind", f"one of {', '.join(sorted(FILTERS))}"))
            continue
        if kind in seen:
            errors.append(SpecError(f"{path}.kind", f"{kind} is listed twice"))
            continue
        seen.add(kind)
        build, allowed = FILTERS[kind]
        extra = sorted(k for k in item if k not in allowed | {"kind"})
        if extra:
            errors.append(SpecError(f"{path}.{extra[0]}", f"unknown for {kind}; allowed: {', '.join(sorted(allowed))}"))
            continue
        built = build(item, path, errors)
        if built is not None:
            filters.append(built)
    objective = doc.get("objective", Objective.FEWEST_SPLITS_THEN_COST.value)
    if not isinstance(objective, str) or objective not in {o.value for o in Objective}:
        errors.append(SpecError("objective", f"one of {', '.join(o.value for o in Objective)}"))
    max_nodes = _whole({"max_nodes": 4, **doc}, "max_nodes", "", 1, MAX_NODES, errors)
    raw_weights = doc.get("weights", {})
    weights: dict[str, float] = {}
    if not isinstance(raw_weights, Mapping):
        errors.append(SpecError("weights", f"an object with any of {', '.join(WEIGHT_NAMES)}"))
    else:
        for name in raw_weights:
            if not isinstance(name, str) or name not in WEIGHT_NAMES:
                errors.append(SpecError(f"weights.{name}", f"unknown weight; allowed: {', '.join(WEIGHT_NAMES)}"))
            elif (w := _number(raw_weights, name, "weights", 0, 100, errors)) is not None:
                weights[name] = float(w)
    price_errors: list[PriceError] = []
    prices = parse_prices(doc["prices"], price_errors) if "prices" in doc else CostModel()
    errors += [SpecError(e.field, e.reason) for e in price_errors]
    if errors:
        return None, [SpecError(e.field.lstrip("."), e.reason) for e in errors]
    policy = Policy(filters=tuple(filters), objective=Objective(objective), max_nodes=max_nodes)
    return Sourcing(policy, Weights(**weights), prices), []


def omitted_defaults(document: Mapping[str, Any]) -> list[str]:
    """Built-in filters a document's own ``filters`` list leaves out, each with what that means: an operator
    who lists only the filters they meant to change would otherwise drop the others without noticing."""
    listed = document.get("filters")
    if not isinstance(listed, list):
        return []
    kinds = {item.get("kind") for item in listed if isinstance(item, Mapping)}
    meaning = {
        "same_country": "nodes in other countries are candidates",
        "max_distance": "no distance limit",
        "store_protection": "stores may ship their last units",
        "capacity": "no headroom is kept (the daily capacity itself still applies)",
    }
    return [f"{kind} is not listed: {text}" for kind, text in meaning.items() if kind not in kinds]


def with_excluded(policy: Policy, nodes: frozenset[str]) -> Policy:
    """The policy with more nodes excluded (those that rejected a line of one order)."""
    if not nodes:
        return policy
    found = [f for f in policy.filters if isinstance(f, ExcludedNodes)]
    codes = nodes | (found[0].codes if found else frozenset())
    filters = [f for f in policy.filters if not isinstance(f, ExcludedNodes)] + [ExcludedNodes(codes)]
    return replace(policy, filters=tuple(filters))


def to_document(sourcing: Sourcing) -> dict[str, Any]:
    """The document that ``parse_sourcing`` turns into ``sourcing``: what an operator sees in effect."""
    filters: list[dict[str, Any]] = []
    for f in sourcing.policy.filters:
        if isinstance(f, SameCountry):
            filters.append({"kind": "same_country"})
        elif isinstance(f, MaxDistance):
            same_day = f.per_fulfilment.get(Fulfilment.SAME_DAY, f.km)
            filters.append({"kind": "max_distance", "km": f.km, "same_day_km": same_day})
        elif isinstance(f, StoreProtection):
            filters.append({"kind": "store_protection", "min_units": f.min_units})
        elif isinstance(f, NodeCapacity):
            filters.append({"kind": "capacity", "headroom": f.headroom})
        elif isinstance(f, ExcludedNodes):
            filters.append({"kind": "excluded", "nodes": sorted(f.codes)})
    w = sourcing.weights
    return {
        "filters": filters,
        "objective": sourcing.policy.objective.value,
        "max_nodes": sourcing.policy.max_nodes,
        "weights": {name: getattr(w, name) for name in WEIGHT_NAMES},
        "prices": prices_document(sourcing.prices),
    }
