"""Every link of the control tower keeps its filter: crawl the pages from the overview, and for every
internal link with a query string check that the page it opens declares each parameter, opens (200) and
shows each value back (in its filter form, its crumbs or its heading), so no link silently drops a filter."""

from __future__ import annotations

import html
import re
from collections import deque
from urllib.parse import parse_qsl, urlsplit

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path
from starlette.testclient import TestClient

from keel.bootstrap import Keel
from tests.e2e.test_access_scope import order
from tests.support import MARKET, WEB_DE, WH_DE, WH_FR, World, mv, receive
from tests.support_catalog import shelf
from tests.support_media import PAUSE_RULE, drain, setup_batch

HREF = re.compile(r'href="([^"]+)"')
SKIPPED = ("/static", "/docs", "/openapi.json", "/ui/login", "/ui/logout")
MAX_PAGES = 150


def _query_names(client: TestClient, path: str) -> set[str]:
    """The query parameters the page answering ``path`` declares."""
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        original = route.original_route
        if isinstance(original, APIRoute) and "GET" in original.methods and compile_path(route.path)[0].match(path):
            return {p.alias for p in original.dependant.query_params}
    raise AssertionError(f"no page answers {path}")


def test_every_link_keeps_its_filters(keel: Keel, world: World, make_client: type[TestClient]) -> None:
    receive(keel, "SKU-1", WH_DE, 20)
    receive(keel, "SKU-1", WH_FR, 20)
    keel.availability.catch_up()
    client = make_client(keel)
    for channel, country in ((WEB_DE, "DE"), (MARKET, "FR")):
        assert client.post("/orders", json=order(channel, f"{country}-1", country)).status_code == 201
    assert client.post("/inventory/counts", json={"sku": "SKU-1", "location": WH_DE, "counted": 19}).status_code == 201
    keel.insights.ttl = 0
    shelf(keel, WEB_DE, MARKET)  # catalog pages with products, listings and revisions to link
    keel.sync.configure(WEB_DE, {"url": "http://127.0.0.1:9/hook", "secret": "links-secret"})  # the sync pages
    keel.promotions.save("ten", {"kind": "percent_off", "percent": "0.1", "scope": {"all": True}})  # the calendar
    media(keel)  # the media pages, with a paused ad and its rule to link
    seen: set[str] = set()
    queue = deque(["/?refresh=0", "/ui/availability?sku=SKU-1", "/ui/stock?country=DE", "/ui/catalog/readiness"])
    checked = 0
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code, page.text[:300])
        parts = urlsplit(url)
        if parts.query:
            declared = _query_names(client, parts.path)
            shown = html.unescape(re.sub(r"<[^>]+>", " ", page.text))
            for name, value in parse_qsl(parts.query):
                assert name in declared, f"{url}: the page ignores {name!r}"
                assert value in shown or value in html.unescape(page.text), f"{url}: {name}={value!r} not shown"
            checked += 1
        for href in HREF.findall(page.text):
            target = html.unescape(href)
            if target.startswith("/") and not target.startswith(SKIPPED) and target not in seen:
                queue.append(target)
    assert checked > 20, f"only {checked} filtered links were followed"
    assert (
        any(u.startswith("/ui/catalog?blocked_on=") for u in seen)
        and "/ui/catalog/products/TEE?from=1&to=2#diff" in seen
        and f"/ui/sync/{WEB_DE}" in seen
        and any(u.startswith("/ui/pricing/promotions?start=") for u in seen)
        and "/ui/media/actions?rule=pause+when+out&code=a-tee-s" in seen
    )


def media(keel: Keel) -> None:
    """An ad setup on the shelf's products and a pause rule that has paused the TEE-S ad (sold out)."""
    keel.media.watcher.wake = lambda: None  # nothing to send to: the states stay owed
    batch = setup_batch()
    batch["ads"][2]["skus"] = ["CAP-1"]  # the shelf's cap
    keel.media.setup.save(batch)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    receive(keel, "TEE-S", WH_DE, 3)
    drain(keel)
    keel.stock.apply_batch([mv("sold-tee", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
