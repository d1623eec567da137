"""The replenishment planning pages: the suggestions with counts and runs, one suggestion's arithmetic and demand
chart, accepting, rejecting and receiving, planning a country, the empty state and a reader without
planning.write. Over HTTP and in Chromium, on both databases (screenshots in
test-artifacts/screenshots/planning*.png).

The story (``story``), on the real calendar (the history chart reads the last 56 UTC days up to today): the
Munich store sold 4 SKU-P a day for four weeks but was out of stock for four days of them, and has 2 left; the
Berlin DC holds 30 SKU-P it does not sell itself, and sold 5 SKU-Q a day down to 3. Planning DE today suggests
a transfer of SKU-P from the DC to the store (it can spare it), a purchase of SKU-P for the DC (which now covers
the store too) and a purchase of SKU-Q for the DC."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from starlette.testclient import TestClient

from keel.access import SESSION_COOKIE, Role
from keel.bootstrap import Keel
from keel.planning import Status, Suggestion, SuggestionFilter
from keel.platform.clock import utcnow
from tests.conftest import LiveServer
from tests.e2e.test_web import Tab, chromium, tab
from tests.support import ST_DE, TEST_PASSWORD, WH_DE, World, mv, position, snapshot
from tests.support_planning import SLOW_STORE, seed_slow_store

__all__ = ["chromium", "tab"]  # fixtures shared with test_web
Make = Callable[..., TestClient]
PLANNING = "/ui/planning"
TIMES, MINUS, SIGMA = "\N{MULTIPLICATION SIGN}", "\N{MINUS SIGN}", "\N{GREEK SMALL LETTER SIGMA}"


def at(today: date, days_ago: int, hour: int = 12) -> str:
    return datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), UTC).replace(hour=hour).isoformat()


def sell_daily(keel: Keel, sku: str, location: str, per_day: int, days: int, stock: int, today: date) -> None:
    """Receive ``stock`` ``days`` + 1 days ago, then sell ``per_day`` every day since (POS sales)."""
    rows = [mv(f"r-{sku}-{location}", "received", sku, location, stock, occurred_at=at(today, days + 1, 8))]
    rows += [
        mv(f"s-{sku}-{location}-{d}", "sold", sku, location, per_day, occurred_at=at(today, d))
        for d in range(days, 0, -1)
    ]
    keel.stock.apply_batch(rows)


def story(keel: Keel) -> dict[str, Suggestion]:
    """The module docstring's story, planned for today: the suggestions by name (transfer, dc_p, dc_q)."""
    today = utcnow().date()
    # the store: 80 units sell out in 20 days, 4 days without stock (9 to 6 days ago), 26 more, 2 left
    rows = [mv("st-1", "received", "SKU-P", ST_DE, 80, occurred_at=at(today, 29, 8))]
    rows += [mv(f"st-s{d}", "sold", "SKU-P", ST_DE, 4, occurred_at=at(today, d)) for d in range(28, 8, -1)]
    rows += [mv("st-2", "received", "SKU-P", ST_DE, 26, occurred_at=at(today, 6, 8))]
    rows += [mv(f"st-s{d}", "sold", "SKU-P", ST_DE, 4, occurred_at=at(today, d)) for d in range(6, 0, -1)]
    rows += [mv("dc-p", "received", "SKU-P", WH_DE, 30, occurred_at=at(today, 30))]
    keel.stock.apply_batch(rows)
    sell_daily(keel, "SKU-Q", WH_DE, 5, 28, 5 * 28 + 3, today)
    report = keel.planning.plan(country="DE", today=today)
    assert (report.suggestions, report.purchases, report.transfers) == (3, 2, 1)
    found = {(s.kind, s.sku, s.location): s for s in keel.planning.suggestions()[0]}
    return {
        "transfer": found[("transfer", "SKU-P", ST_DE)],
        "dc_p": found[("purchase", "SKU-P", WH_DE)],
        "dc_q": found[("purchase", "SKU-Q", WH_DE)],
    }


