"""The twin's closed loop: the same demand for every policy, stock that only moves by sales and orders, orders
landing after the twin's lead times, and the twin's fixed reorder rule as the live stream applies it."""

from __future__ import annotations

from datetime import date

import pytest

from keel.sim.closedloop import FixedReorder, Loop, Order
from keel.sim.history import PastSeries

START = date(2026, 3, 2)
KINDS = {"DC": "warehouse", "S1": "store", "S2": "store"}


def _loop(opening: dict[tuple[str, str], int], days: int = 20, seed: int = 3) -> Loop:
    series = [
        PastSeries("A", "DC", False, 6.0, 0, 0),
        PastSeries("A", "S1", True, 2.0, 0, 0),
        PastSeries("A", "S2", True, 1.0, 0, 0),
    ]
    return Loop(series, KINDS, opening, {"A": 10.0}, START, days, seed)


class Idle:
    """Orders nothing; remembers what it was told."""

    def __init__(self) -> None:
        self.sales: list[int] = []

    def landed(self, day: int, orders: list[Order]) -> None:
        return None

    def sold(self, day: int, sales: list[tuple[PastSeries, int]]) -> None:
        self.sales.append(sum(units for _, units in sales))

    def decide(self, day: int) -> list[Order]:
        return []


class Scripted(Idle):
    """Places the given orders on the given evenings and records the day each landed."""

    def __init__(self, orders: dict[int, list[Order]]) -> None:
        super().__init__()
        self.orders = orders
        self.arrivals: list[tuple[int, Order]] = []

    def landed(self, day: int, orders: list[Order]) -> None:
        self.arrivals += [(day, o) for o in orders]

    def decide(self, day: int) -> list[Order]:
        return self.orders.get(day, [])


def test_every_policy_meets_the_same_drawn_demand_and_an_idle_one_runs_dry() -> None:
    # given two loops of the same seed and stock
    opening = {("A", "DC"): 30, ("A", "S1"): 10, ("A", "S2"): 10}
    first, second = _loop(opening), _loop(opening)
    # then they draw the same demand, around rate x the weekday curve
    assert (first.demand == second.demand).all() and first.demand.sum() > 0
    assert first.expected[1, 5] == pytest.approx(2.0 * 1.35)  # a Saturday at S1
    # when a policy that never orders runs
    idle = Idle()
    tally = first.run(idle)
    # then it sells exactly its opening stock (demand exceeds it over 20 days) and loses the rest
    assert tally.sold == sum(opening.values()) == sum(idle.sales)
    assert tally.demand == int(first.demand.sum()) and tally.series_days == 3 * 20
    assert tally.stockout_days > 0 and tally.lost_value == (tally.demand - tally.sold) * 10.0
    assert all(v == 0 for v in first.stock.values())
    assert tally.figures("idle")["fill_rate_idle"] == round(tally.sold / tally.demand, 4)


def test_orders_land_after_the_twins_lead_times_and_transfers_leave_their_source_at_once() -> None:
    # given a well stocked DC
    loop = _loop({("A", "DC"): 500, ("A", "S1"): 0, ("A", "S2"): 0}, days=12)
    transfer, bought, to_dc = Order("A", "S1", "DC", 5), Order("A", "S2", None, 4), Order("A", "DC", None, 40)
    policy = Scripted({0: [transfer, bought, to_dc]})
    # when a transfer, a purchase for a store and one for the DC are placed on the first evening
    tally = loop.run(policy)
    # then each lands within its lead time (whole days after the evening it was placed)
    landed = {o: day for day, o in policy.arrivals}
    assert landed[transfer] == 1 and 1 <= landed[bought] <= 4 and 1 <= landed[to_dc] <= 3
    assert (tally.transfers, tally.purchases) == (1, 2)
    # and every unit is accounted for: opening + bought = sold + left on hand
    assert tally.sold + sum(loop.stock.values()) == 500 + 4 + 40


def test_a_transfer_from_a_source_without_the_units_is_refused() -> None:
    loop = _loop({("A", "DC"): 2, ("A", "S1"): 0, ("A", "S2"): 0}, days=2)
    with pytest.raises(AssertionError, match="cannot send"):
        loop.run(Scripted({0: [Order("A", "S1", "DC", 50)]}))


def test_the_fixed_rule_tops_up_low_stores_from_the_dc_and_buys_for_a_low_dc_once_until_it_lands() -> None:
    # given a DC at its reorder point and two empty stores
    loop = _loop({("A", "DC"): 5, ("A", "S1"): 0, ("A", "S2"): 30}, days=1)
    rule = FixedReorder(loop, seed=1)
    # when the rule decides (the first evening, before any sale)
    orders = rule.decide(0)
    # then the DC buys a batch of 10 or more, and the empty store, whose DC cannot spare 3-8 plus 5, buys 4-10
    by_location = {o.location: o for o in orders}
    assert by_location["DC"].source is None and by_location["DC"].quantity >= 10
    assert by_location["S1"].source is None and 4 <= by_location["S1"].quantity <= 10
    assert "S2" not in by_location  # 30 on hand: above the store's reorder point of 2
    # and while they are on their way, nothing is ordered again for them
    assert rule.decide(1) == []
    rule.landed(3, orders)
    assert {o.location for o in rule.decide(3)} == {"DC", "S1"}


def test_the_fixed_rule_takes_from_a_dc_that_can_spare_the_units() -> None:
    loop = _loop({("A", "DC"): 100, ("A", "S1"): 1, ("A", "S2"): 2}, days=1)
    orders = FixedReorder(loop, seed=1).decide(0)
    assert {(o.location, o.source) for o in orders} == {("S1", "DC"), ("S2", "DC")}
    assert all(3 <= o.quantity <= 8 for o in orders)
