"""The control-tower pages, in real Chromium (Playwright) and over HTTP.

One small retail twin (50 SKUs, 84 locations, 10 channels, a few cycle counts) is loaded once per module
through the services and served by a real uvicorn server on 127.0.0.1. Browser tests are marked
``browser``; they skip when /usr/bin/chromium is missing (fail under ``KEEL_REQUIRE_SERVICES=1``).
Screenshots land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, expect, sync_playwright
from starlette.testclient import TestClient

from keel.api import create_app
from keel.bootstrap import Keel
from keel.sim.load import load_world
from keel.sim.world import Scale, generate
from tests.conftest import service_unavailable
from tests.support import POS_FR, ST_FR, admin_headers, build_world, open_keel, receive, serve_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
NAV = [
    ("Overview", "/", "Control tower"),
    ("Stock by region", "/ui/stock", "Stock by region"),
    ("Inventory", "/ui/inventory", "Inventory"),
    ("Channel availability", "/ui/availability", "Channel availability"),
    ("Locations", "/ui/locations", "Locations"),
    ("Channels", "/ui/channels", "Channels"),
    ("Sync", "/ui/sync", "Channel sync"),
    ("Pricing", "/ui/pricing", "Pricing"),
    ("Media", "/ui/media", "Media campaigns"),
    ("Planning", "/ui/planning", "Replenishment planning"),
    ("Orders", "/ui/orders", "Orders"),
    ("Catalog", "/ui/catalog", "Catalog"),
    ("Audit", "/ui/audit", "Audit log"),
]
SKU = "SKU-000007"
DASH = "\N{EN DASH}"
browser_test = pytest.mark.browser


# -- fixtures ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keel]:
    """The retail twin at test scale, with 30 cycle counts (some off by more than the tolerance)."""
    keel = open_keel(f"sqlite:///{tmp_path_factory.mktemp('web') / 'keel.db'}")
    load_world(keel, generate(7, Scale(skus=50, locations=40, channels=10)))
    positions, _ = keel.queries.positions(limit=600)
    for i, p in enumerate(positions[::20]):
        keel.stock.record_count(p.sku, p.location, p.on_hand + (5 if i % 3 == 0 else 0), f"c{i}")
    keel.availability.catch_up()
    yield keel
    keel.close()


@pytest.fixture(scope="module")
def base_url(twin: Keel) -> Iterator[str]:
    with serve_app(create_app(twin)) as url:
        yield url


@pytest.fixture(scope="module")
def http(twin: Keel) -> Iterator[TestClient]:
    with TestClient(create_app(twin), headers=admin_headers(twin)) as client:
        yield client


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    """A page plus everything the browser complained about while it was open."""

    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str, status: int = 200) -> Response:
        response = self.page.goto(self.base_url + path)
        assert response is not None
        assert response.status == status, f"{path}: {response.status}"
        return response

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=path, full_page=True)
        return path

    def unexpected_errors(self, *statuses: int) -> list[str]:
        """Console errors, less Chromium's note about a document deliberately answered with ``statuses``."""
        expected = {f"Failed to load resource: the server responded with a status of {s}" for s in statuses}
        return [e for e in self.errors if not any(e.startswith(x) for x in expected)]


@pytest.fixture
def tab(chromium: Browser, base_url: str) -> Iterator[Tab]:
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    t = Tab(page, base_url)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            t.errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: t.errors.append(f"pageerror: {exc}"))
    page.on("requestfailed", lambda req: t.errors.append(f"requestfailed: {req.url}"))
    yield t
    context.close()


def column(tab: Tab, table: str, index: int) -> list[str]:
    """The text of one column (0-based) of a table's body rows."""
    cells = tab.page.locator(f"table#{table} tbody tr td:nth-child({index + 1})")
    return [c.strip() for c in cells.all_inner_texts()]


# -- every page, in the browser ---------------------------------------------------------------------------
PAGES = [
    ("home", "/?refresh=0", "Control tower"),
    ("stock", "/ui/stock", "Stock by region"),
    ("inventory", "/ui/inventory", "Inventory"),
    ("inventory-filtered", f"/ui/inventory?sku={SKU}", "Inventory"),
    ("inventory-empty", "/ui/inventory?country=BR", "Inventory"),
    ("availability-picker", "/ui/availability", "Channel availability"),
    ("availability-sku", f"/ui/availability?sku={SKU}", f"Availability of {SKU}"),
    ("explain", f"/ui/availability/{SKU}", f"Why {SKU} lists what it lists"),
    ("locations", "/ui/locations", "Locations"),
    ("channels", "/ui/channels", "Channels"),
]


