"""The HTTP guard (keel.platform.http) seen from outside: content types, cross-site writes, hosts, CORS,
security headers, and Swagger UI and the pages under their Content-Security-Policy in Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import expect
from starlette.testclient import TestClient

from keel.api import create_app
from keel.bootstrap import Keel
from keel.platform.http import CSP
from tests.e2e.test_http import assert_problem
from tests.e2e.test_web import Tab, chromium, tab
from tests.support import WH_DE, World, mv, open_keel, receive, serve_app, snapshot

__all__ = ["chromium", "tab"]  # fixtures shared with test_web
MOVEMENT = '[{"id": "x1", "kind": "received", "sku": "SKU-1", "location": "WH-DE-1", "quantity": 5}]'


@pytest.fixture
def held(keel: Keel, world: World, client: TestClient) -> Keel:
    """The world with 10 x SKU-1 at WH-DE-1 and reservation r1 of 2 held."""
    receive(keel, "SKU-1", WH_DE, 10)
    assert client.post("/inventory/reservations", json={"sku": "SKU-1", "location": WH_DE, "quantity": 2,
                                                        "id": "r1"}).status_code == 201  # fmt: skip
    return keel


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]
)
def test_a_write_that_is_not_json_is_a_415_and_changes_nothing(
    held: Keel, client: TestClient, content_type: str | None
) -> None:
    before = snapshot(held)
    headers = {"content-type": content_type} if content_type else {}
    for url in ("/inventory/movements", "/inventory/reservations", "/locations"):
        response = client.post(url, content=MOVEMENT.encode(), headers=headers)
        problem = assert_problem(response, 415, "unsupported-media-type")
        assert problem["detail"].startswith(f"content type {(content_type or 'none').split(';')[0]!r} is not accepted")
    assert snapshot(held) == before


def test_ndjson_is_accepted_only_where_documented(held: Keel, client: TestClient) -> None:
    ndjson = {"content-type": "application/x-ndjson"}
    assert client.post("/inventory/movements", content=MOVEMENT[1:-1], headers=ndjson).status_code == 200
    before = snapshot(held)
    assert_problem(client.post("/locations", content="{}", headers=ndjson), 415, "unsupported-media-type")
    assert snapshot(held) == before


@pytest.mark.parametrize(
    "headers",
    [{"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}, {"origin": "null"},
     {"content-type": "text/plain", "origin": "https://evil.example"}],
    ids=["origin", "sec-fetch-site", "null-origin", "text-form"],
)  # fmt: skip
def test_a_cross_site_bodiless_post_is_a_403_and_changes_nothing(
    held: Keel, client: TestClient, headers: dict[str, str]
) -> None:
    before = snapshot(held)
    for url in ("/inventory/reservations/r1/release", "/inventory/reservations/r1/commit"):
        assert_problem(client.post(url, headers=headers), 403, "cross-site")
    assert snapshot(held) == before


def test_same_origin_and_non_browser_posts_work(held: Keel, client: TestClient) -> None:
    # a browser on Keel's own origin, and a script sending no Origin at all
    same = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    assert client.post("/inventory/reservations/r1/release", headers=same).json()["status"] == "released"
    assert client.post("/inventory/movements", json=[mv("y", "received", "SKU-1", WH_DE, 1)]).status_code == 200


def test_an_unknown_host_is_a_400(held: Keel, client: TestClient) -> None:
    before = snapshot(held)
    problem = assert_problem(client.get("/healthz", headers={"host": "evil.example"}), 400, "bad-host")
    assert problem["detail"] == "host 'evil.example' is not served here (setting allowed_hosts)"
    assert_problem(client.post("/inventory/reservations/r1/release", headers={"host": "evil.example"}), 400, "bad-host")
    assert snapshot(held) == before
    assert client.get("/healthz", headers={"host": "localhost:8000"}).status_code == 200


def test_public_url_sets_the_host_and_the_origin(
    keel_factory: Callable[..., Keel], make_client: Callable[[Keel], TestClient]
) -> None:
    client = make_client(keel_factory(public_url="https://keel.example.com", allowed_hosts=""))
    assert client.get("/healthz", headers={"host": "keel.example.com"}).status_code == 200
    assert_problem(client.get("/healthz"), 400, "bad-host")  # testserver is no longer allowed
    own = {"host": "keel.example.com", "origin": "https://keel.example.com", "content-type": "application/json"}
    assert client.post("/inventory/movements", content="[]", headers=own).status_code == 200
    other = {**own, "origin": "http://keel.example.com"}  # the proxy speaks TLS: plain http is another origin
    assert_problem(client.post("/inventory/movements", content="[]", headers=other), 403, "cross-site")


def test_no_cors_by_default_and_only_listed_origins_when_configured(
    client: TestClient, keel_factory: Callable[..., Keel], make_client: Callable[[Keel], TestClient]
) -> None:
    preflight = {"origin": "https://shop.example", "access-control-request-method": "POST"}
    plain = client.options("/inventory/movements", headers=preflight)
    assert "access-control-allow-origin" not in plain.headers
    cors = make_client(keel_factory(cors_origins="https://shop.example"))
    allowed = cors.options("/inventory/movements", headers=preflight)
    assert (allowed.status_code, allowed.headers["access-control-allow-origin"]) == (200, "https://shop.example")
    refused = cors.options("/inventory/movements", headers={**preflight, "origin": "https://evil.example"})
    assert "access-control-allow-origin" not in refused.headers
    listed = {"origin": "https://shop.example", "content-type": "application/json"}
    assert cors.post("/inventory/movements", content="[]", headers=listed).status_code == 200
    # a feed's counts, sent as headers before its body, are readable by the listed origin's scripts
    exposed = cors.get("/catalog/feeds/nowhere", headers={"origin": "https://shop.example"})
    assert set(exposed.headers["access-control-expose-headers"].lower().split(", ")) == {
        "x-keel-listings", "x-keel-blocked", "x-keel-left-out", "x-keel-left-out-rules", "link"
    }  # fmt: skip


@pytest.mark.parametrize("path", ["/", "/ui/orders", "/docs", "/healthz", "/orders/1", "/static/keel.css"])
def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["content-security-policy"] == CSP
    assert "script-src 'self';" in CSP and "unsafe-eval" not in CSP and "frame-ancestors 'none'" in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"


def test_page_urls_never_come_from_the_host_header(client: TestClient) -> None:
    page = client.get("/ui/orders", headers={"host": "localhost"}).text
    assert 'href="/static/keel.css"' in page and "http://" not in page.split("<body")[0]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    keel = open_keel(f"sqlite:///{tmp_path_factory.mktemp('docs') / 'keel.db'}")
    with serve_app(create_app(keel)) as url:
        yield url
    keel.close()


@pytest.mark.browser
def test_swagger_ui_renders_under_the_csp(tab: Tab) -> None:
    response = tab.open("/docs")
    assert response.headers["content-security-policy"] == CSP
    # Swagger UI's script ran (it draws its own markup into #swagger-ui) and rendered /openapi.json
    # (tests/e2e/test_docs_ui.py checks the explorer itself).
    expect(tab.page.locator("#swagger-ui .opblock").first).to_be_visible()
    assert tab.errors == []  # a CSP violation is a console error
