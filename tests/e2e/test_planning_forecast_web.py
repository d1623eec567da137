"""The forecast page of any SKU x location: its demand from the ledger with the stockout days, and the forecast
a planning run would make of it, as a chart and a table; the empty state, bad input and a series that sold
nothing; and a fill-rate policy's arithmetic on a suggestion's page. Over HTTP on both databases, and in
Chromium (screenshots in test-artifacts/screenshots/planning-forecast*.png). The series are those of
test_planning_web's story."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from keel.bootstrap import Keel
from keel.planning import Status, SuggestionFilter
from tests.e2e.test_planning_web import PLANNING, Make, _charts, _row, _text, base_url, chromium, shot, story, tab
from tests.e2e.test_web import Tab
from tests.support import ST_DE, WH_DE, World

__all__ = ["base_url", "chromium", "tab"]  # fixtures shared with test_web and test_planning_web
FORECAST = f"{PLANNING}/forecast"


def test_the_page_shows_a_series_demand_and_its_forecast(keel: Keel, world: World, make_client: Make) -> None:
    # given DE planned (the Munich store sold SKU-P, out of stock for some days)
    planned = story(keel)
    history = keel.planning.history("SKU-P", ST_DE, 56)
    expected = keel.planning.forecast("SKU-P", ST_DE, days=56, horizon=10)
    client = make_client(keel)
    # when the forecast page of SKU-P at the store is opened
    page = client.get(FORECAST, params={"sku": "SKU-P", "location": ST_DE, "horizon": "10"})
    text = _text(page.text)
    # then its cards, its chart and its table read the ledger's history and the planning forecast
    assert page.status_code == 200
    assert f"Forecast of SKU-P at {ST_DE}" in text
    assert f"Sold, last 56 days {sum(history.units)}" in text
    assert f"Days out of stock {sum(history.stockout)} not learned as demand" in text
    assert f"Expected, next 10 days {sum(expected.mean):.0f} units" in text
    assert "Service level 95 %" in text
    [chart] = _charts(page.text)
    assert chart["id"] == "chart-forecast"
    bars, stockouts, *fan, mean = chart["data"]
    assert bars["y"] == list(history.units) and len(stockouts["x"]) == sum(history.stockout)
    assert [t["name"] for t in fan] == ["Median", "Range to 80 %", "Range to 95 %"]
    assert mean["y"] == list(expected.mean) and len(mean["x"]) == 10
    assert mean["x"][0] == (history.last_day + timedelta(days=1)).isoformat()
    first = expected.days_ahead[0].isoformat()
    assert _row(page.text, "data-day", first).startswith(f"{expected.days_ahead[0]:%a} {first} {expected.mean[0]:.1f}")
    assert page.text.count("<tr data-day=") == 10
    # and the suggestion's page links here
    suggestion = client.get(f"{PLANNING}/suggestions/{planned['transfer'].id}").text
    assert f'href="{FORECAST}?sku=SKU-P&amp;location={ST_DE}"' in suggestion


def test_the_empty_state_bad_input_and_a_series_that_sold_nothing(keel: Keel, world: World, make_client: Make) -> None:
    story(keel)
    client = make_client(keel)
    empty = client.get(FORECAST)
    assert empty.status_code == 200 and "Pick a SKU and a location" in _text(empty.text)
    for query, status, says in (
        ({"sku": "SKU-P", "location": "NOWHERE"}, 404, "no location 'NOWHERE'"),
        ({"sku": "SKU-NONE", "location": ST_DE}, 404, f"no stock position of 'SKU-NONE' at '{ST_DE}'"),
        ({"sku": "SKU-P"}, 400, "Give both a SKU and a location."),
        ({"sku": "SKU-P", "location": ST_DE, "days": "7"}, 400, "days"),
        ({"sku": "SKU-P", "location": ST_DE, "horizon": "9223372036854775808"}, 400, "horizon"),
        ({"sku": "x" * 500, "location": ST_DE}, 400, "sku"),
    ):
        page = client.get(FORECAST, params=query)
        assert page.status_code == status, query
        assert says in _text(page.text), query
    # the DC received SKU-P and sold none: its history, and no forecast
    idle = client.get(FORECAST, params={"sku": "SKU-P", "location": WH_DE})
    text = _text(idle.text)
    assert idle.status_code == 200
    assert f"No forecast: no sales of SKU-P at {WH_DE} in 56 days." in text and "Day by day" not in text


@pytest.mark.browser
def test_the_forecast_page_in_chromium(tab: Tab, keel: Keel) -> None:
    story(keel)
    history = keel.planning.history("SKU-P", ST_DE, 56)
    page = tab.page
    # from the planning page's link to the form, then a series
    tab.open(PLANNING)
    page.locator("#planning-forecast-link").click()
    expect(page.locator("#forecast-empty")).to_contain_text("Pick a SKU and a location")
    page.fill("input[name=sku]", "SKU-P")
    page.fill("input[name=location]", ST_DE)
    page.get_by_role("button", name="Forecast").click()
    expect(page.locator("h1")).to_have_text(f"Forecast of SKU-P at {ST_DE}")
    expect(page.get_by_test_id("forecast-stockouts")).to_have_text(str(sum(history.stockout)))
    # the chart: 56 days of bars, the stockout days shaded, the forecast with its filled fan
    expect(page.locator("#chart-forecast .main-svg").first).to_be_visible()
    expect(page.locator("#chart-forecast .bars .point")).to_have_count(56)
    expect(page.locator("#chart-forecast .shapelayer path")).to_have_count(sum(history.stockout))
    expect(page.locator("#chart-forecast .legendtext")).to_have_text(
        ["Units sold", "Out of stock (not learned)", "Range to 80 %", "Range to 95 %", "Forecast (mean)"]
    )
    expect(page.locator("#chart-forecast .scatterlayer .js-fill")).to_have_count(2)
    expect(page.locator("#forecast-table tbody tr")).to_have_count(14)
    shot(tab, "forecast")
    # another series from the form: the DC's SKU-Q, 7 days ahead
    page.fill("input[name=sku]", "SKU-Q")
    page.fill("input[name=location]", WH_DE)
    page.fill("input[name=horizon]", "7")
    page.get_by_role("button", name="Forecast").click()
    expect(page.locator("h1")).to_have_text(f"Forecast of SKU-Q at {WH_DE}")
    expect(page.locator("#forecast-table tbody tr")).to_have_count(7)
    # an unknown location: said on the page, the form kept
    page.fill("input[name=location]", "NOWHERE")
    page.get_by_role("button", name="Forecast").click()
    expect(page.locator("#forecast-problem")).to_have_text("no location 'NOWHERE'")
    expect(page.locator("input[name=sku]")).to_have_value("SKU-Q")
    shot(tab, "forecast-unknown")
    assert tab.unexpected_errors(404) == []


def test_a_fill_rate_policy_sets_the_safety_factor_and_the_page_says_so(
    keel: Keel, world: World, make_client: Make
) -> None:
    # given DE planned with the stores' default 95 % service level, then again with a 98 % fill rate
    before = story(keel)["transfer"]
    keel.planning.set_policies([{"kind": "store", "fill_rate": 0.98}])
    keel.planning.plan(country="DE")
    [after] = keel.planning.suggestions(SuggestionFilter(status=Status.PROPOSED, kind="transfer"))[0]
    # then the safety factor is the fill rate's (the store sells 4 a day: little spread beside its demand)
    e = after.explanation
    assert e.fill_rate == 0.98 and before.explanation.fill_rate is None
    assert 0 <= e.z < before.explanation.z and e.order_up_to <= before.explanation.order_up_to
    # and the suggestion's page names the fill rate in its arithmetic
    text = _text(make_client(keel).get(f"{PLANNING}/suggestions/{after.id}").text)
    assert "Fill rate 98.0% of demand served from the shelf" in text and "Service level 95.0%" not in text