@browser_test
@pytest.mark.parametrize(("name", "path", "heading"), PAGES, ids=[p[0] for p in PAGES])
def test_page_loads_styled_with_no_console_errors(tab: Tab, name: str, path: str, heading: str) -> None:
    # given the twin / when a page is opened
    tab.open(path)
    tab.page.wait_for_load_state("networkidle")
    # then it has its heading, the four navigation links and the local stylesheet applied, and no errors
    expect(tab.page.locator("h1")).to_have_text(heading)
    expect(tab.page).to_have_title(re.compile(r".+ · Keel$"))
    assert tab.page.locator("header nav a").all_inner_texts() == [label for label, _, _ in NAV]
    topbar_colour = tab.page.locator("header.topbar").evaluate("e => getComputedStyle(e).backgroundColor")
    assert topbar_colour == "rgb(20, 32, 46)"
    assert tab.shot(name).stat().st_size > 10_000
    assert tab.errors == []


@browser_test
def test_navigation_links_reach_every_page(tab: Tab) -> None:
    tab.open("/ui/channels")
    for label, path, heading in NAV:
        tab.page.locator("header nav").get_by_role("link", name=label, exact=True).click()
        tab.page.wait_for_url(tab.base_url + path)
        expect(tab.page.locator("h1")).to_have_text(heading)
        current = tab.page.locator('header nav a[aria-current="page"]')
        expect(current).to_have_text(label)
    tab.page.locator("a.brand").click()
    tab.page.wait_for_url(tab.base_url + "/")
    assert tab.errors == []


# -- inventory: filters and pagination --------------------------------------------------------------------
@browser_test
def test_inventory_filter_by_sku_shows_only_that_sku_with_totals(tab: Tab, twin: Keel) -> None:
    expected, total = twin.queries.positions(sku=SKU)
    tab.open("/ui/inventory")
    tab.page.get_by_label("SKU").fill(SKU)
    tab.page.get_by_role("button", name="Filter").click()
    tab.page.wait_for_url(re.compile(rf"\?sku={SKU}&"))
    assert column(tab, "positions", 0) == [SKU] * total
    assert column(tab, "positions", 1) == [p.location for p in expected]
    expect(tab.page.get_by_test_id("total-positions")).to_have_text(str(total))
    footer = tab.page.locator("table#positions tfoot tr")
    expect(footer.locator("th")).to_have_text("Total")
    on_hand = footer.locator("td").nth(0)
    expect(on_hand).to_have_text(f"{sum(p.on_hand for p in expected):,}")
    tab.shot("inventory-sku-filter")
    assert tab.errors == []


@browser_test
def test_inventory_filter_by_channel_keeps_its_source_locations(tab: Tab, twin: Keel) -> None:
    sources = set(twin.availability.source_locations("market-de"))
    _, total = twin.queries.positions(locations=sorted(sources))
    tab.open("/ui/inventory")
    tab.page.get_by_label("Channel").select_option("market-de")
    tab.page.get_by_role("button", name="Filter").click()
    tab.page.wait_for_url(re.compile(r"channel=market-de"))
    expect(tab.page.get_by_test_id("total-positions")).to_have_text(f"{total:,}")
    assert total > 0
    assert set(column(tab, "positions", 1)) <= sources
    expect(tab.page.locator(".note")).to_contain_text(f"{len(sources)} locations that feed channel market-de")
    assert tab.errors == []


@browser_test
def test_inventory_pagination_next_and_previous(tab: Tab, twin: Keel) -> None:
    page1, total = twin.queries.positions(limit=25)
    page2, _ = twin.queries.positions(limit=25, offset=25)
    tab.open("/ui/inventory?size=25")
    info = tab.page.locator(".pager-info").first
    expect(info).to_have_text(re.compile(rf"^1{DASH}25 of {total} positions · page 1 of {-(-total // 25)}$"))
    expect(tab.page.locator('.pager [aria-disabled="true"]', has_text="Previous").first).to_be_visible()

    tab.page.get_by_role("link", name="Next →").first.click()
    tab.page.wait_for_url(re.compile(r"page=2"))
    expect(info).to_have_text(re.compile(rf"^26{DASH}50 of {total} positions · page 2 of"))
    assert column(tab, "positions", 1) == [p.location for p in page2]
    assert column(tab, "positions", 0) == [p.sku for p in page2]
    tab.shot("inventory-page-2")

    tab.page.get_by_role("link", name="← Previous").first.click()
    tab.page.wait_for_url(re.compile(r"page=1|size=25$"))
    assert column(tab, "positions", 1) == [p.location for p in page1]
    assert tab.errors == []


