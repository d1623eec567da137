"""The seller standards through the HTTP API, the thresholds document (hostile values refused with a 4xx,
nothing changed), the channel's page (over HTTP on both databases, and in Chromium), and ``keel channels
sync status`` (text and ``--json``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from starlette.testclient import TestClient

from keel.api import create_app
from keel.bootstrap import Keel
from keel.channels.sync import facts_store
from keel.channels.sync.standards import HANDLING, Facts, Placed
from keel.platform.clock import utcnow
from tests.conftest import service_unavailable
from tests.e2e.conftest import Run
from tests.e2e.test_web import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.support import WEB_DE, World, build_world, open_keel, serve_app, snapshot

Make = Callable[..., TestClient]
NOWHERE = {"url": "http://127.0.0.1:9/hook", "secret": "standards-secret-1"}
DAY = timedelta(days=1)


def projected_cancellations(keel: Keel) -> None:
    """web-de synced, with 70 orders placed 10 a day over the last 7 days, each shipped half a day later but
    one of yesterday's, cancelled: 1.4 % cancelled now, 2.9 % a day from now at yesterday's pace."""
    keel.sync.configure(WEB_DE, NOWHERE)
    now = utcnow()
    placed = {}
    for n in range(70):
        at = now - (n // 10 + 0.5) * DAY
        placed[n] = Placed(n + 1, WEB_DE, f"W-{n}", at, None, at + HANDLING)
    made = Facts(placed={p.order_id: p for p in placed.values()}, cancelled={1: now - 0.2 * DAY})
    made.shipped = {p.order_id: (p.placed_at + 0.5 * DAY, True) for p in placed.values() if p.order_id != 1}
    with keel.db.write() as conn:
        facts_store.apply(conn, made)


def text(html: str) -> str:
    main = html.split("<main>", 1)[-1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


def test_the_api_and_the_page_show_the_seller_standards(keel: Keel, world: World, make_client: Make) -> None:
    projected_cancellations(keel)
    client = make_client(keel)
    health = {h["metric"]: h for h in client.get(f"/sync/channels/{WEB_DE}").json()["health"]}
    assert health["cancellation_rate"] == {
        "metric": "cancellation_rate", "value": 1 / 70, "threshold": 0.025, "direction": "at most",
        "status": "projected", "projected": 2 / 70, "projected_in_s": 86400.0, "window_s": 7 * 86400.0,
        "orders": 70,
    }  # fmt: skip
    assert (health["valid_tracking_rate"]["direction"], health["valid_tracking_rate"]["status"]) == ("at least", "ok")
    assert (health["on_time_delivery_rate"]["orders"], health["on_time_delivery_rate"]["status"]) == (0, "no data")
    assert health["lag_p99_s"]["orders"] is None and health["lag_p99_s"]["window_s"] == 900.0
    # the channel's page: the standards beside the request metrics, the crossing in days
    page = client.get(f"/ui/sync/{WEB_DE}").text
    row = re.search(r'<tr data-metric="cancellation_rate">(.*?)</tr>', page, re.S)
    assert row is not None
    assert text(row.group(1)) == " Cancellation rate 7 days 70 1.4% at most 2.5% projected 2.9% in 1.0 days "
    assert "not computed yet" not in page
    assert re.search(r'data-testid="health-lag_p99_s">no data<', page)
    # the list of channels names the worst status and the metric
    listed = text(client.get("/ui/sync").text)
    assert "projected Cancellation rate" in listed


def test_thresholds_of_the_standards_and_hostile_values(keel: Keel, world: World, make_client: Make) -> None:
    projected_cancellations(keel)
    client = make_client(keel)
    url = f"/sync/channels/{WEB_DE}/thresholds"
    # a marketplace that asks for at most 2 % of cancellations: a per-channel override
    done = client.put(url, json={"cancellation_rate": 0.02, "valid_tracking_rate": 1})
    assert done.status_code == 200, done.text
    assert (done.json()["cancellation_rate"], done.json()["valid_tracking_rate"]) == (0.02, 1.0)
    before = snapshot(keel)
    for body in (
        {"cancellation_rate": 1.5},
        {"valid_tracking_rate": "0.99"},
        {"on_time_delivery_rate": -0.1},
        {"order_defect_rate": True},
        {"late_shipment_rate": [0.04]},
        {"late_shipment_rate": {"value": 0.04}},
        {"cancellation_rate_pct": 2},
        {"error_rate": 2},
    ):
        refused = client.put(url, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    for raw in ('{"late_shipment_rate": 1e400}', '{"order_defect_rate": NaN}', '{"cancellation_rate": -0.0e-1}x'):
        refused = client.put(url, content=raw, headers={"content-type": "application/json"})
        assert 400 <= refused.status_code < 500, (raw, refused.text)
    assert snapshot(keel) == before
    health = {h["metric"]: h for h in client.get(f"/sync/channels/{WEB_DE}").json()["health"]}
    assert (health["cancellation_rate"]["threshold"], health["cancellation_rate"]["status"]) == (0.02, "projected")


def test_the_cli_status_shows_the_standards(db_url: str, run: Run) -> None:
    keel = open_keel(db_url)
    try:
        build_world(keel)
        projected_cancellations(keel)
    finally:
        keel.close()
    result = run("channels", "sync", "status", "--json")
    assert result.exit_code == 0, result.output
    (status,) = json.loads(result.stdout)
    health = {h["metric"]: h for h in status["health"]}
    assert (health["cancellation_rate"]["status"], health["cancellation_rate"]["projected_in_s"]) == (
        "projected",
        86400.0,
    )
    assert health["order_defect_rate"]["value"] == 0.0 and health["order_defect_rate"]["direction"] == "at most"
    shown = run("channels", "sync", "status")
    assert shown.exit_code == 0, shown.output
    line = next(ln for ln in shown.stdout.splitlines() if "cancellation_rate" in ln)
    cells = re.sub(r"[\s│┃]+", " ", line).strip()
    assert cells == "web-de cancellation_rate 7 70 1.4% at most 2.5% projected 2.9% in 1.0 d"


@pytest.mark.browser
def test_the_standards_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    keel = open_keel(f"sqlite:///{tmp_path / 'standards.db'}")
    errors: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        build_world(keel)
        projected_cancellations(keel)
        with serve_app(create_app(keel)) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{url}/ui/sync/{WEB_DE}")
            table = page.locator("#sync-standards")
            expect(table.locator("tbody tr")).to_have_count(5)
            expect(page.get_by_test_id("health-cancellation_rate")).to_have_text("projected")
            expect(page.get_by_test_id("crossing-cancellation_rate")).to_have_text("in 1.0 days")
            expect(page.get_by_test_id("health-valid_tracking_rate")).to_have_text("ok")
            expect(table.locator('tr[data-metric="valid_tracking_rate"]')).to_contain_text("at least 99.0%")
            expect(page.get_by_test_id("health-on_time_delivery_rate")).to_have_text("no data")
            page.locator("#sync-standards").scroll_into_view_if_needed()
            page.screenshot(path=SCREENSHOTS / "sync_standards.png", full_page=True)
            browser.close()
    finally:
        keel.close()
    assert errors == []
