"""The media pages: campaigns with their stock status under a summary and the week's savings, one campaign
with its ads' SKUs, stock, states and holds, the action log with approvals and drift, and savings day by day.
Over HTTP on both databases, and in Chromium (screenshots in /tmp/media-*.png).

The story (``story``), three days back on a clock of its own: a tee ad runs out of stock before any rule
exists (spend wasted), then under a pause rule another one sells out (paused, out of stock), comes back with
too little stock to resume, and resumes a day later; performance rows price those hours. Now: the cap sells
out (its ad paused), a person raises a bid on the platform (drift), and a budget shift above the approval
threshold waits for a person."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from starlette.testclient import TestClient

from keel.access import Role
from keel.api import create_app
from keel.bootstrap import Keel
from keel.media import AdState, Level, Platform, Status
from keel.platform.clock import clock_at, utcnow
from keel.sim.adplatform import AdPlatforms
from tests.e2e.test_web import Tab, chromium, tab
from tests.support import WH_DE, World, build_world, mv, open_keel, receive, serve_app, snapshot
from tests.support_media import ACCOUNT, PAUSE_RULE, ad_state, drain, media_world, sim_for

__all__ = ["chromium", "tab"]  # fixtures shared with test_web
Make = Callable[..., TestClient]
MEDIA = "/ui/media"
ACTIONS = "/ui/media/actions"
SAVINGS = "/ui/media/savings"
SHIFT_RULE = {
    "name": "shift to stock",
    "trigger": "schedule",
    "then": {"action": "shift_budget", "to": "same_category", "share_pct": 50},
}
SHOTS = Path("/tmp")
DASH = "\N{EN DASH}"


@pytest.fixture
def sim() -> Iterator[AdPlatforms]:
    with AdPlatforms(rates=dict.fromkeys(Platform, 1000.0)) as s:
        yield s


def midnight() -> datetime:
    return utcnow().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def story(keel: Keel, sim: AdPlatforms) -> datetime:
    """The setup and its history (see the module docstring); returns the first day's midnight."""
    d3 = midnight() - timedelta(days=3)
    d2, d1 = d3 + timedelta(days=1), d3 + timedelta(days=2)
    with clock_at(d3 + timedelta(minutes=1)):
        media_world(keel, url=sim.url(Platform.GOOGLE))
        sim_for(keel, sim)
        drain(keel)
    with clock_at(d3 + timedelta(hours=6)):  # no rule yet: the ad keeps showing, out of stock
        keel.stock.apply_batch([mv("sale-m", "sold", "TEE-M", WH_DE, 3)])
        drain(keel)
    with clock_at(d3 + timedelta(hours=12)):
        receive(keel, "TEE-M", WH_DE, 3, "back-m")
        drain(keel)
    with clock_at(d2):
        keel.media.save_rule("pause when out", PAUSE_RULE)
    with clock_at(d2 + timedelta(hours=12)):  # paused with the reason
        keel.stock.apply_batch([mv("sale-s", "sold", "TEE-S", WH_DE, 3)])
        drain(keel)
    with clock_at(d2 + timedelta(hours=18)):  # 2 back: in stock, still held (resumes at 5)
        receive(keel, "TEE-S", WH_DE, 2, "back-s2")
        drain(keel)
    with clock_at(d1):
        receive(keel, "TEE-S", WH_DE, 4, "back-s4")
        drain(keel)
    # a whole day's row a day: a-tee-s 1.00 EUR spend and 4.00 EUR sales an hour, a-tee-m 2.00 and 5.00
    days = [(d3 + timedelta(days=i)).date().isoformat() for i in range(3)]
    rows = [
        {"date": day, "ad": ad, "impressions": 1000, "clicks": 50, "cost": cost, "sales_7d": sales}
        for day in days
        for ad, cost, sales in (("a-tee-s", "24.00", "96.00"), ("a-tee-m", "48.00", "120.00"))
    ]
    keel.media.performance.save(rows)
    # now: everything sent; a person raises a-tee-m's bid on the platform; the cap sells out
    keel.media.sender.send(ACCOUNT)
    sim.set_remote(Platform.GOOGLE, ACCOUNT, Level.AD, "a-tee-m", AdState(Status.ENABLED, 70))
    assert keel.media.sender.check_drift(ACCOUNT) == 1
    keel.stock.apply_batch([mv("sale-c", "sold", "CAP-S", WH_DE, 3)])
    drain(keel)
    keel.media.save_guardrails({"approval_above": 100})
    keel.media.save_rule("shift to stock", SHIFT_RULE)
    keel.media.watcher.run_all()
    return d3


