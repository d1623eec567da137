"""The market signals some pricing rules read besides the price lists, and what those rules compute from them:
competitors' observed prices (``competitor``) and the stock's days of cover (``markdown``,
``no_discount_when_short``). Pure: the engine gathers the facts (``Observed``, ``Stock``), ``rules.price``
calls these with a rule's settings, and each answer carries the note its step shows, numbers included.

Days of cover are ``sellable / daily run rate``, the run rate being the units sold or committed over the
last ``days`` (28) across locations. Planning's forecasts do not exist yet: the run rate is the source until
they do. With nothing sellable the cover is 0 days; with stock but no sale in the window it is unbounded
(``None``): such stock is as slow as it gets, so a markdown applies and it is never short.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from keel.platform.money import scale

RUN_RATE_DAYS = 28
BASES = ("lowest", "median")


@dataclass(frozen=True)
class Observed:
    """A competitor's price of the SKU in the country, in the channel's currency (converted at the day's rate)."""

    competitor: str
    amount: int  # minor units of the channel's currency
    observed_at: datetime
    age: timedelta  # at the computation: an observation older than a rule's max_age_days is stale


@dataclass(frozen=True)
class Stock:
    """A SKU's stock across locations: units sellable now, units sold or committed over the last ``days``."""

    sellable: int
    sold: int
    days: int = RUN_RATE_DAYS

    @property
    def run_rate(self) -> Decimal:
        """Units a day."""
        return Decimal(max(self.sold, 0)) / self.days

    def cover(self) -> Decimal | None:
        """Days of cover; 0 with nothing sellable, None (unbounded) with stock but no sale in the window."""
        if self.sellable <= 0:
            return Decimal(0)
        if self.sold <= 0:
            return None
        return Decimal(self.sellable) * self.days / self.sold

    def describe(self) -> str:
        cover = self.cover()
        days = "unbounded days of cover" if cover is None else f"{cover:.1f} days of cover"
        sold = f"{max(self.sold, 0)} sold in {self.days} days: {self.run_rate:.2f} a day"
        return f"{days} ({self.sellable} sellable, {sold})"


def above(stock: Stock, days: int) -> bool:
    cover = stock.cover()
    return cover is None or cover > days


def below(stock: Stock, days: int) -> bool:
    cover = stock.cover()
    return cover is not None and cover < days


def competitor_band(
    amount: int,
    observed: Sequence[Observed],
    within: Decimal,
    index: Decimal,
    max_age_days: int,
    basis: str,
    money: Callable[[int], str],
) -> tuple[int, str] | None:
    """``amount`` kept within ``within`` of ``index`` times the lowest (or median) fresh competitor price, and
    the note saying so; None when no observation is fresh (the rule does nothing). The median of an even
    number of prices is the lower middle one: always a price some competitor shows."""
    fresh = sorted(
        (o for o in observed if o.age <= timedelta(days=max_age_days)), key=lambda o: (o.amount, o.competitor)
    )
    if not fresh:
        return None
    ref = fresh[0] if basis == "lowest" else fresh[(len(fresh) - 1) // 2]
    target = scale(ref.amount, index)
    low = int((target * (1 - within)).to_integral_value(rounding=ROUND_CEILING))
    high = int((target * (1 + within)).to_integral_value(rounding=ROUND_FLOOR))
    of = "" if index == 1 else f"{index:.0%} of "
    seen = f"{ref.competitor}, observed {ref.observed_at:%Y-%m-%d}; {len(fresh)} fresh of {len(observed)}"
    note = f"within {within:.0%} of {of}the {basis} competitor price {money(ref.amount)} ({seen})"
    return min(max(amount, low), high), note


def markdown(amount: int, stock: Stock, percent: Decimal, cover_days_above: int) -> tuple[int, str] | None:
    """``amount`` lowered by ``percent`` when the cover exceeds ``cover_days_above`` days; None otherwise."""
    if not above(stock, cover_days_above):
        return None
    return scale(amount, 1 - percent), f"markdown {percent:.0%}: {stock.describe()}, above {cover_days_above}"
