"""Online demand at the ship-to country, on both databases: the ledger tells what orders committed at each
node, the orders context where they went, and a planning run forecasts shipped demand per country and gives
each node its share (``keel.planning.shipto``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from keel.bootstrap import Keel
from keel.orders import OrderUnits
from keel.planning.shipto import attribute
from keel.platform.clock import clock_at, utcnow
from tests.support import MARKET, POS_FR, ST_DE, ST_FR, WH_DE, WH_FR, World, mv, place, receive

TODAY = date(2026, 11, 30)  # a Monday: every default policy orders


def at(days_ago: int, hour: int = 12, today: date = TODAY) -> str:
    return datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), UTC).replace(hour=hour).isoformat()


def detour(keel: Keel, today: date = TODAY) -> None:
    """28 days: the DC ships DE's 4 online orders a day, but runs dry at day 16 ago's end, and a ship-from-store
    store takes them since (15 days); the store also sells 2 a day over its counter and ends with 3. Orders
    written straight to the ledger."""
    rows = [mv("r-wh", "received", "SKU-D", WH_DE, 13 * 4, occurred_at=at(29, 8, today)),
            mv("r-st", "received", "SKU-D", ST_DE, 28 * 2 + 15 * 4 + 3, occurred_at=at(29, 8, today))]  # fmt: skip
    for d in range(28, 0, -1):
        node = ST_DE if d < 16 else WH_DE
        rows.append(mv(f"o-{d}", "committed", "SKU-D", node, 4, occurred_at=at(d, 10, today), reference=f"web:o-{d}"))
        rows.append(mv(f"s-{d}", "sold", "SKU-D", ST_DE, 2, occurred_at=at(d, 15, today)))
    keel.stock.apply_batch(rows)


def test_the_ledger_tells_what_orders_committed_at_each_node(keel: Keel, world: World) -> None:
    detour(keel)
    history = keel.queries.demand_history([WH_DE, ST_DE], TODAY - timedelta(days=28), TODAY - timedelta(days=1))
    st = next(s for s in history if s.location == ST_DE)
    wh = next(s for s in history if s.location == WH_DE)
    assert st.units == (2,) * 13 + (6,) * 15 and st.routed == (0,) * 13 + (4,) * 15
    assert wh.routed == wh.units == (4,) * 13 + (0,) * 15
    assert wh.stockout == (False,) * 12 + (True,) * 16  # empty since day 16 ago's end


def test_a_run_plans_the_store_for_its_counter_and_the_dc_for_the_countrys_orders(keel: Keel, world: World) -> None:
    # given the detour
    detour(keel)
    # when DE is planned
    keel.planning.plan(country="DE", today=TODAY)
    found, _ = keel.planning.suggestions()
    store = next(s for s in found if s.location == ST_DE)
    dc = next(s for s in found if s.location == WH_DE)
    # then the store's forecast is its 2 a day, not the 6 a day that left it in the last 15 days (the detour is routing)
    e = store.explanation
    assert 2 * 0.85 <= e.forecast_units / e.protection_days <= 2 * 1.15, e
    # and the DC covers DE's 4 online orders a day (all its share: it had them whenever it had stock) plus the
    # store's 2 a day over its own protection period
    d = dc.explanation
    assert (4 + 2) * 0.85 <= d.forecast_units / d.protection_days <= (4 + 2) * 1.15, d


def doc(external_id: str, country: str, **extra: Any) -> dict[str, Any]:
    return {
        "channel": MARKET,
        "external_id": external_id,
        "lines": [{"sku": "SKU-X", "quantity": 2, "unit_price": "9.99"}],
        "customer": {"name": "Ann Example", "email": "ann@example.com"},
        "ship_to": {"country": country, "city": "Berlin" if country == "DE" else "Paris", "postal_code": "10115"},
        **extra,
    }


def test_orders_say_where_shipped_demand_went_across_a_border(keel: Keel, world: World) -> None:
    # given SKU-X only in the Paris warehouse, which the marketplace's German listing may ship from, and a
    # sourcing policy that lets it ship across the border
    keel.orders.policies.set(MARKET, {"filters": [{"kind": "max_distance", "km": 1500}]})
    receive(keel, "SKU-X", WH_FR, 20)
    receive(keel, "SKU-X", ST_FR, 5)
    keel.availability.catch_up()
    place(keel, doc("M-1", "DE"))
    place(keel, doc("M-2", "FR"))
    place(keel, doc("P-1", "FR", channel=POS_FR, fulfilment="pickup", ship_to=None, pickup_location=ST_FR))
    today = utcnow().date()
    # when the orders context is asked for its units of the last days
    units = keel.orders.reads.order_units(today - timedelta(days=2), today, ["SKU-X"])
    # then Paris shipped 2 to Germany and 2 to France, and 2 were picked up in Lyon
    assert sorted(units, key=lambda u: (u.location, u.country)) == [
        OrderUnits("SKU-X", ST_FR, "FR", today, False, 2),
        OrderUnits("SKU-X", WH_FR, "DE", today, True, 2),
        OrderUnits("SKU-X", WH_FR, "FR", today, True, 2),
    ]
    assert keel.orders.reads.order_units(today - timedelta(days=2), today - timedelta(days=1), ["SKU-X"]) == []
    # and a run's attribution of the day: Germany's and France's online demand, Lyon's pick-up its own
    history = keel.queries.demand_history([WH_FR, ST_FR], today, today, ["SKU-X"])
    split = attribute(history, units, {WH_FR: "FR", ST_FR: "FR"})
    assert {(s.location, s.units) for s in split.local} == {(WH_FR, (0,)), (ST_FR, (2,))}
    assert {(s.location, s.units) for s in split.online} == {("@DE", (2,)), ("@FR", (2,))}


def test_a_locations_forecast_is_the_one_a_run_makes(keel: Keel, world: World) -> None:
    # given the detour
    detour(keel)
    with clock_at(datetime.combine(TODAY, datetime.min.time(), UTC).replace(hour=6)):
        # when the two locations' forecasts are asked for
        dc = keel.planning.forecast("SKU-D", WH_DE, days=28, horizon=7)
        shop = keel.planning.forecast("SKU-D", ST_DE, days=28, horizon=7)
    # then the DC carries all of Germany's shipped orders and the store only its counter's sales
    assert dc.shares == {"DE": 1.0} and shop.shares == {"DE": 0.0}
    assert 4 * 0.85 <= sum(dc.mean) / 7 <= 4 * 1.15
    assert 2 * 0.85 <= sum(shop.mean) / 7 <= 2 * 1.15
    assert sum(shop.history.routed) == 15 * 4  # the history still shows what left the store
