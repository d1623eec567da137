"""HEAD on every GET route, implemented once for the whole app.

FastAPI registers a GET route for GET only, so ``HEAD /healthz`` used to answer 405, although a server that
answers GET must answer HEAD (RFC 9110, 9.1) with the header fields GET would send (9.3.2); load balancers,
uptime probes and link checkers send it.
Rather than a HEAD twin of every route (which would double the OpenAPI document and the access table),
``HeadAsGet`` hands a HEAD request to the app as a GET and forwards only the response's status and headers:
the same status, the same headers (Content-Length included), no body.

It sits innermost, inside access control: the access middleware sees the request as HEAD and checks it
against the GET route's rule (``keel.access.Guard.rule`` maps HEAD to GET), so a HEAD is refused exactly
when the GET would be, with the same 401, 403 or 429, also without a body. The GET handler then runs in
full (a CSV export is produced and dropped): HEAD is meant to say what GET would answer, and only running
GET says it truthfully.

(A 405 names HEAD in its ``Allow`` header wherever GET is allowed: ``keel.platform.api.http_error_handler``.)
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Pure ASGI middleware: HEAD runs the GET route and drops the body (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.body" and message.get("more_body", False):
                return  # a chunk of a streamed body: dropped
            if kind in ("http.response.body", "http.response.pathsend"):  # the end (or a file to send): empty
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)  # the start (status and headers), or another extension's message

        # A copy: the server reads the method from its own scope and must still see HEAD, so that it neither
        # expects the body the Content-Length announces nor sends one.
        inner = {**scope, "method": "GET"}
        try:
            await self.app(inner, receive, send_headers_only)
        finally:
            if "route" in inner:  # the metrics middleware (outside) labels requests by route
                scope["route"] = inner["route"]
