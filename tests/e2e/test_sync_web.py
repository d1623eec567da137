"""The channel sync pages: every channel's backlog, dead letters, lag and errors; one channel with its settings,
its actions (POST, then a 303 back with a notice) and its desired state a page at a time; what a viewer
without channels.write or outside the channel's restriction gets. Over HTTP on both databases, and in
Chromium (screenshots in test-artifacts/screenshots/sync*.png)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from starlette.testclient import TestClient

from keel.access import SESSION_COOKIE, Role
from keel.api import create_app
from keel.bootstrap import Keel
from keel.channels import FEEDER
from keel.channels.sync import updates_store
from keel.channels.sync.model import OrderUpdate
from keel.platform.clock import utcnow
from tests.conftest import service_unavailable
from tests.e2e.test_web import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.support import (
    MARKET,
    TEST_PASSWORD,
    WEB_DE,
    WH_DE,
    World,
    build_world,
    open_keel,
    receive,
    serve_app,
    snapshot,
)

Make = Callable[..., TestClient]
SYNC = "/ui/sync"
PAGE = f"{SYNC}/{WEB_DE}"
# port 9 (discard): nothing listens, so every push fails at once; one attempt makes each value a dead letter
NOWHERE = {"url": "http://127.0.0.1:9/hook", "secret": "page-secret-1", "max_attempts": 1, "rate_limit": 120}


def _text(html: str) -> str:
    """A page's main content as a person reads it: tags out, whitespace folded."""
    main = html.split("<main>", 1)[-1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


def _skus(html: str) -> list[str]:
    return re.findall(r'<tr data-sku="([^"]+)" data-country="DE">', html)


def _owed(keel: Keel) -> None:
    """SKU-1 (10) and SKU-2 (4) listed on web-de, and web-de's sync configured towards nowhere: two values owed."""
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", WH_DE, 4)
    keel.availability.catch_up()
    keel.sync.configure(WEB_DE, NOWHERE)
    keel.consumers.get(FEEDER).step(1000)


def _dead(keel: Keel) -> None:
    """One pass of the pump: the one request fails, both values become dead letters."""
    _owed(keel)
    result = keel.sync.run_pass()
    assert (result.requests, result.failed) == (1, 2)


def test_no_channel_synced_says_how_to_configure_one(keel: Keel, world: World, make_client: Make) -> None:
    text = _text(make_client(keel).get(SYNC).text)
    assert "No channel is synced yet." in text
    assert "keel channels sync configure CODE settings.json" in text and "PUT /sync/channels/{code}" in text
    missing = make_client(keel).get(PAGE)
    assert missing.status_code == 404 and "keel channels sync configure web-de settings.json" in _text(missing.text)


def test_the_list_shows_each_channels_figures(keel: Keel, world: World, make_client: Make) -> None:
    # given two values owed to web-de and none pushed yet
    _owed(keel)
    client = make_client(keel)
    page = client.get(SYNC, params={"refresh": "0"})
    assert page.status_code == 200
    row = re.search(r'<tr data-channel="web-de">(.*?)</tr>', page.text, re.S)
    assert row is not None
    cells = dict(re.findall(r'data-col="([\w-]+)"[^>]*>(.*?)</td>', row.group(1), re.S))
    assert _text(cells["state"]).strip() == "live"
    assert (cells["pending"], cells["synced"], cells["dead"], cells["requests"]) == ("2", "0", "0", "0")
    assert re.fullmatch(r"under 1 s|\d+ s", cells["oldest"])  # the backlog's age, from oldest_pending_at
    assert f'href="{PAGE}"' in row.group(1)
    assert "refreshes every" not in page.text  # refresh=0 turns the reload off
    # when the pump's one request fails
    keel.sync.run_pass()
    row = re.search(r'<tr data-channel="web-de">(.*?)</tr>', client.get(SYNC).text, re.S)
    assert row is not None
    cells = dict(re.findall(r'data-col="([\w-]+)"[^>]*>(.*?)</td>', row.group(1), re.S))
    # then the dead letters, the failed request and its error show
    assert (cells["pending"], _text(cells["dead"]).strip(), cells["requests"]) == ("0", "2", "1")
    assert _text(cells["errors"]).strip() == "1 (100.0%)"
    assert "connection error" in cells["last-error"]
    assert _text(cells["p50"]).strip() == "\N{EN DASH}"  # nothing accepted: no lag to measure
    assert "Dead letters 2" in _text(client.get(SYNC).text)


def test_the_channel_page_shows_settings_and_dead_letters_first(keel: Keel, world: World, make_client: Make) -> None:
    _dead(keel)
    client = make_client(keel)
    page = client.get(PAGE)
    text = _text(page.text)
    assert page.status_code == 200
    assert "URL http://127.0.0.1:9/hook" in text and "Max attempts 1 before a value is a dead letter" in text
    assert "Rate limit 120 requests per 60.0 s" in text and "Batch size 500 updates per request" in text
    assert NOWHERE["secret"] not in page.text  # write-only
    assert "Dead letters in SKU order" in text and _skus(page.text) == ["SKU-1", "SKU-2"]
    assert "Last error: connection error" in text
    assert 'action="/ui/sync/web-de/retry"' in page.text and 'action="/ui/sync/web-de/pause"' in page.text
    # other states filter; an empty one says so
    assert _skus(client.get(PAGE, params={"state": "synced"}).text) == []
    assert "No synced values." in _text(client.get(PAGE, params={"state": "synced"}).text)
    assert _skus(client.get(PAGE, params={"state": "all"}).text) == ["SKU-1", "SKU-2"]
    # keyset paging: one row a page, the Next link carries the last key and the state
    first = client.get(PAGE, params={"size": "1"})
    assert _skus(first.text) == ["SKU-1"]
    link = re.search(r'<a class="button" rel="next" href="([^"]+)"', first.text)
    assert link is not None and unescape(link.group(1)) == f"{PAGE}?size=1&after=SKU-1%40DE&state=dead#items"
    second = client.get(unescape(link.group(1)).split("#")[0])
    assert _skus(second.text) == ["SKU-2"] and 'rel="next"' not in second.text
    # bad values are 400 pages, never a 500
    for query, reason in (
        ({"state": "lost"}, "state one of all, dead, pending, synced"),
        ({"after": "no-key"}, "after must be SKU@COUNTRY"),
        ({"size": "0"}, "size must be a whole number"),
        ({"done": "explode"}, "done one of drift, pause, resume, resync, retry"),
    ):
        bad = client.get(PAGE, params=query)
        assert (bad.status_code, bad.headers["content-type"][:9]) == (400, "text/html"), query
        assert reason in _text(bad.text), query


def test_actions_redirect_back_with_a_notice(keel: Keel, world: World, make_client: Make) -> None:
    _dead(keel)
    client = make_client(keel)
    # a form from another site's page, or an unknown action or channel, changes nothing
    before = snapshot(keel)
    assert client.post(f"{PAGE}/pause", headers={"origin": "http://evil.example"}).status_code == 403
    assert client.post(f"{PAGE}/explode").status_code == 404
    assert client.post(f"{SYNC}/{MARKET}/pause").status_code == 404  # no sync configuration
    assert snapshot(keel) == before
    paused = client.post(f"{PAGE}/pause", follow_redirects=False)
    assert (paused.status_code, paused.headers["location"]) == (303, f"{PAGE}?done=pause&changed=1")
    assert keel.sync.channel(WEB_DE).paused
    assert "Paused" in _text(client.get(PAGE, params={"done": " pause ", "changed": "1"}).text)  # trimmed
    landing = _text(client.get(paused.headers["location"]).text)
    assert "Paused: nothing is pushed until you resume" in landing and "State paused" in landing
    again = client.post(f"{PAGE}/pause")  # followed: the landing page says nothing changed
    assert "Already paused." in _text(again.text)
    retried = client.post(f"{PAGE}/retry", follow_redirects=False)
    assert retried.headers["location"] == f"{PAGE}?done=retry&changed=2"
    status = keel.sync.channel(WEB_DE)
    assert (status.dead, status.pending) == (0, 2)
    assert "2 dead letters back in the queue for new attempts." in _text(client.get(retried.headers["location"]).text)
    resumed = client.post(f"{PAGE}/resume", follow_redirects=False)
    assert resumed.headers["location"] == f"{PAGE}?done=resume&changed=1" and not keel.sync.channel(WEB_DE).paused
    resynced = client.post(f"{PAGE}/resync", follow_redirects=False)
    assert resynced.headers["location"].startswith(f"{PAGE}?done=resync&changed=")


def test_without_channels_write_no_buttons_and_a_post_is_refused(keel: Keel, world: World, make_client: Make) -> None:
    _dead(keel)
    keel.access.add_service("watcher", Role.ANALYST)  # every read, no channels.write
    client = make_client(keel, as_admin=False)
    client.headers["Authorization"] = f"Bearer {keel.access.create_token('watcher', 'pages').secret}"
    page = client.get(PAGE)
    assert page.status_code == 200 and _skus(page.text) == ["SKU-1", "SKU-2"]
    assert 'id="sync-actions"' not in page.text and 'method="post" action="/ui/sync' not in page.text
    assert "need the channels.write permission" in _text(page.text)
    before = snapshot(keel)
    for action in ("pause", "resume", "resync", "retry", "drift"):
        assert client.post(f"{PAGE}/{action}", follow_redirects=False).status_code == 403, action
    assert snapshot(keel) == before


def test_a_viewer_restricted_to_another_channel_does_not_see_it(keel: Keel, world: World, make_client: Make) -> None:
    _dead(keel)
    keel.access.add_service("fr-market", Role.MERCHANDISER)  # may write channels, but only market-eu
    keel.access.set_scope("fr-market", [MARKET], None, set(world.channels))
    client = make_client(keel, as_admin=False)
    client.headers["Authorization"] = f"Bearer {keel.access.create_token('fr-market', 'pages').secret}"
    assert "No channel is synced yet." in _text(client.get(SYNC).text)
    assert client.get(PAGE).status_code == 404
    before = snapshot(keel)
    assert client.post(f"{PAGE}/pause").status_code == 403  # outside its restrictions
    assert snapshot(keel) == before


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Keel, str]]:
    keel = open_keel(f"sqlite:///{tmp_path / 'sync.db'}")
    build_world(keel)
    _owed(keel)
    with serve_app(create_app(keel)) as url:
        yield keel, url
    keel.close()


