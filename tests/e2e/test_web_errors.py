"""Errors among the pages (``/`` and ``/ui/...``) are HTML pages in the tower's layout; the JSON API keeps
answering RFC 9457 problems. A bug's page names no internals (they go to the log).

SQLite only: this is about how errors are presented, not storage. A browser test shows both pages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from starlette.testclient import TestClient

from keel.api import create_app
from keel.bootstrap import Keel
from keel.platform.errors import Conflict
from keel.platform.http import SECURITY_HEADERS
from tests.e2e.test_http import assert_problem
from tests.e2e.test_web import NAV, Tab, chromium, tab
from tests.support import admin_headers, open_keel, serve_app

__all__ = ["chromium", "tab"]  # fixtures shared with test_web
SECRET = "simulated bug in table secret_internal_table"


def html(response: Any, status: int) -> str:
    """The body of an HTML error page with ``status``, after checking it is one."""
    assert response.status_code == status
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert 'class="error-page"' in response.text and 'class="topbar"' in response.text
    assert f'<p class="error-status">{status}</p>' in response.text
    return str(response.text)


@pytest.fixture
def broken_keel(sqlite_keel: Keel, monkeypatch: pytest.MonkeyPatch) -> Keel:
    """A Keel whose order list and insights fail with a bug (as a page's use case could)."""

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(sqlite_keel.orders.reads, "list", broken)
    monkeypatch.setattr(sqlite_keel.insights, "snapshot", broken)
    return sqlite_keel


def test_an_unknown_page_is_a_404_page(sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]) -> None:
    client = make_client(sqlite_keel)
    for path in ("/ui/nope", "/ui/orders/1/nope", "/ui", "/ui/"):
        text = html(client.get(path), 404)
        assert "Page not found" in text and f"There is no page at {path}." in text, path
    hostile = html(client.get("/ui/<script>alert(1)</script>"), 404)
    assert "<script>alert" not in hostile and "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile


def test_an_anonymous_visitor_of_an_unknown_page_is_sent_to_log_in(
    sqlite_keel: Keel, make_client: Callable[..., TestClient]
) -> None:
    anonymous = make_client(sqlite_keel, as_admin=False)
    response = anonymous.get("/ui/nope", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/ui/login?next=%2Fui%2Fnope")


def test_a_method_a_page_does_not_take_is_a_405_page(
    sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]
) -> None:
    response = make_client(sqlite_keel).put("/ui/orders")
    html(response, 405)
    assert response.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/ui/orders", "/"])
def test_a_bug_in_a_page_is_a_500_page_without_internals(
    broken_keel: Keel, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given a page whose use case raises / when it is opened
    with (
        caplog.at_level(logging.ERROR, logger="keel.web"),
        TestClient(create_app(broken_keel), raise_server_exceptions=False, headers=admin_headers(broken_keel)) as c,
    ):
        response = c.get(path)
    # then a 500 page in the tower's layout, under the same security headers as every response
    text = html(response, 500)
    assert "Something went wrong" in text
    for internal in ("secret_internal_table", "RuntimeError", "Traceback", "tower.py", "orders.py"):
        assert internal not in text, internal
    for name, value in SECURITY_HEADERS:
        assert response.headers[name] == value, name
    # and the traceback is in the log
    (record,) = [r for r in caplog.records if r.name == "keel.web"]
    assert record.getMessage() == f"unhandled error on GET {path}"
    assert record.exc_info is not None and SECRET in str(record.exc_info[1])


def test_a_refusal_or_a_bad_parameter_on_a_page_is_an_html_page(sqlite_keel: Keel) -> None:
    # given test-only pages: one whose use case refuses, one with a typed parameter (the tower's own pages
    # parse their parameters by hand, so this is the safety net for a page that does not)
    app = create_app(sqlite_keel)

    def refuses() -> None:
        raise Conflict("the wave changed meanwhile; plan it again")

    def typed(n: int) -> int:
        return n

    app.add_api_route("/ui/test/refuses", refuses)
    app.add_api_route("/ui/test/typed", typed)
    with TestClient(app, headers=admin_headers(sqlite_keel)) as client:
        refused = html(client.get("/ui/test/refuses"), 409)
        assert "<h1>Conflict</h1>" in refused and "the wave changed meanwhile; plan it again" in refused
        invalid = html(client.get("/ui/test/typed?n=abc"), 422)
        assert "n: Input should be a valid integer" in invalid


def test_the_api_keeps_answering_problems(broken_keel: Keel) -> None:
    with TestClient(create_app(broken_keel), raise_server_exceptions=False, headers=admin_headers(broken_keel)) as c:
        assert_problem(c.get("/no/such/thing"), 404, "http")
        assert_problem(c.get("/orders/nope/nope"), 404, "http")
        missing = assert_problem(c.get("/orders/999"), 404, "not-found")
        assert missing["detail"] == "order 999 does not exist"
        assert_problem(c.put("/healthz"), 405, "http")
        bug = c.get("/orders")
        problem = assert_problem(bug, 500, "internal")
        assert SECRET not in problem["detail"]
        assert bug.headers["content-security-policy"] == dict(SECURITY_HEADERS)["content-security-policy"]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    keel = open_keel(f"sqlite:///{tmp_path_factory.mktemp('errors') / 'keel.db'}")

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(SECRET)

    keel.orders.reads.list = broken  # type: ignore[method-assign]
    with serve_app(create_app(keel)) as url:
        yield url
    keel.close()


@pytest.mark.browser
def test_error_pages_in_the_browser(tab: Tab) -> None:
    tab.open("/ui/nope", status=404)
    expect(tab.page.locator("h1")).to_have_text("Page not found")
    expect(tab.page.locator("nav[aria-label=Main] a")).to_have_count(len(NAV))  # the way back is one click away
    tab.shot("error-404")
    tab.open("/ui/orders", status=500)
    expect(tab.page.locator("h1")).to_have_text("Something went wrong")
    tab.shot("error-500")
    assert tab.unexpected_errors(404, 500) == []
