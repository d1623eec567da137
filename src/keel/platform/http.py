"""The HTTP guard in front of every route: hosts, cross-site writes, content types, body size and nesting,
and the security headers of every response.

One pure ASGI middleware, so each rule is applied once, before any route or page code runs, and the same
way for the JSON API, the pages and the static files.

The cross-site rule (why both checks): a browser lets any site send a "simple" request to Keel without
asking first: a form or ``fetch(..., {mode: "no-cors"})`` may POST ``text/plain``, form-encoded or empty
bodies. So

1. an unsafe request (POST, PUT, PATCH, DELETE) whose ``Origin`` is not Keel's own (nor a configured CORS
   origin), or whose ``Sec-Fetch-Site`` says ``cross-site`` or ``same-site``, is refused with 403. Browsers
   send these headers on every cross-origin POST, including a bodiless one (a reservation release);
   clients that are not browsers (curl, integrations) send neither and are not affected;
2. an API write carrying a body must declare it ``application/json`` (``application/x-ndjson`` too on
   POST /inventory/movements), else 415: a form can never send those types without a CORS preflight,
   which Keel does not grant unless ``cors_origins`` lists the site. Pages under /ui keep their
   form-encoded posts; rule 1 keeps those same-origin.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keel.platform.api import problem_response
from keel.platform.config import Settings, split_list

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"
# Writes that take a body other than JSON (text/csv, like NDJSON, needs a CORS preflight from a browser).
NDJSON_ROUTES = {
    "/inventory/movements": frozenset({JSON, "application/x-ndjson"}),
    "/fx/rates": frozenset({"text/csv"}),
    "/catalog/imports": frozenset({"text/csv", "application/x-ndjson"}),
    "/media/performance/csv": frozenset({"text/csv"}),
    "/planning/history": frozenset({"text/csv"}),
}
PAGES = "/ui/"  # web pages post HTML forms (form-encoded, same origin only)
# Plotly draws with inline style attributes and <style> elements, and Swagger UI's icons are data: images;
# no inline or remote script is allowed anywhere (chart data rides in a <script type="application/json">).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_INNERMOST = re.compile(rb"\[\]|\{\}")
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(raw: bytes, max_depth: int) -> bool:
    """Whether a JSON (or NDJSON) body nests arrays and objects deeper than ``max_depth``.

    Decided without parsing (a 10,000-deep array makes ``json.loads`` raise RecursionError): strings are
    cut out, every byte but brackets is dropped, then innermost pairs are removed ``max_depth`` times, each
    pass at C speed. Brackets left over mean deeper nesting, unless another pass cannot remove any (the
    body is malformed, and the JSON parser will say so).
    """
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    for _ in range(max_depth):
        if not brackets:
            return False
        brackets = _INNERMOST.sub(b"", brackets)
    return bool(brackets) and len(_INNERMOST.sub(b"", brackets)) < len(brackets)


def with_security_headers(response: Response) -> Response:
    """``response`` with the security headers set, for the one response sent from outside ``Guard``: the 500
    of an unexpected error, answered by Starlette's outermost middleware."""
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)
    return response


def is_page(path: str) -> bool:
    """Whether ``path`` is a control-tower page's (``/`` and ``/ui...``): errors there are HTML pages, not
    problem documents, and an anonymous visitor is sent to the login page."""
    return path in ("/", "/ui") or path.startswith(PAGES)


def host_of(value: str) -> str:
    """The host of a Host header or URL netloc, without port or IPv6 brackets, lower case."""
    host = value.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """Pure ASGI middleware applying the rules of this module (see its docstring) to every HTTP request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_body = settings.max_body_bytes
        self.max_depth = settings.max_json_depth
        self.public_origin = _origin(settings.public_url) if settings.public_url else None
        hosts = set(split_list(settings.allowed_hosts))
        if self.public_origin:
            hosts.add(host_of(urlsplit(settings.public_url).netloc))
        self.any_host = "*" in hosts
        self.hosts = frozenset(h.lower() for h in hosts)
        self.cors_origins = frozenset(split_list(settings.cors_origins))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        headers = Headers(scope=scope)
        refusal = self.refusal(scope, headers)
        if refusal is None and scope["method"] in UNSAFE:
            body, refusal = await self.read_body(receive, headers)
            if refusal is None:
                receive = _replay(body, receive)
        if refusal is not None:
            status, title, detail, slug = refusal
            await problem_response(status, title, detail, slug)(scope, receive, send_secured)
            return
        await self.app(scope, receive, send_secured)

    def refusal(self, scope: Scope, headers: Headers) -> tuple[int, str, str, str] | None:
        """Why the request is refused before its body is read (status, title, detail, slug), or None."""
        host = host_of(headers.get("host", ""))
        if not self.any_host and host not in self.hosts:
            return 400, "Bad host", f"host {host!r} is not served here (setting allowed_hosts)", "bad-host"
        path: str = scope["path"]
        page = path.startswith(PAGES)  # pages answer bad links with an HTML page of their own
        if "\x00" in path or (not page and b"%00" in scope.get("query_string", b"")):
            # PostgreSQL refuses NUL in text: refused here, the same on both databases
            return 400, "Bad request", "the URL contains a NUL character", "bad-request"
        if scope["method"] not in UNSAFE:
            return None
        if self.cross_site(headers):
            detail = "cross-site writes are refused (setting cors_origins allows named origins)"
            return 403, "Cross-site request", detail, "cross-site"
        if page:
            return None
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        accepted = NDJSON_ROUTES.get(path, frozenset({JSON}))
        if (media or has_body) and media not in accepted:
            detail = f"content type {media or 'none'!r} is not accepted; send {' or '.join(sorted(accepted))}"
            return 415, "Unsupported media type", detail, "unsupported-media-type"
        return None

    def cross_site(self, headers: Headers) -> bool:
        """Whether a browser says the request comes from another site (see the module docstring)."""
        origin = headers.get("origin")
        if origin is not None and origin in self.cors_origins:
            return False
        if headers.get("sec-fetch-site") in ("cross-site", "same-site"):
            return True
        if origin is None:
            return False
        own = {self.public_origin} if self.public_origin else _own_origins(headers.get("host", ""))
        return origin.lower() not in own

    async def read_body(self, receive: Receive, headers: Headers) -> tuple[bytes, tuple[int, str, str, str] | None]:
        """The whole body, or the refusal when it is over ``max_body_bytes`` (known from Content-Length before
        anything is read, else counted as it arrives: at most the limit plus one chunk is ever held) or nested
        too deep."""
        too_large = (413, "Payload too large", f"body over {self.max_body} bytes (setting max_body_bytes)",
                     "payload-too-large")  # fmt: skip
        declared = headers.get("content-length", "")
        if declared.isdecimal() and int(declared) > self.max_body:
            return b"", too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return b"", (400, "Bad request", "the client disconnected", "bad-request")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        media = headers.get("content-type", "")
        if "json" in media and too_deep(body, self.max_depth):
            detail = f"JSON nested deeper than {self.max_depth} levels (setting max_json_depth)"
            return b"", (400, "Bad request", detail, "too-deep")
        return body, None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _own_origins(host: str) -> set[str]:
    """Keel's origins when no public_url is set: the (already allowed) Host over either scheme."""
    return {f"{scheme}://{host.lower()}" for scheme in ("http", "https")}


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable handing the buffered body to the app in one message, then the server's own
    messages (a later disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
