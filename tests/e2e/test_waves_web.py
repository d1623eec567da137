"""The waves page: preview the joint re-plan of allocated orders (GET, writes nothing), apply it (POST,
then a 303 back to the page so a reload applies nothing), in Chromium and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright
from starlette.testclient import TestClient

from keel.api import create_app
from keel.bootstrap import Keel
from keel.orders.service.waves import WaveOrders, WaveStale
from tests.conftest import service_unavailable
from tests.e2e.test_web import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.integration.test_orders import order
from tests.support import ST_DE, WH_DE, World, build_world, open_keel, place, receive, serve_app, snapshot

WAVES = "/ui/orders/waves"
ARROW = "\N{RIGHTWARDS ARROW}"


def _sequenced(keel: Keel) -> tuple[int, int]:
    """The two Berlin orders of tests/integration/test_orders_waves.py: A takes the warehouse's last SKU-1,
    so B (SKU-1 and SKU-2, which only the warehouse holds) splits with the Munich store."""
    receive(keel, "SKU-1", WH_DE, 1)
    receive(keel, "SKU-2", WH_DE, 5)
    receive(keel, "SKU-1", ST_DE, 5)
    a, _ = place(keel, order("W-A", ("SKU-1", 1)))
    b, _ = place(keel, order("W-B", ("SKU-1", 1), ("SKU-2", 1)))
    assert sorted(s.location for s in b.shipments) == [ST_DE, WH_DE]
    return a.id, b.id


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Keel, str, int, int]]:
    keel = open_keel(f"sqlite:///{tmp_path / 'waves.db'}")
    build_world(keel)
    a, b = _sequenced(keel)
    with serve_app(create_app(keel)) as url:
        yield keel, url, a, b
    keel.close()


@pytest.mark.browser
def test_preview_then_apply_a_wave_in_the_browser(shop: tuple[Keel, str, int, int]) -> None:
    keel, url, a, b = shop
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url + "/ui/orders")
        page.get_by_role("link", name="Waves", exact=True).click()
        expect(page.locator("h1")).to_have_text("Waves")
        expect(page.locator("#wave-changes")).to_have_count(0)  # no report before Preview
        page.locator("select[name=country]").select_option("DE")
        page.locator("select[name=channel]").select_option("web-de")
        expect(page.locator("input[name=limit]")).to_have_value("200")
        before = snapshot(keel)
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_test_id("wave-considered")).to_have_text("2")
        expect(page.get_by_test_id("wave-changed")).to_have_text("2")
        expect(page.get_by_test_id("wave-splits")).to_have_text(f"1 {ARROW} 0")
        expect(page.get_by_test_id("wave-status")).to_have_text("optimal")
        rows = page.locator("#wave-changes tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text(f"#{a}")
        expect(rows.nth(1).locator("td").nth(3)).to_have_text(f"{ST_DE} {WH_DE}")
        expect(rows.nth(1).locator("td").nth(4)).to_have_text(WH_DE)
        assert snapshot(keel) == before  # a preview writes nothing
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "waves.png", full_page=True)

        page.get_by_role("button", name="Apply").click()
        page.wait_for_url("**/ui/orders/waves?*applied=2*")
        assert "country=DE" in page.url and "channel=web-de" in page.url
        expect(page.locator("#wave-flash")).to_contain_text("2 orders moved")
        expect(page.locator("select[name=country]")).to_have_value("DE")
        after = snapshot(keel)
        page.reload()  # the redirect made the page a GET: reloading applies nothing
        expect(page.locator("#wave-flash")).to_contain_text("2 orders moved")
        assert snapshot(keel) == after

        page.goto(f"{url}/ui/orders/{b}")
        expect(page.get_by_test_id("order-status")).to_have_text("allocated")
        expect(page.get_by_test_id("live-shipments")).to_have_text("1")
        note = page.get_by_test_id("live-shipments").locator("xpath=following-sibling::span[1]")
        expect(note).to_have_text(f"{ST_DE} (replanned), {WH_DE} (replanned), {WH_DE} (allocated)")
        expect(page.locator("#routing-2 h2")).to_contain_text("wave")
        page.goto(f"{url}/ui/orders/{a}")
        expect(page.get_by_test_id("live-shipments").locator("xpath=following-sibling::span[1]")).to_have_text(
            f"{WH_DE} (replanned), {ST_DE} (allocated)"
        )

        # the wave's plan is in place: a new preview finds nothing to move
        page.goto(url + WAVES)
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_test_id("wave-changed")).to_have_text("0")
        expect(page.get_by_text("Nothing to move.")).to_be_visible()
        expect(page.locator("#wave-apply")).to_have_count(0)

        page.locator("input[name=limit]").fill("0")
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("h1")).to_have_text("That link has a bad value")
        expect(page.locator(".error-status")).to_have_text("400")
        expect(page.locator(".lead")).to_contain_text("limit must be a whole number from 1 to 1000")
        browser.close()
    assert [e for e in errors if "status of 400" not in e] == []


def test_apply_redirects_and_a_preview_never_writes(client: TestClient, keel: Keel, world: World) -> None:
    a, b = _sequenced(keel)
    empty = client.get(WAVES)
    assert empty.status_code == 200 and 'id="wave-changes"' not in empty.text
    before = snapshot(keel)
    preview = client.get(WAVES, params={"country": "DE", "limit": "200", "preview": "1"})
    assert preview.status_code == 200 and preview.headers["content-type"].startswith("text/html")
    assert 'data-testid="wave-changed">2<' in preview.text
    assert f'href="/ui/orders/{a}"' in preview.text and f'href="/ui/orders/{b}"' in preview.text
    # bad values are the usual error pages, never a 500 or a JSON problem
    for query, status, text in (
        ({"limit": "0", "preview": "1"}, 400, "limit must be a whole number"),
        ({"limit": "abc", "preview": "1"}, 400, "limit must be a whole number"),
        ({"country": "XX", "preview": "1"}, 400, "country not an ISO 3166-1"),
        ({"channel": "nope", "preview": "1"}, 404, "There is no channel"),
        ({"applied": "-1"}, 400, "applied must be a whole number"),
    ):
        bad = client.get(WAVES, params=query)
        assert (bad.status_code, bad.headers["content-type"][:9]) == (status, "text/html"), query
        assert text in bad.text, query
    assert client.post(WAVES, data={"limit": "0"}).status_code == 400
    assert client.post(WAVES, data={"channel": "nope"}).status_code == 404
    # a form posted from another site's page is refused
    assert client.post(WAVES, data={}, headers={"origin": "http://evil.example"}).status_code == 403
    assert snapshot(keel) == before

    done = client.post(WAVES, data={"country": "DE", "channel": "", "limit": "200"}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"{WAVES}?country=DE&limit=200&applied=2"
    assert keel.orders.reads.get(b).routing[-1]["trigger"] == "wave"
    after = snapshot(keel)
    landing = client.get(done.headers["location"])
    assert landing.status_code == 200 and "2 orders moved" in landing.text
    assert snapshot(keel) == after
    again = client.post(WAVES, data={}, follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (303, f"{WAVES}?limit=200&applied=0")
    assert "No order moved" in client.get(again.headers["location"]).text


def test_a_conflict_is_shown_on_the_page(
    client: TestClient, keel: Keel, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sequenced(keel)

    def always_clash(*_: Any) -> None:
        raise WaveStale("order 1 changed while the wave was planned; nothing was changed, plan again")

    monkeypatch.setattr(WaveOrders, "_check", always_clash)  # as in test_orders_waves.py: a pick each solve
    before = snapshot(keel)
    clash = client.post(WAVES, data={"country": "DE", "limit": "200"}, follow_redirects=False)
    assert (clash.status_code, clash.headers["content-type"][:9]) == (409, "text/html")
    assert "The wave was not applied: order 1 changed while the wave was planned" in clash.text
    assert '<option value="DE" selected>' in clash.text
    assert snapshot(keel) == before