@pytest.mark.browser
def test_sync_pages_in_chromium(shop: tuple[Keel, str]) -> None:
    keel, url = shop
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    errors: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        # the list, reached from the navigation: two values owed to web-de, nothing pushed yet
        page.goto(url + "/ui/channels")
        page.locator("header nav").get_by_role("link", name="Sync", exact=True).click()
        expect(page.locator("h1")).to_have_text("Channel sync")
        row = page.locator('#sync tr[data-channel="web-de"]')
        expect(row.locator('[data-col="pending"]')).to_have_text("2")
        expect(row.locator('[data-col="state"]')).to_have_text("live")
        expect(page.get_by_test_id("sync-pending")).to_have_text("2")
        page.screenshot(path=SCREENSHOTS / "sync.png", full_page=True)

        # pause, then resume, through the buttons
        row.get_by_role("link", name=WEB_DE).click()
        expect(page.locator("h1")).to_have_text(f"Sync of {WEB_DE}")
        expect(page.get_by_test_id("sync-state")).to_have_text("live")
        expect(page.locator("#sync-items caption")).to_have_text("Every value in SKU order")
        page.get_by_role("button", name="Pause").click()
        page.wait_for_url(f"**{PAGE}?done=pause&changed=1")
        expect(page.get_by_test_id("sync-state")).to_have_text("paused")
        expect(page.locator("#sync-flash")).to_contain_text("Paused")
        assert keel.sync.channel(WEB_DE).paused
        page.get_by_role("button", name="Resume").click()
        page.wait_for_url(f"**{PAGE}?done=resume&changed=1")
        expect(page.get_by_test_id("sync-state")).to_have_text("live")
        assert not keel.sync.channel(WEB_DE).paused

        # the pump's request fails: both values are dead letters, listed first
        keel.sync.run_pass()
        page.goto(url + PAGE)
        expect(page.get_by_test_id("sync-dead")).to_have_text("2")
        expect(page.locator("#sync-items caption")).to_have_text("Dead letters in SKU order")
        expect(page.locator("#sync-items tbody tr")).to_have_count(2)
        expect(page.locator('#sync-items tr[data-sku="SKU-1"]')).to_contain_text("dead letter")
        expect(page.get_by_test_id("sync-last-error")).to_contain_text("connection error")
        page.screenshot(path=SCREENSHOTS / "sync_channel.png", full_page=True)
        page.get_by_role("button", name="Retry dead letters").click()
        expect(page.locator("#sync-flash")).to_have_text("2 dead letters back in the queue for new attempts.")
        expect(page.get_by_test_id("sync-dead")).to_have_text("0")
        expect(page.get_by_test_id("sync-pending")).to_have_text("2")
        expect(page.get_by_role("button", name="Retry dead letters")).to_have_count(0)
        browser.close()
    assert errors == []


