"""Tokens, sessions, CSRF and rate limits over HTTP, on both databases: every refusal changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

import keel.access.service as access_service
from keel.access import SESSION_COOKIE, AccessMiddleware, Guard, RateLimiter, Role, Rule
from keel.api import create_app
from keel.bootstrap import Keel
from keel.platform.actor import Actor, current_actor
from keel.platform.clock import utcnow
from keel.platform.errors import ConfigError
from tests.support import TEST_OPERATOR, TEST_PASSWORD, WH_DE, World, admin_session, mv, position, snapshot

WAVES = "/ui/orders/waves"
Make = Callable[..., TestClient]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def planner(keel: Keel, **kwargs: object) -> str:
    keel.access.add_service("wms", Role.INVENTORY_PLANNER)
    return keel.access.create_token("wms", "feed", **kwargs).secret  # type: ignore[arg-type]


def test_a_valid_token_writes_and_a_revoked_one_is_401_changing_nothing(
    keel: Keel, world: World, make_client: Make
) -> None:
    # given a planner's token that works
    client = make_client(keel, as_admin=False)
    token = planner(keel)
    assert (
        client.post(
            "/inventory/movements", json=[mv("a", "received", "SKU-1", WH_DE, 5)], headers=bearer(token)
        ).status_code
        == 200
    )
    # when it is revoked
    keel.access.revoke_token(token.split("_")[1])
    before = snapshot(keel)
    response = client.post("/inventory/movements", json=[mv("b", "received", "SKU-1", WH_DE, 5)], headers=bearer(token))
    # then it is refused as a bad credential and nothing changed
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "the token is unknown, expired or revoked"
    assert snapshot(keel) == before
    assert position(keel, "SKU-1", WH_DE)["on_hand"] == 5


@pytest.mark.parametrize("mangle", ["tampered", "expired", "disabled", "malformed", "basic"])
def test_bad_credentials_are_401_and_change_nothing(
    keel: Keel, world: World, make_client: Make, monkeypatch: pytest.MonkeyPatch, mangle: str
) -> None:
    client = make_client(keel, as_admin=False)
    token = planner(keel, expires_at=utcnow() + timedelta(hours=1))
    header = f"Bearer {token}"
    if mangle == "tampered":
        header = f"Bearer {token[:-1]}{'A' if token[-1] != 'A' else 'B'}"
    elif mangle == "expired":
        later = utcnow() + timedelta(hours=2)
        monkeypatch.setattr(access_service, "utcnow", lambda: later)
    elif mangle == "disabled":
        keel.access.disable("wms")
    elif mangle == "malformed":
        header = "Bearer not-a-keel-token"
    else:
        header = "Basic d21zOnNlY3JldA=="
    before = snapshot(keel)
    response = client.post(
        "/inventory/movements", json=[mv("a", "received", "SKU-1", WH_DE, 5)], headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert snapshot(keel) == before


def test_a_token_scoped_to_reads_cannot_write(keel: Keel, world: World, make_client: Make) -> None:
    client = make_client(keel, as_admin=False)
    token = planner(keel, scopes=["inventory.read"])
    assert client.get("/inventory/positions", headers=bearer(token)).status_code == 200
    before = snapshot(keel)
    refused = client.post("/inventory/movements", json=[mv("a", "received", "SKU-1", WH_DE, 5)], headers=bearer(token))
    assert refused.status_code == 403
    assert refused.json()["permission"] == "inventory.write"
    assert snapshot(keel) == before


def test_last_used_at_is_written_at_most_once_a_minute(keel: Keel, make_client: Make) -> None:
    client = make_client(keel, as_admin=False)
    token = planner(keel)
    assert keel.access.list_tokens("wms")[0].last_used_at is None
    client.get("/locations", headers=bearer(token))
    first = keel.access.list_tokens("wms")[0].last_used_at
    client.get("/locations", headers=bearer(token))
    assert first is not None and keel.access.list_tokens("wms")[0].last_used_at == first


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def login(client: TestClient, name: str, password: str, next_url: str = "/ui/orders") -> tuple[int, str]:
    """Fill and send the login form; (status, Location)."""
    form = client.get("/ui/login", params={"next": next_url})
    assert form.status_code == 200
    data = {"username": name, "password": password, "csrf": _csrf(form.text), "next": next_url}
    sent = client.post("/ui/login", data=data, follow_redirects=False)
    return sent.status_code, sent.headers.get("location", "")


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(keel: Keel, make_client: Make) -> None:
    # given a person
    admin_session(keel)  # creates the test operator
    client = make_client(keel, as_admin=False)
    # when they log in
    assert login(client, TEST_OPERATOR, TEST_PASSWORD) == (303, "/ui/orders")
    # then the cookie is HttpOnly, SameSite=Lax, not Secure on plain http, and pages open
    cookie = next(c for c in client.cookies.jar if c.name == SESSION_COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "lax"
    assert not cookie.secure
    page = client.get("/ui/orders")
    assert page.status_code == 200 and TEST_OPERATOR in page.text
    # and logging out ends the session on the server
    assert client.post("/ui/logout", data={"csrf": _csrf(page.text)}, follow_redirects=False).status_code == 303
    client.cookies.set(SESSION_COOKIE, cookie.value or "")
    assert client.get("/ui/orders", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_secure_behind_an_https_public_url(
    keel_factory: Callable[..., Keel], make_client: Make
) -> None:
    keel = keel_factory(public_url="https://keel.example.com")
    admin_session(keel)
    client = make_client(keel, as_admin=False)
    assert login(client, TEST_OPERATOR, TEST_PASSWORD)[0] == 303
    assert next(c for c in client.cookies.jar if c.name == SESSION_COOKIE).secure


def test_a_bad_password_is_401_and_opens_no_session(keel: Keel, make_client: Make) -> None:
    admin_session(keel)
    client = make_client(keel, as_admin=False)
    before = snapshot(keel)
    status, _ = login(client, TEST_OPERATOR, "wrong password!")
    assert status == 401
    assert login(client, "nobody", TEST_PASSWORD)[0] == 401
    assert SESSION_COOKIE not in client.cookies
    assert snapshot(keel) == before


@pytest.mark.parametrize("cookie", ["tampered", "made-up"])
def test_a_tampered_cookie_goes_to_login_on_pages_and_is_401_on_the_api(
    keel: Keel, make_client: Make, cookie: str
) -> None:
    real = admin_session(keel)
    client = make_client(keel, as_admin=False)
    client.cookies.set(SESSION_COOKIE, real[:-2] + "xx" if cookie == "tampered" else "x" * 43)
    page = client.get("/ui/orders?status=open", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/ui/login?next=%2Fui%2Forders%3Fstatus%3Dopen")
    assert client.get("/locations").status_code == 401


def test_a_session_cookie_never_authorises_a_json_write(keel: Keel, world: World, make_client: Make) -> None:
    client = make_client(keel, as_admin=False)
    client.cookies.set(SESSION_COOKIE, admin_session(keel))
    assert client.get("/locations").status_code == 200  # reads, for the pages' links
    before = snapshot(keel)
    response = client.post("/inventory/movements", json=[mv("a", "received", "SKU-1", WH_DE, 5)])
    assert response.status_code == 401
    assert snapshot(keel) == before


@pytest.mark.parametrize("sent", [None, "wrong", "other-session"])
def test_a_form_without_the_sessions_csrf_token_is_403_and_changes_nothing(
    keel: Keel, world: World, make_client: Make, sent: str | None
) -> None:
    client = make_client(keel, as_admin=False)
    client.cookies.set(SESSION_COOKIE, admin_session(keel))
    token = _csrf(client.get(WAVES).text)
    if sent == "other-session":
        other = make_client(keel, as_admin=False)
        other.cookies.set(SESSION_COOKIE, admin_session(keel))
        sent = _csrf(other.get(WAVES).text)
    assert sent != token
    before = snapshot(keel)
    data = {"country": "DE", "limit": "200"} | ({"csrf": sent} if sent else {})
    assert client.post(WAVES, data=data, follow_redirects=False).status_code == 403
    assert snapshot(keel) == before
    # while the session's own token is accepted
    done = client.post(WAVES, data={"country": "DE", "limit": "200", "csrf": token}, follow_redirects=False)
    assert done.status_code == 303


def test_rate_limit_per_token_answers_429_with_retry_after(
    keel_factory: Callable[..., Keel], make_client: Make
) -> None:
    keel = keel_factory(rate_limit_per_s=0.5, rate_limit_burst=2)
    client = make_client(keel, as_admin=False)
    token = planner(keel)
    other = keel.access.create_token("wms", "other").secret
    assert [client.get("/locations", headers=bearer(token)).status_code for _ in range(2)] == [200, 200]
    limited = client.get("/locations", headers=bearer(token))
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.headers["content-type"] == "application/problem+json"
    assert client.get("/locations", headers=bearer(other)).status_code == 200  # per token, not per identity


def test_open_mode_needs_no_credentials_and_shows_a_banner(
    keel_factory: Callable[..., Keel], make_client: Make
) -> None:
    keel = keel_factory(auth_mode="open")
    client = make_client(keel, as_admin=False)
    assert client.get("/locations").status_code == 200
    page = client.get("/ui/orders")
    assert page.status_code == 200 and 'class="open-banner"' in page.text


def test_open_mode_refuses_to_start_off_localhost(keel_factory: Callable[..., Keel]) -> None:
    keel = keel_factory(auth_mode="open", host="0.0.0.0")
    with pytest.raises(ConfigError, match=r"only on 127\.0\.0\.1"):
        create_app(keel)


def test_the_middleware_names_the_actor_and_the_identity_for_the_request(keel: Keel, make_client: Make) -> None:
    # given an inner app that records what the audit log and routes would see
    seen: list[tuple[Actor, object]] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        seen.append((current_actor.get(), scope["state"]["identity"].name))
        await PlainTextResponse("ok")(scope, receive, send)

    guard = Guard(keel.access, RateLimiter(0, 1), open_mode=False, page_denied=lambda r, i: PlainTextResponse(""))
    guard.matchers.append((re.compile("^/probe$"), frozenset({"GET"}), Rule("access.self")))
    token = planner(keel)
    probe = TestClient(AccessMiddleware(inner, guard))  # no `with`: no lifespan events for the inner app
    assert probe.get("/probe", headers=bearer(token)).status_code == 200
    # then the actor was set during the request only
    ((actor, name),) = seen
    assert (actor.name, actor.via, actor.address, name) == ("wms", "api", "testclient", "wms")
    assert current_actor.get().via == "system"
    # and routes read the same identity through IdentityDep
    client = make_client(keel, as_admin=False)
    me = client.get("/access/me", headers=bearer(token)).json()
    assert (me["name"], me["kind"], me["role"], me["channels"]) == ("wms", "service", "inventory_planner", None)


def test_failed_logins_are_throttled_per_name_and_address(keel: Keel, make_client: Make) -> None:
    # given a person, and at most 3 failures in a row, then one a minute (on a clock the test moves)
    admin_session(keel)
    now = [1000.0]
    keel.access.login_failures = RateLimiter(1 / 60, 3, clock=lambda: now[0])
    client = make_client(keel, as_admin=False)
    # when three wrong passwords are sent, each is a plain 401
    assert [login(client, TEST_OPERATOR, f"wrong password {i}")[0] for i in range(3)] == [401, 401, 401]
    # then even the right password is refused for a while (the password is not checked), with Retry-After,
    # and so is any other name from the same address
    form = client.get("/ui/login")
    data = {"username": TEST_OPERATOR, "password": TEST_PASSWORD, "csrf": _csrf(form.text), "next": "/"}
    refused = client.post("/ui/login", data=data, follow_redirects=False)
    assert refused.status_code == 429 and "Too many failed logins" in refused.text
    assert int(refused.headers["Retry-After"]) == 60
    assert login(client, "someone-else", "whatever it is")[0] == 429
    assert SESSION_COOKIE not in client.cookies
    # and a minute later the right password works again
    now[0] += 61
    assert login(client, TEST_OPERATOR, TEST_PASSWORD)[0] == 303
