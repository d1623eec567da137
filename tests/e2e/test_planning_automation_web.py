"""The planning automation page: each country's rule in words, the form that changes it, the button that runs
it now, and the log of what the automation did with its reasons. Over HTTP and in Chromium, on both databases
(screenshots in test-artifacts/screenshots/planning-automation*.png).

The story: Munich sells SKU-PL and SKU-R fast, its DC holds SKU-PL, and Augsburg holds SKU-R it sells slowly
(``tests.support_planning``). The rule of DE accepts DC transfers only, so the DC transfer of SKU-PL is accepted
and the purchases and the rebalancing transfer are held for a person."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import unescape

import pytest
from playwright.sync_api import expect
from starlette.testclient import TestClient

from keel.access import Role
from keel.bootstrap import Keel
from keel.planning import Status, SuggestionFilter
from keel.platform.clock import utcnow
from tests.conftest import LiveServer
from tests.e2e.test_web import Tab, chromium, tab
from tests.support import World, snapshot
from tests.support_planning import SLOW_STORE, seed_sales, seed_slow_store

__all__ = ["chromium", "tab"]  # fixtures shared with test_web
Make = Callable[..., TestClient]
PAGE = "/ui/planning/automation"
RULE = {"country": "DE", "enabled": "on", "replenish": "on", "rebalance": "on", "every_minutes": "30",
        "accept_kinds": ["transfer"], "max_units": "100", "max_value_per_day": "2,500.00", "top": ""}  # fmt: skip


def seed(keel: Keel) -> None:
    today = utcnow().date()
    seed_sales(keel, today)
    seed_slow_store(keel, "SKU-R", today)


def _text(html: str) -> str:
    main = html.split("<main>", 1)[-1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def test_saving_a_rule_and_running_it_from_the_page(keel: Keel, world: World, make_client: Make) -> None:
    seed(keel)
    client = make_client(keel)
    empty = client.get(PAGE)
    assert empty.status_code == 200 and "No automation rule yet." in _text(empty.text)
    # when the form is saved / then the rule is stored and described in words
    saved = client.post(f"{PAGE}/rule", data=RULE, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?country=DE&saved=DE"
    rule = keel.automation.rule("DE")
    assert (rule.enabled, rule.every_minutes, rule.accept_kinds, rule.max_value_per_day) == (
        True, 30, ("transfer",), 2500.0)  # fmt: skip
    text = _text(client.get(saved.headers["location"]).text)
    assert "The automation rule of DE is saved." in text
    assert ("Every 30 minutes: replenish and rebalance every SKU whose stock moved; accepts transfer suggestions "
            "of at most 100 units, up to 2,500.00 of goods a day.") in text  # fmt: skip
    # when it is run now / then what it did is counted and every step listed with its reason
    ran = client.post(f"{PAGE}/run", data={"country": "DE"}, follow_redirects=False)
    assert ran.status_code == 303
    text = _text(client.get(ran.headers["location"]).text)
    assert "DE re-planned: 1 suggestions accepted automatically, 3 held for a person." in text
    [transfer] = keel.planning.suggestions(SuggestionFilter(kind="transfer"))[0]
    assert transfer.status is Status.ACCEPTED
    assert f"transfer of {transfer.quantity} units worth {transfer.quantity * 20:,.2f} is within the limits" in text
    assert "purchase suggestions are not accepted automatically in DE" in text
    # run again: the accepted transfer moved SKU-PL, so it is re-planned; then nothing moved, and it says so
    client.post(f"{PAGE}/run", data={"country": "DE"})
    again = client.post(f"{PAGE}/run", data={"country": "DE"})
    assert "DE: nothing moved since the last automatic run, so no new run was made." in _text(again.text)
    # the log filters by action
    held = _text(client.get(PAGE, params={"action": "held"}).text)
    assert "held" in held and "within the limits" not in held


def test_bad_forms_and_links_are_refused_with_nothing_written(keel: Keel, world: World, make_client: Make) -> None:
    seed(keel)
    client = make_client(keel)
    before = snapshot(keel)
    assert client.post(f"{PAGE}/rule", data={**RULE, "country": ""}).status_code == 400
    assert client.post(f"{PAGE}/rule", data={**RULE, "every_minutes": "0"}).status_code == 400
    assert client.post(f"{PAGE}/rule", data={**RULE, "max_value_per_day": "lots"}).status_code == 400
    refused = client.post(f"{PAGE}/rule", data={**RULE, "excluded_locations": ["WH-FR-1"]})
    assert refused.status_code == 422 and "not a location of DE: WH-FR-1" in _text(refused.text)
    assert client.post(f"{PAGE}/rule", data={**RULE, "replenish": "", "rebalance": ""}).status_code == 422
    assert client.post(f"{PAGE}/run", data={"country": "XX"}).status_code == 400
    assert client.get(PAGE, params={"action": "exploded"}).status_code == 400
    assert client.get(PAGE, params={"page": "0"}).status_code == 400
    assert keel.automation.rules() == [] and snapshot(keel) == before


def test_a_reader_sees_the_log_but_no_form_and_is_refused(keel: Keel, world: World, make_client: Make) -> None:
    seed(keel)
    keel.automation.set_rule("DE", {"enabled": True})
    keel.automation.run("DE")
    keel.access.add_service("ana", Role.ANALYST)
    keel.access.add_service("fr-planner", Role.INVENTORY_PLANNER)
    keel.access.set_scope("fr-planner", None, ["FR"], set(world.channels))
    analyst, french = (
        {"Authorization": f"Bearer {keel.access.create_token(n, 't').secret}"} for n in ("ana", "fr-planner")
    )
    client = make_client(keel, as_admin=False)
    page = client.get(PAGE, headers=analyst)
    assert page.status_code == 200 and 'data-country="DE"' in page.text and "automation-form" not in page.text
    assert "Run now" not in page.text and 'data-action="planned"' in page.text
    before = snapshot(keel)
    assert client.post(f"{PAGE}/rule", data=RULE, headers=analyst).status_code == 403
    assert client.post(f"{PAGE}/run", data={"country": "DE"}, headers=analyst).status_code == 403
    # a planner of FR sees neither DE's rule nor its log, and may not change it
    assert 'data-country="DE"' not in client.get(PAGE, headers=french).text
    assert 'data-action="planned"' not in client.get(PAGE, headers=french).text
    assert client.post(f"{PAGE}/rule", data=RULE, headers=french).status_code == 403
    assert snapshot(keel) == before


# -- in Chromium, on both databases --------------------------------------------------------------------------------
@pytest.fixture
def base_url(keel: Keel, world: World, live_server_factory: Callable[..., LiveServer]) -> Iterator[str]:
    yield live_server_factory(keel).url


@pytest.mark.browser
def test_the_automation_page_in_chromium(tab: Tab, keel: Keel) -> None:
    page = tab.page
    seed(keel)
    tab.open("/ui/planning")
    page.locator("#planning-automation-link").get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("Planning automation")
    expect(page.locator("#automation-empty")).to_contain_text("No automation rule yet.")
    # set the rule of DE in the form: transfers and rebalancing accepted, never out of Augsburg
    page.get_by_label("Enabled: the worker runs it on schedule").check()
    page.get_by_label("Rebalance (transfers between locations)").check()
    page.locator("input[name=accept_kinds][value=transfer]").check()
    page.locator("input[name=accept_kinds][value=rebalance]").check()
    page.locator("input[name=max_units]").fill("50")
    page.locator("input[name=max_value_per_day]").fill("5000")
    page.select_option("select[name=excluded_locations]", [SLOW_STORE])
    page.get_by_role("button", name="Save the rule of DE").click()
    expect(page.locator("#automation-notice")).to_have_text("The automation rule of DE is saved.")
    row = page.locator('#automation-rules-table tr[data-country="DE"]')
    expect(row.locator('[data-col="state"]')).to_have_text("enabled")
    expect(row.locator('[data-col="rule"]')).to_contain_text(f"never touches {SLOW_STORE}")
    expect(row.locator('[data-col="last-run"]')).to_have_text("never")
    tab.page.evaluate("window.scrollTo(0, 0)")
    tab.shot("planning-automation-rule")
    # run it now: the DC transfer accepted, Augsburg's rebalancing held by the excluded location
    row.get_by_role("button", name="Run the automation of DE now").click()
    expect(page.locator("#automation-notice")).to_contain_text("DE re-planned: 1 suggestions accepted", timeout=60_000)
    log = page.locator("#automation-actions-table")
    expect(log.locator('tr[data-action="accepted"]')).to_have_count(1)
    expect(log.locator('tr[data-action="held"] [data-col="reason"]')).to_contain_text(
        [f"location {SLOW_STORE} is excluded from automation"]
    )
    expect(log.locator('tr[data-action="planned"]')).to_have_count(2)
    expect(row.locator('[data-col="accepted-today"]')).not_to_contain_text("0.00\nof")
    tab.page.evaluate("window.scrollTo(0, 0)")
    tab.shot("planning-automation-ran")
    # an accepted suggestion's link leads to its page, accepted by the automation
    log.locator('tr[data-action="accepted"] a').click()
    expect(page.get_by_test_id("suggestion-status")).to_have_text("accepted")
    expect(page.locator("main")).to_contain_text("automation")
    assert tab.unexpected_errors(404) == []