@browser_test
def test_locations_filter_kind_and_paginate(tab: Tab, twin: Keel) -> None:
    stores, total = twin.locations.list(kind="store", limit=1000)
    tab.open("/ui/locations?size=25")
    tab.page.get_by_label("Kind").select_option("store")
    tab.page.get_by_role("button", name="Filter").click()
    tab.page.wait_for_url(re.compile(r"kind=store"))
    expect(tab.page.get_by_test_id("total-locations")).to_have_text(str(total))
    assert set(column(tab, "locations", 2)) == {"store"}
    tab.page.get_by_role("link", name="Next →").first.click()
    tab.page.wait_for_url(re.compile(r"page=2"))
    assert column(tab, "locations", 0) == [s.code for s in stores[25:50]]
    assert tab.errors == []


@browser_test
def test_locations_show_inventory_accuracy(tab: Tab, twin: Keel) -> None:
    accuracy = twin.queries.accuracy()
    counted = {a.location: a for a in accuracy.locations}
    tab.open("/ui/locations?size=200")
    codes = column(tab, "locations", 0)
    shown = dict(zip(codes, column(tab, "locations", 7), strict=True))
    for code, stats in counted.items():
        assert shown[code] == f"{(stats.accuracy or 0) * 100:.1f}%"
    assert all(shown[c] == "not counted" for c in codes if c not in counted)
    assert tab.errors == []


# -- channel availability and its explanation -------------------------------------------------------------
@browser_test
def test_pick_a_sku_then_explain_shows_contributions_and_rules(tab: Tab, twin: Keel) -> None:
    projected = twin.availability.projected([SKU])[SKU]
    tab.open("/ui/availability")
    tab.page.get_by_label("SKU").fill(SKU)
    tab.page.get_by_role("button", name="Show availability").click()
    tab.page.wait_for_url(re.compile(rf"sku={SKU}"))
    assert column(tab, "availability", 0) == [r.channel for r in projected]
    assert column(tab, "availability", 4) == [str(r.quantity) for r in projected]

    tab.page.get_by_role("link", name="Explain these numbers →").click()
    tab.page.wait_for_url(tab.base_url + f"/ui/availability/{SKU}")
    explained = twin.availability.explain(SKU)
    stocked_targets = [t for t in explained if any(c.available or c.counted for c in t.contributions)]
    assert stocked_targets
    expect(tab.page.locator("table#explain-summary tbody tr")).to_have_count(len(stocked_targets))
    for t in stocked_targets:
        section = tab.page.locator(f"section#{t.channel}-{t.country}")
        stocked = [c for c in t.contributions if c.available or c.counted]
        locations = section.locator("table.contributions tbody tr td:first-child")
        expect(locations).to_have_text([c.location for c in stocked])
        pooled = sum(c.counted for c in t.contributions)
        expect(section.locator("table.contributions tfoot td").last).to_have_text(str(pooled))
        steps = section.locator("table.steps tbody tr td:first-child")
        expect(steps).to_have_text([s.rule for s in t.steps])
        expect(section.locator("table.steps tfoot td").last).to_have_text(str(t.quantity))
    tab.shot("explain-sku")
    assert tab.errors == []


@browser_test
def test_explain_filtered_to_one_listing_from_the_availability_table(tab: Tab, twin: Keel) -> None:
    listed = next(r for r in twin.availability.projected([SKU])[SKU] if r.quantity > 0)
    channel, country = listed.channel, listed.country
    tab.open(f"/ui/availability?sku={SKU}&channel={channel}&country={country}")
    expect(tab.page.locator("table#availability tbody tr")).to_have_count(1)
    tab.page.get_by_role("link", name="explain", exact=True).click()
    tab.page.wait_for_url(re.compile(rf"/ui/availability/{SKU}\?channel={channel}&country={country}$"))
    [target] = twin.availability.explain(SKU, channel, country)
    summary = tab.page.locator("table#explain-summary tbody tr")
    expect(summary).to_have_count(1)
    expect(summary.locator("td").nth(4)).to_have_text(str(target.quantity))
    expect(summary.locator("td").nth(5)).to_have_text(str(listed.quantity))
    expect(tab.page.locator("section.explain")).to_have_count(1)
    assert tab.errors == []


# -- errors -----------------------------------------------------------------------------------------------
ERRORS = [
    ("unknown-sku", "/ui/inventory?sku=NO-SUCH-SKU", 404, "NO-SUCH-SKU"),
    ("unknown-channel", "/ui/inventory?channel=no-such-channel", 404, "no-such-channel"),
    ("unknown-sku-availability", "/ui/availability?sku=NO-SUCH-SKU", 404, "NO-SUCH-SKU"),
    ("unknown-channel-explain", f"/ui/availability/{SKU}?channel=no-such-channel", 404, "no-such-channel"),
    ("bad-int", "/ui/inventory?page=abc", 400, "page must be a whole number"),
]


