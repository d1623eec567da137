"""The FastAPI application: mounts every context's router, problem handlers, health and metrics."""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keel.access import AccessMiddleware, Identity, RateLimiter
from keel.access import Guard as AccessGuard
from keel.access.api import router as access_router
from keel.audit.api import AuditMiddleware
from keel.audit.api import router as audit_router
from keel.bootstrap import Keel
from keel.catalog.api import EXPOSED_HEADERS as CATALOG_HEADERS
from keel.catalog.api import router as catalog_router
from keel.channels.api import router as channels_router
from keel.channels.api import sync_router
from keel.fx.api import router as fx_router
from keel.geo.api import router as geo_router
from keel.inventory.api import availability_router
from keel.inventory.api import router as inventory_router
from keel.media.api import router as media_router
from keel.orders.api import router as orders_router
from keel.planning.api import router as planning_router
from keel.platform.api import (
    http_error_handler,
    integrity_error_handler,
    keel_error_handler,
    unexpected_error_handler,
    validation_handler,
)
from keel.platform.config import LOCAL_HOSTS, split_list
from keel.platform.errors import ConfigError, KeelError
from keel.platform.head import HeadAsGet
from keel.platform.http import Guard, is_page, with_security_headers
from keel.platform.observability import HTTP_LATENCY, HTTP_REQUESTS, REGISTRY
from keel.platform.openapi import truthful_openapi
from keel.pricing.api import router as pricing_router
from keel.web.audit import router as audit_pages
from keel.web.catalog import router as catalog_pages
from keel.web.login import router as login_pages
from keel.web.media import router as media_pages
from keel.web.media_log import router as media_log_pages
from keel.web.orders import router as orders_pages
from keel.web.pages import STATIC_DIR
from keel.web.pages import router as web_router
from keel.web.planning import router as planning_pages
from keel.web.pricing import router as pricing_pages
from keel.web.promotions import router as promotion_pages
from keel.web.render import error_page, page_error_handler
from keel.web.sync import router as sync_pages
from keel.web.tower import router as tower_pages
from keel.web.tower import warm_insights
from keel.worker import BackgroundWorker


def plotly_dir() -> Path:
    """The directory holding the plotly package's bundled plotly.min.js (served locally, never from a CDN)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the plotly package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data"


class MetricsMiddleware:
    """Pure ASGI middleware (no per-request task or body streaming wrapper): counts and times requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_LATENCY.labels(route=route).observe(time.perf_counter() - start)
            HTTP_REQUESTS.labels(method=scope["method"], route=route, status=str(status[0])).inc()


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    database: str = Field(description="sqlite or postgresql")
    last_event_seq: int = Field(description="sequence number of the newest event")
    availability_lag_events: int = Field(description="events the availability projector has not applied yet")


API_DESCRIPTION = """\
Keel's HTTP API: locations, stock, availability, channels, orders, sourcing policies, postal codes, the audit
log and access. Each operation says what it does, what it refuses and whether repeating it is safe.

**Credentials.** Every operation but `GET /healthz` needs `Authorization: Bearer <token>`: create a token with
`keel tokens create`, then *Authorize* on this page sends it. A browser logged in to the control tower may read
with its session cookie; writes need the token. A role without the operation's permission gets 403, more
requests than the token's rate 429 with `Retry-After` (docs/access.md).

**Errors** are RFC 9457 problems (`application/problem+json`): `type`, `title`, `status`, `detail`, and
`errors` (row, field, reason) for a refused body or batch. A refused request changes no data (the audit log
still records the attempt).

**Retries.** Creations that carry the client's own id (movements, reservations and counts by `id`, orders by
`channel` and `external_id`) answer a repeat with the original; other content under the same id is a 409.

**HEAD** is answered on every GET route: the GET's status and headers, no body.
"""

DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Keel API</title>
  <link rel="icon" type="image/svg+xml" href="/static/favicon.svg">
  <link rel="stylesheet" href="/static/swagger/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/static/swagger/swagger-ui-bundle.js"></script>
  <script src="/static/docs.js"></script>
