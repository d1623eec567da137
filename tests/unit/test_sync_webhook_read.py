"""The webhook connector's read back, on httpx's mock transport: a signed GET over an empty body, the values
asked for picked from the channel's answer, and every odd answer refused as a whole."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from keel.channels.sync.model import ReadResult
from keel.channels.sync.webhook import WebhookConnector, verify

SECRET = "s3cret"
NOW = 1_800_000_000.0
KEYS = [("A", "DE"), ("B", "FR")]


def _read(answer: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request] | None = None) -> ReadResult:
    def handler(request: httpx.Request) -> httpx.Response:
        (seen if seen is not None else []).append(request)
        return answer(request)

    c = WebhookConnector("http://market.test/", SECRET, clock=lambda: NOW, transport=httpx.MockTransport(handler))
    try:
        return c.read("ch01", KEYS)
    finally:
        c.close()


def test_the_read_is_a_signed_get_and_picks_the_keys_asked_for() -> None:
    seen: list[httpx.Request] = []
    held = [
        {"sku": "A", "country": "DE", "quantity": 3, "content": None, "price": None, "version": 2},
        {"sku": "C", "country": "DE", "quantity": 9, "content": None, "price": None, "version": 1},
    ]
    assert _read(lambda _: httpx.Response(200, json=held), seen) == ReadResult({("A", "DE"): 3})
    (request,) = seen
    assert (request.method, str(request.url)) == ("GET", "http://market.test/channels/ch01/inventory")
    headers = request.headers
    assert verify(SECRET, headers["x-keel-timestamp"], b"", headers["x-keel-signature"], NOW)


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(429, headers={"Retry-After": "5"}), "rate limited (429)"),
        (httpx.Response(503, text="down"), "HTTP 503: down"),
        (httpx.Response(200, text="<html>"), "malformed response: not JSON"),
        (httpx.Response(200, json={"items": []}), "malformed response"),
        (httpx.Response(200, json=[{"sku": "A", "country": "DE", "quantity": "3"}]), "malformed response"),
        (httpx.Response(200, json=[{"sku": "A", "country": "DE", "quantity": True}]), "malformed response"),
        (
            httpx.Response(200, json=[{"sku": "A", "country": "DE", "quantity": 1}] * 2),  # the same listing twice
            "malformed response",
        ),
    ],
)
def test_an_odd_answer_is_an_error_not_values(response: httpx.Response, error: str) -> None:
    assert _read(lambda _: response) == ReadResult(error=error)


def test_a_dropped_connection_is_an_error() -> None:
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("closed", request=request)

    assert _read(drop) == ReadResult(error="connection error: RemoteProtocolError")
