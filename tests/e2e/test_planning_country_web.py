"""The country forecast page: a SKU's demand in a whole country and at each location, forecast together so the
locations add up to the country; its cards, chart, day table and the backtest that chose the reconciliation;
the empty state and bad input. Over HTTP on both databases, and in Chromium (screenshot in
test-artifacts/screenshots/planning-country.png). Two DE stores sell 6 and 1 a day (seed_slow_store)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from tests.e2e.test_planning_web import PLANNING, Make, _charts, _row, _text, base_url, chromium, shot, tab
from tests.e2e.test_web import Tab
from tests.support import ST_DE, World
from tests.support_planning import SLOW_STORE, seed_slow_store

__all__ = ["base_url", "chromium", "tab"]  # fixtures shared with test_web and test_planning_web
COUNTRY = f"{PLANNING}/forecast/country"
SKU = "SKU-CF"


def test_the_page_shows_the_country_and_its_locations_adding_up(keel: Keel, world: World, make_client: Make) -> None:
    # given two DE stores that sold SKU-CF every day for four weeks
    seed_slow_store(keel, SKU, utcnow().date())
    expected = keel.planning.country_forecast(SKU, "DE", days=28, horizon=7)
    client = make_client(keel)
    # when the country page is opened
    page = client.get(COUNTRY, params={"sku": SKU, "country": "de", "days": "28", "horizon": "7"})
    text = _text(page.text)
    # then the cards read the country's history and its reconciled forecast
    assert page.status_code == 200
    assert f"Forecast of {SKU} in DE" in text
    assert f"Sold in DE, last 28 days {sum(expected.sold)} every location summed" in text
    assert f"Locations 2 holding a position of {SKU}" in text
    ahead, own = sum(expected.mean), sum(expected.base)
    assert f"Expected, next 7 days {ahead:.0f} units; its own forecast said {own:.0f}" in text
    # the chart: the country's sales, its fan and its own forecast beside the reconciled one
    [chart] = _charts(page.text)
    assert chart["id"] == "chart-country"
    bars, *rest = chart["data"]
    assert bars["y"] == list(expected.sold)
    names = [t["name"] for t in rest]
    assert names[-2:] == ["Forecast (mean)", "Country's own forecast"]
    assert rest[-2]["y"] == list(expected.mean) and rest[-1]["y"] == list(expected.base)
    # the table: one row a day; the country column is the sum of the location columns, each location linked
    assert page.text.count("<tr data-day=") == 7
    first = expected.days_ahead[0]
    cells = _row(page.text, "data-day", first.isoformat()).split()
    assert cells[:3] == [f"{first:%a}", first.isoformat(), f"{expected.mean[0]:.1f}"]
    places = [float(v) for v in cells[-2:]]  # the two stores, the busier first
    assert abs(sum(places) - expected.mean[0]) <= 0.11
    assert f'href="{PLANNING}/forecast?sku={SKU}&amp;location={ST_DE}"' in page.text
    assert f'href="{PLANNING}/forecast?sku={SKU}&amp;location={SLOW_STORE}"' in page.text
    assert "Other" not in text  # two locations: no summed column
    # the backtest: every candidate's errors, the chosen one marked
    assert _row(page.text, "data-method", expected.method).endswith(
        f"chosen {expected.backtest[expected.method]['sku']:.3f} {expected.backtest[expected.method]['location']:.3f}"
    )
    assert page.text.count("<tr data-method=") == 5
    # and the location's own forecast page links here
    one = client.get(f"{PLANNING}/forecast", params={"sku": SKU, "location": ST_DE}).text
    assert f'href="{COUNTRY}?sku={SKU}&amp;country=DE&amp;days=56&amp;horizon=14"' in one


def test_the_empty_state_and_bad_input(keel: Keel, world: World, make_client: Make) -> None:
    seed_slow_store(keel, SKU, utcnow().date())
    client = make_client(keel)
    empty = client.get(COUNTRY)
    assert empty.status_code == 200 and "Pick a SKU and a country" in _text(empty.text)
    assert '<option value="DE"' in empty.text  # the countries of the locations, to choose from
    for query, status, says in (
        ({"sku": SKU, "country": "FR"}, 404, f"no stock position of '{SKU}' in FR"),
        ({"sku": "SKU-NONE", "country": "DE"}, 404, "no stock position of 'SKU-NONE' in DE"),
        ({"sku": SKU, "country": "D1"}, 422, "two-letter ISO country code"),
        ({"sku": SKU}, 400, "Give both a SKU and a country."),
        ({"sku": SKU, "country": "DE", "days": "7"}, 400, "days"),
        ({"sku": SKU, "country": "DE", "horizon": "9223372036854775808"}, 400, "horizon"),
        ({"sku": "x" * 500, "country": "DE"}, 400, "sku"),
    ):
        page = client.get(COUNTRY, params=query)
        assert page.status_code == status, query
        assert says in _text(page.text), query
    # a SKU stocked and never sold: its history, and no forecast
    keel.stock.apply_batch([{"id": "r-idle", "kind": "received", "sku": "SKU-IDLE", "location": ST_DE,
                             "quantity": 5}])  # fmt: skip
    idle = _text(client.get(COUNTRY, params={"sku": "SKU-IDLE", "country": "DE"}).text)
    assert "No forecast: no sales of SKU-IDLE in DE in 56 days." in idle and "Day by day" not in idle


@pytest.mark.browser
def test_the_country_page_in_chromium(tab: Tab, keel: Keel) -> None:
    seed_slow_store(keel, SKU, utcnow().date())
    page = tab.page
    # from a location's forecast page to its country
    tab.open(f"{PLANNING}/forecast?sku={SKU}&location={ST_DE}&days=28")
    page.locator("#forecast-country-link").click()
    expect(page.locator("h1")).to_have_text(f"Forecast of {SKU} in DE")
    expect(page.get_by_test_id("country-locations")).to_have_text("2")
    expect(page.get_by_test_id("country-sold")).to_have_text("196")  # 28 days x (6 + 1)
    # the chart: 28 days of bars, the fan filled, both forecasts drawn
    expect(page.locator("#chart-country .main-svg").first).to_be_visible()
    expect(page.locator("#chart-country .bars .point")).to_have_count(28)
    expect(page.locator("#chart-country .scatterlayer .js-fill")).to_have_count(2)
    expect(page.locator("#chart-country .legendtext").last).to_have_text("Country's own forecast")
    expect(page.locator("#country-table tbody tr")).to_have_count(14)
    expect(page.locator("#country-scores tr.chosen .badge")).to_have_text("chosen")
    shot(tab, "country")
    # another horizon from the form, then a country without the SKU: said on the page, the form kept
    page.fill("input[name=horizon]", "5")
    page.get_by_role("button", name="Forecast").click()
    expect(page.locator("#country-table tbody tr")).to_have_count(5)
    page.locator("#country-table thead a", has_text=SLOW_STORE).click()
    expect(page.locator("h1")).to_have_text(f"Forecast of {SKU} at {SLOW_STORE}")
    assert tab.unexpected_errors(404) == []
