"""Login and logout pages, and the CSRF check every state-changing form uses.

CSRF: a logged-in browser's forms carry the session's synchronizer token (``csrf``, stored with the
session, rendered into each form); the login form, before any session exists, uses a double-submit cookie.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from keel.access import LOGIN, SESSION_COOKIE, session_cookie
from keel.deps import KeelDep
from keel.platform.errors import TooManyRequests
from keel.web.render import PageRoute, error_page, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
LOGIN_CSRF_COOKIE = "keel_login_csrf"
FormField = Annotated[str | None, Form()]


def csrf_ok(request: Request, sent: str | None) -> bool:
    """Whether a form POST may change anything. A form from another site's page (its Origin names another
    host) never may. With a session, ``sent`` must be the session's synchronizer token. A bearer token
    is never attached by a browser on its own, and open mode has no session: the Origin check is theirs."""
    origin = request.headers.get("origin")
    if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
        return False
    expected = request.scope.get("state", {}).get("csrf")
    if expected is None:
        return True
    return sent is not None and hmac.compare_digest(expected.encode(), sent.encode())


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//other.site`` or ``https://...``): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _login_page(request: Request, next_url: str, status: int = 200, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    context = {"title": "Log in", "csrf_login": token, "next": next_url, "error": error}
    response = render(request, "login.html", context, status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path=LOGIN, httponly=True, samesite="strict")
    return response


@router.get(LOGIN)
def login_page(request: Request, next: str | None = None) -> Response:
    return _login_page(request, _safe_next(next))


@router.post(LOGIN)
def login(
    request: Request,
    keel: KeelDep,
    username: FormField = None,
    password: FormField = None,
    csrf: FormField = None,
    next: FormField = None,
) -> Response:
    """Check the password; on success a new session cookie and a 303 to ``next``."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not csrf or not hmac.compare_digest(cookie.encode(), csrf.encode()):
        return error_page(request, 403, "Refused", "Log in from Keel's own login page.")
    client = request.client
    try:
        session_id = keel.access.login(username or "", password or "", client.host if client else None)
    except TooManyRequests as exc:
        response = _login_page(request, _safe_next(next), 429, "Too many failed logins. Wait a minute, then try again.")
        response.headers["Retry-After"] = str(exc.extra.get("retry_after", 60))
        return response
    if session_id is None:
        return _login_page(request, _safe_next(next), 401, "Wrong name or password.")
    response = RedirectResponse(_safe_next(next), status_code=303)
    settings = keel.settings
    session_cookie(
        response,
        session_id,
        secure=settings.public_url.startswith("https://"),
        max_age=int(settings.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=LOGIN)
    return response


@router.post("/ui/logout")
def logout(request: Request, keel: KeelDep, csrf: FormField = None) -> Response:
    """End the session and go back to the login page."""
    if not csrf_ok(request, csrf):
        return error_page(request, 403, "Refused", "Log out from Keel's own pages.")
    session_id = request.scope.get("state", {}).get("session")
    if session_id is not None:
        keel.access.logout(session_id)
    response = RedirectResponse(LOGIN, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
