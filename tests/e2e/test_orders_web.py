"""The orders pages in Chromium: the list with its rates and an order with timeline and routing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from keel.api import create_app
from keel.bootstrap import Keel
from keel.orders import AdvanceShipment, PlanWave
from keel.platform.vocabulary import ShipmentStatus
from tests.conftest import service_unavailable
from tests.e2e.test_web import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.support import ST_DE, WEB_DE, WH_DE, build_world, open_keel, place, receive, serve_app


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Keel, str]]:
    keel = open_keel(f"sqlite:///{tmp_path / 'orders.db'}")
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", ST_DE, 5)
    with serve_app(create_app(keel)) as url:
        yield keel, url
    keel.close()


@pytest.mark.browser
def test_orders_list_and_detail_pages(shop: tuple[Keel, str]) -> None:
    keel, url = shop
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    split, _ = place(
        keel,
        {
            "channel": WEB_DE,
            "external_id": "P-1",
            "lines": [
                {"sku": "SKU-1", "quantity": 1, "unit_price": "3.00"},
                {"sku": "SKU-2", "quantity": 1, "unit_price": "4.00"},
            ],
            "customer": {"name": "Ann"},
            "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10115"},
        },
    )
    for number in (1, 2):
        for step in (ShipmentStatus.PICKING, ShipmentStatus.PACKED, ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED):
            keel.orders.fulfilment.advance(
                AdvanceShipment(split.id, number, step, carrier="DHL", tracking_number=f"T{number}")
            )
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url + "/")
        page.locator("header nav").get_by_role("link", name="Orders", exact=True).click()
        expect(page.locator("h1")).to_have_text("Orders")
        expect(page.get_by_test_id("total-orders")).to_have_text("1")
        expect(page.get_by_test_id("split-rate")).to_have_text("100.0%")
        expect(page.get_by_test_id("on-time-rate")).to_have_text("100.0%")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "orders.png", full_page=True)
        page.get_by_role("link", name=f"#{split.id}").click()
        expect(page.locator("h1")).to_have_text(f"Order {split.id}")
        expect(page.get_by_test_id("order-status")).to_have_text("delivered")
        expect(page.locator("table#timeline tbody tr")).to_have_count(2 + 8)
        expect(page.locator("#routing-1")).to_contain_text(f"{WH_DE} + {ST_DE}")
        page.screenshot(path=SCREENSHOTS / "order.png", full_page=True)
        assert page.goto(url + "/ui/orders/999") is not None
        expect(page.locator("h1")).to_have_text("Not found")
        browser.close()
    assert [e for e in errors if "404" not in e] == []


@pytest.mark.browser
def test_a_waved_order_shows_its_new_routing(shop: tuple[Keel, str]) -> None:
    keel, url = shop
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    # the two-order case of tests/integration/test_orders_waves.py, on this page's world
    receive(keel, "SKU-3", WH_DE, 1)
    receive(keel, "SKU-4", WH_DE, 5)
    receive(keel, "SKU-3", ST_DE, 5)
    doc = {
        "channel": WEB_DE,
        "customer": {"name": "Ann"},
        "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10115"},
    }
    place(keel, {**doc, "external_id": "W-A", "lines": [{"sku": "SKU-3", "quantity": 1, "unit_price": "1.00"}]})
    b, _ = place(
        keel,
        {
            **doc,
            "external_id": "W-B",
            "lines": [{"sku": s, "quantity": 1, "unit_price": "1.00"} for s in ("SKU-3", "SKU-4")],
        },
    )
    assert keel.orders.waves.plan(PlanWave(apply=True)).orders_changed == 2
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{url}/ui/orders/{b.id}")
        expect(page.locator("#routing-2 h2")).to_contain_text("wave")
        expect(page.locator("#routing-2 h2")).to_contain_text(WH_DE)
        expect(page.get_by_test_id("wave-note")).to_contain_text("cost")
        expect(page.get_by_test_id("live-shipments")).to_have_text("1")  # the two replanned ones are history
        expect(page.get_by_text("replanned").first).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "order-wave.png"), full_page=True)
        browser.close()
    assert errors == []
