"""The control tower: home KPIs, alerts and charts, and the stock drill-down, in Chromium and over HTTP.

The KPI numbers are checked exactly on the small hand-built world of ``tests.support``; the pages are
exercised on the retail twin at test scale with a few orders, served by uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from starlette.testclient import TestClient

from keel.api import create_app
from keel.bootstrap import Keel
from keel.channels.sync import store as sync_store
from keel.insights import InsightsService, ListingCount, LocationStock
from keel.inventory import AccuracyFigures
from keel.orders import AdvanceShipment
from keel.platform.clock import utcnow
from keel.platform.scope import Scope
from keel.platform.vocabulary import ShipmentStatus
from keel.sim.load import load_world
from keel.sim.marketplace import Marketplace
from keel.sim.world import Scale, generate
from tests.e2e.test_web import NAV, SCREENSHOTS, Tab, chromium, tab
from tests.support import MARKET, ST_DE, WEB_DE, WH_DE, admin_headers, build_world, open_keel, place, receive, serve_app

__all__ = ["chromium", "tab"]  # fixtures shared with test_web
browser_test = pytest.mark.browser


def _order(keel: Keel, channel: str, external_id: str, lines: list[tuple[str, int, str]], country: str) -> int:
    order, _ = place(
        keel,
        {
            "channel": channel,
            "external_id": external_id,
            "lines": [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines],
            "customer": {"name": "Ann"},
            "ship_to": {"country": country, "city": "Berlin", "postal_code": "10115"},
        },
    )
    return int(order.id)


def _service(keel: Keel) -> InsightsService:
    return InsightsService(
        keel.db, keel.events, keel.queries, keel.locations, keel.channels, keel.availability, keel.orders, ttl=0
    )


# -- exact KPIs on the small world ------------------------------------------------------------------------
def test_kpis_of_a_small_hand_built_world(sqlite_keel: Keel) -> None:
    keel = sqlite_keel
    # given stock at two German locations, one split order, delivered, then a count finding no SKU-2 left
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", ST_DE, 5)
    split = _order(keel, WEB_DE, "P-1", [("SKU-1", 1, "3.00"), ("SKU-2", 1, "4.10")], "DE")
    for number in (1, 2):
        for step in (ShipmentStatus.PICKING, ShipmentStatus.PACKED, ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED):
            keel.orders.fulfilment.advance(
                AdvanceShipment(split, number, step, carrier="DHL", tracking_number=f"T{number}")
            )
    keel.stock.record_count("SKU-2", ST_DE, 0, "count-1")
    keel.availability.catch_up()
    # when the snapshot is taken
    snap = _service(keel).snapshot()
    # then the stock is SKU-1: 9 at WH_DE, SKU-2: none left at ST_DE (one of each sold)
    assert [(r.location, r.positions, r.on_hand, r.available, r.out_of_stock) for r in snap.stock] == [
        (ST_DE, 1, 0, 0, 1),
        (WH_DE, 1, 9, 9, 0),
    ]
    assert all(isinstance(r, LocationStock) for r in snap.stock)
    assert (snap.distinct_skus(), snap.distinct_skus("DE")) == (2, 2)
    # and of the three listings channels were told about, web-de's SKU-2 is out: 1 of 3
    assert snap.listings == [ListingCount(MARKET, "DE", 1, 0), ListingCount(WEB_DE, "DE", 2, 1)]
    assert snap.stockout_rate == 1 / 3
    # and the one count (book 4, counted 0) is outside the tolerance: accuracy 0 of 1
    assert snap.accuracy.overall == AccuracyFigures(counted=1, within_tolerance=0, accuracy=0.0)
    assert [a.rule for a in snap.alerts if a.rule in ("stockouts", "accuracy")] == ["stockouts", "accuracy"]
    # and the order KPIs: one routed, split over two nodes, delivered on time
    assert (snap.metrics.routed, snap.metrics.split_rate, snap.metrics.on_time_rate) == (1, 1.0, 1.0)
    assert [(g.key, g.orders, g.revenue) for g in snap.sales(lambda o: o.channel)] == [(WEB_DE, 1, Decimal("7.10"))]
    assert [(g.key, g.revenue) for g in snap.sales(lambda o: o.country)] == [("DE", Decimal("7.10"))]
    assert {o.currency for o in snap.orders} == {"EUR"}  # the channel's currency travels with each order
    # and the projector has caught up: no lag, no lag alert
    assert (snap.sync_lag_events, snap.sync_lag_seconds) == (0, 0.0)
    assert not [a for a in snap.alerts if a.rule in ("projector-lag", "sync-delay")]
    assert snap.freshness and all(age >= 0 for age in snap.freshness.values())


def test_unconsumed_stock_events_show_as_sync_lag_and_alert(sqlite_keel: Keel) -> None:
    keel = sqlite_keel
    build_world(keel)
    for i in range(3):
        receive(keel, "SKU-1", WH_DE, 1, mid=f"m{i}")
    service = _service(keel)
    service.rules = tuple(
        r if r.name != "projector-lag" else type(r)(**{**r.__dict__, "threshold": 2}) for r in service.rules
    )
    snap = service.snapshot()
    assert snap.sync_lag_events >= 3
    assert snap.sync_lag_seconds >= 0.0
    assert [a.rule for a in snap.alerts if a.rule == "projector-lag"] == ["projector-lag"]


def test_home_shows_the_slowest_synced_channels_lag_and_alerts_on_it(sqlite_keel: Keel) -> None:
    keel = sqlite_keel
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 5)
    keel.availability.catch_up()
    # given two channels pushed to a marketplace, one of them recorded accepting values 90 s after the change
    with Marketplace({WEB_DE: "home-secret-1", MARKET: "home-secret-2"}) as market:
        for channel, secret in ((WEB_DE, "home-secret-1"), (MARKET, "home-secret-2")):
            keel.sync.configure(channel, {"url": market.url, "secret": secret})
        keel.sync.run_pass()
    with keel.db.write() as conn:
        sync_store.log_push(conn, sync_store.PushRow(MARKET, utcnow(), 1, 1, 0, None, [90_000]))
    service = InsightsService(
        keel.db, keel.events, keel.queries, keel.locations, keel.channels, keel.availability, keel.orders,
        ttl=0, sync=keel.sync,
    )  # fmt: skip
    snap = service.snapshot()
    # then the home page's figure is the slowest channel's p99, and that channel alerts
    assert [c.channel for c in snap.channel_sync] == [MARKET, WEB_DE]
    assert snap.slowest_channel is not None and snap.slowest_channel.channel == MARKET
    assert snap.slowest_channel.lag_p99_s == 90.0
    assert [(a.rule, a.subject) for a in snap.alerts if a.rule == "channel-sync-lag"] == [("channel-sync-lag", MARKET)]
    # and a viewer restricted to web-de sees only its own channel's lag
    narrow = service.snapshot(Scope(channels=frozenset({WEB_DE})))
    assert [c.channel for c in narrow.channel_sync] == [WEB_DE]
    with TestClient(create_app(keel), headers=admin_headers(keel)) as client:
        page = client.get("/?refresh=0").text
    assert "Channel sync lag (p99, s)" in page and re.search(r'data-testid="sync-lag">90\.0<', page)
    assert f"slowest of 2 synced: {MARKET}" in page and 'href="/ui/sync"' in page


def test_snapshot_answers_from_cache_and_refreshes_in_the_background(sqlite_keel: Keel) -> None:
    keel = sqlite_keel
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 10)
    service = _service(keel)
    service.ttl = 0.2
    first = service.snapshot()
    # when stock changes within the ttl / then the cached snapshot is still served
    receive(keel, "SKU-2", ST_DE, 5, mid="later")
    assert service.snapshot() is first
    # when the ttl has passed / then the stale one is served once more while a fresh one is computed
    time.sleep(0.25)
    assert service.snapshot() is first
    deadline = time.monotonic() + 10
    while service.snapshot() is first and time.monotonic() < deadline:
        time.sleep(0.02)
    assert service.snapshot().distinct_skus() == 2


def test_a_cache_older_than_max_stale_is_computed_afresh_before_answering(sqlite_keel: Keel) -> None:
    # given a snapshot taken, then nobody looking for longer than max_stale (a clock the test moves)
    keel = sqlite_keel
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 10)
    now = [100.0]
    service = _service(keel)
    # (a ttl beyond max_stale: no background refresh gets in the way of what is tested)
    service.ttl, service.max_stale, service.clock = 1000.0, 30.0, lambda: now[0]
    first = service.snapshot()
    receive(keel, "SKU-2", ST_DE, 5, mid="later")
    now[0] += 29
    assert service.snapshot() is first  # within max_stale: the cache
    # when the next visitor comes after the quiet spell
    now[0] += 31
    # then they wait for current figures instead of seeing the last visit's
    fresh = service.snapshot()
    assert fresh is not first and fresh.distinct_skus() == 2


# -- pages over HTTP --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keel]:
    """The retail twin at test scale, a few cycle counts and three orders."""
    keel = open_keel(f"sqlite:///{tmp_path_factory.mktemp('tower') / 'keel.db'}")
    load_world(keel, generate(7, Scale(skus=50, locations=40, channels=10)))
    positions, _ = keel.queries.positions(limit=600)
    for i, p in enumerate(positions[::20]):
        keel.stock.record_count(p.sku, p.location, p.on_hand + (5 if i % 3 == 0 else 0), f"c{i}")
    keel.availability.catch_up()
    channels, _ = keel.channels.list(limit=100)
    stocked = [p for p in positions if p.available > 2]
    # channels of different currencies first, so revenue has currencies to convert
    online = [c for c in channels if c.kind != "pos"]
    firsts = {c.currency: c for c in reversed(online)}
    picked = [*firsts.values(), *(c for c in online if c not in firsts.values())][:3]
    for n, ch in enumerate(picked):
        country = ch.countries[0]
        sku = next((p.sku for p in stocked if p.country == country), stocked[0].sku)
        try:
            _order(keel, ch.code, f"T-{n}", [(sku, 1, f"{10 + n}.50")], country)
        except Exception:  # a channel the twin cannot route from still leaves the others
            continue
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


def test_home_shows_every_kpi_and_sales_table(http: TestClient, twin: Keel) -> None:
    page = http.get("/").text
    for testid in ("stockout-rate", "accuracy", "on-time-rate", "same-day-rate", "split-rate", "sync-lag"):
        assert f'data-testid="{testid}"' in page
    total = twin.orders.reads.list(limit=1).total
    assert re.search(rf'data-testid="orders-total">{total}<', page)
    assert 'id="freshness"' in page and 'id="alerts"' in page
    assert '<script id="chart-data" type="application/json">' in page
    assert 'data-refresh="15"' in page and "data-refresh" not in http.get("/?refresh=0").text


def test_home_reports_revenue_in_the_reporting_currency_with_per_currency_figures(http: TestClient, twin: Keel) -> None:
    # given the twin's orders in their channels' currencies and the twin's rate table
    from keel.fx import round_to
    from keel.sim.fx import twin_rate_table

    rates = twin_rate_table()
    currency = {c.code: c.currency for c in twin.channels.list(limit=100)[0]}
    expected, native = Decimal(0), {}
    for summary in twin.orders.reads.list(limit=100).items:
        order = twin.orders.reads.get(summary.id)
        value = sum((Decimal(ln.unit_price) * ln.quantity for ln in order.lines), Decimal(0))
        cur = currency[summary.channel]
        native[cur] = native.get(cur, Decimal(0)) + value
        expected += rates.convert(value, cur, "EUR", summary.created_at.date())
    assert len(native) >= 2  # more than one currency to add up
    # when the home page is drawn / then revenue is one EUR figure, each order at its day's rate
    page = http.get("/").text
    assert f'data-testid="revenue-total">EUR {round_to(expected, 2):,.2f}<' in page
    assert "without a rate" not in page.split('id="revenue-currencies"')[0]
    # and the per-currency figures are one click away, as sold and converted
    table = page.split('id="sales-currency"')[1].split("</table>")[0]
    for cur, value in native.items():
        places = 0 if cur == "JPY" else 2
        assert f"<td>{cur}</td>" in table and f"{value:,.{places}f}" in table


def test_plotly_is_served_locally_from_the_installed_package(http: TestClient) -> None:
    page = http.get("/").text
    # a path, never an absolute URL built from the request's Host header (issue 10)
    assert '<script src="/static/plotly/plotly.min.js"></script>' in page
    js = http.get("/static/plotly/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert [u for u in re.findall(r'(?:href|src)="([^"]+)"', page) if "//" in u] == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/?refresh=abc", 400),
        ("/ui/stock?country=ZZZ", 400),
        ("/ui/stock?region=Bavaria", 400),
        ("/ui/stock?location=NOWHERE", 404),
        ("/ui/stock?location=x&page=0", 400),
    ],
)
def test_bad_drill_down_links_get_an_error_page(http: TestClient, path: str, status: int) -> None:
    response = http.get(path)
    assert response.status_code == status
    assert 'class="error-page"' in response.text


def test_empty_installation_home_and_stock_pages(client: TestClient) -> None:
    assert "No alerts" in client.get("/").text or "alerts" in client.get("/").text
    assert "No stock positions here yet." in client.get("/ui/stock").text


# -- in the browser ---------------------------------------------------------------------------------------
def _charts_drawn(tab: Tab, count: int) -> None:
    svgs = tab.page.locator(".chart .main-svg")
    expect(svgs.first).to_be_visible()
    assert tab.page.locator(".chart").count() == count
    for i in range(count):
        expect(tab.page.locator(".chart").nth(i).locator("svg").first).to_be_attached()


@browser_test
def test_home_renders_kpis_alerts_and_charts(tab: Tab, twin: Keel) -> None:
    tab.open("/?refresh=0")
    tab.page.wait_for_load_state("networkidle")
    expect(tab.page.locator("h1")).to_have_text("Control tower")
    assert tab.page.locator("header nav a").all_inner_texts() == [label for label, _, _ in NAV]
    expect(tab.page.locator('header nav a[aria-current="page"]')).to_have_text("Overview")
    _charts_drawn(tab, 3)
    expect(tab.page.locator("#chart-stock .xtick").first).to_be_attached()
    expect(tab.page.get_by_test_id("stockout-rate")).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(tab.page.locator("#alerts li").first).to_be_visible()
    assert tab.shot("tower-home").stat().st_size > 10_000
    assert tab.errors == []


@browser_test
def test_home_reloads_itself(tab: Tab) -> None:
    tab.open("/?refresh=1")
    with tab.page.expect_navigation(timeout=10_000):
        pass
    expect(tab.page.locator("h1")).to_have_text("Control tower")
    assert tab.errors == []


@browser_test
def test_drill_down_country_region_location_sku(tab: Tab, twin: Keel) -> None:
    tab.open("/?refresh=0")
    tab.page.wait_for_load_state("networkidle")
    tab.page.locator("header nav").get_by_role("link", name="Stock by region", exact=True).click()
    tab.page.wait_for_url(re.compile(r"/ui/stock$"))
    tab.page.wait_for_load_state("networkidle")
    _charts_drawn(tab, 1)
    tab.shot("tower-stock-countries")
    # country
    first = tab.page.locator("table#groups tbody tr td:first-child a").first
    country = first.inner_text()
    first.click()
    tab.page.wait_for_url(re.compile(rf"country={country}$"))
    tab.page.wait_for_load_state("networkidle")
    expect(tab.page.locator("#crumbs")).to_contain_text(country)
    _charts_drawn(tab, 1)
    tab.shot("tower-stock-regions")
    # region
    tab.page.locator("table#groups tbody tr td:first-child a").first.click()
    tab.page.wait_for_url(re.compile(r"region="))
    tab.page.wait_for_load_state("networkidle")
    tab.shot("tower-stock-locations")
    # location: its SKU positions, exactly what keel.queries holds there
    link = tab.page.locator("table#groups tbody tr td:first-child a").first
    location = link.inner_text()
    link.click()
    tab.page.wait_for_url(re.compile(r"location="))
    tab.page.wait_for_load_state("networkidle")
    expect(tab.page.locator("h1")).to_have_text(f"Stock at {location}")
    expected, total = twin.queries.positions(location=location, limit=50)
    rows = tab.page.locator("table#positions tbody tr td:first-child")
    assert [c.strip() for c in rows.all_inner_texts()] == [p.sku for p in expected]
    expect(tab.page.get_by_test_id("total-on-hand")).to_have_text(
        f"{sum(p.on_hand for p in twin.queries.positions(location=location, limit=10_000)[0]):,}"
    )
    tab.shot("tower-stock-skus")
    # SKU: on to why the channels list what they list; breadcrumbs lead back up
    sku = expected[0].sku
    tab.page.locator("table#positions").get_by_role("link", name=sku, exact=True).click()
    expect(tab.page.locator("h1")).to_have_text(f"Why {sku} lists what it lists")
    tab.page.wait_for_load_state("networkidle")
    tab.page.go_back()
    tab.page.wait_for_load_state("networkidle")
    tab.page.locator("#crumbs").get_by_role("link", name=country).click()
    tab.page.wait_for_url(re.compile(rf"country={country}$"))
    tab.page.wait_for_load_state("networkidle")
    assert total > 0
    assert tab.errors == []


@browser_test
def test_every_page_shares_the_layout_and_shots_for_the_tour(tab: Tab) -> None:
    pages = [(label, path) for label, path, _ in NAV]
    for label, path in pages:
        tab.open(path + ("?refresh=0" if path == "/" else ""))
        tab.page.wait_for_load_state("networkidle")
        expect(tab.page.locator('header nav a[aria-current="page"]')).to_have_text(label)
        assert tab.page.locator("header.topbar").count() == 1 and tab.page.locator("footer").count() == 1
        name = "tour-" + (path.strip("/").replace("ui/", "") or "home")
        tab.page.screenshot(path=SCREENSHOTS / f"{name}.png")  # the first screen, as docs/tour.md shows it
    assert tab.errors == []
