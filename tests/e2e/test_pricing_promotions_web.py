"""The promotion pages: every promotion in words with its uses and spend and an eight-week calendar (a bar over
each validity window), one promotion with its document and codes, and the cart simulator's evaluated cart
(lines, discounts, tax, totals, what applied and why). Over HTTP on both databases, and in Chromium
(screenshots in test-artifacts/screenshots/promotions*.png and pricing_cart.png)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from starlette.testclient import TestClient

from keel.access import Role
from keel.api import create_app
from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from tests.conftest import service_unavailable
from tests.e2e.test_web import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.support import MARKET, WEB_DE, World, build_world, open_keel, serve_app

Make = Callable[..., TestClient]
PAGE = "/ui/pricing/promotions"
CART = "/ui/pricing/cart"
ALL = {"all": True}
DASH, MINUS = "\N{EN DASH}", "\N{MINUS SIGN}"
LINES = "SKU-1 2\nSKU-2"
# 2 x 20.99 + 5.99 + 4.95 shipping: 10 % off SKU-1 (4.20), free shipping with WELCOME (4.95), and 5.00 off the
# order spread by value over 37.78 and 5.99 (4.32 and 0.68): 52.92 - 14.15 = 38.77, tax included in Germany
KNOWN = {"channel": WEB_DE, "country": "DE", "lines": LINES, "codes": "welcome", "shipping": "4.95"}


def promoted(keel: Keel) -> None:
    """Two prices and seven promotions: live, scheduled, ended, switched off; a coupon with codes, one used."""
    now = utcnow()

    def days(n: int) -> str:
        return (now + timedelta(days=n)).isoformat()

    keel.pricing.save_list("base-eur", {"name": "Base EUR", "currency": "EUR", "prices": [
        {"sku": "SKU-1", "amount": "20.99", "compare_at": "24.99"}, {"sku": "SKU-2", "amount": "5.99"}]})  # fmt: skip
    save = keel.promotions.save
    save(
        "spring-boots",
        {
            "name": "Spring boots",
            "kind": "percent_off",
            "percent": "0.10",
            "scope": {"skus": ["SKU-1"]},
            "valid_from": days(-15),
            "valid_to": days(20),
            "priority": 10,
        },
    )
    save(
        "order5",
        {
            "name": "5 off from 30",
            "kind": "amount_off",
            "target": "order",
            "amount": "5.00",
            "currency": "EUR",
            "scope": ALL,
            "min_subtotal": "30.00",
            "budget": "50.00",
            "usage_limit": 1000,
        },
    )
    save(
        "freeship",
        {
            "name": "Free shipping",
            "kind": "percent_off",
            "target": "shipping",
            "percent": "1",
            "coupon": True,
            "scope": {"channels": [WEB_DE]},
            "valid_from": days(-3),
            "valid_to": days(30),
        },
    )
    save(
        "summer",
        {
            "name": "Summer sale",
            "kind": "percent_off",
            "percent": "0.2",
            "scope": ALL,
            "valid_from": days(14),
            "valid_to": days(40),
            "priority": 20,
            "exclusive": "global",
        },
    )
    save(
        "winter",
        {
            "name": "Winter sale",
            "kind": "percent_off",
            "percent": "0.3",
            "scope": ALL,
            "valid_from": days(-60),
            "valid_to": days(-30),
        },
    )
    save(
        "b2b-bulk", {"kind": "buy_x_get_y", "buy": 3, "get": 1, "scope": {"customer_groups": ["b2b"]}, "active": False}
    )
    save("kit", {"name": "Boot care kit", "kind": "bundle", "currency": "EUR", "amount": "24.00", "scope": ALL,
                 "items": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 2}]})  # fmt: skip
    keel.promotions.add_codes("freeship", codes=["FREESHIP", "WELCOME"])
    lines = [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}]
    cart = {"channel": WEB_DE, "country": "DE", "lines": lines, "codes": ["FREESHIP"], "shipping": "4.95"}
    keel.promotions.redeem("order-1", cart)


def _text(html: str) -> str:
    main = html.split("<main>", 1)[-1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main)))


def _row(html: str, attribute: str, value: str) -> str:
    found = re.search(rf'<tr {attribute}="{re.escape(value)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found is not None, value
    return _text(f"<main>{found.group(1)}</main>").strip()


def test_promotions_are_listed_in_words_on_a_calendar(keel: Keel, world: World, make_client: Make) -> None:
    promoted(keel)
    client = make_client(keel)
    page = client.get(PAGE)
    text = _text(page.text)
    assert page.status_code == 200
    assert (
        "Live 4 of 7 promotions" in text and "Scheduled 1" in text and "Ended or off 2 1 ended, 1 switched off" in text
    )
    # what each promotion with a currency gave, summed per currency (freeship has none: each cart's own)
    assert "Given 5.00 EUR 3 redeemed uses in all" in text
    assert _row(page.text, "data-promotion", "order5").startswith(
        "order5 5 off from 30 live 5.00 EUR off the order, from 30.00 EUR in scope every cart 0 stacks 1 / 1,000 "
        "5.00 EUR / 50.00 EUR always"
    )
    freeship = _row(page.text, "data-promotion", "freeship")
    assert "free shipping coupon channels web-de" in freeship
    assert re.search(r"from \d{4}-\d\d-\d\d \d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d$", freeship)
    assert "exclusive: alone in a cart" in _row(page.text, "data-promotion", "summer")
    # the calendar: bars over the windows that meet these eight weeks, a note for the one that does not
    bars = dict(re.findall(r'class="cal-bar (\w+)[^"]*" data-status="\w+"\s+style="left: ([0-9.]+)%', page.text))
    assert set(bars) == {"live", "scheduled", "off"}
    rows = re.findall(r'<div class="cal-row" data-promotion="([^"]+)"', page.text)
    assert rows == ["b2b-bulk", "kit", "order5", "winter", "spring-boots", "freeship", "summer"]  # by start
    winter = page.text.split('<div class="cal-row" data-promotion="winter">', 1)[1].split('<div class="cal-row"', 1)[0]
    assert "ended before this window" in winter and "cal-bar" not in winter
    # filtered by status, paged, and a calendar moved to another window
    scheduled = client.get(PAGE, params={"status": "scheduled"})
    assert re.findall(r'<tr data-promotion="([^"]+)"', scheduled.text) == ["summer"]
    later = client.get(PAGE, params={"start": (utcnow() + timedelta(days=56)).date().isoformat()})
    assert "starts after this window" not in _text(later.text) and "ended before this window" in _text(later.text)
    assert len(re.findall(r'<tr data-promotion="', client.get(PAGE, params={"size": "25", "page": "1"}).text)) == 7
    for query in (
        {"status": "gone"},
        {"start": "May"},
        {"start": "0001-01-01"},
        {"start": "9999-12-31"},
        {"page": "0"},
    ):
        bad = client.get(PAGE, params=query)
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html"), query


def test_one_promotion_with_its_document_and_codes(keel: Keel, world: World, make_client: Make) -> None:
    promoted(keel)
    client = make_client(keel)
    page = client.get(f"{PAGE}/freeship")
    text = _text(page.text)
    assert page.status_code == 200
    assert "Free shipping, for channels web-de." in text and "Uses 1 carts redeemed" in text
    assert _row(page.text, "data-code", "FREESHIP") == "FREESHIP 1 1 used up"
    assert _row(page.text, "data-code", "WELCOME") == "WELCOME 0 1 usable"
    assert f"1{DASH}2 of 2 codes · page 1 of 1" in text
    assert '"coupon": true' in unescape(page.text) and '"percent": "1"' in unescape(page.text)
    budgeted = _text(client.get(f"{PAGE}/order5").text)
    assert "Given 5.00 EUR of a budget of 50.00 EUR (10.0%)" in budgeted and "Not a coupon promotion" in budgeted
    missing = client.get(f"{PAGE}/nope")
    assert missing.status_code == 404 and "no promotion 'nope'" in _text(missing.text)


def test_the_simulator_prices_a_cart_and_says_why(keel: Keel, world: World, make_client: Make) -> None:
    promoted(keel)
    client = make_client(keel)
    blank = client.get(CART)
    assert blank.status_code == 200 and "Enter a cart above." in _text(blank.text)
    assert f'<option value="{WEB_DE}">{WEB_DE} (DE)</option>' in blank.text
    page = client.get(CART, params=KNOWN)
    text = _text(page.text)
    assert page.status_code == 200
    assert (
        "To pay 38.77 EUR web-de in DE, prices with tax" in text and "Discount 14.15 EUR 3 promotions applied" in text
    )
    assert _row(page.text, "data-sku", "SKU-1") == (
        f"SKU-1 2 20.99 EUR was 24.99 EUR list base-eur 41.98 EUR order5 {MINUS}4.32 EUR spring-boots {MINUS}4.20 EUR "
        "33.46 EUR 5.34 EUR 19 %"
    )
    assert _row(page.text, "data-sku", "shipping").startswith("Shipping 1 4.95 EUR the cart's shipping 4.95 EUR")
    assert f"Cart 52.92 EUR {MINUS}14.15 EUR 38.77 EUR 6.19 EUR" in text
    assert _row(page.text, "data-promotion", "kit") == (
        f"kit not applied {DASH} needs every item of the bundle (or the bundle costs more than its items)"
    )
    assert _row(page.text, "data-promotion", "summer") == f"summer not applied {DASH} not live now"
    assert 'data-promotion="b2b-bulk"' not in page.text  # not for this customer group: not part of the story
    assert "WELCOME applied" in text
    # the form keeps what was asked; nothing was counted
    assert ">SKU-1 2\nSKU-2</textarea>" in page.text and 'name="codes" value="welcome"' in page.text
    assert keel.promotions.get("order5").uses == 1
    # a used code, another moment, a group
    used = _text(client.get(CART, params=KNOWN | {"codes": "FREESHIP"}).text)
    assert "FREESHIP exhausted" in used and "To pay 43.72 EUR" in used
    later = (utcnow() + timedelta(days=15)).strftime("%Y-%m-%dT%H:%M")
    summer = _text(client.get(CART, params=KNOWN | {"at": later}).text)
    assert "summer applied" in summer and "spring-boots not applied" in summer


def test_the_simulator_refuses_a_bad_cart_with_its_reasons(keel: Keel, world: World, make_client: Make) -> None:
    promoted(keel)
    client = make_client(keel)
    for lines, reason in (
        ("SKU-9 1", "line 1 sku: SKU-9 has no price on web-de in DE"),
        ("SKU-1 two", "line 1 lines: 'SKU-1 two': a SKU, then a whole quantity (e.g. SKU-1 2)"),
        ("SKU-1 0", "line 1 quantity: a whole number from 1 to 100,000"),
    ):
        page = client.get(CART, params=KNOWN | {"lines": lines})
        assert page.status_code == 400 and reason in _text(page.text), lines
    money = client.get(CART, params=KNOWN | {"shipping": "4.999"})
    assert money.status_code == 400 and "shipping:" in _text(money.text)
    country = client.get(CART, params=KNOWN | {"country": "FR"})
    assert country.status_code == 400 and "web-de sells in DE" in _text(country.text)
    assert keel.promotions.get("order5").uses == 1


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Keel, str]]:
    keel = open_keel(f"sqlite:///{tmp_path / 'promotions.db'}")
    build_world(keel)
    promoted(keel)
    with serve_app(create_app(keel)) as url:
        yield keel, url
    keel.close()


@pytest.mark.browser
def test_promotion_pages_in_chromium(shop: tuple[Keel, str]) -> None:
    _, url = shop
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    errors: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url + "/ui/pricing")
        page.get_by_role("link", name="Promotions", exact=True).click()
        expect(page.locator("h1")).to_have_text("Promotions")
        expect(page.get_by_test_id("promotions-live")).to_have_text("4")
        bar = page.locator('.cal-row[data-promotion="spring-boots"] .cal-bar')
        expect(bar).to_be_visible()
        expect(bar).to_have_class(re.compile(r"\blive\b"))
        box, track = (
            bar.bounding_box(),
            page.locator('.cal-row[data-promotion="spring-boots"] .cal-track').bounding_box(),
        )
        assert box is not None and track is not None
        # from 15 days ago to 20 days ahead, on eight weeks from last week's Monday (7 to 14 days ago): it starts
        # before the calendar and ends inside it, 27 to 34 days of 56 in
        assert box["x"] == pytest.approx(track["x"], abs=1) and 0.45 < box["width"] / track["width"] < 0.65
        expect(page.locator('.cal-row[data-promotion="summer"] .cal-bar')).to_have_class(re.compile(r"scheduled"))
        expect(page.locator(".cal-today")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "promotions.png", full_page=True)
        page.locator("#promotions-table").get_by_role("link", name="freeship").click()
        expect(page.get_by_test_id("promotion-uses")).to_have_text("1")
        expect(page.locator('#codes-table tr[data-code="FREESHIP"]')).to_contain_text("used up")
        page.screenshot(path=SCREENSHOTS / "promotion.png", full_page=True)
        page.get_by_role("link", name="Try it in the cart simulator").click()
        page.select_option("select[name=channel]", WEB_DE)
        page.fill("textarea[name=lines]", LINES)
        page.fill("input[name=codes]", "welcome")
        page.fill("input[name=shipping]", "4.95")
        page.get_by_role("button", name="Evaluate cart").click()
        expect(page.get_by_test_id("cart-gross")).to_have_text("38.77 EUR")
        expect(page.get_by_test_id("cart-total")).to_have_text("38.77 EUR")
        expect(page.locator('#cart-lines-table tr[data-sku="SKU-1"] [data-col="total"]')).to_have_text("33.46 EUR")
        expect(page.locator('#cart-promotions-table tr[data-promotion="kit"]')).to_contain_text("not applied")
        page.screenshot(path=SCREENSHOTS / "pricing_cart.png", full_page=True)
        browser.close()
    assert errors == []


def test_a_restricted_identity_sees_only_its_channels_promotions_and_carts(
    keel: Keel, world: World, make_client: Make
) -> None:
    promoted(keel)
    keel.access.add_service("fr-ops", Role.PRICING)
    keel.access.set_scope("fr-ops", [MARKET], ["fr"], set(world.channels))
    client = make_client(keel, as_admin=False)
    client.headers["Authorization"] = f"Bearer {keel.access.create_token('fr-ops', 'ops').secret}"
    listed = client.get(PAGE)
    assert listed.status_code == 200, listed.text
    assert "freeship" not in re.findall(r'<tr data-promotion="([^"]+)"', listed.text)  # for web-de only
    assert len(re.findall(r'<tr data-promotion="', listed.text)) == 6
    assert client.get(f"{PAGE}/freeship").status_code == 404
    form = client.get(CART)
    assert re.findall(r'<option value="([^"]+)"', form.text) == [MARKET] and 'name="country" value="FR"' in form.text
    refused = client.get(CART, params=KNOWN)
    assert refused.status_code == 403 and "outside your restrictions" in _text(refused.text)
