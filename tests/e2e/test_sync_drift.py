"""Drift and health through the HTTP API, the CLI and the channel's page, on both databases: a value changed
in the marketplace simulator behind Keel's back is found by ``POST /sync/channels/{code}/drift`` (and the CLI,
and the page's button), listed, and pushed again; thresholds set per channel show in the health list."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from starlette.testclient import TestClient
from typer.testing import CliRunner

from keel.api import create_app
from keel.bootstrap import Keel
from keel.channels import FEEDER
from keel.cli import app
from keel.sim.marketplace import Marketplace
from tests.conftest import service_unavailable
from tests.e2e.test_web import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.support import MARKET, WEB_DE, WH_DE, World, build_world, open_keel, receive, serve_app

SECRET = "drift-secret-1"
Make = Callable[..., TestClient]


def synced(keel: Keel, market: Marketplace) -> None:
    """SKU-1 (10) and SKU-2 (4) listed on web-de, pushed to the simulator."""
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", WH_DE, 4)
    keel.availability.catch_up()
    keel.sync.configure(WEB_DE, {"url": market.url, "secret": SECRET, "rate_limit": 1000})
    keel.consumers.get(FEEDER).step(1000)
    keel.sync.run_pass()
    assert market.state(WEB_DE)[("SKU-1", "DE")][0] == 10


def text(html: str) -> str:
    main = html.split("<main>", 1)[-1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


def test_drift_over_the_api_and_the_page(keel: Keel, world: World, make_client: Make) -> None:
    client = make_client(keel)
    with Marketplace({WEB_DE: SECRET}) as market:
        synced(keel, market)
        listed_page = client.get("/ui/sync").text
        assert re.search(r'data-col="health"><span class="badge ok"[^>]*>ok</span>', listed_page)
        page = client.get(f"/ui/sync/{WEB_DE}")
        assert "Never checked" in text(page.text) and "Check drift now" in page.text
        market.edit(WEB_DE, "SKU-1", "DE", 3)
        # the API: a check finds the edited value and owes it again
        done = client.post(f"/sync/channels/{WEB_DE}/drift")
        assert done.status_code == 200, done.text
        assert {k: done.json()[k] for k in ("checked", "differences", "corrected", "adopted", "error")} == {
            "checked": 2, "differences": 1, "corrected": 1, "adopted": 0, "error": None,
        }  # fmt: skip
        listed = client.get(f"/sync/channels/{WEB_DE}/drift").json()
        assert [(d["sku"], d["keel_quantity"], d["channel_quantity"]) for d in listed["items"]] == [("SKU-1", 10, 3)]
        assert listed["next_before"] is None
        status = client.get(f"/sync/channels/{WEB_DE}").json()
        assert (status["pending"], status["drift"]["differences"], status["drift_found_24h"]) == (1, 1, 1)
        assert [h["metric"] for h in status["health"]] == [
            "lag_p99_s", "error_rate", "backlog_age_s", "cancellation_rate", "late_shipment_rate",
            "valid_tracking_rate", "on_time_delivery_rate", "order_defect_rate",
        ]  # fmt: skip
        # the page shows the check and the difference
        shown = text(client.get(f"/ui/sync/{WEB_DE}").text)
        assert "2 values read back, 1 differed (1 pushed again)" in shown
        assert "SKU-1 DE 10 3" in shown
        # the pump puts it back; the page's button checks again and finds nothing
        keel.sync.run_pass()
        assert market.state(WEB_DE)[("SKU-1", "DE")][0] == 10
        clicked = client.post(f"/ui/sync/{WEB_DE}/drift", follow_redirects=False)
        assert clicked.status_code == 303 and clicked.headers["location"].endswith("?done=drift&changed=0")
        landing = text(client.get(clicked.headers["location"]).text)
        assert "Drift check done: no difference found" in landing
        assert "2 values read back, 0 differed" in landing
    # refusals
    assert client.post(f"/sync/channels/{MARKET}/drift").status_code == 404  # no sync configuration
    assert client.get(f"/sync/channels/{WEB_DE}/drift", params={"limit": 0}).status_code == 422


def test_thresholds_per_channel_over_the_api(keel: Keel, world: World, make_client: Make) -> None:
    client = make_client(keel)
    keel.sync.configure(WEB_DE, {"url": "http://127.0.0.1:9/hook", "secret": SECRET})
    assert client.put(f"/sync/channels/{WEB_DE}/thresholds", json={"error_rate": 0.2}).json() == {
        "lag_p99_s": 60.0, "error_rate": 0.2, "backlog_age_s": 300.0, "cancellation_rate": 0.025,
        "late_shipment_rate": 0.04, "valid_tracking_rate": 0.99, "on_time_delivery_rate": 0.9,
        "order_defect_rate": 0.01,
    }  # fmt: skip
    health = {h["metric"]: h for h in client.get(f"/sync/channels/{WEB_DE}").json()["health"]}
    assert health["error_rate"]["threshold"] == 0.2 and health["lag_p99_s"]["threshold"] == 60.0
    assert client.put(f"/sync/channels/{WEB_DE}/thresholds", json={"error_rate": -1}).status_code == 422
    assert client.put(f"/sync/channels/{WEB_DE}/thresholds", json={"orders": 1}).status_code == 422
    assert client.put(f"/sync/channels/{MARKET}/thresholds", json={}).status_code == 404
    client.put(f"/sync/channels/{WEB_DE}/thresholds", json={})  # back to the defaults
    health = {h["metric"]: h for h in client.get(f"/sync/channels/{WEB_DE}").json()["health"]}
    assert health["error_rate"]["threshold"] == 0.05


def test_drift_from_the_cli(keel: Keel, world: World) -> None:
    with Marketplace({WEB_DE: SECRET}) as market:
        synced(keel, market)
        market.edit(WEB_DE, "SKU-2", "DE", None)
        runner = CliRunner(env={"COLUMNS": "240", "KEEL_LOG_JSON": "false"})
        args = ["channels", "sync", "drift", WEB_DE, "--database-url", keel.db.url]
        result = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        found = json.loads(result.stdout)
        assert (found["check"]["differences"], found["check"]["corrected"]) == (1, 1)
        assert [(d["sku"], d["channel_quantity"]) for d in found["differences"]] == [("SKU-2", None)]
        keel.sync.run_pass()
        again = runner.invoke(app, args, catch_exceptions=False)
        assert again.exit_code == 0 and f"{WEB_DE}: 2 values compared, 0 differ" in again.stdout
        missing = runner.invoke(app, ["channels", "sync", "drift", MARKET, "--database-url", keel.db.url])
        assert missing.exit_code == 3


@pytest.mark.browser
def test_check_drift_now_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    keel = open_keel(f"sqlite:///{tmp_path / 'drift.db'}")
    errors: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        build_world(keel)
        with Marketplace({WEB_DE: SECRET}) as market, serve_app(create_app(keel)) as url, sync_playwright() as pw:
            synced(keel, market)
            market.edit(WEB_DE, "SKU-2", "DE", 40)
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{url}/ui/sync/{WEB_DE}")
            expect(page.get_by_test_id("drift-last")).to_contain_text("Never checked")
            expect(page.get_by_test_id("health-backlog_age_s")).to_have_text("ok")
            page.get_by_role("button", name="Check drift now").click()
            page.wait_for_url(f"**/ui/sync/{WEB_DE}?done=drift&changed=1")
            expect(page.locator("#sync-flash")).to_contain_text("1 value differed")
            expect(page.get_by_test_id("drift-differences")).to_have_text("1")
            expect(page.locator('#drift-items tr[data-sku="SKU-2"]')).to_contain_text("pushed Keel's value again")
            expect(page.get_by_test_id("sync-pending")).to_have_text("1")
            page.screenshot(path=SCREENSHOTS / "sync_drift.png", full_page=True)
            browser.close()
    finally:
        keel.close()
    assert errors == []
