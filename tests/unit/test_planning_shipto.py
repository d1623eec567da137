"""Online demand at the ship-to country (``keel.planning.shipto``) and its way back to the nodes
(``keel.planning.outlook.combined``): hand-computed cases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from keel.inventory import DemandSeries
from keel.orders import OrderUnits
from keel.planning.outlook import Outlook, combined
from keel.planning.shipto import attribute

DAY0 = date(2026, 11, 1)
COUNTRY = {"WH-DE": "DE", "ST-DE": "DE", "WH-FR": "FR"}


def series(location: str, units: list[int], routed: list[int], out: list[bool] | None = None) -> DemandSeries:
    return DemandSeries("A", location, DAY0, tuple(units), tuple(out or [False] * len(units)), tuple(routed))


def day(i: int) -> date:
    return DAY0 + timedelta(days=i)


def test_a_detour_around_an_empty_dc_is_the_dcs_demand_not_the_stores() -> None:
    # given a DC shipping 4 a day, out of stock on days 2-3 while a ship-from-store store took its orders,
    # and the store selling 2 a day over its counter
    wh = series("WH-DE", [4, 4, 0, 0, 4, 4], [4, 4, 0, 0, 4, 4], [False, False, True, True, False, False])
    st = series("ST-DE", [2, 2, 6, 6, 2, 2], [0, 0, 4, 4, 0, 0])
    # when the history is attributed (no order records: the ledger alone knows these orders)
    split = attribute([wh, st], [], COUNTRY)
    # then the store keeps its counter's sales, and DE's online demand is 4 every day, never censored
    assert [(s.location, s.units) for s in split.local] == [("WH-DE", (0,) * 6), ("ST-DE", (2,) * 6)]
    (online,) = split.online
    assert (online.location, online.units, any(online.stockout)) == ("@DE", (4,) * 6, False)
    # and the shares come from the days both had stock: all the DC's, none of the store's
    assert split.shares == {("A", "WH-DE"): {"@DE": 1.0}, ("A", "ST-DE"): {"@DE": 0.0}}


def test_orders_name_the_ship_to_country_and_pick_ups_stay_local() -> None:
    # given a French DC that committed 5 on day 0: 3 shipped to Germany, 1 to France, 1 picked up there
    wh = series("WH-FR", [5, 0], [5, 0])
    orders = [
        OrderUnits("A", "WH-FR", "DE", day(0), True, 3),
        OrderUnits("A", "WH-FR", "FR", day(0), True, 1),
        OrderUnits("A", "WH-FR", "FR", day(0), False, 1),
    ]
    split = attribute([wh], orders, COUNTRY)
    # then 1 stays at the DC, 3 are Germany's online demand and 1 France's
    assert split.local[0].units == (1, 0)
    assert {s.location: s.units for s in split.online} == {"@DE": (3, 0), "@FR": (1, 0)}
    assert split.shares == {("A", "WH-FR"): {"@DE": 1.0, "@FR": 1.0}}


def test_an_online_day_is_censored_only_when_every_shipping_node_was_out() -> None:
    wh = series("WH-DE", [1, 0, 0], [1, 0, 0], [False, True, True])
    st = series("ST-DE", [0, 1, 0], [0, 1, 0], [False, False, True])
    (online,) = attribute([wh, st], [], COUNTRY).online
    assert online.stockout == (False, False, True)


def test_series_without_routed_demand_pass_through_unchanged() -> None:
    plain = DemandSeries("A", "ST-DE", DAY0, (1, 2), (False, False))
    split = attribute([plain], [], COUNTRY)
    assert split.local == [plain] and split.online == [] and split.shares == {}


def test_a_node_plans_its_local_outlook_plus_its_share_of_each_country() -> None:
    found = {
        ("A", "ST-DE"): Outlook((2.0, 2.0), (3.0, 3.0), {"q50": (2.0, 2.0), "q95": (3.0, 3.0)}),
        ("A", "@DE"): Outlook((4.0, 8.0), (6.0, 10.0), {"q50": (4.0, 8.0), "q95": (6.0, 10.0)}),
        ("A", "WH-DE"): Outlook((0.0, 0.0), (0.0, 0.0)),  # no demand of its own: no model, no bands
    }
    shares = {("A", "ST-DE"): {"@DE": 0.25}, ("A", "WH-DE"): {"@DE": 0.75}}
    out = combined(found, shares)
    assert set(out) == {("A", "ST-DE"), ("A", "WH-DE")}  # the online series come back only through the nodes
    st, wh = out[("A", "ST-DE")], out[("A", "WH-DE")]
    assert st.mean == pytest.approx((3.0, 4.0)) and st.upper == pytest.approx((4.5, 5.5))
    assert st.bands == {"q50": (3.0, 4.0), "q95": (4.5, 5.5)}
    assert wh.mean == pytest.approx((3.0, 6.0)) and wh.upper == pytest.approx((4.5, 7.5))
    assert wh.bands == {"q50": (3.0, 6.0), "q95": (4.5, 7.5)}
