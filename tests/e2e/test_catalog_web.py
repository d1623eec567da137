"""The catalog pages: the product list's filters and completeness, a product with its listings and a diff of
two revisions, and the channels' readiness; on both databases through HTTP, with restrictions, and in
Chromium (screenshots in test-artifacts/screenshots/catalog*.png)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from starlette.testclient import TestClient

from keel.access import Identity, IdentityKind, Role
from keel.api import create_app
from keel.bootstrap import Keel
from keel.web.render import _nav_for
from tests.conftest import service_unavailable
from tests.e2e.test_web import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.support import MARKET, WEB_DE, World, build_world, open_keel, serve_app
from tests.support_catalog import channels, shelf, tee

Make = Callable[..., TestClient]


def _text(html: str) -> str:
    """A page's main content as a person reads it: tags out, whitespace folded."""
    main = html.split("<main>", 1)[-1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


def _codes(html: str) -> list[str]:
    return re.findall(r'<tr data-product="([^"]+)"', html)


def test_product_list_filters_and_completeness(keel: Keel, world: World, make_client: Make) -> None:
    shelf(keel, WEB_DE, MARKET)
    client = make_client(keel)
    page = client.get("/ui/catalog")
    assert page.status_code == 200
    assert _codes(page.text) == ["CAP", "TEE"]
    cells = re.findall(r'data-channel="web-de">\s*<span class="score \w+">(\d+%)</span>', page.text)
    assert cells == ["88%", "100%"]  # CAP passes every web-store rule but the description (7 of 8); TEE all
    assert "Bio-T-Shirt" in _text(page.text) and "2 ready" in _text(page.text)
    assert _codes(client.get("/ui/catalog", params={"blocked_on": WEB_DE}).text) == ["CAP"]
    assert _codes(client.get("/ui/catalog", params={"blocked_on": MARKET}).text) == ["CAP", "TEE"]
    assert _codes(client.get("/ui/catalog", params={"missing": "description"}).text) == ["CAP"]
    assert _codes(client.get("/ui/catalog", params={"missing": "title"}).text) == []
    assert _codes(client.get("/ui/catalog", params={"rule": "condition-required"}).text) == ["CAP"]
    assert _codes(client.get("/ui/catalog", params={"brand": "Brimco"}).text) == ["CAP"]
    assert _codes(client.get("/ui/catalog", params={"family": "apparel", "q": "bio"}).text) == ["TEE"]
    assert _codes(client.get("/ui/catalog", params={"q": "5901234123457"}).text) == ["CAP"]
    assert _codes(client.get("/ui/catalog", params={"q": "100%_"}).text) == []  # LIKE wildcards are literal
    one = client.get("/ui/catalog", params={"size": 1, "page": 2})
    assert _codes(one.text) == ["TEE"] and "2\N{EN DASH}2 of 2 products" in _text(one.text)
    assert client.get("/ui/catalog", params={"blocked_on": "nowhere"}).status_code == 404
    assert client.get("/ui/catalog", params={"family": "shoes"}).status_code == 400
    hat = tee("HAT", "Mütze")
    hat["variants"] = [{"sku": "HAT-1", "values": [{"attribute": "size", "value": "M"}]}]
    keel.catalog.put_product(hat, source="test")
    assert _codes(client.get("/ui/catalog", params={"q": "mütze"}).text) == ["HAT"]  # non-ASCII, both databases


def test_product_page_shows_values_listings_and_a_diff(keel: Keel, world: World, make_client: Make) -> None:
    shelf(keel, WEB_DE, MARKET)
    client = make_client(keel)
    page = client.get("/ui/catalog/products/TEE")
    text = _text(page.text)
    assert page.status_code == 200
    assert "title product Bio-T-Shirt Tee" in text  # de and en columns
    assert "weight product 180 g" in text and "price product 19.90 EUR" in text
    rows = re.findall(r'<tr data-channel="([^"]+)" data-sku="([^"]+)">.*?badge \w+">(\w+)<', page.text, re.S)
    assert rows == [
        ("market-eu", "TEE-M", "blocked"),
        ("market-eu", "TEE-S", "blocked"),
        ("web-de", "TEE-M", "ready"),
        ("web-de", "TEE-S", "ready"),
    ]
    assert "Say whether the product is in stock, out of stock, on preorder or on backorder." in text
    assert "From revision 1 to 2: 1 change" in text
    assert re.search(r"values\.title@de\s*</code></td>\s*<td class=\"before\"><del>T-Shirt</del>", page.text)
    assert "<ins>Bio-T-Shirt</ins>" in page.text
    same = client.get("/ui/catalog/products/TEE", params={"from": 2, "to": 2})
    assert "Compare revision" in same.text and "diff-table" not in same.text
    assert client.get("/ui/catalog/products/TEE", params={"to": 3}).status_code == 400
    assert client.get("/ui/catalog/products/NOPE").status_code == 404


def test_readiness_page_counts_and_links_to_the_blocked_products(keel: Keel, world: World, make_client: Make) -> None:
    shelf(keel, WEB_DE, MARKET)
    client = make_client(keel)
    page = client.get("/ui/catalog/readiness")
    text = _text(page.text)
    assert re.search(r"Ready listings 2 33\.3% of all listings Blocked listings 4", text)
    assert re.search(r"market-eu 0 3 0\.0%", text) and re.search(r"web-de 2 1 66\.7%", text)
    assert "Add a description in this locale. description-required · 1 listing" in text
    assert f'href="/ui/catalog?blocked_on={WEB_DE}&amp;rule=description-required"' in page.text


def test_a_restricted_viewer_sees_only_its_channels(keel: Keel, world: World, make_client: Make) -> None:
    shelf(keel, WEB_DE, MARKET)
    keel.access.add_service("de-shop", Role.ANALYST)
    keel.access.set_scope("de-shop", [WEB_DE], None, set(world.channels))
    client = make_client(keel, as_admin=False)
    client.headers["Authorization"] = f"Bearer {keel.access.create_token('de-shop', 'pages').secret}"
    listed = client.get("/ui/catalog")
    assert _codes(listed.text) == ["CAP", "TEE"]  # products span channels
    assert "market-eu" not in _text(listed.text)
    assert client.get("/ui/catalog", params={"blocked_on": MARKET}).status_code == 404
    assert _codes(client.get("/ui/catalog", params={"rule": "condition-required"}).text) == []
    board = _text(client.get("/ui/catalog/readiness").text)
    assert "Ready listings 2" in board and "market-eu" not in board
    detail = client.get("/ui/catalog/products/TEE").text
    assert 'data-channel="market-eu"' not in detail and 'data-channel="web-de"' in detail


def test_an_empty_catalog_says_how_products_get_in(keel: Keel, make_client: Make) -> None:
    # both ways in: the retail twin (keel demo brings its products) and a product file
    text = _text(make_client(keel).get("/ui/catalog").text)
    assert "No products yet." in text
    assert "keel catalog import FILE" in text and "POST /catalog/imports" in text
    assert "Load the retail twin with keel demo" in text


def test_many_channels_are_named_up_to_eight_and_counted(keel: Keel, world: World, make_client: Make) -> None:
    # given ten channels with a target / then the card names the first eight and counts the rest
    shelf(keel, WEB_DE, MARKET)
    channels(keel, *(f"web-x{i}" for i in range(8)))
    for i in range(8):
        keel.catalog.put_target(f"web-x{i}", {"profile": "web-store", "locale": "de"}, source="test")
    page = make_client(keel).get("/ui/catalog").text
    note = re.search(r'<span class="card-note">(.*?)</span></div>', page, re.S)
    assert note is not None
    assert _text("<main>" + note.group(1)) == (
        "market-eu, web-de, web-x0, web-x1, web-x2, web-x3, web-x4, web-x5 and 2 more (see Channel readiness )"
    )


def test_the_catalog_entry_shows_only_with_catalog_read() -> None:
    def nav(scopes: frozenset[str] | None) -> list[str]:
        return [label for label, _ in _nav_for(Identity(1, "x", IdentityKind.HUMAN, Role.ADMIN, scopes=scopes))]

    assert "Catalog" in nav(None)
    assert "Catalog" in nav(frozenset({"catalog.read"}))
    assert "Catalog" not in nav(frozenset({"orders.read", "tower.read"}))


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[str]:
    keel = open_keel(f"sqlite:///{tmp_path / 'catalog.db'}")
    build_world(keel)
    shelf(keel, WEB_DE, MARKET)
    with serve_app(create_app(keel)) as url:
        yield url
    keel.close()


@pytest.mark.browser
def test_catalog_pages_in_chromium(shop: str) -> None:
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    errors: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(shop + "/")
        page.locator("header nav").get_by_role("link", name="Catalog", exact=True).click()
        expect(page.locator("h1")).to_have_text("Catalog")
        expect(page.get_by_test_id("total-products")).to_have_text("2")
        expect(page.locator('tr[data-product="CAP"] td[data-channel="web-de"]')).to_contain_text("88%")
        expect(page.locator('tr[data-product="CAP"] td[data-channel="web-de"]')).to_contain_text("1 blocked")
        expect(page.locator('tr[data-product="TEE"] td[data-channel="web-de"]')).to_contain_text("2 ready")
        page.screenshot(path=SCREENSHOTS / "catalog.png", full_page=True)
        page.select_option("select[name=blocked_on]", WEB_DE)
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_test_id("total-products")).to_have_text("1")
        expect(page.locator("table#products tbody tr")).to_have_count(1)
        page.get_by_role("link", name="CAP").click()
        expect(page.locator("h1")).to_have_text("Product CAP")
        expect(page.locator('#listing-states tr[data-channel="web-de"]')).to_contain_text("Add a description")
        page.goto(shop + "/ui/catalog/products/TEE")
        expect(page.locator("#diff-table caption")).to_have_text("From revision 1 to 2: 1 change")
        expect(page.locator("#diff-table td.before")).to_have_text("T-Shirt")
        expect(page.locator("#diff-table td.after")).to_have_text("Bio-T-Shirt")
        expect(page.locator('tr[data-attribute="title"] td[lang="en"]')).to_have_text("Tee")
        page.screenshot(path=SCREENSHOTS / "catalog_product.png", full_page=True)
        page.goto(shop + "/ui/catalog/readiness")
        expect(page.get_by_test_id("ready-total")).to_have_text("2")
        expect(page.get_by_test_id("blocked-total")).to_have_text("4")
        page.screenshot(path=SCREENSHOTS / "catalog_readiness.png", full_page=True)
        page.locator('tr[data-channel="web-de"]').get_by_role("link", name="Add a description in this locale.").click()
        expect(page.locator("h1")).to_have_text("Catalog")
        expect(page.locator("table#products tbody tr")).to_have_count(1)
        expect(page.locator('input[name="rule"]')).to_have_value("description-required")
        browser.close()
    assert errors == []
