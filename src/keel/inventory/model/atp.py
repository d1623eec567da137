"""Available-to-promise arithmetic: pool the sources, then apply the channel's rules in order.

``atp_steps`` is the one implementation of the rule sequence; ``atp_quantity`` (the projector's hot loop)
and ``explain_atp`` (the explanation) both run it, the first without recording the steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from keel.platform.vocabulary import AtpRules


@dataclass(frozen=True, slots=True)
class AtpStep:
    rule: str
    removed: int
    result: int


@dataclass(frozen=True, slots=True)
class Contribution:
    """One source location's part of a pool: its available units and how many of them count."""

    location: str
    available: int
    counted: int


@dataclass(frozen=True)
class Atp:
    """An available-to-promise number and the breakdown that explains it."""

    quantity: int
    backorder: bool
    contributions: tuple[Contribution, ...]
    steps: tuple[AtpStep, ...]


def atp_steps(pooled: int, rules: AtpRules, steps: list[AtpStep] | None = None) -> int:
    """pool -> buffer -> allocation -> cap -> zero-below; appends each rule's effect to ``steps`` if given."""
    qty = max(0, pooled - rules.safety_buffer)
    if steps is not None:
        steps.append(AtpStep("pooled from source locations", 0, pooled))
        steps.append(AtpStep(f"safety buffer {rules.safety_buffer}", pooled - qty, qty))
    before = qty
    qty = int(qty * rules.allocation_pct // 100)
    if steps is not None:
        steps.append(AtpStep(f"allocation {rules.allocation_pct:g}%", before - qty, qty))
    if rules.max_listed is not None:
        before = qty
        qty = min(qty, rules.max_listed)
        if steps is not None:
            steps.append(AtpStep(f"maximum listed {rules.max_listed}", before - qty, qty))
    if qty < rules.zero_below:
        if steps is not None:
            steps.append(AtpStep(f"zero below {rules.zero_below}", qty, 0))
        qty = 0
    return qty


def atp_quantity(pooled: int, rules: AtpRules) -> int:
    """The policy arithmetic alone (no breakdown): what the projector computes per dirty listing."""
    return atp_steps(pooled, rules)


def explain_atp(stock: Iterable[tuple[str, int]], rules: AtpRules) -> Atp:
    """ATP with every location's contribution and what each rule removed."""
    contributions = tuple(Contribution(loc, avail, max(0, avail)) for loc, avail in stock)
    steps: list[AtpStep] = []
    qty = atp_steps(sum(c.counted for c in contributions), rules, steps)
    return Atp(qty, rules.backorder, contributions, tuple(steps))
