"""Logging in and out in Chromium: an anonymous visit goes to the login form and back after it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect

from keel.bootstrap import Keel
from tests.conftest import LiveServer
from tests.e2e.test_web import Tab, chromium, tab
from tests.support import TEST_OPERATOR, TEST_PASSWORD, admin_session

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
