"""Logging in and out in Chromium: an anonymous visit goes to the login form and back after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect

from keel.access import Role
from keel.bootstrap import Keel
from tests.conftest import LiveServer
from tests.e2e.test_web import Tab, chromium, tab
from tests.support import (
    MARKET,
    POS_FR,
    TEST_OPERATOR,
    TEST_PASSWORD,
    WEB_DE,
    WH_DE,
    WH_FR,
    admin_session,
    build_world,
    place,
    receive,
)

__all__ = ["chromium", "tab"]  # fixtures shared with test_web


@pytest.fixture
def base_url(sqlite_keel: Keel, live_server_factory: Callable[..., LiveServer]) -> Iterator[str]:
    admin_session(sqlite_keel)  # creates the test operator, whose password the form is given
    yield live_server_factory(sqlite_keel, background=False, as_admin=False).url


@pytest.mark.browser
def test_log_in_lands_on_the_page_asked_for_then_log_out(tab: Tab) -> None:
    # given an anonymous visit to a page
    tab.page.goto(tab.base_url + "/ui/orders?page=1")
    # then the login form shows, with no navigation
    expect(tab.page.locator("form#login")).to_be_visible()
    expect(tab.page.locator("nav")).to_have_count(0)
    # when a wrong password is sent, the form says so
    tab.page.fill("input[name=username]", TEST_OPERATOR)
    tab.page.fill("input[name=password]", "not the password")
    tab.page.get_by_role("button", name="Log in").click()
    expect(tab.page.get_by_role("alert")).to_have_text("Wrong name or password.")
    # when the right one is sent, the page asked for opens
    tab.page.fill("input[name=username]", TEST_OPERATOR)
    tab.page.fill("input[name=password]", TEST_PASSWORD)
    tab.page.get_by_role("button", name="Log in").click()
    expect(tab.page.locator("h1")).to_have_text("Orders")
    assert tab.page.url == tab.base_url + "/ui/orders?page=1"
    expect(tab.page.locator(".whoami span")).to_have_text(f"{TEST_OPERATOR} · admin")
    # and logging out returns to the form; the old page needs a login again
    tab.page.get_by_role("button", name="Log out").click()
    expect(tab.page.locator("form#login")).to_be_visible()
    tab.page.goto(tab.base_url + "/ui/orders")
    expect(tab.page.locator("form#login")).to_be_visible()
    assert tab.unexpected_errors(401) == []


@pytest.mark.browser
def test_a_restricted_person_sees_only_its_channels_and_countries(sqlite_keel: Keel, tab: Tab) -> None:
    # given orders on a DE channel and on an FR marketplace, and a person restricted to web-de in DE
    keel = sqlite_keel
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 20)
    receive(keel, "SKU-1", WH_FR, 20)
    keel.availability.catch_up()
    for channel, country, (lat, lon, postcode) in (
        (WEB_DE, "DE", (52.5, 13.4, "10115")),
        (MARKET, "FR", (48.85, 2.35, "75001")),
    ):
        place(keel, {
            "channel": channel, "external_id": f"{country}-1",
            "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "10.00"}], "customer": {"name": "Ann"},
            "ship_to": {"country": country, "postal_code": postcode, "latitude": lat, "longitude": lon},
        })  # fmt: skip
    keel.access.add_user("de-shop", Role.ORDER_OPERATIONS, TEST_PASSWORD)
    keel.access.set_scope("de-shop", [WEB_DE], ["DE"], {WEB_DE, MARKET, POS_FR})
    keel.insights.ttl = 0
    # when the person logs in and opens the overview
    tab.page.goto(tab.base_url + "/?refresh=0")
    tab.page.fill("input[name=username]", "de-shop")
    tab.page.fill("input[name=password]", TEST_PASSWORD)
    tab.page.get_by_role("button", name="Log in").click()
    # then the page says what it leaves out, and counts only web-de orders shipped to DE
    expect(tab.page.locator(".scope-banner")).to_contain_text("channels web-de and countries DE")
    expect(tab.page.get_by_test_id("orders-total")).to_have_text("1")
    expect(tab.page.locator("table#sales-channel tbody")).to_contain_text("web-de")
    expect(tab.page.locator("table#sales-channel tbody")).not_to_contain_text(MARKET)
    expect(tab.page.locator("table#sales-country tbody")).not_to_contain_text("FR")
    tab.page.wait_for_load_state("load")  # plotly.min.js too: leaving earlier would abort it (requestfailed)
    tab.shot("restricted-home")
    # and the stock drill-down and the orders list hold DE only; the audit log is not offered
    tab.open("/ui/stock?refresh=0")
    expect(tab.page.locator("main")).not_to_contain_text(WH_FR)
    tab.open("/ui/orders")
    expect(tab.page.locator("main table tbody tr")).to_have_count(1)
    expect(tab.page.locator("nav[aria-label=Main]")).not_to_contain_text("Audit")
    tab.shot("restricted-orders")
    assert tab.unexpected_errors() == []