@browser_test
@pytest.mark.parametrize(("name", "path", "status", "says"), ERRORS, ids=[e[0] for e in ERRORS])
def test_unknown_filters_get_a_friendly_error_page(tab: Tab, name: str, path: str, status: int, says: str) -> None:
    tab.open(path, status)
    expect(tab.page.locator(".error-status")).to_have_text(str(status))
    expect(tab.page.locator(".error-page .lead")).to_contain_text(says)
    tab.shot(f"error-{name}")
    tab.page.locator(".error-links").get_by_role("link", name="Channels").click()
    tab.page.wait_for_url(tab.base_url + "/ui/channels")
    assert tab.unexpected_errors(status) == []


# -- over HTTP: statuses for bad and empty input (no browser needed) --------------------------------------
BAD_QUERIES = [
    ("/ui/inventory?page=abc", 400),
    ("/ui/inventory?page=0", 400),
    ("/ui/inventory?page=-1", 400),
    ("/ui/inventory?page=1e3", 400),
    ("/ui/inventory?page=1_0", 400),
    ("/ui/inventory?page=%EF%BC%93", 400),  # a full-width digit that int() would accept
    ("/ui/inventory?page=99999999999999999999", 400),
    ("/ui/inventory?size=0", 400),
    ("/ui/inventory?size=100000", 400),
    ("/ui/inventory?country=ZZZ", 400),
    ("/ui/inventory?sku=" + "x" * 200, 400),
    ("/ui/inventory?location=NOWHERE", 404),
    ("/ui/inventory?sku=NOPE&page=abc", 400),
    ("/ui/availability?sku=NOPE", 404),
    ("/ui/availability?country=XX", 400),
    ("/ui/availability?channel=nope", 404),
    ("/ui/availability/NOPE", 404),
    ("/ui/availability/NOPE/with/slashes", 404),
    (f"/ui/availability/{SKU}?country=12", 400),
    ("/ui/locations?kind=castle", 400),
    ("/ui/locations?active=maybe", 400),
    ("/ui/locations?page=two", 400),
    ("/ui/channels?kind=fax", 400),
    ("/ui/channels?size=-5", 400),
    ("/ui/channels?country=%00", 400),
]


@pytest.mark.parametrize(("path", "status"), BAD_QUERIES, ids=[q[0] for q in BAD_QUERIES])
def test_bad_query_strings_get_an_html_error_page_not_a_500(http: TestClient, path: str, status: int) -> None:
    response = http.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert 'class="error-page"' in response.text


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/ui/inventory?country=BR", "No positions match these filters."),
        ("/ui/inventory?page=999", "Page 999 is past the end."),
        ("/ui/locations?country=BR", "No locations match these filters."),
        ("/ui/channels?country=BR", "No channels match these filters."),
        ("/ui/channels?active=no", "No channels match these filters."),
        (f"/ui/availability?sku={SKU}&country=BR", f"No channel lists {SKU} in BR."),
    ],
)
def test_filters_matching_nothing_show_an_empty_state(http: TestClient, path: str, says: str) -> None:
    response = http.get(path)
    assert response.status_code == 200
    assert says in response.text


def test_empty_installation_explains_how_to_load_data(client: TestClient) -> None:
    # given a fresh database (SQLite and PostgreSQL) / when each page is opened / then it says what to do
    expected: dict[str, str] = {
        "/ui/inventory": "No positions yet.",
        "/ui/stock": "No stock positions here yet.",
        "/ui/locations": "No locations yet.",
        "/ui/channels": "No channels yet.",
        "/ui/availability": "No stock has been recorded yet",
    }
    for path, says in expected.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert says in response.text, path


def test_inactive_channel_filter_explains_why_nothing_matches(keel: Keel, client: TestClient) -> None:
    # given the small world with stock at the store feeding pos-fr, then pos-fr deactivated
    build_world(keel)
    receive(keel, "SKU-1", ST_FR, 4)
    assert f">{ST_FR}</a>" in client.get("/ui/inventory?channel=" + POS_FR).text
    keel.channels.deactivate(POS_FR)
    keel.availability.catch_up()
    # when inventory is filtered by it / then the page is empty and says why, and the list shows it inactive
    response = client.get("/ui/inventory?channel=" + POS_FR)
    assert response.status_code == 200
    assert f"Channel {POS_FR} is inactive or has no active source locations." in response.text
    assert "No positions match these filters." in response.text
    channels = client.get("/ui/channels?active=no").text
    assert POS_FR in channels and 'class="badge off">inactive' in channels


def test_static_files_are_served_locally(http: TestClient) -> None:
    page = http.get("/").text
    linked = re.findall(r'(?:href|src)="([^"]+)"', page)
    assert "/static/keel.css" in linked  # paths, never URLs built from the request's Host header (issue 10)
    assert [u for u in linked if "//" in u] == []
    css = http.get("/static/keel.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "@import" not in css.text and "url(http" not in css.text
