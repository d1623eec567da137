"""The twin's closed loop: days of one country's true demand met from its stock, with each evening's
replenishment decided by a policy, so that policies are compared on the very same demand.

The series are those of ``keel.sim.history``: the country's best-stocked SKUs at their stores and DCs, with
their true daily rates, including the local hits and slow stores planted for rebalancing. Every policy starts
from the same stock, and each day ``d``:

1. **morning**: what was ordered to arrive on ``d`` lands;
2. **day**: the day's demand is served from the stock on hand; what the shelf cannot serve is lost. The
   demand was drawn before the first day (a Poisson draw around rate x the twin's weekday curve), so
   every policy meets the same customers;
3. **evening**: the policy orders. A transfer leaves its source at once. Every order lands on the morning
   of a later day after the twin's own lead times (``keel.sim.supply``): 1 to 3 days from a supplier to a DC,
   1 to 4 to a store, 1 day between two locations of the country;
4. **night**: the stock left on hand is counted.

The twin's fixed reorder rule (``FixedReorder``) is the live stream's: a store with at most 2 units takes 3-8
from a DC of its country that can spare them (else from a vendor), and a DC with at most 5 buys a lognormal
batch of about 40.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import numpy as np

from keel.sim.demand import WEEKDAY
from keel.sim.history import PastSeries
from keel.sim.supply import REORDER_AT, STORE_REORDER_AT

Key = tuple[str, str]  # (sku, location)
# hours an order takes (the twin's supply chain): a supplier to a DC or to a store, and between two locations
LEAD_HOURS = {"dc": (24.0, 72.0), "store": (24.0, 96.0), "transfer": (12.0, 36.0)}


@dataclass(frozen=True, slots=True)
class Order:
    """Units on their way to ``location``: bought from a supplier (``source`` None) or moved from a location."""

    sku: str
    location: str
    source: str | None
    quantity: int
    ref: int | None = None  # the decision behind it (a Keel suggestion's id)
    rebalance: bool = False  # a transfer between two stores


@dataclass
class Tally:
    """What one run of the loop measured."""

    demand: int = 0  # units customers wanted
    sold: int = 0
    expected: float = 0.0  # the true expected demand (rate x weekday), summed
    lost_value: float = 0.0  # units lost x the SKU's price
    stockout_days: int = 0  # series-days with demand the shelf could not fully serve
    series_days: int = 0
    stock_units: int = 0  # units on hand each night, summed
    transfers: int = 0
    rebalancing: int = 0  # of them, between two stores
    purchases: int = 0
    refused: int = 0  # decisions the ledger refused (a source no longer held the units)

    def figures(self, suffix: str) -> dict[str, Any]:
        return {
            f"stockout_rate_{suffix}": round(self.stockout_days / self.series_days, 4) if self.series_days else 0.0,
            f"fill_rate_{suffix}": round(self.sold / self.demand, 4) if self.demand else 1.0,
            f"avg_inventory_days_{suffix}": round(self.stock_units / self.expected, 2) if self.expected else 0.0,
            f"lost_sales_value_{suffix}": round(self.lost_value, 2),
            f"transfers_{suffix}": self.transfers,
            f"purchases_{suffix}": self.purchases,
        }


class Policy(Protocol):
    """What decides the replenishment; told what landed and what sold, so it can keep its own books."""

    def landed(self, day: int, orders: list[Order]) -> None: ...

    def sold(self, day: int, sales: list[tuple[PastSeries, int]]) -> None: ...

    def decide(self, day: int) -> list[Order]: ...


@dataclass
class Loop:
    """The shared truth of one run: stock on hand, orders on their way, the drawn demand, the tally."""

    series: list[PastSeries]
    kinds: dict[str, str]  # location code -> kind
    opening: dict[Key, int]
    price: dict[str, float]
    start: date
    days: int
    seed: int
    stock: dict[Key, int] = field(init=False)
    due: dict[int, list[Order]] = field(init=False)
    tally: Tally = field(init=False)

    def __post_init__(self) -> None:
        curve = np.array([WEEKDAY[self.date(d).weekday()] for d in range(self.days)])
        self.expected = np.array([s.rate for s in self.series])[:, None] * curve[None, :]
        self.demand = np.random.default_rng(self.seed).poisson(self.expected)
        self.stock = {(s.sku, s.location): self.opening.get((s.sku, s.location), 0) for s in self.series}
        self.due = {}
        self.tally = Tally()
        self._leads = random.Random(self.seed * 31 + 7)

    def date(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def run(self, policy: Policy, progress: Callable[[], object] = lambda: None) -> Tally:
        for day in range(self.days):
            landed = self.due.pop(day, [])
            for order in landed:
                key = (order.sku, order.location)
                self.stock[key] = self.stock.get(key, 0) + order.quantity
            policy.landed(day, landed)
            policy.sold(day, self._sell(day))
            self._place(day, policy.decide(day))
            self.tally.stock_units += sum(self.stock[(s.sku, s.location)] for s in self.series)
            progress()
        return self.tally

    def _sell(self, day: int) -> list[tuple[PastSeries, int]]:
        sales = []
        tally = self.tally
        for i, s in enumerate(self.series):
            key = (s.sku, s.location)
            wanted = int(self.demand[i, day])
            sold = min(wanted, self.stock[key])
            self.stock[key] -= sold
            tally.demand += wanted
            tally.sold += sold
            tally.expected += float(self.expected[i, day])
            tally.series_days += 1
            if sold < wanted:
                tally.stockout_days += 1
                tally.lost_value += (wanted - sold) * self.price.get(s.sku, 0.0)
            if sold:
                sales.append((s, sold))
        return sales

    def _place(self, day: int, orders: list[Order]) -> None:
        for order in orders:
            if order.source is not None:
                source = (order.sku, order.source)
                if self.stock.get(source, 0) < order.quantity:
                    raise AssertionError(f"{order.source} cannot send {order.quantity} of {order.sku}")
                self.stock[source] -= order.quantity
                self.tally.transfers += 1
                self.tally.rebalancing += order.rebalance
                route = "transfer"
            else:
                self.tally.purchases += 1
                route = "store" if self.kinds[order.location] == "store" else "dc"
            days = max(1, round(self._leads.uniform(*LEAD_HOURS[route]) / 24))
            self.due.setdefault(day + days, []).append(order)


class FixedReorder:
    """The twin's live reorder rule (``keel.sim.supply.SupplyChain._replenish``), once each evening."""

    def __init__(self, loop: Loop, seed: int) -> None:
        self.loop = loop
        self.rng = random.Random(seed)
        self.pending: set[Key] = set()
        self.sources: dict[str, list[str]] = {}  # SKU -> the DCs (every location but a store) holding it
        for s in loop.series:
            if loop.kinds[s.location] != "store":
                self.sources.setdefault(s.sku, []).append(s.location)

    def landed(self, day: int, orders: list[Order]) -> None:
        self.pending -= {(o.sku, o.location) for o in orders}

    def sold(self, day: int, sales: list[tuple[PastSeries, int]]) -> None:
        return None

    def decide(self, day: int) -> list[Order]:
        stock = dict(self.loop.stock)
        out: list[Order] = []
        for s in self.loop.series:
            key = (s.sku, s.location)
            store = self.loop.kinds[s.location] == "store"
            if key in self.pending or stock[key] > (STORE_REORDER_AT if store else REORDER_AT):
                continue
            self.pending.add(key)
            if not store:
                out.append(Order(s.sku, s.location, None, int(self.rng.lognormvariate(3.4, 0.5)) + 10))
                continue
            qty = self.rng.randint(3, 8)
            source = next((c for c in self.sources.get(s.sku, []) if stock[(s.sku, c)] >= qty + REORDER_AT), None)
            if source is not None:
                stock[(s.sku, source)] -= qty
                out.append(Order(s.sku, s.location, source, qty))
            else:
                out.append(Order(s.sku, s.location, None, self.rng.randint(4, 10)))
        return out
