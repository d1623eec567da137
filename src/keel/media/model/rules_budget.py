"""Budget and bid arithmetic under guardrails: how far a rule may move a campaign's budget today, how a move
is split between campaigns, and where a rule's bid is clamped.

A campaign's daily room is counted against its *set* budget (the one a person chose), net over the day:
``cap = floor(set_budget * max_budget_change_pct / 100)`` and the day's net rule change (what was moved
already plus this move) stays within ``[-cap, +cap]``. A move down also stops at ``min_budget``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from keel.media.model.ads import Guardrails
from keel.platform.money import scale


@dataclass(frozen=True)
class GuardrailSet:
    """Each account's guardrails and the global ones; where both are set the stricter holds, and an account
    without its own has the global ones (or the defaults when there are none)."""

    accounts: Mapping[str, Guardrails] = field(default_factory=dict)
    everywhere: Guardrails | None = None

    def of(self, account: str) -> Guardrails:
        """The guardrails that hold for ``account``."""
        own = self.accounts.get(account)
        if own is None or self.everywhere is None:
            return own or self.everywhere or Guardrails()
        return stricter(own, self.everywhere)


def stricter(a: Guardrails, b: Guardrails) -> Guardrails:
    """Both sets of limits at once: the smaller change, the higher floor, the lower approval threshold, the
    narrower bid band and every excluded campaign."""
    approvals = [x for x in (a.approval_above, b.approval_above) if x is not None]
    return Guardrails(
        max_budget_change_pct=min(a.max_budget_change_pct, b.max_budget_change_pct),
        min_budget=max(a.min_budget, b.min_budget),
        approval_above=min(approvals) if approvals else None,
        max_bid_factor=min(a.max_bid_factor, b.max_bid_factor),
        excluded_campaigns=tuple(sorted(set(a.excluded_campaigns) | set(b.excluded_campaigns))),
    )


def day_cap(set_budget: int, g: Guardrails) -> int:
    """The most a campaign's budget may move today, either way, in minor units."""
    return math.floor(Decimal(set_budget) * Decimal(str(g.max_budget_change_pct)) / 100)


def room_down(set_budget: int, budget: int, moved_today: int, g: Guardrails) -> int:
    """How much a rule may still take from the campaign's budget today."""
    return max(0, min(day_cap(set_budget, g) + moved_today, budget - g.min_budget))


def room_up(set_budget: int, moved_today: int, g: Guardrails) -> int:
    """How much a rule may still add to the campaign's budget today."""
    return max(0, day_cap(set_budget, g) - moved_today)


def percent_of(minor: int, pct: float) -> int:
    """``pct`` percent of ``minor``, rounded down: a rule never moves a unit more than it says."""
    return scale(minor, Decimal(str(pct)) / 100, rounding="floor")


def clamp_bid(set_bid: int, factor: float, g: Guardrails) -> tuple[int, bool]:
    """``set_bid`` times ``factor`` (half-even), held within ``[set_bid / f, set_bid * f]`` for the account's
    ``max_bid_factor`` f and at least one minor unit; also whether the band clamped it."""
    wanted = scale(set_bid, Decimal(str(factor)))
    band = Decimal(str(g.max_bid_factor))
    low = max(1, math.ceil(Decimal(set_bid) / band))
    high = max(low, math.floor(Decimal(set_bid) * band))
    bid = min(max(wanted, low), high)
    return bid, bid != wanted


def split(amount: int, rooms: Sequence[int]) -> list[int]:
    """Split ``amount`` as evenly as the rooms allow (water filling: a recipient with less room takes what
    it can and the rest share the remainder); the parts never exceed their room and sum to
    ``min(amount, sum(rooms))``."""
    parts = [0] * len(rooms)
    left = min(amount, sum(rooms))
    order = sorted(range(len(rooms)), key=lambda i: (rooms[i], i))
    for n, i in enumerate(order):
        parts[i] = min(left // (len(order) - n), rooms[i])
        left -= parts[i]
    for i in reversed(order):  # floor division can leave a few units; those with room take them
        extra = min(left, rooms[i] - parts[i])
        parts[i] += extra
        left -= extra
    return parts
