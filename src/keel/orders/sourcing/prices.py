"""Prices as part of a sourcing policy document: carrier rates, transit estimates, handling and penalties.

Every part is optional and overrides only what it names, so a channel on a different carrier contract can
state its two express rates and keep the rest:

    "prices": {"rates": {"ship_express": {"base": 6.5, "per_km": 0.006}},
               "transit": {"ship_express": {"dispatch_hours": 4, "km_per_hour": 70}},
               "handling": {"store": {"package": 4.0, "unit": 0.8}},
               "split_penalty": 5.0}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from keel.orders.sourcing.cost import CostModel, Rate, Transit
from keel.orders.sourcing.model import SHIPPED, Fulfilment
from keel.platform.vocabulary import FULFILLING_KINDS, LocationKind

# Upper bounds only catch typos (a price of 40,000 for a parcel); a collected order's "speed" is huge on
# purpose (it travels no distance), so transit speeds allow it.
MAX_PRICE = 10_000.0
MAX_SPEED = 1e9
PENALTIES = ("split_penalty", "late_penalty", "late_penalty_per_hour", "unfilled_per_unit")
PARTS = frozenset({"rates", "transit", "handling", *PENALTIES})


K = TypeVar("K", Fulfilment, LocationKind)


@dataclass(frozen=True)
class PriceError:
    field: str
    reason: str


def _pair(
    doc: Any, path: str, names: tuple[str, str], bounds: tuple[tuple[float, float], ...], errors: list[PriceError]
) -> tuple[float, float] | None:
    if not isinstance(doc, Mapping) or set(doc) != set(names):
        errors.append(PriceError(path, f"an object with exactly {' and '.join(names)}"))
        return None
    values = []
    for name, (low, high) in zip(names, bounds, strict=True):
        value = doc[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            errors.append(PriceError(f"{path}.{name}", f"a number from {low:g} to {high:g}"))
            return None
        values.append(float(value))
    return values[0], values[1]


def _section(doc: Any, path: str, allowed: Mapping[str, K], errors: list[PriceError]) -> dict[K, Any]:
    if not isinstance(doc, Mapping):
        errors.append(PriceError(path, f"an object keyed by {', '.join(allowed)}"))
        return {}
    bad = [k for k in doc if not isinstance(k, str) or k not in allowed]
    errors += [PriceError(f"{path}.{k}", f"one of {', '.join(allowed)}") for k in bad]
    return {allowed[k]: v for k, v in doc.items() if k not in bad}


def parse_prices(doc: Any, errors: list[PriceError]) -> CostModel:
    """The built-in cost model with the document's prices in place of its own."""
    base = CostModel()
    if not isinstance(doc, Mapping):
        errors.append(PriceError("prices", "an object with any of " + ", ".join(sorted(PARTS))))
        return base
    errors += [
        PriceError(f"prices.{k}", f"unknown; allowed: {', '.join(sorted(PARTS))}") for k in doc if k not in PARTS
    ]
    rates, transit = dict(base.rates), dict(base.transit)
    per_package, per_unit = dict(base.handling_per_package), dict(base.handling_per_unit)
    rated = {f.value: f for f in Fulfilment if f in SHIPPED}
    for kind, value in _section(doc.get("rates", {}), "prices.rates", rated, errors).items():
        pair = _pair(value, f"prices.rates.{kind.value}", ("base", "per_km"), ((0, MAX_PRICE),) * 2, errors)
        if pair:
            rates[kind] = Rate(*pair)
    every = {f.value: f for f in Fulfilment}
    for kind, value in _section(doc.get("transit", {}), "prices.transit", every, errors).items():
        bounds = ((0, 24 * 30), (1, MAX_SPEED))
        pair = _pair(value, f"prices.transit.{kind.value}", ("dispatch_hours", "km_per_hour"), bounds, errors)
        if pair:
            transit[kind] = Transit(*pair)
    kinds = {k.value: k for k in LocationKind if k in FULFILLING_KINDS}  # a supplier handles no order
    for node_kind, value in _section(doc.get("handling", {}), "prices.handling", kinds, errors).items():
        pair = _pair(value, f"prices.handling.{node_kind.value}", ("package", "unit"), ((0, MAX_PRICE),) * 2, errors)
        if pair:
            per_package[node_kind], per_unit[node_kind] = pair
    penalties: dict[str, float] = {}
    for name in PENALTIES:
        if name in doc:
            value = doc[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_PRICE:
                errors.append(PriceError(f"prices.{name}", f"a number from 0 to {MAX_PRICE:g}"))
            else:
                penalties[name] = float(value)
    return CostModel(
        rates=rates,
        transit=transit,
        handling_per_package=per_package,
        handling_per_unit=per_unit,
        split_penalty=penalties.get("split_penalty", base.split_penalty),
        late_penalty=penalties.get("late_penalty", base.late_penalty),
        late_penalty_per_hour=penalties.get("late_penalty_per_hour", base.late_penalty_per_hour),
        unfilled_per_unit=penalties.get("unfilled_per_unit", base.unfilled_per_unit),
    )


def prices_document(model: CostModel) -> dict[str, Any]:
    """Every price of ``model``, in the document's shape."""
    return {
        "rates": {f.value: {"base": r.base, "per_km": r.per_km} for f, r in model.rates.items()},
        "transit": {
            f.value: {"dispatch_hours": t.dispatch_hours, "km_per_hour": t.km_per_hour}
            for f, t in model.transit.items()
        },
        "handling": {
            k.value: {"package": model.handling_per_package[k], "unit": model.handling_per_unit[k]}
            for k in model.handling_per_package
        },
        **{name: getattr(model, name) for name in PENALTIES},
    }
