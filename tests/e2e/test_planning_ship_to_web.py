"""Online demand at the ship-to country on the forecast page, the API and the CLI: a DC that ran dry while a
ship-from-store store shipped its orders (tests/integration/test_planning_ship_to.py's detour). Over HTTP on both
databases, and in Chromium (screenshot test-artifacts/screenshots/planning-forecast-shipped.png)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from tests.e2e.conftest import Run
from tests.e2e.test_planning_web import PLANNING, Make, _text, base_url, chromium, shot, tab
from tests.e2e.test_web import Tab
from tests.integration.test_planning_ship_to import detour
from tests.support import ST_DE, WH_DE, World, admin_headers, build_world, open_keel

__all__ = ["base_url", "chromium", "tab"]  # fixtures shared with test_web and test_planning_web
FORECAST = f"{PLANNING}/forecast"


def test_the_api_and_the_page_say_where_shipped_demand_is_forecast(keel: Keel, world: World, make_client: Make) -> None:
    detour(keel, utcnow().date())
    client = make_client(keel)
    # the history says what left the store as orders; the forecast what share of Germany's it carries
    history = client.get("/planning/history", params={"sku": "SKU-D", "location": ST_DE, "days": 28},
                         headers=admin_headers(keel)).json()  # fmt: skip
    assert history["routed"] == [0] * 13 + [4] * 15 and history["units"] == [2] * 13 + [6] * 15
    shop = client.get("/planning/forecast", params={"sku": "SKU-D", "location": ST_DE, "days": 28, "horizon": 7},
                      headers=admin_headers(keel)).json()  # fmt: skip
    dc = client.get("/planning/forecast", params={"sku": "SKU-D", "location": WH_DE, "days": 28, "horizon": 7},
                    headers=admin_headers(keel)).json()  # fmt: skip
    assert shop["shipped_shares"] == {"DE": 0.0} and dc["shipped_shares"] == {"DE": 1.0}
    assert sum(shop["mean"]) < 7 * 2.3 < 7 * 3.4 < sum(dc["mean"])
    # the page explains it in words
    text = _text(client.get(FORECAST, params={"sku": "SKU-D", "location": WH_DE, "days": 28}).text)
    assert (
        "52 of the 52 units were orders routed here, to ship or to be picked up. Shipped orders are forecast where "
        f"their customers are, because routing, not the customer, chose this location: this forecast is {WH_DE}'s "
        "own demand plus 100 % of the orders shipped to DE, its share on the days every location of DE shipping "
        "them had stock." in text
    )
    plain = _text(client.get(FORECAST, params={"sku": "SKU-D", "location": ST_DE, "days": 28}).text)
    assert "plus 0 % of the orders shipped to DE" in plain


@pytest.fixture
def detoured(db_url: str) -> Iterator[Keel]:
    keel = open_keel(db_url)
    build_world(keel)
    detour(keel, utcnow().date())
    yield keel
    keel.close()


def test_the_cli_shows_the_orders_and_the_share(run: Run, detoured: Keel) -> None:
    shown = run("planning", "history", "SKU-D", ST_DE, "--days", "3")
    assert shown.exit_code == 0, shown.output
    assert "of them orders" in shown.stdout and len(re.findall(r"\b6\s+.\s+4\b", shown.stdout)) == 3
    out = run("planning", "outlook", "SKU-D", WH_DE, "--days", "28", "--horizon", "3")
    assert out.exit_code == 0, out.output
    assert "its own demand plus 100% of the orders shipped to DE" in " ".join(out.stdout.split())
    data = json.loads(run("planning", "outlook", "SKU-D", WH_DE, "--days", "28", "--json").stdout)
    assert data["shipped_shares"] == {"DE": 1.0}


@pytest.mark.browser
def test_the_forecast_page_in_chromium(tab: Tab, keel: Keel) -> None:
    detour(keel, utcnow().date())
    tab.open(f"{FORECAST}?sku=SKU-D&location={WH_DE}&days=28")
    expect(tab.page.locator("#forecast-shipped")).to_contain_text("100 % of the orders shipped to DE")
    expect(tab.page.locator("#chart-forecast .main-svg").first).to_be_visible()
    expect(tab.page.locator("#forecast-table tbody tr")).to_have_count(14)
    shot(tab, "forecast-shipped")
    assert tab.unexpected_errors() == []
