"""The audit log page in Chromium: entries newest first, filters, an entry's linked events; and the pages'
answers to bad values."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright
from starlette.testclient import TestClient

from keel.api import create_app
from keel.bootstrap import Keel
from tests.conftest import service_unavailable
from tests.e2e.test_web import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.support import WH_DE, admin_headers, build_world, mv, open_keel, serve_app


@pytest.fixture
def audited(tmp_path: Path) -> Iterator[str]:
    keel = open_keel(f"sqlite:///{tmp_path / 'audit.db'}")
    build_world(keel)
    with serve_app(create_app(keel)) as url:
        headers = admin_headers(keel)
        httpx.post(url + "/inventory/movements", json=[mv("in-1", "received", "SKU-1", WH_DE, 7)], headers=headers)
        httpx.post(url + "/inventory/movements", json=[mv("out-1", "sold", "SKU-1", WH_DE, 99)], headers=headers)
        yield url
    keel.close()


@pytest.mark.browser
def test_read_filter_and_follow_an_entry_in_the_browser(audited: str) -> None:
    url = audited
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url + "/")
        page.get_by_role("link", name="Audit", exact=True).click()
        expect(page.locator("h1")).to_have_text("Audit log")
        rows = page.locator("#audit tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("POST /inventory/movements")
        expect(rows.nth(0).locator("td").nth(7)).to_have_text("422")  # newest first: the refused sale
        expect(rows.nth(1).locator("td").nth(7)).to_have_text("200")
        expect(rows.nth(1).locator("td").nth(3)).to_have_text("api")
        expect(rows.nth(1).locator("td").nth(2)).to_have_text("test-admin")  # the token's identity
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "audit.png", full_page=True)
        page.locator("select[name=outcome]").select_option("failed")
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(1)
        page.goto(url + "/ui/audit?outcome=succeeded")
        rows.nth(0).locator("td").nth(0).get_by_role("link").click()
        expect(page.locator("#audit-events tbody tr")).to_have_count(1)
        expect(page.locator("#audit-events")).to_contain_text("stock.moved")
        page.goto(url + "/ui/audit?outcome=failed")
        rows.nth(0).locator("td").nth(0).get_by_role("link").click()
        expect(page.get_by_text("This attempt changed nothing")).to_be_visible()
        browser.close()
    assert errors == []


def test_bad_values_get_the_usual_error_pages(keel: Keel, client: TestClient) -> None:
    for path, status, text in (
        ("/ui/audit?via=fax", 400, "via"),
        ("/ui/audit?after=-1", 400, "after"),
        ("/ui/audit/0", 400, "seq"),
        ("/ui/audit/99", 404, "audit entry 99 does not exist"),
    ):
        response = client.get(path)
        assert (response.status_code, response.headers["content-type"].split(";")[0]) == (status, "text/html")
        assert text in response.text