@pytest.mark.browser
def test_a_person_without_channels_write_sees_no_buttons(shop: tuple[Keel, str]) -> None:
    keel, url = shop
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    keel.access.add_user("analyst", Role.ANALYST, TEST_PASSWORD)
    session = keel.access.login("analyst", TEST_PASSWORD)
    assert session is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": url}])
        page = context.new_page()
        page.goto(url + PAGE)
        expect(page.locator(".whoami span")).to_contain_text("analyst")
        expect(page.get_by_test_id("sync-pending")).to_have_text("2")
        expect(page.locator("#sync-no-actions")).to_be_visible()
        expect(page.get_by_role("button", name="Pause")).to_have_count(0)
        page.screenshot(path=SCREENSHOTS / "sync_channel_readonly.png", full_page=True)
        browser.close()
    assert not keel.sync.channel(WEB_DE).paused


def _dead_update(keel: Keel) -> None:
    """A shipment owed to web-de (towards nowhere): one pass makes it a dead letter beside the two values."""
    with keel.db.write() as conn:
        update = OrderUpdate("W-77", "shipped", (("SKU-1", 2),), "shipped:W-77:1", "DHL", "00340434161094")
        updates_store.queue(conn, [(WEB_DE, update)], utcnow())
    keel.sync.run_pass()


