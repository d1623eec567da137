"""HEAD on every GET route (keel.platform.head): the GET's status and headers, no body, the same access checks.

SQLite only: this is about HTTP semantics, not storage. The access matrix (test_access_matrix.py) checks that
HEAD gets GET's decision for every role; here every GET route of the app is called as the admin, in a world
where each of them finds its record, plus one request over a real uvicorn server."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.testclient import TestClient

from keel.access import ROUTES
from keel.api import create_app
from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from tests.e2e.test_http import assert_problem
from tests.support import MARKET, ST_DE, WEB_DE, WH_DE, build_world, receive, serve_app
from tests.support_catalog import shelf
from tests.support_media import setup_batch
from tests.support_planning import seed_sales

# A value for each path parameter that names a record of the seeded world (so every GET answers 200).
VALUES = {
    "sku": "SKU-1",
    "rid": "R-1",
    "order_id": "1",
    "number": "1",
    "seq": "1",
    "channel": WEB_DE,
    "gtin": "4006381333931",
    "scope": "*",  # the default pricing policy
    "suggestion_id": "1",  # the planning run's first suggestion
}
CODES = {
    "/locations/": WH_DE,
    "/channels/": WEB_DE,
    "/sync/channels/": WEB_DE,
    "/geo/postal-codes/": "10115",
    "/catalog/families/": "apparel",
    "/catalog/profiles/": "web-store",
    "/catalog/products/": "TEE",
    "/ui/catalog/products/": "TEE",
    "/ui/sync/": WEB_DE,
    "/pricing/lists/": "base-eur",
    "/pricing/promotions/": "xmas",
    "/ui/pricing/promotions/": "xmas",
    "/ui/media/campaigns/": "c-tee",
    "/media/accounts/": "g-de",
    "/media/campaigns/": "c-tee",
}
# Query strings some GET routes need to find their record.
QUERIES = {
    "/catalog/products/{code}/diff": "?from=1&to=2",
    "/catalog/products/{code}/compliance": "?profile=web-store",
    "/catalog/feeds/{channel}": "?format=csv",
    "/planning/history": f"?sku=SKU-PL&location={ST_DE}",
    "/planning/forecast": f"?sku=SKU-PL&location={ST_DE}",
    "/planning/forecast/country": "?sku=SKU-PL&country=DE",
}
SYNC = {"url": "http://127.0.0.1:9/hook", "secret": "head-secret"}  # port 9: nothing answers
VOLATILE = {"date", "set-cookie"}  # differ between any two responses


def concrete(path: str, rma: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        if name == "code":
            return next(v for prefix, v in CODES.items() if path.startswith(prefix))
        return {"rma": rma, "country": "DE"}.get(name) or VALUES[name]

    return re.sub(r"\{([^}]+)\}", fill, path)


def seed(keel: Keel, client: TestClient) -> str:
    """Stock, a postal code, reservation R-1 and order 1 delivered and returned; the return's RMA."""
    build_world(keel)
    shelf(keel, WEB_DE, MARKET)
    receive(keel, "SKU-1", WH_DE, 10)
    keel.sync.configure(WEB_DE, SYNC)
    keel.pricing.save_list("base-eur", {"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "9.99"}]})
    keel.pricing.set_policy("*", {"rules": []})
    keel.promotions.save("xmas", {"kind": "percent_off", "percent": "0.20", "coupon": True, "scope": {"all": True}})
    keel.pricing.competitors.save([{"competitor": "acme", "country": "DE", "sku": "SKU-1", "currency": "EUR",
                                    "amount": "9.49", "observed_at": "2026-01-01T00:00:00Z"}])  # fmt: skip
    media = setup_batch()
    media["ads"][2]["skus"] = ["CAP-1"]  # the shelf's cap
    keel.media.setup.save(media)
    row = {"country": "DE", "postal_code": "10115", "place": "Berlin", "latitude": 52.53, "longitude": 13.38}
    keel.postcodes.load([row], source="test")
    seed_sales(keel, utcnow().date())  # a store selling SKU-PL, and a replenishment plan with suggestion 1
    assert keel.planning.plan(country="DE").suggestions > 0
    assert client.post("/inventory/reservations", json={"sku": "SKU-1", "location": WH_DE, "quantity": 1,
                                                        "id": "R-1"}).status_code == 201  # fmt: skip
    order = {"channel": WEB_DE, "external_id": "W-1", "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "9.50"}],
             "customer": {"name": "Ann"}, "ship_to": {"country": "DE", "postal_code": "10115"}}  # fmt: skip
    assert client.post("/orders", json=order).status_code == 201
    for step, body in (("pick", None), ("pack", None), ("ship", {"carrier": "DHL", "tracking_number": "1"}),
                       ("deliver", None)):  # fmt: skip
        assert client.post(f"/orders/1/allocations/1/{step}", json=body).status_code == 200, step
    opened = client.post("/orders/1/returns", json={"lines": [{"line_no": 1, "quantity": 1}]})
    assert opened.status_code == 201
    return str(opened.json()["rma"])


def test_head_answers_every_get_route_with_the_gets_status_and_headers_and_no_body(
    sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]
) -> None:
    # given a world where every GET route finds its record
    client = make_client(sqlite_keel)
    rma = seed(sqlite_keel, client)
    checked, wrong = [], []
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        if isinstance(route.original_route, Mount) or "GET" not in (route.methods or set()):
            continue
        path = concrete(route.path or "", rma) + QUERIES.get(route.path or "", "")
        # when the same URL is asked for with GET and with HEAD
        got = client.get(path, follow_redirects=False)
        head = client.head(path, follow_redirects=False)
        # then HEAD has GET's status and headers, and no body
        # (the metrics exposition counts requests, so its length moves between two calls)
        volatile = VOLATILE | ({"content-length"} if path == "/metrics" else set())
        expected = {k: v for k, v in got.headers.items() if k not in volatile}
        if got.status_code != 200 or head.status_code != 200 or head.content != b"":
            wrong.append(f"{path}: GET {got.status_code}, HEAD {head.status_code} with {len(head.content)} bytes")
        elif {k: v for k, v in head.headers.items() if k not in volatile} != expected:
            wrong.append(f"{path}: headers differ: GET {expected}, HEAD {dict(head.headers)}")
        checked.append(("GET", route.path))
    assert wrong == []
    assert sorted(checked) == sorted(key for key in ROUTES if key[0] == "GET")  # every GET row of the table


def test_a_refused_head_is_refused_like_its_get_without_a_body(
    sqlite_keel: Keel, make_client: Callable[..., TestClient]
) -> None:
    anonymous = make_client(sqlite_keel, as_admin=False)
    for path in ("/orders", "/access/identities", "/no/such/path"):
        got, head = anonymous.get(path), anonymous.head(path)
        assert (head.status_code, head.content) == (401, b"")
        assert head.headers["www-authenticate"] == got.headers["www-authenticate"] == "Bearer"
        assert head.headers["content-type"] == got.headers["content-type"] == "application/problem+json"
    page = anonymous.head("/ui/orders", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/ui/login?next=%2Fui%2Forders")


def test_a_405_names_head_beside_get(sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]) -> None:
    client = make_client(sqlite_keel)
    refused = client.put("/healthz")
    assert_problem(refused, 405, "http")
    assert refused.headers["allow"] == "GET, HEAD"
    post_only = client.head("/inventory/counts")  # a write route: HEAD is no more allowed than GET
    assert (post_only.status_code, post_only.headers["allow"], post_only.content) == (405, "POST", b"")


def test_head_over_a_real_server_keeps_the_connection_usable(sqlite_keel: Keel) -> None:
    # uvicorn must see HEAD to send no body while Content-Length announces the GET's: a stray body would be
    # read as the start of the next response on the same connection.
    with serve_app(create_app(sqlite_keel)) as url, httpx.Client(base_url=url) as http:
        head = http.head("/healthz")
        got = http.get("/healthz")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == got.headers["content-length"] == str(len(got.content))
    assert got.json()["status"] == "ok"