def _text(html: str) -> str:
    main = html.split("<main>", 1)[-1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def _row(html: str, attribute: str, value: str) -> str:
    found = re.search(rf'<tr {attribute}="{re.escape(value)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found is not None, value
    return _text(f"<main>{found.group(1)}</main>")


# -- over HTTP, on both databases ------------------------------------------------------------------------------
def test_the_campaign_list_shows_stock_status_summary_and_savings(
    keel: Keel, world: World, sim: AdPlatforms, make_client: Make
) -> None:
    # given the story
    story(keel, sim)
    client = make_client(keel)
    # when the list is opened
    page = client.get(MEDIA)
    text = _text(page.text)
    # then the summary counts what stands now, the week's savings are per currency, and each campaign its ads
    assert page.status_code == 200
    assert "Campaigns 2 in 1 ad account Ads 3 1 out of stock now Paused by rules now 1" in text
    assert "Owed to platforms 1" in text and "Drift 1" in text and "Dead letters 0" in text
    assert _row(page.text, "data-currency", "EUR").startswith("EUR 12.00 EUR ")  # wasted: 6 h x 2.00 EUR
    assert _row(page.text, "data-campaign", "c-cap") == (
        "c-cap Caps DE g-de google · web-de DE 30.00 EUR enabled 1 1 1 1 owed"
    )
    assert _row(page.text, "data-campaign", "c-tee") == (
        "c-tee Tees DE g-de google · web-de DE 50.00 EUR enabled 2 0 0 1 drift"
    )
    assert f"1{DASH}2 of 2 campaigns · page 1 of 1" in text


def test_the_campaign_list_filters(keel: Keel, world: World, sim: AdPlatforms, make_client: Make) -> None:
    story(keel, sim)
    client = make_client(keel)

    def shown(**query: str) -> list[str]:
        page = client.get(MEDIA, params=query)
        assert page.status_code == 200, (query, page.text[:300])
        return re.findall(r'<tr data-campaign="([^"]+)"', page.text)

    assert shown() == ["c-cap", "c-tee"]
    assert shown(stock_outs="yes") == ["c-cap"]
    assert shown(account=ACCOUNT, country="de", status="enabled") == ["c-cap", "c-tee"]
    assert shown(size="1") == ["c-cap"] and shown(size="1", page="2") == ["c-tee"]
    # no match: the empty state says so and offers the way back
    paused = client.get(MEDIA, params={"status": "paused"})
    assert "No campaigns match these filters. Clear the filters" in _text(paused.text)
    assert shown(country="FR") == []
    for query in ({"account": "nope"}, {"country": "XX"}, {"status": "gone"}, {"stock_outs": "maybe"}, {"page": "0"}):
        bad = client.get(MEDIA, params=query)
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html"), query


def test_a_campaign_shows_its_ads_stock_states_and_reasons(
    keel: Keel, world: World, sim: AdPlatforms, make_client: Make
) -> None:
    story(keel, sim)
    client = make_client(keel)
    cap = client.get(f"{MEDIA}/campaigns/c-cap")
    text = _text(cap.text)
    assert cap.status_code == 200
    assert "Campaign on google account g-de (sells from channel web-de), showing in DE. Money in EUR." in text
    ad = _row(cap.text, "data-ad", "a-cap")
    assert ad.startswith("a-cap g-cap CAP-S 0 no sales ")
    assert ad.endswith(
        "enabled → paused 0.30 EUR → 0.30 EUR pause when out owed version 2 not yet accepted (platform has 1)"
    )
    assert "paused a-cap in DE: sellable 0 <= 0; resumes when sellable >= 5 sellable 0 · threshold 0" in text
    assert "budget 30.00 EUR -> 21.00 EUR for c-cap: every ad paused by rules" in text
    assert _row(cap.text, "data-action", str(keel.media.actions(code="c-cap")[0][0].id)).endswith(
        "budget 30.00 EUR → 21.00 EUR a day budget 30.00 EUR -> 21.00 EUR for c-cap: every ad paused by rules; "
        "9.00 EUR moved to c-tee (50% of the set budget at most); waits for approval above 1.00 EUR moved 9.00 EUR · "
        "share (%) 50 · "
        "set budget 30.00 EUR · moved today 0.00 EUR · day cap 9.00 EUR · minimum budget 1.00 EUR · "
        "approval above 1.00 EUR"
    )
    tee = client.get(f"{MEDIA}/campaigns/c-tee")
    assert _row(tee.text, "data-ad", "a-tee-s").startswith("a-tee-s g-tee TEE-S 6 ")
    assert "enabled → enabled 0.55 EUR → 0.55 EUR no rule drift changed on the platform" in _row(
        tee.text, "data-ad", "a-tee-m"
    )
    assert "resumed a-tee-s in DE: sellable 6 >= 5" in _text(tee.text)
    # the ads a page at a time, out of stock or held first
    assert re.findall(r'<tr data-ad="([^"]+)"', tee.text) == ["a-tee-m", "a-tee-s"]
    second = client.get(f"{MEDIA}/campaigns/c-tee", params={"size": "1", "page": "2"})
    assert re.findall(r'<tr data-ad="([^"]+)"', second.text) == ["a-tee-s"]
    assert f"2{DASH}2 of 2 ads · page 2 of 2" in _text(second.text)
    keel.stock.apply_batch([mv("sale-s2", "sold", "TEE-S", WH_DE, 6)])
    drain(keel)
    troubled = client.get(f"{MEDIA}/campaigns/c-tee")
    assert re.findall(r'<tr data-ad="([^"]+)"', troubled.text) == ["a-tee-s", "a-tee-m"]
    missing = client.get(f"{MEDIA}/campaigns/nope")
    assert missing.status_code == 404 and "There is no campaign 'nope'." in _text(missing.text)


def test_the_action_log_filters_and_decides(keel: Keel, world: World, sim: AdPlatforms, make_client: Make) -> None:
    story(keel, sim)
    client = make_client(keel)

    def ids(**query: str) -> list[str]:
        page = client.get(ACTIONS, params=query)
        assert page.status_code == 200, (query, page.text[:300])
        return re.findall(r'<tr data-action="(\d+)" data-mode="(\w+)"', page.text)

    every = ids()
    assert [m for _, m in every] == ["approval", "approval", "applied", "drift", "applied", "applied"]
    assert [m for _, m in ids(rule="pause when out")] == ["applied", "applied", "applied"]
    assert [m for _, m in ids(mode="approval", account=ACCOUNT)] == ["approval", "approval"]
    assert [m for _, m in ids(code="a-tee-s")] == ["applied", "applied"]
    assert ids(code="nope") == []
    page = client.get(ACTIONS)
    assert "Waiting for approval 2" in _text(page.text)
    assert _row(page.text, "data-object", "ad:a-tee-m") == (
        "ad a-tee-m g-de enabled, bid 0.55 EUR enabled, bid 0.70 EUR Keep Keel's Keep the platform's"
    )
    (tee_id, _), (cap_id, _) = every[0], every[1]
    assert "budget 50.00 EUR -> 59.00 EUR for c-tee" in _row(page.text, "data-action", tee_id)
    # when the move into c-tee is approved / then it is applied: Keel's budget is 59.00 EUR
    done = client.post(f"{ACTIONS}/{tee_id}/approve", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{ACTIONS}?done=approved&action={tee_id}"
    notice = _text(client.get(done.headers["location"]).text)
    assert f"Action {tee_id} approved. Its change is applied and on its way to the platform." in notice
    assert keel.media.actions(code="c-tee", mode="approved")[0][0].decided_by is not None
    assert keel.media.campaign_detail("c-tee").view.state == AdState(Status.ENABLED, None, 5900)
    # when the cut to c-cap is rejected / then its budget stays
    assert client.post(f"{ACTIONS}/{cap_id}/reject", follow_redirects=False).status_code == 303
    assert [a.mode for a in keel.media.actions(code="c-cap")[0]] == ["rejected"]
    assert keel.media.campaign_detail("c-cap").view.state == AdState(Status.ENABLED, None, 3000)
    assert "Waiting for approval 0" in _text(client.get(ACTIONS).text)
    # a decided action cannot be decided again; nothing changes
    keel.media.sender.send(ACCOUNT)  # waits for the send the approval started, so the snapshot holds still
    before = snapshot(keel)
    again = client.post(f"{ACTIONS}/{cap_id}/approve")
    assert again.status_code == 409 and "not waiting for approval" in _text(again.text)
    assert client.post(f"{ACTIONS}/{cap_id}/maybe").status_code == 404
    assert client.post(f"{ACTIONS}/999999/approve").status_code == 404
    assert snapshot(keel) == before


def test_drift_is_resolved_from_the_log(keel: Keel, world: World, sim: AdPlatforms, make_client: Make) -> None:
    story(keel, sim)
    client = make_client(keel)
    # when the platform's bid is kept / then Keel adopts it and the drift is gone
    done = client.post(f"{MEDIA}/drift/ad/a-tee-m/platform", follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "Drift on ad a-tee-m resolved. The platform's state kept." in _text(page.text)
    assert "No drift: every object the platforms were read back for holds what Keel sent." in _text(page.text)
    assert ad_state(keel, "a-tee-m") == AdState(Status.ENABLED, 70)
    resolved, drift = keel.media.actions(code="a-tee-m")[0]
    assert (resolved.mode, drift.mode) == ("manual", "drift")
    assert _row(page.text, "data-action", str(resolved.id)).startswith(
        f"{resolved.at:%Y-%m-%d %H:%M:%S} UTC #{resolved.id} ad a-tee-m g-de an operator manual "
        "bid: Keel's 0.55 EUR, the platform's 0.70 EUR drift resolved: platform's state kept"
    )
    # nothing left to resolve: refused, nothing changed
    keel.media.sender.send(ACCOUNT)  # waits for the send the resolve started, so the snapshot holds still
    before = snapshot(keel)
    assert client.post(f"{MEDIA}/drift/ad/a-tee-m/keel").status_code == 409
    assert client.post(f"{MEDIA}/drift/ad/a-tee-m/mine").status_code == 404
    assert client.post(f"{MEDIA}/drift/shelf/a-tee-m/keel").status_code == 404
    assert snapshot(keel) == before


def test_savings_by_day_rule_campaign_channel_and_region(
    keel: Keel, world: World, sim: AdPlatforms, make_client: Make
) -> None:
    first = story(keel, sim)
    client = make_client(keel)
    days = [(first + timedelta(days=i)).date().isoformat() for i in range(3)]
    # when the three days of the story are asked for
    page = client.get(SAVINGS, params={"start": days[0], "end": days[2]})
    text = _text(page.text)
    # then: 6 h of a-tee-m shown out of stock at 2.00 EUR (wasted 12.00); a-tee-s paused 12 h at its usual
    # 1.00 EUR an hour (avoided 12.00, 6.00 of it while out of stock) and 6 of them in stock at 4.00 EUR of
    # sales an hour (missed 24.00)
    assert page.status_code == 200
    assert f"Window {days[0]} 00:00 to {(first + timedelta(days=3)).date()} 00:00 UTC" in text
    assert "Wasted spend · EUR 12.00 EUR" in text and "Avoided spend · EUR 12.00 EUR 6.00 EUR of it while out" in text
    assert "Missed sales · EUR 24.00 EUR estimate" in text
    rule = _row(page.text.split('id="savings-rule"', 1)[1], "data-key", "pause when out")
    assert rule == "pause when out EUR 0.00 EUR 12.00 EUR 6.00 EUR 24.00 EUR 0.00 EUR 0.00 EUR 12.0 0.0 · 0.0"
    campaign = _row(page.text.split('id="savings-campaign"', 1)[1], "data-key", "c-tee")
    assert campaign == "c-tee EUR 12.00 EUR 12.00 EUR 6.00 EUR 24.00 EUR 0.00 EUR 0.00 EUR 12.0 12.0 · 0.0"
    assert _row(page.text.split('id="savings-channel"', 1)[1], "data-key", "web-de").startswith("web-de EUR 12.00 EUR")
    assert _row(page.text.split('id="savings-region"', 1)[1], "data-key", "DE").startswith("DE EUR 12.00 EUR")
    # the chart: per day, in major units of EUR
    charts = re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', page.text, re.S)
    assert charts is not None
    figure = __import__("json").loads(charts.group(1))[0]
    assert figure["id"] == "chart-savings-EUR" and [s["name"] for s in figure["data"]] == [
        "Wasted spend", "Avoided spend", "Missed sales (estimate)"
    ]  # fmt: skip
    assert [s["y"] for s in figure["data"]] == [[12.0, 0.0, 0.0], [0.0, 12.0, 0.0], [0.0, 24.0, 0.0]]
    assert figure["data"][0]["x"] == days
    # the groups with the most at stake first, as many as asked for
    top = client.get(SAVINGS, params={"start": days[0], "end": days[2], "size": "1"})
    assert re.findall(r'<tr data-key="([^"]+)"', top.text.split('id="savings-campaign"', 1)[1])[:2] == [
        "c-tee", "web-de"
    ]  # fmt: skip
    assert "By campaign the 1 with the most at stake of 2 Campaign" in _text(top.text)
    # the default window and bad ones
    assert "Wasted spend · EUR 12.00 EUR" in _text(client.get(SAVINGS, params={"days": "14"}).text)
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    for query in ({"days": "0"}, {"days": "94"}, {"start": "May"}, {"start": days[2], "end": days[0]},
                  {"start": "2020-01-01", "end": "2020-12-31"}, {"start": tomorrow}):  # fmt: skip
        bad = client.get(SAVINGS, params=query)
        assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html"), query


def test_empty_pages_say_what_to_do(keel: Keel, world: World, make_client: Make) -> None:
    # given no ad setup at all
    client = make_client(keel)
    listed = _text(client.get(MEDIA).text)
    assert "No campaigns yet. Load the ad accounts, campaigns, ad groups and ads as one batch" in listed
    assert "No ad has figures in this window yet" in listed
    actions = _text(client.get(ACTIONS).text)
    assert "No actions yet. Rules record an action each time they change an ad or a campaign" in actions
    assert "No drift" in actions
    assert "No savings to show for" in _text(client.get(SAVINGS).text)


def test_media_pages_need_media_read_and_decisions_media_write(keel: Keel, world: World, make_client: Make) -> None:
    client = make_client(keel, as_admin=False)
    for name, role in (("ana", Role.ANALYST), ("mia", Role.MARKETING), ("fr", Role.MARKETING)):
        keel.access.add_service(name, role)
    keel.access.set_scope("fr", None, ["FR"], set(world.channels))  # restricted: media spans every market
    analyst, marketing, restricted = (
        {"Authorization": f"Bearer {keel.access.create_token(name, 't').secret}"} for name in ("ana", "mia", "fr")
    )
    for path, allowed in ((MEDIA, 200), (ACTIONS, 200), (SAVINGS, 200), (f"{MEDIA}/campaigns/c-tee", 404)):
        assert client.get(path, headers=analyst).status_code == allowed, path  # 404: no setup here, but let in
        assert client.get(path, headers=restricted).status_code == 403, path
    assert client.post(f"{ACTIONS}/1/approve", headers=analyst).status_code == 403
    home = client.get("/ui/pricing", headers=restricted)
    assert home.status_code == 200 and f'href="{MEDIA}"' not in home.text
    assert client.get(MEDIA, headers=marketing).status_code == 200
    assert f'href="{MEDIA}"' in client.get(MEDIA, headers=marketing).text


# -- in Chromium -------------------------------------------------------------------------------------------------
@pytest.fixture
def served(tmp_path: Path, sim: AdPlatforms) -> Iterator[tuple[Keel, datetime]]:
    """The story in a SQLite Keel of its own (the served app and the test share it)."""
    keel = open_keel(f"sqlite:///{tmp_path / 'media.db'}")
    build_world(keel)
    first = story(keel, sim)
    yield keel, first
    keel.close()


@pytest.fixture
def base_url(served: tuple[Keel, datetime]) -> Iterator[str]:
    with serve_app(create_app(served[0])) as url:
        yield url


def shot(tab: Tab, name: str) -> None:
    tab.page.wait_for_load_state("networkidle")
    tab.page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar stays at the top of a full-page shot
    tab.page.screenshot(path=SHOTS / f"media-{name}.png", full_page=True)


@pytest.mark.browser
def test_media_pages_in_chromium(tab: Tab, served: tuple[Keel, datetime], sim: AdPlatforms) -> None:
    keel, first = served
    page = tab.page
    # the list, reached from the navigation: the summary, the week's savings, the campaigns
    tab.open("/ui/pricing")
    page.locator("header nav").get_by_role("link", name="Media", exact=True).click()
    expect(page.locator("h1")).to_have_text("Media campaigns")
    expect(page.locator('header nav a[aria-current="page"]')).to_have_text("Media")
    expect(page.get_by_test_id("media-held")).to_have_text("1")
    expect(page.get_by_test_id("media-drift")).to_have_text("1")
    expect(page.locator('#media-savings-table tr[data-currency="EUR"] [data-col="wasted"]')).to_have_text("12.00 EUR")
    expect(page.locator('tr[data-campaign="c-cap"] [data-col="held"]')).to_have_text("1")
    shot(tab, "campaigns")
    # filtered to the campaigns with a stock-out
    page.select_option("select[name=stock_outs]", "yes")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"stock_outs=yes"))
    expect(page.locator("#media-campaigns-table tbody tr")).to_have_count(1)
    # the campaign: its paused ad, the rule holding it, the stock and the reason
    page.locator("#media-campaigns-table").get_by_role("link", name="c-cap").click()
    expect(page.locator("h1")).to_contain_text("Caps DE")
    ad = page.locator('#campaign-ads-table tr[data-ad="a-cap"]')
    expect(ad.locator('[data-col="sellable"]')).to_have_text("0")
    expect(ad.locator('[data-col="held"]')).to_have_text("pause when out")
    expect(ad.locator('[data-col="status"]')).to_have_text("enabled → paused")
    expect(ad.locator('[data-col="bid"]')).to_have_text("0.30 EUR → 0.30 EUR")
    expect(page.locator("#campaign-actions-table")).to_contain_text("paused a-cap in DE: sellable 0 <= 0")
    shot(tab, "campaign")
    # an unknown campaign: the 404 page
    tab.open("/ui/media/campaigns/nope", status=404)
    expect(page.locator("main")).to_contain_text("There is no campaign 'nope'.")
    shot(tab, "campaign-404")
    # the log: approve the move into c-tee, reject the cut to c-cap, keep Keel's bid on a-tee-m
    tab.open(ACTIONS)
    expect(page.get_by_test_id("media-waiting")).to_have_text("2")
    shot(tab, "actions")
    waiting = {a.code: a.id for a in keel.media.actions(mode="approval")[0]}
    page.locator(f'tr[data-action="{waiting["c-tee"]}"]').get_by_role("button", name="Approve").click()
    expect(page.locator("#media-notice")).to_contain_text("approved. Its change is applied")
    expect(page.get_by_test_id("media-waiting")).to_have_text("1")
    page.locator(f'tr[data-action="{waiting["c-cap"]}"]').get_by_role("button", name="Reject").click()
    expect(page.locator("#media-notice")).to_contain_text("rejected.")
    expect(page.get_by_test_id("media-waiting")).to_have_text("0")
    assert keel.media.campaign_detail("c-tee").view.state == AdState(Status.ENABLED, None, 5900)
    assert keel.media.campaign_detail("c-cap").view.state == AdState(Status.ENABLED, None, 3000)
    page.locator('#media-drift-table tr[data-object="ad:a-tee-m"]').get_by_role("button", name="Keep Keel's").click()
    expect(page.locator("#media-notice")).to_have_text(
        "Drift on ad a-tee-m resolved. Keel's state kept: it is sent to the platform again."
    )
    expect(page.get_by_test_id("media-drift-open")).to_have_text("0")
    keel.media.sender.send(ACCOUNT)
    assert sim.state(Platform.GOOGLE, ACCOUNT)[(Level.AD, "a-tee-m")].bid == 55
    shot(tab, "actions-decided")
    # filtered by rule
    page.select_option("select[name=rule]", "pause when out")
    page.locator("form.filters").get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"rule=pause"))
    expect(page.locator("#media-actions-table tbody tr")).to_have_count(3)
    # savings over the story's three days: the chart drawn, the figures per currency
    days = [(first + timedelta(days=i)).date().isoformat() for i in (0, 2)]
    tab.open(f"{SAVINGS}?start={days[0]}&end={days[1]}")
    expect(page.get_by_test_id("savings-wasted-EUR")).to_have_text("12.00 EUR")
    expect(page.get_by_test_id("savings-avoided-EUR")).to_have_text("12.00 EUR")
    expect(page.get_by_test_id("savings-missed-EUR")).to_have_text("24.00 EUR")
    expect(page.locator("#chart-savings-EUR .main-svg").first).to_be_visible()
    expect(page.locator("#chart-savings-EUR .bars path")).to_have_count(9)  # three series on three days
    shot(tab, "savings")
    assert tab.unexpected_errors(404) == []


@pytest.mark.browser
def test_empty_media_pages_in_chromium(chromium: Browser, tmp_path: Path) -> None:
    # given Keel with no ad setup
    keel = open_keel(f"sqlite:///{tmp_path / 'empty.db'}")
    build_world(keel)
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    try:
        with serve_app(create_app(keel)) as url:
            tab = Tab(context.new_page(), url)
            tab.page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
            # when each page is opened / then it says what to do
            for path, name, says in (
                (MEDIA, "empty-campaigns", "No campaigns yet."),
                (ACTIONS, "empty-actions", "No actions yet."),
                (SAVINGS, "empty-savings", "No savings to show for"),
            ):
                tab.open(path)
                expect(tab.page.locator("main [role=status]").filter(has_text=says)).to_be_visible()
                shot(tab, name)
            assert tab.errors == []
    finally:
        context.close()
        keel.close()
