"""What-if previews: a change weighed before it is saved.

A policy's preview is a dry run of the recompute with the proposed rules in place of the stored ones: every
(channel, country, SKU) price it would move, before and after, weighed by the units sold there in the last
days (the orders captured, cancelled ones left out): per currency, the net revenue per day before and
after, net of tax at the SKU's rate, which is also what the margin moves by (costs do not change). Prices
that would appear or disappear are counted apart.

A promotion's preview replays the latest orders (up to ``limit`` in the last ``days``) as carts at today's
published prices, once with the promotions as they are and once with the proposed one saved, and tallies
per currency what the carts would pay (net of tax: the margin moves by as much, costs being unchanged)
and per (channel, country, SKU) what the discounts would be. Orders that cannot be priced today (a SKU no
longer sold there) are counted and left out. Figures per day divide by the days the replayed orders span.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from keel.pricing.engine import Recomputed
from keel.pricing.model.cart import Evaluated
from keel.pricing.model.tax import inclusive, tax

TOP_SKUS = 50


@dataclass(frozen=True)
class SkuEffect:
    channel: str
    country: str
    sku: str
    currency: str
    units: int
    discount_before: int
    discount_after: int


@dataclass(frozen=True)
class CurrencyEffect:
    currency: str
    carts: int
    discount_before: int
    discount_after: int
    net_before: int  # what the carts pay net of tax (minor units)
    net_after: int
    per_day_net_change: int


@dataclass(frozen=True)
class PromotionPreview:
    code: str
    carts: int  # orders replayed as carts
    unpriced: int  # of which left out: a SKU without a published price in its market today
    applied: int  # carts the proposed promotion applies to
    days: float  # the period the replayed orders span
    currencies: list[CurrencyEffect]
    skus: list[SkuEffect]  # the largest changes of discount, at most ``TOP_SKUS``


@dataclass
class Tally:
    code: str
    carts: int = 0
    unpriced: int = 0
    applied: int = 0
    first: datetime | None = None
    last: datetime | None = None
    money: dict[str, list[int]] = field(default_factory=dict)  # currency -> carts, discounts, nets
    skus: dict[tuple[str, str, str, str], list[int]] = field(default_factory=dict)

    def seen(self, at: datetime) -> None:
        self.carts += 1
        self.first = at if self.first is None or at < self.first else self.first
        self.last = at if self.last is None or at > self.last else self.last

    def add(self, channel: str, country: str, before: Evaluated, after: Evaluated) -> None:
        if any(o.promotion == self.code and o.applied for o in after.outcomes):
            self.applied += 1
        m = self.money.setdefault(before.currency, [0, 0, 0, 0, 0])
        for i, value in enumerate((1, before.discount, after.discount, before.net, after.net)):
            m[i] += value
        for old, new in zip(before.lines, after.lines, strict=True):
            key = (channel, country, old.sku, before.currency)
            s = self.skus.setdefault(key, [0, 0, 0])
            s[0] += old.quantity
            s[1] += old.amount - old.total
            s[2] += new.amount - new.total

    def preview(self) -> PromotionPreview:
        days = 1.0
        if self.first is not None and self.last is not None:
            days = max(1.0, (self.last - self.first).total_seconds() / 86_400)
        currencies = [
            CurrencyEffect(c, n, d0, d1, n0, n1, round((n1 - n0) / days))
            for c, (n, d0, d1, n0, n1) in sorted(self.money.items())
        ]
        changed = [SkuEffect(*k, *v) for k, v in self.skus.items() if v[1] != v[2]]
        changed.sort(key=lambda e: (-abs(e.discount_after - e.discount_before), e.channel, e.country, e.sku))
        return PromotionPreview(
            self.code, self.carts, self.unpriced, self.applied, round(days, 2), currencies, changed[:TOP_SKUS]
        )


@dataclass(frozen=True)
class PriceMove:
    channel: str
    country: str
    sku: str
    currency: str
    before: int | None  # None: not priced now
    after: int | None  # None: no longer priced
    units_per_day: Decimal  # sold there over the preview's days
    net_per_day: int  # (net after - net before) x units a day, minor units


@dataclass(frozen=True)
class PolicyEffect:
    currency: str
    prices: int  # prices that move in this currency
    up: int
    down: int
    net_per_day_before: int  # at the units sold a day, net of tax, of the prices that move
    net_per_day_after: int


@dataclass(frozen=True)
class PolicyPreview:
    scope: str
    prices: int  # prices computed
    changed: int
    removed: int
    days: int
    currencies: list[PolicyEffect]
    moves: list[PriceMove]  # the largest effects first (then by key), at most ``TOP_MOVES``


TOP_MOVES = 100


def policy_preview(
    scope: str,
    done: Recomputed,
    days: int,
    sold: Mapping[tuple[str, str, str], int],
    rate: Callable[[str, str], Decimal],
) -> PolicyPreview:
    """Weigh a dry run's ``moves`` by the units ``sold`` per (channel, country, SKU) over ``days``; ``rate``:
    (country, SKU) -> its tax rate."""
    moves: list[PriceMove] = []
    money: dict[str, list[int]] = {}
    for channel, country, sku, currency, before, after in done.moves:
        units = Decimal(sold.get((channel, country, sku), 0)) / days
        basis = inclusive(country)
        nets = [0 if a is None else tax(a, rate(country, sku), basis).net for a in (before, after)]
        per_day = [int((n * units).to_integral_value()) for n in nets]
        moves.append(PriceMove(channel, country, sku, currency, before, after, units, per_day[1] - per_day[0]))
        m = money.setdefault(currency, [0, 0, 0, 0, 0])
        up = before is not None and after is not None and after > before
        down = before is not None and after is not None and after < before
        for i, value in enumerate((1, up, down, per_day[0], per_day[1])):
            m[i] += int(value)
    moves.sort(key=lambda m: (-abs(m.net_per_day), m.channel, m.country, m.sku))
    effects = [PolicyEffect(c, *v) for c, v in sorted(money.items())]
    return PolicyPreview(scope, done.prices, done.changed, done.removed, days, effects, moves[:TOP_MOVES])
