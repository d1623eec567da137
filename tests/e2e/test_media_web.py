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
from playwright.sync_api import Page, expect, sync_playwright
from starlette.testclient import TestClient

from keel.access import Role
from keel.api import create_app
from keel.bootstrap import Keel
from keel.media import AdState, Level, Platform, Status
from keel.platform.clock import clock_at, utcnow
from keel.sim.adplatform import AdPlatforms
from tests.conftest import service_unavailable
from tests.e2e.test_web import CHROMIUM, CHROMIUM_ARGS
from tests.support import WH_DE, World, build_world, mv, open_keel, receive, serve_app, snapshot
from tests.support_media import ACCOUNT, PAUSE_RULE, ad_state, drain, media_world, sim_for

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