</body>
</html>
"""


ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


def pages_or_problems(problem: ErrorHandler) -> ErrorHandler:
    """An exception handler answering a page's error with an HTML page in the tower's layout and an API
    error with ``problem`` (RFC 9457): the path decides (``keel.platform.http.is_page``)."""

    async def handle(request: Request, exc: Exception) -> Response:
        if is_page(request.url.path):
            return with_security_headers(await page_error_handler(request, exc))
        return with_security_headers(await problem(request, exc))

    return handle


def create_app(keel: Keel, *, background: bool = False) -> FastAPI:
    """Build the app around an already bootstrapped ``keel``; ``background`` runs the worker thread."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = BackgroundWorker(keel) if background else None
        if worker:
            worker.start()
            threading.Thread(target=warm_insights, args=(keel,), name="insights-warm", daemon=True).start()
        yield
        if worker:
            worker.close()

    # docs_url=None: FastAPI's default page loads Swagger UI from a CDN; ours serves web/static/swagger.
    app = FastAPI(
        title="Keel",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,  # ReDoc's page loads its script from a CDN too
    )
    app.state.keel = keel
    app.add_exception_handler(KeelError, pages_or_problems(keel_error_handler))
    app.add_exception_handler(RequestValidationError, pages_or_problems(validation_handler))
    app.add_exception_handler(StarletteHTTPException, pages_or_problems(http_error_handler))
    app.add_exception_handler(IntegrityError, integrity_error_handler)
    app.add_exception_handler(Exception, pages_or_problems(unexpected_error_handler))

    guard = _guard(keel)
    app.add_middleware(HeadAsGet)  # innermost: access control checks a HEAD as the GET it becomes
    app.add_middleware(AccessMiddleware, guard=guard)
    # Outside access control, so refused attempts (401, 403) are recorded; inside the HTTP guard.
    app.add_middleware(AuditMiddleware)
    app.add_middleware(MetricsMiddleware)
    if keel.settings.cors_origins:  # no CORS unless configured: browsers then keep other sites out
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(split_list(keel.settings.cors_origins)),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type"],
            expose_headers=list(CATALOG_HEADERS),  # what a feed says before its body streams
        )
    app.add_middleware(Guard, settings=keel.settings)  # added last: outermost, so it sees every request

    @app.get("/healthz", response_model=Health, tags=["platform"], operation_id="healthz", summary="Check health")
    def healthz() -> dict[str, object]:
        """Liveness and readiness: the database answers, and how many events the availability projector has not applied
        yet. Needs no credentials.

        Refuses only a Host that is not allowed (400); when the database does not answer it fails with 500, which is
        what a readiness probe should see. Idempotent: a read, it changes nothing.
        """
        with keel.db.read() as conn:
            conn.execute(sa.text("SELECT 1"))
            last = keel.events.last_seq(conn)
            lag = keel.availability.backlog(conn)
        return {
            "status": "ok",
            "database": keel.db.dialect,
            "last_event_seq": last,
            "availability_lag_events": lag,
        }

    @app.get("/metrics", tags=["platform"], operation_id="metrics", summary="Prometheus metrics")
    def metrics_endpoint() -> Response:
        """HTTP requests and latencies by route, movements applied and batches refused, availability changes and
        reservations expired, in Prometheus' text exposition format, for a scraper.

        Refuses callers without the ``metrics.read`` permission. Idempotent: a read, it changes nothing (the counters
        themselves move with every request).
        """
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        # FastAPI's own page starts Swagger UI with an inline script, which the CSP forbids: docs.js does it
        return HTMLResponse(DOCS_PAGE)

    app.include_router(availability_router)
    app.include_router(inventory_router)
    app.include_router(channels_router)
    app.include_router(sync_router)
    app.include_router(orders_router)
    app.include_router(geo_router)
    app.include_router(fx_router)
    app.include_router(catalog_router)
    app.include_router(pricing_router)
    app.include_router(media_router)
    app.include_router(planning_router)
    app.include_router(audit_router)
    app.include_router(access_router)
    app.include_router(login_pages)
    app.include_router(tower_pages)
    app.include_router(web_router)
    app.include_router(orders_pages)
    app.include_router(audit_pages)
    app.include_router(catalog_pages)
    app.include_router(sync_pages)
    app.include_router(pricing_pages)
    app.include_router(promotion_pages)
    app.include_router(media_pages)
    app.include_router(media_log_pages)
    app.include_router(planning_pages)
    app.mount("/static/plotly", StaticFiles(directory=plotly_dir()), name="plotly")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.openapi = truthful_openapi(app)  # type: ignore[method-assign]
    guard.bind(app.routes)  # raises UndecidedRoutes: a route without a permission must not ship
    return app


def _guard(keel: Keel) -> AccessGuard:
    """Access enforcement for this app; open mode only where nobody but this machine can connect."""
    settings = keel.settings
    open_mode = settings.auth_mode == "open"
    if open_mode:
        if settings.host not in LOCAL_HOSTS:
            raise ConfigError(f"auth_mode 'open' is allowed only on 127.0.0.1, not on {settings.host}")
        logging.getLogger("keel.access").warning(
            "OPEN MODE: Keel answers every request as the admin, without credentials. Local demo only."
        )

    def denied(request: Request, identity: Identity) -> Response:
        detail = f"{identity.name} (role {identity.role.value}) may not open this page."
        if identity.scope.restricted:
            detail += (
                " Some pages (the audit log) span every channel and country and are not open to restricted identities."
            )
        return error_page(request, 403, "Not allowed", detail)

    return AccessGuard(
        access=keel.access,
        limiter=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
        open_mode=open_mode,
        page_denied=denied,
    )


def app_from_env() -> FastAPI:
    """Application factory for multi-process serving (``keel serve --workers N``): settings from the
    environment; the availability projector runs in its own ``keel worker`` process instead."""
    from keel.bootstrap import bootstrap

    return create_app(bootstrap(), background=False)
