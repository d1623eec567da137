"""Template environment and the route class that turns page errors into friendly HTML pages.

The JSON API answers errors with problem documents; a person in a browser gets a page with the
navigation bar, what went wrong and where to go next instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from keel.access import ROUTES, Identity
from keel.platform.api import with_head
from keel.platform.errors import KeelError, NotFound
from keel.platform.scope import Scope
from keel.web.params import PAGE_SIZES, BadQuery, url_with

logger = logging.getLogger("keel.web")
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
UI = "/ui"  # the JSON API owns /locations, /channels and /availability/{sku}
NAV = (
    ("Overview", "/"),
    ("Stock by region", f"{UI}/stock"),
    ("Inventory", f"{UI}/inventory"),
    ("Channel availability", f"{UI}/availability"),
    ("Locations", f"{UI}/locations"),
    ("Channels", f"{UI}/channels"),
    ("Sync", f"{UI}/sync"),
    ("Pricing", f"{UI}/pricing"),
    ("Media", f"{UI}/media"),
    ("Planning", f"{UI}/planning"),
    ("Orders", f"{UI}/orders"),
    ("Catalog", f"{UI}/catalog"),
    ("Audit", f"{UI}/audit"),
)


MISSING = "\N{EN DASH}"


def _num(value: object) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _pct(value: float | None) -> str:
    return MISSING if value is None else f"{value * 100:.1f}%"


def _when(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return MISSING if value is None else str(value)


def _active_nav(path: str) -> str:
    """The navigation entry a path belongs to (the longest matching prefix; none for an unknown page)."""
    best = "/" if path == "/" else ""
    for _, href in NAV:
        if href != "/" and (path == href or path.startswith(href + "/")) and len(href) > len(best):
            best = href
    return best


@jinja2.pass_context
def _url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> str:
    """A route's URL as a path: Starlette's own url_for builds an absolute URL from the request's Host
    header, which a client chooses; a path needs no host at all."""
    request: Request = context["request"]
    root: str = request.scope.get("root_path", "")
    return root + str(request.app.url_path_for(name, **path_params))


def page_scope(request: Request) -> Scope:
    """The channels and countries the page's viewer may see (the access middleware put the identity there)."""
    identity: Identity | None = request.scope.get("state", {}).get("identity")
    return Scope.ALL if identity is None else identity.scope


def _nav_for(identity: Identity) -> list[tuple[str, str]]:
    """The navigation entries this identity may open (a link that only leads to a 403 page helps nobody)."""
    return [(label, href) for label, href in NAV if identity.can(ROUTES[("GET", href)].permission or "")]


def _restriction(identity: Identity) -> str | None:
    """A line saying what a restricted identity's pages leave out; None when nothing is left out."""
    scope = identity.scope
    parts = []
    if scope.channels is not None:
        parts.append("channels " + (", ".join(sorted(scope.channels)) or "(none)"))
    if scope.countries is not None:
        parts.append("countries " + (", ".join(sorted(scope.countries)) or "(none)"))
    return " and ".join(parts) if parts else None


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(num=_num, pct=_pct, when=_when)
templates.env.globals.update(nav=NAV, ui=UI, url_with=url_with, active_nav=_active_nav, page_sizes=PAGE_SIZES)
templates.env.globals["url_for"] = _url_for
templates.env.globals.update(nav_for=_nav_for, restriction=_restriction)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status)


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return render(request, "error.html", {"status": status, "title": title, "detail": detail}, status)


HTTP_TITLES = {404: "Page not found", 405: "Not allowed on this page"}
INTERNAL = (500, "Something went wrong", "Keel hit an unexpected error and logged it. Try again, or go elsewhere.")


def _page_problem(request: Request, exc: Exception) -> tuple[int, str, str]:
    """(status, title, detail) of the page telling a person what went wrong: only what a client may see."""
    if isinstance(exc, StarletteHTTPException) and exc.status_code < 500:
        if exc.status_code == 404:
            return 404, HTTP_TITLES[404], f"There is no page at {request.url.path}."
        return exc.status_code, HTTP_TITLES.get(exc.status_code, str(exc.detail)), str(exc.detail)
    if isinstance(exc, KeelError) and exc.status < 500:
        return exc.status, exc.title, exc.detail
    if isinstance(exc, RequestValidationError):
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return 422, "That request is not valid", fields
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return INTERNAL


async def page_error_handler(request: Request, exc: Exception) -> Response:
    """Any error of a page (an unknown page, a wrong method, a bug) as an HTML page in the tower's layout; the
    JSON API answers the same errors with problem documents (``keel.platform.api``). A bug's page names no
    internals: the traceback goes to the log."""
    status, title, detail = _page_problem(request, exc)
    try:
        response = error_page(request, status, title, detail)
    except Exception:  # the layout itself failed: still answer, in plain text
        logger.exception("the error page of %s %s failed to render", request.method, request.url.path)
        response = PlainTextResponse(f"{status} {title}\n\n{detail}\n", status_code=status)
    if isinstance(exc, StarletteHTTPException) and exc.headers:  # a 405's Allow
        response.headers.update({k: with_head(v) if k.lower() == "allow" else v for k, v in exc.headers.items()})
    return response


class PageRoute(APIRoute):
    """Renders ``BadQuery`` as a 400 page and ``NotFound`` (unknown SKU, channel...) as a 404 page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except BadQuery as exc:
                return error_page(request, 400, "That link has a bad value", f"{exc.field} {exc.reason}.")
            except NotFound as exc:
                return error_page(request, 404, "Not found", exc.detail)

        return guarded
