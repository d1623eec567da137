"""Periodic-review, order-up-to replenishment from forecast quantiles, stores first, then their DCs.

For one SKU x location with policy (review R days, lead time L +- sL, cycle service level a) and a daily
forecast (mean m_d and the a-quantile u_d of each day d):

    P  = ceil(L + R)                               the protection period: until the next order can arrive
    D  = sum of m_d over P days                    expected demand in it
    s_d = (u_d - m_d) / z_a                        each day's spread, read off the calibrated quantile
    sigma = sqrt(sum of s_d^2 + (D / P)^2 * sL^2)  demand and lead-time uncertainty together
    SS = z_a * sigma;  S = ceil(D + SS)            safety stock and the order-up-to level
    position = available + incoming                stock already promised to orders is not there to sell
    order = S - position, at least the MOQ, up to whole packs, within the shelf capacity

A store whose source is ``warehouse`` takes what it needs from the DCs of its country while they have
stock above their own safety stock, and buys the rest. A DC covers its own outflow plus, as an echelon,
its share of the forecast of the stores it supplies, and counts the transfers planned in the same run as
gone. Every suggestion keeps the numbers that made it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

from keel.planning.model.policy import DISTRIBUTION_KINDS, Policy

__all__ = [
    "Explanation", "Level", "Line", "Planned", "daily_of", "fill_rate_factor", "forecast_days", "level_of",
    "normal_loss", "order_quantity", "plan", "protection_days",
]  # fmt: skip

PURCHASE, TRANSFER = "purchase", "transfer"
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class Level:
    """The order-up-to arithmetic of one SKU x location."""

    days: int  # protection period P
    demand: float  # D
    sigma: float
    z: float
    safety_stock: float
    order_up_to: int  # S


@dataclass(frozen=True, slots=True)
class Line:
    """One SKU x location to plan: where it is, its policy, stock and daily forecast (mean and the quantile at
    the policy's service level), at least as long as its protection period."""

    sku: str
    location: str
    kind: str
    country: str
    policy: Policy
    on_hand: int
    available: int
    committed: int
    incoming: int
    mean: Sequence[float]
    upper: Sequence[float]
    bands: Mapping[str, Sequence[float]] = field(default_factory=dict)  # quantile column -> day by day
    # Its share of each ship-to country's shipped orders ("@DE" -> 0.6), which its forecast includes
    shares: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a suggestion has its quantity: every input and intermediate value."""

    forecast_units: float
    protection_days: int
    service_level: float
    z: float  # the safety factor: from the service level, or from the fill rate when the policy sets one
    sigma: float
    safety_stock: float
    order_up_to: int
    on_hand: int
    available: int
    committed: int
    incoming: int
    position: int
    needed: int  # S - position
    quantity: int  # after MOQ, packs, capacity and (for a transfer) the DC's spare stock
    notes: tuple[str, ...] = ()
    # A rebalancing transfer: units the destination is expected to miss over its protection period without and
    # with the run's transfers, and the margin this one saves less its cost (the country's currency).
    lost_before: float | None = None
    lost_after: float | None = None
    value: float | None = None
    # The location's own forecast day by day over the protection period: "mean" and the quantiles ("q50",
    # "q80", "q95"...), for the pages' fan chart. Empty for a DC, whose level also covers its stores.
    daily: dict[str, tuple[float, ...]] = field(default_factory=dict)
    fill_rate: float | None = None  # the policy's target fill rate, when it set the safety factor


@dataclass(frozen=True, slots=True)
class Planned:
    """A suggested purchase order (``source`` a supplier) or transfer (``source`` a DC) into ``location``."""

    kind: str
    sku: str
    location: str
    source: str
    quantity: int
    explanation: Explanation


def protection_days(policy: Policy) -> int:
    """P: the days an order placed now must cover, until the order of the next review arrives."""
    return max(1, math.ceil(policy.lead_time_days + policy.review_days))


def forecast_days(policy: Policy) -> int:
    """The days of forecast a series needs: its protection period by a transfer or bought from the supplier."""
    return max(protection_days(policy), protection_days(policy.bought()))


def level_of(policy: Policy, mean: Sequence[float], upper: Sequence[float], extra_var: float = 0.0) -> Level:
    """The order-up-to level of a series from its daily forecast (see the module docstring); ``extra_var`` adds
    the variance of demand this location also serves (a DC's stores)."""
    days = protection_days(policy)
    if len(mean) < days or len(upper) < days:
        raise ValueError(f"the forecast covers {len(mean)} days; the protection period is {days}")
    z = NormalDist().inv_cdf(policy.service_level)  # the quantile ``upper`` was read at
    demand = float(sum(mean[:days]))
    var = sum((max(u - m, 0.0) / z) ** 2 for m, u in zip(mean[:days], upper[:days], strict=True)) + extra_var
    var += (demand / days) ** 2 * policy.lead_time_sd_days**2
    sigma = math.sqrt(var)
    if policy.fill_rate is not None:
        z = fill_rate_factor(policy.fill_rate, sigma, demand / days * policy.review_days)
    safety = z * sigma
    return Level(days, demand, sigma, z, safety, math.ceil(demand + safety - 1e-9))


def normal_loss(k: float) -> float:
    """G(k) = E[(X - k)+] for a standard normal X: the units short per unit of sigma at safety factor k."""
    return _NORMAL.pdf(k) - k * (1 - _NORMAL.cdf(k))


def fill_rate_factor(fill_rate: float, sigma: float, cycle_demand: float) -> float:
    """The smallest safety factor k >= 0 whose expected shortage per review cycle, sigma * G(k), is at most
    (1 - fill_rate) of the demand of a cycle (the review period's): the fill-rate rule of periodic review. At
    k = 0 the target may already hold (a little spread beside much demand): no safety stock, never less."""
    if sigma <= 1e-9 or sigma * normal_loss(0.0) <= (1 - fill_rate) * cycle_demand:
        return 0.0
    allowed = (1 - fill_rate) * cycle_demand / sigma
    low, high = 0.0, 8.0  # G falls from 0.399 at 0 to about 1e-16 at 8: every allowed shortage lies between
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if normal_loss(middle) > allowed else (low, middle)
    return high


def order_quantity(
    policy: Policy, level: Level, position: int, on_hand: int, incoming: int
) -> tuple[int, int, list[str]]:
    """(needed, quantity, notes): S - position, then at least the MOQ, whole packs, and no more than the shelf
    has room for beside what is on hand and incoming."""
    needed = level.order_up_to - position
    notes: list[str] = []
    if needed <= 0:
        return needed, 0, notes
    qty = needed
    if qty < policy.moq:
        qty = policy.moq
        notes.append(f"raised to the minimum order of {policy.moq}")
    if qty % policy.pack_size:
        qty = math.ceil(qty / policy.pack_size) * policy.pack_size
        notes.append(f"rounded up to packs of {policy.pack_size}")
    if policy.shelf_capacity is not None:
        room = (max(policy.shelf_capacity - on_hand - incoming, 0) // policy.pack_size) * policy.pack_size
        if qty > room:
            qty = room
            notes.append(f"cut to the shelf capacity of {policy.shelf_capacity}")
    return needed, qty, notes


@dataclass
class _Dc:
    line: Line
    spare: int  # available above its own safety stock, less what this run already moves out
    served_mean: list[float] = field(default_factory=list)
    served_var: float = 0.0
    transfers_out: int = 0


def daily_of(line: Line, days: int) -> dict[str, tuple[float, ...]]:
    """``Explanation.daily`` of a store's line: its forecast's mean and quantiles over ``days``."""
    if not line.bands:
        return {}
    return {"mean": tuple(round(m, 2) for m in line.mean[:days])} | {
        name: tuple(values[:days]) for name, values in line.bands.items()
    }


def _explain(
    line: Line, level: Level, position: int, needed: int, qty: int, notes: Sequence[str], *, own: bool = True
) -> Explanation:
    shipped = [f"its forecast includes {share:.0%} of the orders shipped to customers in {where[1:]}"
               for where, share in sorted(line.shares.items()) if share > 0]  # fmt: skip
    notes = [*shipped, *notes]
    return Explanation(
        round(level.demand, 3), level.days, line.policy.service_level, round(level.z, 4), round(level.sigma, 3),
        round(level.safety_stock, 3), level.order_up_to, line.on_hand, line.available, line.committed,
        line.incoming, position, needed, qty, tuple(notes), daily=daily_of(line, level.days) if own else {},
        fill_rate=line.policy.fill_rate,
    )  # fmt: skip


def plan(lines: Sequence[Line], weekday: int) -> list[Planned]:
    """Suggestions for every line whose policy orders on ``weekday`` (0 = Monday): stores first (transfers from
    their country's DCs, then purchases for the rest), then DCs (purchases covering their stores too)."""
    dcs: dict[str, dict[str, _Dc]] = {}  # country -> DC code -> state, per SKU below
    by_sku: dict[str, list[Line]] = {}
    for line in lines:
        by_sku.setdefault(line.sku, []).append(line)
    out: list[Planned] = []
    for sku in sorted(by_sku):
        dcs.clear()
        shops = [x for x in by_sku[sku] if x.kind not in DISTRIBUTION_KINDS]
        for x in by_sku[sku]:
            if x.kind in DISTRIBUTION_KINDS:
                own = level_of(x.policy, x.mean, x.upper)
                dcs.setdefault(x.country, {})[x.location] = _Dc(x, max(x.available - math.ceil(own.safety_stock), 0))
        for shop in sorted(shops, key=lambda s: s.location):
            out += _plan_shop(shop, dcs.get(shop.country, {}), weekday)
        for country in sorted(dcs):
            for dc in dcs[country].values():
                out += _plan_dc(dc, weekday)
    return out


def _plan_shop(line: Line, dcs: dict[str, _Dc], weekday: int) -> list[Planned]:
    policy = line.policy if dcs else line.policy.bought()  # no DC to draw on: the supplier's lead time
    level = level_of(policy, line.mean, line.upper)
    if policy.source == "warehouse" and dcs:
        share = 1 / len(dcs)  # its stores' demand is served by the country's DCs in equal shares
        for dc in dcs.values():
            grow = len(line.mean) - len(dc.served_mean)
            dc.served_mean += [0.0] * max(grow, 0)
            for d, m in enumerate(line.mean):
                dc.served_mean[d] += m * share
            dc.served_var += (level.sigma * share) ** 2
    if weekday not in policy.order_weekdays:
        return []
    position = line.available + line.incoming
    needed, qty, notes = order_quantity(policy, level, position, line.on_hand, line.incoming)
    if qty <= 0:
        return []
    out: list[Planned] = []
    left = qty
    if policy.source == "warehouse":
        for dc in sorted(dcs.values(), key=lambda d: (-d.spare, d.line.location)):
            take = min(left, (dc.spare // policy.pack_size) * policy.pack_size)
            if take <= 0:
                continue
            dc.spare -= take
            dc.transfers_out += take
            left -= take
            note = [*notes, f"{take} of {qty} from {dc.line.location}, which keeps its own safety stock"]
            out.append(Planned(TRANSFER, line.sku, line.location, dc.line.location, take,
                               _explain(line, level, position, needed, take, note)))  # fmt: skip
            if left == 0:
                break
        if left and dcs:
            notes.append(f"no DC of {line.country} can spare {left}: bought from the supplier")
        elif left:
            notes.append(
                f"no DC of {line.country} holds it: bought from the supplier, {policy.lead_time_days:g} days away"
            )
    if left:
        out.append(Planned(PURCHASE, line.sku, line.location, "supplier", left,
                           _explain(line, level, position, needed, left, notes)))  # fmt: skip
    return out


def _plan_dc(dc: _Dc, weekday: int) -> list[Planned]:
    line = dc.line
    days = protection_days(line.policy)
    served = dc.served_mean + [0.0] * max(days - len(dc.served_mean), 0)
    mean = [m + s for m, s in zip(line.mean, served, strict=False)]
    upper = [u + s for u, s in zip(line.upper, served, strict=False)]  # the stores' spread enters as variance
    level = level_of(line.policy, mean, upper, dc.served_var)
    if weekday not in line.policy.order_weekdays:
        return []
    position = line.available + line.incoming - dc.transfers_out
    needed, qty, notes = order_quantity(line.policy, level, position, line.on_hand, line.incoming)
    if dc.served_var:
        notes.insert(0, "covers the stores it supplies as well as its own orders")
    if dc.transfers_out:
        notes.insert(0, f"{dc.transfers_out} planned to move out to stores in this run")
    if qty <= 0:
        return []
    return [Planned(PURCHASE, line.sku, line.location, "supplier", qty,
                    _explain(line, level, position, needed, qty, notes, own=not dc.served_var))]  # fmt: skip
