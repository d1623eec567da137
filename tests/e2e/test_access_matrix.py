"""The route x role matrix, built from the application's own route table: every route (and page) is
called anonymously and with a token of every role; the status class must follow ``keel.access.ROUTES``.
HEAD, which has no rows of its own, must get exactly its GET's status.

SQLite only: this is about the decision per route, not storage (tests/e2e/test_access_http.py runs the
token and session behaviour on both databases)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.testclient import TestClient

from keel.access import MOUNTS, ROLES, ROUTES, Role, UndecidedRoutes
from keel.api import create_app
from keel.bootstrap import Keel

LOGIN_REDIRECT = re.compile(r"^/ui/login\?next=")


def concrete(path: str) -> str:
    """A path template with every parameter filled (``1`` fits ids and codes alike)."""
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture
def matrix_client(sqlite_keel: Keel) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_keel)) as client:
        yield client


def tokens(keel: Keel) -> dict[Role, str]:
    """One service account and token per role."""
    out = {}
    for role in Role:
        keel.access.add_service(f"svc-{role.value}", role)
        out[role] = keel.access.create_token(f"svc-{role.value}", "matrix").secret
    return out


def test_every_route_and_role_gets_the_status_its_permission_says(sqlite_keel: Keel, matrix_client: TestClient) -> None:
    # given a token per role and every route of the app
    by_role = tokens(sqlite_keel)
    app = matrix_client.app
    assert hasattr(app, "routes")
    checked, wrong = 0, []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            assert MOUNTS[route.path or ""].permission is None
            response = matrix_client.get(f"{route.path}/favicon.svg", follow_redirects=False)
            assert response.status_code not in (401, 403), route.path  # static files are public
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            rule = ROUTES[(method, route.path or "")]
            path = concrete(route.path or "")
            # when it is called anonymously
            anon = matrix_client.request(method, path, follow_redirects=False)
            location = anon.headers.get("location", "")
            if method == "GET":  # HEAD has no row of its own: it gets its GET's decision (keel.platform.head)
                head = matrix_client.head(path, follow_redirects=False)
                if (head.status_code, head.headers.get("location", "")) != (anon.status_code, location):
                    wrong.append(f"anonymous HEAD {path}: {head.status_code}, GET {anon.status_code}")
            if rule.permission is None:
                expected_anon = anon.status_code != 401 and not LOGIN_REDIRECT.match(location)
            elif rule.page:
                expected_anon = anon.status_code == 303 and bool(LOGIN_REDIRECT.match(location))
            else:
                expected_anon = anon.status_code == 401 and anon.headers.get("www-authenticate") == "Bearer"
            if not expected_anon:
                wrong.append(f"anonymous {method} {path}: {anon.status_code} {location}")
            # and with every role's token
            for role, token in by_role.items():
                headers = {"Authorization": f"Bearer {token}"}
                got = matrix_client.request(method, path, headers=headers, follow_redirects=False).status_code
                if method == "GET":
                    head = matrix_client.head(path, headers=headers, follow_redirects=False).status_code
                    if head != got:
                        wrong.append(f"{role.value} HEAD {path}: {head}, GET {got}")
                allowed = rule.permission is None or rule.permission in ROLES[role]
                # a public route's own 403 (the login form without its CSRF cookie) is not an access decision
                refused = got == 403 and rule.permission is not None
                if refused == allowed or got == 401:
                    wrong.append(f"{role.value} {method} {path}: {got} (allowed: {allowed})")
                checked += 1
    # then every decision holds, over every route of the table
    assert wrong == []
    assert checked == len(ROUTES) * len(Role)


def test_unknown_paths_need_credentials_before_they_are_404(matrix_client: TestClient, sqlite_keel: Keel) -> None:
    sqlite_keel.access.add_service("reader", Role.ANALYST)
    token = sqlite_keel.access.create_token("reader", "t").secret
    assert matrix_client.get("/no/such/path").status_code == 401
    assert matrix_client.get("/no/such/path", headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_the_app_refuses_to_start_with_a_route_that_has_no_decision(
    sqlite_keel: Keel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the table without its row for GET /orders
    monkeypatch.delitem(ROUTES, ("GET", "/orders"))
    # when the app is built, then it refuses, naming the route
    with pytest.raises(UndecidedRoutes, match="GET /orders"):
        create_app(sqlite_keel)


def test_a_table_row_naming_no_route_also_refuses_start(sqlite_keel: Keel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ROUTES, ("GET", "/renamed"), ROUTES[("GET", "/orders")])
    with pytest.raises(UndecidedRoutes, match=r"GET /renamed \(in the table, not in the app\)"):
        create_app(sqlite_keel)
