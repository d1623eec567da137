"""The pricing pages: the price lists, the policies and every price a page at a time with filters; one price
with its explanation and tax split; bad query values are 400 pages. Over HTTP on both databases, and in
Chromium (screenshots in test-artifacts/screenshots/pricing*.png)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from starlette.testclient import TestClient

from keel.api import create_app
from keel.bootstrap import Keel
from tests.conftest import service_unavailable
from tests.e2e.test_web import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.support import MARKET, WEB_DE, World, build_world, open_keel, serve_app

Make = Callable[..., TestClient]
PAGE = "/ui/pricing"
LIST = {"name": "Base EUR", "currency": "EUR", "prices": [
    {"sku": "SKU-1", "amount": "20.49", "compare_at": "29.00"}, {"sku": "SKU-2", "amount": "5.00"}]}  # fmt: skip


def _text(html: str) -> str:
    main = html.split("<main>", 1)[-1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


def _priced(keel: Keel) -> None:
    keel.pricing.save_list("base-eur", LIST)
    keel.pricing.set_skus([{"sku": "SKU-1", "cost": "15.00", "currency": "EUR"}])
    keel.pricing.set_policy("*", {"rules": [{"rule": "cost_plus", "margin_floor": "0.25"}]})


def test_an_empty_pricing_page_says_how_to_start(keel: Keel, world: World, make_client: Make) -> None:
    text = _text(make_client(keel).get(PAGE).text)
    assert "No price list yet: keel pricing set-list CODE list.json or PUT /pricing/lists/{code} ." in text
    assert "No price matches." in text


def test_the_page_lists_lists_policies_and_prices(keel: Keel, world: World, make_client: Make) -> None:
    _priced(keel)
    client = make_client(keel)
    page = client.get(PAGE)
    text = _text(page.text)
    assert page.status_code == 200
    assert "Price lists 1 2 base prices" in text and "Prices 8 channel \u00d7 country \u00d7 SKU" in text
    assert "base-eur Base EUR EUR every channel and country always 0 2" in text
    assert "every channel (*) margin floor 25% on cost; then the currency's price ending" in text
    # SKU-1: cost 15.00 at 25 % margin needs 20.00 net, 23.80 with German VAT, 24.00 with French: .99 endings
    row = re.search(r'<tr data-channel="web-de" data-country="DE" data-sku="SKU-1">(.*?)</tr>', page.text, re.S)
    assert row is not None
    cells = _text(f"<main>{row.group(1)}</main>")
    assert "23.99 EUR 29.00 EUR base-eur 23.80 EUR price_list → cost_plus → ending" in cells
    # filters and paging
    only = client.get(PAGE, params={"channel": MARKET, "country": "FR"})
    assert re.findall(r'data-sku="([^"]+)"', only.text) == ["SKU-1", "SKU-2"]
    first = client.get(PAGE, params={"size": "25", "sku": "SKU-2"})
    assert "4 of 4 prices, from 1" in _text(first.text)
    for query in ({"size": "0"}, {"offset": "-1"}, {"channel": "x" * 500}):
        bad = client.get(PAGE, params=query)
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html"), query


def test_the_signal_rules_read_in_words(keel: Keel, world: World, make_client: Make) -> None:
    keel.pricing.set_policy("*", {"rules": [
        {"rule": "competitor", "within": "0.05", "index": "0.98", "of": "median"},
        {"rule": "markdown", "cover_days_above": 90, "percent": "0.20"},
        {"rule": "no_discount_when_short", "cover_days_below": 7},
    ]})  # fmt: skip
    text = _text(make_client(keel).get(PAGE).text)
    assert (
        "every channel (*) within 5% of 98% of the median competitor price; 20% off above 90 days of cover; "
        "no discount under 7 days of cover; then the currency's price ending"
    ) in text


def test_one_price_is_explained_step_by_step_with_its_tax(keel: Keel, world: World, make_client: Make) -> None:
    _priced(keel)
    client = make_client(keel)
    page = client.get(f"{PAGE}/prices/{WEB_DE}/DE/SKU-1")
    text = _text(page.text)
    assert page.status_code == 200
    assert "Price 23.99 EUR with tax, as DE states prices" in text
    assert "1 Price list 20.49 EUR 20.49 EUR base price from list base-eur" in text
    assert "2 Margin floor 20.49 EUR 23.80 EUR" in text and "3 Price ending 23.80 EUR 23.99 EUR" in text
    assert "Net 20.16 EUR Tax (19.0 %) 3.83 EUR Gross 23.99 EUR" in text
    missing = client.get(f"{PAGE}/prices/{WEB_DE}/DE/NOPE")
    assert missing.status_code == 404 and "NOPE has no price on web-de in DE" in _text(missing.text)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Keel, str]]:
    keel = open_keel(f"sqlite:///{tmp_path / 'pricing.db'}")
    build_world(keel)
    _priced(keel)
    with serve_app(create_app(keel)) as url:
        yield keel, url
    keel.close()


@pytest.mark.browser
def test_pricing_pages_in_chromium(shop: tuple[Keel, str]) -> None:
    _, url = shop
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    errors: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url + "/")
        page.locator("header nav").get_by_role("link", name="Pricing", exact=True).click()
        expect(page.locator("h1")).to_have_text("Pricing")
        expect(page.get_by_test_id("pricing-prices")).to_have_text("8")
        page.fill("input[name=channel]", WEB_DE)
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#pricing-prices-table tbody tr")).to_have_count(2)
        page.screenshot(path=SCREENSHOTS / "pricing.png", full_page=True)
        page.get_by_role("link", name="SKU-1").click()
        expect(page.get_by_test_id("price-amount")).to_have_text("23.99 EUR")
        expect(page.locator('#price-steps tr[data-rule="cost_plus"]')).to_contain_text("23.80 EUR")
        page.screenshot(path=SCREENSHOTS / "pricing_price.png", full_page=True)
        browser.close()
    assert errors == []
