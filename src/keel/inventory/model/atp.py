"""Available-to-promise arithmetic: pool the sources, then apply the channel's rules in order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AtpRules:
    """The numeric part of a channel's availability policy."""

    safety_buffer: int = 0
    allocation_pct: float = 100.0
    max_listed: int | None = None
    zero_below: int = 0
    backorder: bool = False


@dataclass(frozen=True)
class AtpStep:
    rule: str
    removed: int
    result: int


@dataclass(frozen=True)
class Atp:
    """An available-to-promise number and the breakdown that explains it."""

    quantity: int
    backorder: bool
    contributions: tuple[tuple[str, int, int], ...]  # (location, available there, counted towards pool)
    steps: tuple[AtpStep, ...]


def atp_quantity(pooled: int, rules: AtpRules) -> int:
    """The policy arithmetic alone: pool -> buffer -> allocation -> cap -> zero-below."""
    qty = max(0, pooled - rules.safety_buffer)
    qty = int(qty * rules.allocation_pct // 100)
    if rules.max_listed is not None:
        qty = min(qty, rules.max_listed)
    return 0 if qty < rules.zero_below else qty


def explain_atp(stock: Iterable[tuple[str, int]], rules: AtpRules) -> Atp:
    """ATP with every location's contribution and what each rule removed."""
    contributions = tuple((loc, avail, max(0, avail)) for loc, avail in stock)
    pooled = sum(c[2] for c in contributions)
    steps = [AtpStep("pooled from source locations", 0, pooled)]
    qty = max(0, pooled - rules.safety_buffer)
    steps.append(AtpStep(f"safety buffer {rules.safety_buffer}", steps[-1].result - qty, qty))
    qty = int(qty * rules.allocation_pct // 100)
    steps.append(AtpStep(f"allocation {rules.allocation_pct:g}%", steps[-1].result - qty, qty))
    if rules.max_listed is not None:
        qty = min(qty, rules.max_listed)
        steps.append(AtpStep(f"maximum listed {rules.max_listed}", steps[-1].result - qty, qty))
    if qty < rules.zero_below:
        steps.append(AtpStep(f"zero below {rules.zero_below}", qty, 0))
        qty = 0
    return Atp(qty, rules.backorder, contributions, tuple(steps))
