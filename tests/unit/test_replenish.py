"""Replenishment arithmetic against hand-computed cases, policy rows, and demand history with stockout days."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pytest

from keel.inventory.model import DailyFlow, demand_series
from keel.planning.model import (
    DEFAULTS,
    Line,
    Policy,
    fill_rate_factor,
    level_of,
    normal_loss,
    order_quantity,
    parse_policy_rows,
    plan,
    resolve_policy,
)

POLICY = Policy(
    review_days=2, lead_time_days=1.0, lead_time_sd_days=0.0, service_level=0.95, moq=0, pack_size=1,
    shelf_capacity=None, order_weekdays=tuple(range(7)), source="supplier", history_days=56,
)  # fmt: skip
Z95 = 1.6448536269514722


def test_order_up_to_from_daily_quantiles_by_hand() -> None:
    # given 3 days of protection (lead 1 + review 2), a mean of 10 a day and a 95 % quantile of 10 + 1.645 * 2
    mean, upper = [10.0] * 5, [10.0 + Z95 * 2] * 5
    # when the level is computed
    level = level_of(POLICY, mean, upper)
    # then D = 30, sigma = sqrt(3 * 2^2) = 3.4641, SS = 1.645 * 3.4641 = 5.698, S = ceil(35.698) = 36
    assert level.days == 3
    assert level.demand == 30.0
    assert level.sigma == pytest.approx(math.sqrt(12))
    assert level.safety_stock == pytest.approx(Z95 * math.sqrt(12))
    assert level.order_up_to == 36


def test_lead_time_variability_adds_to_sigma_by_hand() -> None:
    # given a lead time of 1 +- 1 day and no spread in daily demand (mean 10 a day)
    level = level_of(replace(POLICY, lead_time_sd_days=1.0), [10.0] * 3, [10.0] * 3)
    # then sigma = d * sL = 10, SS = 16.449, S = ceil(46.449) = 47
    assert level.sigma == pytest.approx(10.0)
    assert level.order_up_to == 47


def test_a_fill_rate_target_sets_the_safety_factor_by_hand() -> None:
    # given the case above (sigma = 3.4641 over 3 days, 10 a day) with a 98 % fill rate: a review cycle of
    # 2 days sells 20, so at most 0.4 units may be short per cycle: G(k) <= 0.4 / 3.4641 = 0.11547
    level = level_of(replace(POLICY, fill_rate=0.98), [10.0] * 5, [10.0 + Z95 * 2] * 5)
    # then k is where the standard normal loss is 0.11547 (tables: G(0.84) = 0.1120, G(0.83) = 0.1140)
    assert normal_loss(level.z) == pytest.approx(0.4 / math.sqrt(12), abs=1e-9)
    assert 0.82 < level.z < 0.84
    # and SS = k * sigma = 2.87, S = ceil(32.87) = 33: three fewer units than the 95 % cycle service level's 36
    assert level.safety_stock == pytest.approx(level.z * math.sqrt(12))
    assert level.order_up_to == 33
    assert level_of(replace(POLICY, fill_rate=0.999), [10.0] * 5, [10.0 + Z95 * 2] * 5).order_up_to > 36


def test_a_fill_rate_met_without_safety_stock_asks_for_none() -> None:
    # sigma * G(0) = 0.399 * sigma within (1 - fill rate) of a cycle's demand: k = 0, never negative
    assert fill_rate_factor(0.9, sigma=1.0, cycle_demand=10.0) == 0.0
    assert fill_rate_factor(0.99, sigma=0.0, cycle_demand=10.0) == 0.0
    assert fill_rate_factor(0.99, sigma=5.0, cycle_demand=1.0) > 2.0  # a slow series: much spread, little demand


def test_a_forecast_shorter_than_the_protection_period_is_refused() -> None:
    with pytest.raises(ValueError, match="protection period is 3"):
        level_of(POLICY, [1.0, 1.0], [2.0, 2.0])


@pytest.mark.parametrize(
    ("changes", "position", "on_hand", "incoming", "expected"),
    [
        ({}, 20, 20, 0, (16, 16)),  # S 36 - 20
        ({}, 40, 40, 0, (-4, 0)),  # above S: nothing
        ({"moq": 25}, 20, 20, 0, (16, 25)),  # raised to the MOQ
        ({"pack_size": 6}, 20, 20, 0, (16, 18)),  # three packs of 6
        ({"moq": 25, "pack_size": 6}, 20, 20, 0, (16, 30)),  # MOQ, then whole packs
        ({"shelf_capacity": 30}, 20, 15, 5, (16, 10)),  # room: 30 - 15 on hand - 5 incoming
        ({"shelf_capacity": 30, "pack_size": 4}, 20, 15, 5, (16, 8)),  # room 10, whole packs of 4
    ],
)
def test_order_quantity_rounding_by_hand(
    changes: dict[str, int], position: int, on_hand: int, incoming: int, expected: tuple[int, int]
) -> None:
    policy = replace(POLICY, **changes)  # type: ignore[arg-type]
    level = level_of(policy, [10.0] * 3, [10.0 + Z95 * 2] * 3)
    needed, qty, _ = order_quantity(policy, level, position, on_hand, incoming)
    assert (needed, qty) == expected


def _line(location: str, kind: str, available: int, daily: float, policy: Policy, incoming: int = 0) -> Line:
    return Line("SKU-1", location, kind, "DE", policy, available, available, 0, incoming, [daily] * 10, [daily] * 10)


def test_a_store_takes_from_its_dc_what_the_dc_can_spare_and_buys_the_rest() -> None:
    # given a store needing 3 days x 10 = 30 (no spread) from a DC with 12 available and its own safety stock 0
    shop = replace(POLICY, source="warehouse")
    lines = [_line("ST", "store", 0, 10.0, shop), _line("WH", "warehouse", 12, 0.0, POLICY)]
    # when planned
    out = plan(lines, weekday=0)
    # then 12 come from the DC, 18 are bought for the store, and the DC buys for the store's demand it serves
    by = {(p.kind, p.location, p.source): p.quantity for p in out}
    assert by[("transfer", "ST", "WH")] == 12
    assert by[("purchase", "ST", "supplier")] == 18
    # the DC: S = 30 (the store's demand over its 3 days), position 12 - 12 moved out = 0 -> buys 30
    assert by[("purchase", "WH", "supplier")] == 30
    dc = next(p for p in out if p.location == "WH")
    assert dc.explanation.position == 0
    assert any("planned to move out" in n for n in dc.explanation.notes)


def test_a_dc_keeps_its_own_safety_stock_when_it_supplies_a_store() -> None:
    # given a DC whose own demand has spread: SS = 1.645 * sqrt(3 * 2^2) = 5.7 -> it keeps 6 of its 10
    shop = replace(POLICY, source="warehouse")
    dc = Line("SKU-1", "WH", "warehouse", "DE", POLICY, 10, 10, 0, 0, [0.0] * 10, [Z95 * 2] * 10)
    out = plan([_line("ST", "store", 0, 10.0, shop), dc], weekday=0)
    transfer = next(p for p in out if p.kind == "transfer")
    assert transfer.quantity == 4


def test_a_store_no_dc_holds_plans_with_the_suppliers_lead_time() -> None:
    # given a store whose source is a warehouse, 10 a day, lead 1 day from a DC but 3 days from the supplier
    shop = replace(POLICY, source="warehouse", supplier_lead_time_days=3.0, supplier_lead_time_sd_days=0.5)
    alone = plan([_line("ST", "store", 0, 10.0, shop)], weekday=0)
    # then with no DC of its country holding the SKU it covers 3 + 2 days: S = 50 + 1.645 x 10 x 0.5 = 58.2
    (bought,) = alone
    e = bought.explanation
    assert (bought.kind, bought.source, e.protection_days, e.order_up_to) == ("purchase", "supplier", 5, 59)
    assert "no DC of DE holds it: bought from the supplier, 3 days away" in e.notes
    # and with a DC holding it, the transfer's 1 day + 2 (nothing on the way from the supplier's lead time)
    with_dc = plan([_line("ST", "store", 0, 10.0, shop), _line("WH", "warehouse", 100, 0.0, POLICY)], weekday=0)
    transfer = next(p for p in with_dc if p.kind == "transfer")
    assert (transfer.explanation.protection_days, transfer.quantity) == (3, 30)


def test_nothing_is_suggested_on_a_day_the_policy_does_not_order() -> None:
    weekly = replace(POLICY, order_weekdays=(0,))
    assert plan([_line("WH", "warehouse", 0, 10.0, weekly)], weekday=2) == []
    assert [p.quantity for p in plan([_line("WH", "warehouse", 0, 10.0, weekly)], weekday=0)] == [30]


def test_policy_rows_resolve_from_kind_to_location_to_sku() -> None:
    rows, errors = parse_policy_rows(
        [
            {"kind": "store", "review_days": 3},
            {"location": "ST", "lead_time_days": 4},
            {"location": "ST", "sku": "SKU-1", "pack_size": 6},
        ],
        frozenset({"ST"}),
    )
    assert errors == []
    by_key = {r.key: r for r in rows}
    policy = resolve_policy("store", "ST", "SKU-1", by_key)
    assert (policy.review_days, policy.lead_time_days, policy.pack_size) == (3, 4, 6)
    assert policy.service_level == DEFAULTS["store"].service_level
    other = resolve_policy("store", "ST", "SKU-2", by_key)
    assert other.pack_size == 1


def test_bad_policy_rows_are_refused_by_row_and_field() -> None:
    docs = [
        {"kind": "store", "location": "ST"},
        {"kind": "castle"},
        {"location": "NOPE"},
        {"location": "ST", "service_level": 1.5, "moq": -1, "pack_size": 2.5, "colour": "red"},
        {"kind": "store", "sku": "SKU-1"},
        {"location": "ST", "order_weekdays": [1, 1]},
        {"location": "ST", "review_days": True, "source": "magic", "fill_rate": 1.0},
        "not an object",
        {"kind": "warehouse"},
        {"kind": "warehouse"},
        {"kind": "store", "supplier_lead_time_days": -1, "supplier_lead_time_sd_days": "2"},
    ]
    rows, errors = parse_policy_rows(docs, frozenset({"ST"}))
    got = {(e.row, e.field) for e in errors}
    assert got == {
        (1, "kind"), (2, "kind"), (3, "location"), (4, "service_level"), (4, "moq"), (4, "pack_size"),
        (4, "colour"), (5, "sku"), (6, "order_weekdays"), (7, "review_days"), (7, "source"), (7, "fill_rate"),
        (8, ""), (10, "kind"), (11, "supplier_lead_time_days"), (11, "supplier_lead_time_sd_days"),
    }  # fmt: skip
    assert [r.key for r in rows] == [("warehouse", "", "")]


def test_demand_history_flags_the_days_out_of_stock() -> None:
    # given 3 on the shelf at the end of day 1, one sold on days 2-4 (empty from day 4's end), 5 received on day 6
    d = date(2026, 11, 1)
    flows = [
        DailyFlow("S", "L", d, 0, 3),
        DailyFlow("S", "L", date(2026, 11, 2), 1, -1),
        DailyFlow("S", "L", date(2026, 11, 3), 1, -1),
        DailyFlow("S", "L", date(2026, 11, 4), 1, -1),
        DailyFlow("S", "L", date(2026, 11, 6), 0, 5),
        DailyFlow("S", "L", date(2026, 11, 8), 2, -2),  # after the window: walks today's stock back
    ]
    # when the history of days 1-7 is read with 3 available now
    (series,) = demand_series(flows, {("S", "L"): 3}, d, date(2026, 11, 7))
    # then units per day, and the stockout days: day 1 started empty, day 4 ended empty, day 5 all day,
    # day 6 started empty
    assert series.units == (0, 1, 1, 1, 0, 0, 0)
    assert series.stockout == (True, False, False, True, True, True, False)
    assert series.last_day == date(2026, 11, 7)


def test_a_store_keeps_its_daily_forecast_fan_and_a_dc_serving_stores_does_not() -> None:
    # given a store whose forecast carries its quantiles day by day, and its DC
    shop = replace(POLICY, source="warehouse")
    bands = {"q50": [9.5] * 10, "q80": [12.0] * 10, "q95": [14.0] * 10}
    store = replace(_line("ST", "store", 0, 10.0, shop), bands=bands)
    out = plan([store, _line("WH", "warehouse", 12, 0.0, POLICY)], weekday=0)
    # then each of the store's suggestions explains its forecast over its 3 protection days, mean and fan
    for p in out:
        if p.location == "ST":
            assert p.explanation.daily == {"mean": (10.0,) * 3, "q50": (9.5,) * 3, "q80": (12.0,) * 3,
                                           "q95": (14.0,) * 3}  # fmt: skip
    # and the DC's purchase, whose level covers the store too, keeps none (its own fan would mislead)
    assert next(p for p in out if p.location == "WH").explanation.daily == {}
