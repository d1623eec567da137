"""Enforcement at the HTTP edge: a pure ASGI middleware that, before any routing or body parsing,
resolves who is calling and checks the permission ``keel.access.routes`` gives the route being called.

- Credentials: ``Authorization: Bearer keel_...`` or the ``keel_session`` cookie. The cookie is accepted
  on reads and on pages only: a JSON write needs a bearer token, so a cross-site form can never ride on a
  logged-in browser's cookie to change data (page forms carry a CSRF token instead).
- Anonymous: 401 problem with ``WWW-Authenticate: Bearer`` (pages: 303 to ``/ui/login?next=...``).
- A role without the permission: 403 problem (pages: a 403 page).
- More than the token's rate: 429 problem with ``Retry-After``.
The resolved ``Identity`` is in ``request.state.identity`` (``IdentityDep``) and the ``Actor`` in
``keel.platform.actor.current_actor`` for the request's duration.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from keel.access.model import LOCAL_OPERATOR, UNRESTRICTED_ONLY, Identity, split_token
from keel.access.ratelimit import RateLimiter, retry_after
from keel.access.routes import MOUNTS, ROUTES, Rule
from keel.access.service import AccessService
from keel.platform.actor import Actor, Via, current_actor
from keel.platform.api import problem_response
from keel.platform.errors import Unauthenticated
from keel.platform.http import is_page
from keel.platform.scope import Scope as DataScope

SESSION_COOKIE = "keel_session"
LOGIN = "/ui/login"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUTHENTICATED = Rule("access.self")  # a path with no route (404) or no such method (405): any identity
AUTHENTICATED_PAGE = Rule("access.self", page=True)  # the same among the pages: anonymous -> the login page
PageDenied = Callable[[Request, Identity], Response]


class UndecidedRoutes(RuntimeError):
    """Routes with no access decision: the app must not start."""


@dataclass
class Guard:
    """What the middleware needs; ``bind`` fills the route matchers once the app has all its routes."""

    access: AccessService
    limiter: RateLimiter
    open_mode: bool
    page_denied: PageDenied
    matchers: list[tuple[re.Pattern[str], frozenset[str], Rule]] = field(default_factory=list)

    def bind(self, routes: list[Any]) -> None:
        """Match every route of the app to its rule; raise ``UndecidedRoutes`` for any route missing from
        ``ROUTES``/``MOUNTS`` and for any rule naming no route (a stale row hides a renamed route)."""
        missing: list[str] = []
        used: set[tuple[str, str]] = set()
        for route in iter_route_contexts(routes):
            path = route.path or ""
            if isinstance(route.original_route, Mount):
                if path not in MOUNTS:
                    missing.append(f"mount {path}")
                    continue
                regex = re.compile("^" + re.escape(path) + "(/.*)?$")
                self.matchers.append((regex, frozenset(), MOUNTS[path]))
                continue
            regex, _, _ = compile_path(path)
            for method in sorted((route.methods or set()) - {"HEAD"}):
                rule = ROUTES.get((method, path))
                if rule is None:
                    missing.append(f"{method} {path}")
                    continue
                used.add((method, path))
                self.matchers.append((regex, frozenset({method}), rule))
        missing += [f"{m} {p} (in the table, not in the app)" for m, p in sorted(set(ROUTES) - used)]
        if missing:
            raise UndecidedRoutes("routes without an access decision: " + "; ".join(missing))

    def rule(self, method: str, path: str) -> Rule:
        method = "GET" if method == "HEAD" else method
        for regex, methods, rule in self.matchers:
            if regex.match(path) and (not methods or method in methods):
                return rule
        return AUTHENTICATED_PAGE if is_page(path) else AUTHENTICATED


class AccessMiddleware:
    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        guard = self.guard
        request = Request(scope)
        rule = guard.rule(scope["method"], scope["path"])
        state = scope.setdefault("state", {})
        state["open_mode"] = guard.open_mode
        if rule.permission is None:
            await self.app(scope, receive, send)
            return
        identity, key, refused = await run_in_threadpool(self._identify, request, rule)
        if refused is None and identity is None and guard.open_mode:
            identity, key = LOCAL_OPERATOR, None
        if refused is not None or identity is None:
            await self._unauthenticated(request, rule, refused)(scope, receive, send)
            return
        via: Via = "web" if rule.page else "api"
        client = scope.get("client")
        # The audit middleware (outside this one) gave a write request its id; keep it, name the identity.
        audited: Actor | None = state.get("actor")
        actor = Actor(
            str(identity.id), identity.name, via, client[0] if client else None, audited.request_id if audited else None
        )
        state["actor"] = actor
        if not identity.can(rule.permission):
            await self._forbidden(request, rule, identity)(scope, receive, send)
            return
        wait = guard.limiter.take(key) if key is not None else 0.0
        if wait > 0:
            detail = "this token made more requests than its rate limit allows; retry later"
            response = problem_response(429, "Too many requests", detail, "rate-limited")
            response.headers["Retry-After"] = retry_after(wait)
            await response(scope, receive, send)
            return
        state["identity"] = identity
        reset = current_actor.set(actor)
        try:
            await self.app(scope, receive, send)
        finally:
            current_actor.reset(reset)

    def _identify(self, request: Request, rule: Rule) -> tuple[Identity | None, str | None, str | None]:
        """(identity, rate-limit key, why a presented credential was refused)."""
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                return None, None, "the Authorization header must be 'Bearer <token>'"
            identity = self.guard.access.authenticate_token(value.strip())
            if identity is None:
                return None, None, "the token is unknown, expired or revoked"
            parsed = split_token(value.strip())
            return identity, parsed[0] if parsed else None, None
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie is None or (request.method in UNSAFE and not rule.page):
            return None, None, None
        found = self.guard.access.session(cookie)
        if found is None:
            return None, None, "the session has expired or is not valid"
        request.scope["state"]["session"] = cookie
        request.scope["state"]["csrf"] = found[1]
        return found[0], None, None

    def _unauthenticated(self, request: Request, rule: Rule, refused: str | None) -> Response:
        if rule.page:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response: Response = RedirectResponse(f"{LOGIN}?{urlencode({'next': target})}", status_code=303)
            if refused is not None and SESSION_COOKIE in request.cookies:
                response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        detail = refused or "send 'Authorization: Bearer <token>' (see docs/access.md)"
        response = problem_response(401, "Unauthenticated", detail, "unauthenticated")
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"' if refused else "Bearer"
        return response

    def _forbidden(self, request: Request, rule: Rule, identity: Identity) -> Response:
        if rule.page:
            return self.guard.page_denied(request, identity)
        detail = f"{identity.name} (role {identity.role.value}) lacks the permission {rule.permission}"
        if rule.permission in UNRESTRICTED_ONLY and identity.scope.restricted:
            detail += " (never granted to an identity restricted to some channels or countries)"
        return problem_response(403, "Forbidden", detail, "forbidden", permission=rule.permission)


def session_cookie(response: Response, session_id: str, *, secure: bool, max_age: int) -> None:
    """Set the session cookie: HttpOnly (no script reads it), SameSite=Lax (no cross-site POST sends it)."""
    response.set_cookie(
        SESSION_COOKIE, session_id, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure
    )


async def get_identity(request: Request) -> Identity:
    """The identity the middleware resolved; public routes have none (401 if one asks)."""
    identity = request.scope.get("state", {}).get("identity")
    if not isinstance(identity, Identity):
        raise Unauthenticated("this route needs credentials")
    return identity


IdentityDep = Annotated[Identity, Depends(get_identity)]


async def get_scope(request: Request) -> DataScope:
    """The caller's restrictions (``Scope.ALL`` for an unrestricted identity), for routes to pass to services."""
    return (await get_identity(request)).scope


ScopeDep = Annotated[DataScope, Depends(get_scope)]