def _text(html: str) -> str:
    main = html.split("<main>", 1)[-1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def _row(html: str, attribute: str, value: str) -> str:
    found = re.search(rf'<tr {attribute}="{re.escape(value)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found is not None, value
    return _text(f"<main>{found.group(1)}</main>")


def _charts(html: str) -> list[dict[str, Any]]:
    found = re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    charts: list[dict[str, Any]] = json.loads(found.group(1))
    return charts


def _ledger(keel: Keel, s: Suggestion) -> list[tuple[str, str, int]]:
    return sorted((m.kind, m.location, m.quantity) for m in keel.queries.ledger(sku=s.sku, limit=1000)
                  if m.reference == s.reference)  # fmt: skip


# -- over HTTP, on both databases ------------------------------------------------------------------------------
def test_the_list_shows_counts_runs_and_the_suggestions_with_their_numbers(
    keel: Keel, world: World, make_client: Make
) -> None:
    # given DE planned
    planned = story(keel)
    client = make_client(keel)
    # when the page is opened
    page = client.get(PLANNING)
    text = _text(page.text)
    # then three proposals wait, the run is listed, and each row has its route, quantity and arithmetic
    assert page.status_code == 200
    assert "Waiting for a decision 3 proposed suggestions On the way 0" in text
    assert _row(page.text, "data-kind", "purchase") == "purchase 2 0 0 0 0"
    assert _row(page.text, "data-kind", "transfer") == "transfer 1 0 0 0 0"
    (run,) = keel.planning.runs()
    assert _row(page.text, "data-run", str(run.run_id)).startswith(f"#{run.run_id} {run.started_at:%Y-%m-%d %H:%M}")
    assert _row(page.text, "data-run", str(run.run_id)).endswith(" manual")
    assert f" 3 3 3 2 1 0 {run.seconds:.1f} " in _row(page.text, "data-run", str(run.run_id))  # locations .. superseded
    t = planned["transfer"]
    e = t.explanation
    assert (t.source, t.quantity, e.position, e.needed) == (WH_DE, e.order_up_to - 2, 2, e.order_up_to - 2)
    assert _row(page.text, "data-suggestion", str(t.id)) == (
        f"#{t.id} run {run.run_id} transfer SKU-P WH-DE-1 → ST-DE-1 Munich store, DE {t.quantity} "
        f"{e.forecast_units:.1f} 4 days {e.safety_stock:.1f} {e.order_up_to} 2 proposed Accept Reject"
    )
    q = planned["dc_q"]
    assert _row(page.text, "data-suggestion", str(q.id)).startswith(
        f"#{q.id} run {run.run_id} purchase SKU-Q supplier → WH-DE-1 Berlin warehouse, DE {q.quantity} "
        f"{q.explanation.forecast_units:.1f} 12 days"
    )
    assert re.findall(r'<tr data-suggestion="(\d+)"', page.text) == [str(s.id) for s in keel.planning.suggestions()[0]]
    assert "1\N{EN DASH}3 of 3 suggestions" in text


def test_the_list_filters_and_refuses_bad_values(keel: Keel, world: World, make_client: Make) -> None:
    planned = story(keel)
    client = make_client(keel)

    def shown(**query: str) -> list[int]:
        page = client.get(PLANNING, params=query)
        assert page.status_code == 200, (query, page.text[:300])
        return [int(n) for n in re.findall(r'<tr data-suggestion="(\d+)"', page.text)]

    t, p, q = planned["transfer"].id, planned["dc_p"].id, planned["dc_q"].id
    assert sorted(shown()) == sorted([t, p, q])
    assert shown(kind="transfer") == [t]
    assert sorted(shown(location=WH_DE)) == sorted([p, q])
    assert sorted(shown(sku="SKU-P")) == sorted([t, p])
    assert shown(status="accepted") == [] and len(shown(status="all")) == 3
    assert shown(size="1") != shown(size="1", page="2")
    # nothing accepted yet: the empty state says the filters matched nothing and how to clear them
    assert "No accepted suggestions match these filters. Clear the filters" in _text(
        client.get(PLANNING, params={"status": "accepted"}).text
    )
    for query in ({"status": "maybe"}, {"kind": "gift"}, {"page": "0"}, {"size": "x"}):
        bad = client.get(PLANNING, params=query)
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html"), query


def test_a_suggestion_shows_its_arithmetic_decision_and_demand_history(
    keel: Keel, world: World, make_client: Make
) -> None:
    planned = story(keel)
    client = make_client(keel)
    t = planned["transfer"]
    e = t.explanation
    # when the transfer is opened
    page = client.get(f"{PLANNING}/suggestions/{t.id}")
    text = _text(page.text)
    # then the arithmetic reads step by step with the stored numbers, and they add up
    assert page.status_code == 200
    assert f"Transfer {t.quantity} {TIMES} SKU-P from WH-DE-1 to ST-DE-1 proposed" in text
    assert _row(page.text, "data-step", "1").endswith("4 days")
    assert _row(page.text, "data-step", "2") == (
        f"Forecast demand D = the forecast units over those 4 days ({e.forecast_units / 4:.2f} a day) "
        f"{e.forecast_units:.2f} units"
    )
    assert _row(page.text, "data-step", "3").endswith(f"z = {e.z:.3f}") and "95.0% of cycles" in text
    assert _row(page.text, "data-step", "5") == (
        f"Safety stock SS = z {TIMES} {SIGMA} = {e.z:.3f} {TIMES} {e.sigma:.2f} {e.safety_stock:.2f} units"
    )
    assert abs(e.z * e.sigma - e.safety_stock) < 0.01
    assert _row(page.text, "data-step", "6") == (
        f"Order-up-to level S = ⌈D + SS⌉ = ⌈{e.forecast_units:.2f} + {e.safety_stock:.2f}⌉ {e.order_up_to} units"
    )
    assert _row(page.text, "data-step", "7") == "Inventory position available + incoming = 2 + 0 2 units"
    assert (
        _row(page.text, "data-step", "8") == f"Needed S {MINUS} position = {e.order_up_to} {MINUS} 2 {t.quantity} units"
    )
    assert _row(page.text, "data-step", "9") == f"This suggestion = needed {t.quantity} units"
    assert f"Notes of the planner {t.quantity} of {t.quantity} from WH-DE-1, which keeps its own safety stock" in text
    assert f"Ledger reference planning suggestion {t.id}" in text
    assert f"Accepting: transfer_out {t.quantity} at WH-DE-1 and expected {t.quantity} at ST-DE-1" in text
    # the DC's purchase: its position gives up what moves out to the store in the same run
    dc = client.get(f"{PLANNING}/suggestions/{planned['dc_p'].id}")
    assert _row(dc.text, "data-step", "7") == (
        f"Inventory position available + incoming = 30 + 0 {MINUS} {t.quantity} planned to move out to stores in "
        f"this run {30 - t.quantity} units"
    )
    # and the chart: 56 days of units (104 sold), the 28 days before the first delivery and the 4 planted
    # ones out of stock, the forecast day by day over the 4 days ahead with its fan (the stored quantiles)
    (chart,) = _charts(page.text)
    bars, marks, q50, q80, q95, ahead = chart["data"]
    assert chart["id"] == "chart-history" and len(bars["x"]) == 56 and sum(bars["y"]) == 104
    today = utcnow().date()
    planted = [(today - timedelta(days=d)).isoformat() for d in (9, 8, 7, 6)]
    assert marks["x"][-4:] == planted and len(marks["x"]) == len(chart["layout"]["shapes"]) == 28 + 4
    assert ahead["y"] == list(e.daily["mean"]) and len(ahead["y"]) == 4 and ahead["x"][0] == today.isoformat()
    assert sum(ahead["y"]) == pytest.approx(e.forecast_units, abs=0.02)
    assert [q50["y"], q80["y"], q95["y"]] == [list(e.daily[q]) for q in ("q50", "q80", "q95")]
    assert (q80["fill"], q95["fill"]) == ("tonexty", "tonexty") and all(
        a <= b <= c for a, b, c in zip(q50["y"], q80["y"], q95["y"], strict=True)
    )
    # the DC's purchase covers the store too: its own fan would mislead, so the average of what it plans for
    dc_chart, dc_e = _charts(dc.text)[0]["data"][-1], planned["dc_p"].explanation
    assert dc_chart["y"] == [round(dc_e.forecast_units / dc_e.protection_days, 2)] * dc_e.protection_days
    assert planned["dc_p"].explanation.daily == {}
    assert "104 units sold" in text and "32 days without sellable stock" in text


def test_accept_receive_and_reject_write_exactly_their_movements(keel: Keel, world: World, make_client: Make) -> None:
    planned = story(keel)
    client = make_client(keel)
    t, q = planned["transfer"], planned["dc_q"]
    # when the transfer is accepted from its page
    done = client.post(f"{PLANNING}/suggestions/{t.id}/accept", data={"back": f"{PLANNING}/suggestions/{t.id}"},
                       follow_redirects=False)  # fmt: skip
    # then back to its page with a notice; the DC sent it and the store expects it
    assert done.status_code == 303
    assert done.headers["location"] == f"{PLANNING}/suggestions/{t.id}?done=accepted&suggestion={t.id}"
    page = client.get(done.headers["location"])
    assert f"Suggestion {t.id} accepted (Transfer {t.quantity} {TIMES} SKU-P from WH-DE-1 to ST-DE-1)" in _text(
        page.text
    )
    assert 'data-testid="suggestion-status">accepted<' in page.text and ">Receive</button>" in page.text
    assert _ledger(keel, t) == sorted([("expected", ST_DE, t.quantity), ("transfer_out", WH_DE, t.quantity)])
    assert position(keel, "SKU-P", ST_DE)["incoming"] == t.quantity
    # when it arrives / then transfer_in settles the incoming units
    assert client.post(f"{PLANNING}/suggestions/{t.id}/receive", follow_redirects=False).status_code == 303
    assert (position(keel, "SKU-P", ST_DE)["incoming"], position(keel, "SKU-P", ST_DE)["available"]) == (
        0, 2 + t.quantity
    )  # fmt: skip
    # when the SKU-Q purchase is rejected from the filtered list / then back to that list; no movement
    before = position(keel, "SKU-Q", WH_DE)
    done = client.post(f"{PLANNING}/suggestions/{q.id}/reject", data={"back": f"{PLANNING}?kind=purchase&done=x"},
                       follow_redirects=False)  # fmt: skip
    assert done.headers["location"] == f"{PLANNING}?kind=purchase&done=rejected&suggestion={q.id}"
    listed = client.get(done.headers["location"])
    assert f"Suggestion {q.id} rejected: stock is untouched." in _text(listed.text)
    assert re.findall(r'<tr data-suggestion="(\d+)"', listed.text) == [str(planned["dc_p"].id)]
    assert _ledger(keel, q) == [] and position(keel, "SKU-Q", WH_DE) == before
    assert keel.planning.get(q.id).decided_by is not None
    assert "Waiting for a decision 1" in _text(client.get(PLANNING).text)
    # a redirect goes only to planning pages
    elsewhere = client.post(f"{PLANNING}/suggestions/{q.id}/reject", data={"back": "https://evil.example/ui/planning"},
                            follow_redirects=False)  # fmt: skip
    assert elsewhere.headers["location"] == f"{PLANNING}?done=rejected&suggestion={q.id}"
    # refused decisions change nothing: a decided one, an unknown decision, an unknown or bad id
    before_all = snapshot(keel)
    again = client.post(f"{PLANNING}/suggestions/{q.id}/accept")
    assert again.status_code == 409 and f"suggestion {q.id} is rejected" in _text(again.text)
    assert client.post(f"{PLANNING}/suggestions/{q.id}/approve").status_code == 404
    assert client.post(f"{PLANNING}/suggestions/999999/accept").status_code == 404
    assert client.post(f"{PLANNING}/suggestions/abc/accept").status_code == 400
    assert snapshot(keel) == before_all
    missing = client.get(f"{PLANNING}/suggestions/999999")
    assert missing.status_code == 404 and "There is no suggestion 999999" in _text(missing.text)


def test_planning_a_country_from_the_page(keel: Keel, world: World, make_client: Make) -> None:
    planned = story(keel)
    client = make_client(keel)
    # when DE is planned again from the form, for its top seller only
    done = client.post(f"{PLANNING}/run", data={"country": "de", "top": "1"}, follow_redirects=False)
    # then back to the list with the run's figures; the earlier proposals of DE are superseded
    assert done.status_code == 303
    newest = keel.planning.runs()[0]
    assert done.headers["location"] == f"{PLANNING}?done=planned&run={newest.run_id}"
    text = _text(client.get(done.headers["location"]).text)
    assert f"Planning run {newest.run_id} done in {newest.seconds:g} s: 1 SKU {TIMES} location series" in text
    assert "3 older proposals superseded" in text and newest.trigger == "manual"
    assert keel.planning.get(planned["dc_q"].id).status is Status.SUPERSEDED
    # a country is needed, a known one
    before = snapshot(keel)
    assert client.post(f"{PLANNING}/run", data={}).status_code == 400
    assert client.post(f"{PLANNING}/run", data={"country": "XX"}).status_code == 400
    assert client.post(f"{PLANNING}/run", data={"country": "DE", "top": "0"}).status_code == 400
    assert snapshot(keel) == before


def test_rebalancing_a_country_from_the_page(keel: Keel, world: World, make_client: Make) -> None:
    # given Augsburg holding SKU-RB Munich is running out of
    seed_slow_store(keel, "SKU-RB", utcnow().date())
    client = make_client(keel)
    # when DE is rebalanced from the form
    done = client.post(f"{PLANNING}/run", data={"country": "DE", "mode": "rebalance"}, follow_redirects=False)
    assert done.status_code == 303
    newest = keel.planning.runs()[0]
    assert (newest.mode, newest.country) == ("rebalance", "DE")
    html = client.get(done.headers["location"]).text
    assert f"Rebalancing run {newest.run_id} done in" in _text(html)
    assert newest.transfers == 1 and "1 suggestion (1 rebalancing transfer)" in _text(html)
    assert "Waiting for a decision 1" in _text(html)  # rebalancing proposals count among those waiting
    assert _row(html, "data-run", str(newest.run_id)).startswith(f"#{newest.run_id}")
    assert "rebalance DE" in _row(html, "data-run", str(newest.run_id))
    [s] = keel.planning.suggestions(SuggestionFilter(kind="rebalance"))[0]
    # then its page writes out the expected lost sales and the money the move saves
    page = _text(client.get(f"{PLANNING}/suggestions/{s.id}").text)
    e = s.explanation
    assert e.lost_before is not None and e.lost_after is not None and e.value is not None
    assert f"Rebalance {s.quantity} {TIMES} SKU-RB from {SLOW_STORE} to {ST_DE}" in page
    assert (
        "Expected lost sales" in page and f"{e.lost_before:,.2f} \N{RIGHTWARDS ARROW} {e.lost_after:,.2f} units" in page
    )
    assert "Value margin saved by this transfer less its fixed and per-unit cost" in page and f"{e.value:,.2f}" in page
    assert f"transfer_out {s.quantity} at {SLOW_STORE}" in page
    # an unknown mode is refused, nothing written
    before = snapshot(keel)
    assert client.post(f"{PLANNING}/run", data={"country": "DE", "mode": "shuffle"}).status_code == 400
    assert snapshot(keel) == before


def test_an_empty_installation_says_to_plan_a_country(keel: Keel, world: World, make_client: Make) -> None:
    client = make_client(keel)
    text = _text(client.get(PLANNING).text)
    assert "No suggestions yet: plan a country." in text
    assert "No planning run yet." in text and "Waiting for a decision 0" in text


def test_a_reader_without_planning_write_sees_no_buttons_and_is_refused(
    keel: Keel, world: World, make_client: Make
) -> None:
    planned = story(keel)
    client = make_client(keel, as_admin=False)
    keel.access.add_service("ana", Role.ANALYST)  # every read, no planning.write
    keel.access.add_service("fr-planner", Role.INVENTORY_PLANNER)
    keel.access.set_scope("fr-planner", None, ["FR"], set(world.channels))
    analyst, french = (
        {"Authorization": f"Bearer {keel.access.create_token(n, 't').secret}"} for n in ("ana", "fr-planner")
    )
    t = planned["transfer"]
    # the analyst reads both pages, with no button and no run form
    listed = client.get(PLANNING, headers=analyst)
    assert listed.status_code == 200 and f'data-suggestion="{t.id}"' in listed.text
    assert ">Accept</button>" not in listed.text and ">Reject</button>" not in listed.text
    assert 'action="/ui/planning/run"' not in listed.text
    assert "need the planning.write permission" in _text(listed.text)
    detail = client.get(f"{PLANNING}/suggestions/{t.id}", headers=analyst)
    assert detail.status_code == 200 and ">Accept</button>" not in detail.text
    # and is refused the POSTs; nothing changes
    before = snapshot(keel)
    assert client.post(f"{PLANNING}/suggestions/{t.id}/accept", headers=analyst).status_code == 403
    assert client.post(f"{PLANNING}/run", data={"country": "DE"}, headers=analyst).status_code == 403
    # a planner restricted to FR does not see DE's suggestions, nor plans DE
    assert client.get(f"{PLANNING}/suggestions/{t.id}", headers=french).status_code == 404
    assert f'data-suggestion="{t.id}"' not in client.get(PLANNING, headers=french).text
    assert client.post(f"{PLANNING}/suggestions/{t.id}/accept", headers=french).status_code == 404
    assert client.post(f"{PLANNING}/run", data={"country": "DE"}, headers=french).status_code == 403
    assert snapshot(keel) == before


# -- in Chromium, on both databases --------------------------------------------------------------------------------
@pytest.fixture
def base_url(keel: Keel, world: World, live_server_factory: Callable[..., LiveServer]) -> Iterator[str]:
    yield live_server_factory(keel).url


def shot(tab: Tab, name: str) -> None:
    tab.page.wait_for_load_state("networkidle")
    tab.page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar stays at the top of a full-page shot
    tab.shot(f"planning-{name}")


@pytest.mark.browser
def test_planning_pages_in_chromium(tab: Tab, keel: Keel) -> None:
    # given an empty installation / then the page says what to do
    page = tab.page
    tab.open("/ui/pricing")
    page.locator("header nav").get_by_role("link", name="Planning", exact=True).click()
    expect(page.locator("h1")).to_have_text("Replenishment planning")
    expect(page.locator('header nav a[aria-current="page"]')).to_have_text("Planning")
    expect(page.locator("#planning-empty")).to_contain_text("No suggestions yet: plan a country.")
    shot(tab, "empty")
    # given DE planned / then the list shows each suggestion's route, quantity and numbers
    planned = story(keel)
    t, p, q = planned["transfer"], planned["dc_p"], planned["dc_q"]
    tab.open(PLANNING)
    expect(page.get_by_test_id("planning-proposed")).to_have_text("3")
    row = page.locator(f'tr[data-suggestion="{t.id}"]')
    expect(row.locator('[data-col="sku"]')).to_have_text("SKU-P")
    expect(row.locator('[data-col="route"]')).to_contain_text("WH-DE-1 → ST-DE-1")
    expect(row.locator('[data-col="quantity"]')).to_have_text(str(t.quantity))
    expect(row.locator('[data-col="order-up-to"]')).to_have_text(str(t.explanation.order_up_to))
    expect(page.locator(f'tr[data-suggestion="{q.id}"] [data-col="route"]')).to_contain_text("supplier → WH-DE-1")
    shot(tab, "list")
    # the transfer: the arithmetic, and the demand chart drawn with its stockout days
    row.get_by_role("link", name=f"#{t.id}").click()
    expect(page.locator("h1")).to_contain_text(f"Transfer {t.quantity} {TIMES} SKU-P from WH-DE-1 to ST-DE-1")
    steps = page.locator('#suggestion-steps [data-col="result"]')
    expect(steps).to_have_text([
        "4 days", f"{t.explanation.forecast_units:.2f} units", f"z = {t.explanation.z:.3f}",
        f"{SIGMA} = {t.explanation.sigma:.2f} units", f"{t.explanation.safety_stock:.2f} units",
        f"{t.explanation.order_up_to} units", "2 units", f"{t.quantity} units", f"{t.quantity} units",
    ])  # fmt: skip
    expect(page.locator("#chart-history .main-svg").first).to_be_visible()
    expect(page.locator("#chart-history .bars .point")).to_have_count(56)
    expect(page.locator("#chart-history .shapelayer path")).to_have_count(32)  # the stockout days, shaded
    # the forecast ahead, day by day, with its fan: median to 80 % and 80 % to 95 % of days, filled
    legend = page.locator("#chart-history .legendtext")
    expect(legend).to_have_text(
        ["Units sold", "Out of stock (not learned)", "Range to 80 %", "Range to 95 %", "Forecast (mean)"]
    )
    expect(page.locator("#chart-history .scatterlayer .js-fill")).to_have_count(2)
    shot(tab, "suggestion")
    # when it is accepted / then the page says so and the ledger has the movements
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#planning-notice")).to_contain_text(f"Suggestion {t.id} accepted")
    expect(page.get_by_test_id("suggestion-status")).to_have_text("accepted")
    assert _ledger(keel, t) == sorted([("expected", ST_DE, t.quantity), ("transfer_out", WH_DE, t.quantity)])
    shot(tab, "accepted")
    page.get_by_role("button", name="Receive").click()
    expect(page.get_by_test_id("suggestion-status")).to_have_text("received")
    assert ("transfer_in", ST_DE, t.quantity) in _ledger(keel, t)
    # when the SKU-Q purchase is rejected on the list / then it leaves the proposed ones, the ledger untouched
    page.locator(".crumbs a").first.click()
    page.locator(f'tr[data-suggestion="{q.id}"]').get_by_role("button", name="Reject").click()
    expect(page.locator("#planning-notice")).to_have_text(f"Suggestion {q.id} rejected: stock is untouched.")
    expect(page.locator(f'tr[data-suggestion="{q.id}"]')).to_have_count(0)
    expect(page.get_by_test_id("planning-proposed")).to_have_text("1")
    assert keel.planning.get(q.id).status is Status.REJECTED and _ledger(keel, q) == []
    # every status: the decided ones with who decided
    page.select_option("select[name=status]", "all")
    page.locator("form.filters").get_by_role("button", name="Show").click()
    expect(page.locator(f'tr[data-suggestion="{t.id}"] [data-col="status"]')).to_contain_text("received")
    expect(page.locator(f'tr[data-suggestion="{p.id}"]').get_by_role("button", name="Accept")).to_be_visible()
    shot(tab, "decided")
    # an unknown suggestion: the 404 page
    tab.open(f"{PLANNING}/suggestions/999999", status=404)
    expect(page.locator("main")).to_contain_text("There is no suggestion 999999")
    shot(tab, "404")
    # planning DE again from the form
    tab.open(PLANNING)
    page.select_option("select[name=country]", "DE")
    page.get_by_role("button", name="Plan now").click()
    expect(page.locator("#planning-notice")).to_contain_text("1 older proposal superseded.", timeout=60_000)
    expect(page.locator("#planning-runs-table tbody tr")).to_have_count(2)
    shot(tab, "planned")
    # rebalancing DE from the form: Augsburg spares SKU-RB for Munich
    seed_slow_store(keel, "SKU-RB", utcnow().date())
    page.select_option("select[name=mode]", "rebalance")
    page.get_by_role("button", name="Plan now").click()
    expect(page.locator("#planning-notice")).to_contain_text("(1 rebalancing transfer)", timeout=60_000)
    [move] = keel.planning.suggestions(SuggestionFilter(kind="rebalance"))[0]
    row = page.locator(f'tr[data-suggestion="{move.id}"]')
    expect(row.locator('[data-col="route"]')).to_contain_text(f"{SLOW_STORE} → ST-DE-1")
    expect(row.locator('[data-col="kind"]')).to_have_text("rebalance")
    shot(tab, "rebalanced")
    row.get_by_role("link", name=f"#{move.id}").click()
    expect(page.locator("h1")).to_contain_text(f"Rebalance {move.quantity} {TIMES} SKU-RB from {SLOW_STORE}")
    expect(page.locator("#suggestion-steps")).to_contain_text("Expected lost sales")
    shot(tab, "rebalance-suggestion")
    assert tab.unexpected_errors(404) == []


@pytest.mark.browser
def test_a_reader_sees_no_buttons_in_chromium(chromium: Browser, keel: Keel, base_url: str) -> None:
    # given DE planned and an analyst logged in (every read, no planning.write)
    planned = story(keel)
    keel.access.add_user("analyst", Role.ANALYST, TEST_PASSWORD)
    session = keel.access.login("analyst", TEST_PASSWORD)
    assert session is not None
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    try:
        context.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": base_url}])
        page = context.new_page()
        # when the list and a suggestion are opened / then they show, with no button and no run form
        page.goto(base_url + PLANNING)
        expect(page.locator(".whoami span")).to_contain_text("analyst")
        expect(page.get_by_test_id("planning-proposed")).to_have_text("3")
        expect(page.locator("main button")).to_have_count(1)  # the filters' Show
        expect(page.locator("#planning-no-write")).to_be_visible()
        Tab(page, base_url).shot("planning-readonly-list")
        page.goto(f"{base_url}{PLANNING}/suggestions/{planned['transfer'].id}")
        expect(page.locator("#suggestion-steps")).to_be_visible()
        expect(page.locator("main button")).to_have_count(0)
        expect(page.locator("#planning-no-write")).to_contain_text("need the planning.write permission")
        Tab(page, base_url).shot("planning-readonly")
    finally:
        context.close()
    assert keel.planning.get(planned["transfer"].id).status is Status.PROPOSED