def test_the_channel_page_shows_order_updates_dead_letters_first(keel: Keel, world: World, make_client: Make) -> None:
    client = make_client(keel)
    _owed(keel)
    assert "No order of this channel has shipped, been cancelled or refunded yet." in _text(client.get(PAGE).text)
    _dead_update(keel)
    page = client.get(PAGE)
    text = _text(page.text)
    assert "to the channel: 0 sent, 0 owed , 1 dead letter ." in text  # (the badges' tags make the spaces)
    assert "Dead letters: updates the channel refused or that failed every attempt" in text
    row = re.search(r'<tr data-order="W-77" data-kind="shipped">(.*?)</tr>', page.text, re.S)
    assert row is not None
    cells = _text(f"<main>{row.group(1)}</main>")
    assert "2 \u00d7 SKU-1" in cells and "DHL 00340434161094" in cells and "connection error" in cells
    assert "give the 3 dead letters a fresh round of attempts" in text  # two values and the update
    # a connector that takes no order updates says so
    keel.sync.configure(WEB_DE, NOWHERE | {"connector": "file", "url": "file:///tmp/keel-feed-test"})
    assert "The file connector does not take shipment, cancellation or refund updates." in _text(client.get(PAGE).text)


@pytest.mark.browser
def test_order_updates_on_the_channel_page_in_chromium(shop: tuple[Keel, str]) -> None:
    keel, url = shop
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    _dead_update(keel)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url + PAGE)
        row = page.locator('#sync-updates tr[data-order="W-77"]')
        expect(row).to_contain_text("shipped")
        expect(row).to_contain_text("dead letter")
        expect(row).to_contain_text("DHL 00340434161094")
        page.locator("#sync-order-updates").screenshot(path=SCREENSHOTS / "sync_order_updates.png")
        page.get_by_role("button", name="Retry dead letters").click()
        expect(page.locator("#sync-flash")).to_have_text("3 dead letters back in the queue for new attempts.")
        expect(page.locator('#sync-updates tr[data-order="W-77"]')).to_contain_text("pending")
        browser.close()
