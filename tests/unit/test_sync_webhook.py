"""The webhook connector's request and its reading of a channel's answer, on httpx's mock transport: what it
signs, and how every odd answer (wrong shape, foreign items, odd statuses, odd Retry-After) becomes a result."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from keel.channels.sync.model import PushResult, Rejected, Update
from keel.channels.sync.webhook import WebhookConnector, verify

SECRET = "s3cret"
NOW = 1_800_000_000.0
UPDATES = [Update("A", "DE", 3, "active:x", 2, price="9.99"), Update("B", "FR", 0, None, 5)]


def _connector(answer: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request]) -> WebhookConnector:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    return WebhookConnector("http://market.test/", SECRET, clock=lambda: NOW, transport=httpx.MockTransport(handler))


def _push(answer: Callable[[httpx.Request], httpx.Response]) -> PushResult:
    seen: list[httpx.Request] = []
    c = _connector(answer, seen)
    try:
        return c.push("ch01", UPDATES, "key-1")
    finally:
        c.close()


def _json(doc: Any, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _: httpx.Response(status, json=doc)


def test_the_request_is_the_documented_signed_batch() -> None:
    seen: list[httpx.Request] = []
    c = _connector(
        _json({"accepted": [{"sku": "A", "country": "DE"}, {"sku": "B", "country": "FR"}], "rejected": []}), seen
    )
    result = c.push("ch01", UPDATES, "key-1")
    c.close()
    assert result == PushResult(accepted=(("A", "DE"), ("B", "FR")))
    (request,) = seen
    assert request.method == "POST" and str(request.url) == "http://market.test/channels/ch01/inventory"
    assert request.headers["idempotency-key"] == "key-1"
    assert request.headers["x-keel-timestamp"] == "1800000000"
    assert request.headers["content-type"] == "application/json"
    assert verify(SECRET, "1800000000", request.content, request.headers["x-keel-signature"], NOW)
    assert json.loads(request.content) == {
        "channel": "ch01",
        "items": [
            {"sku": "A", "country": "DE", "quantity": 3, "content": "active:x", "price": "9.99", "version": 2},
            {"sku": "B", "country": "FR", "quantity": 0, "content": None, "price": None, "version": 5},
        ],
    }


def test_an_empty_batch_sends_nothing() -> None:
    seen: list[httpx.Request] = []
    c = _connector(_json({}), seen)
    assert c.push("ch01", [], "k") == PushResult()
    c.close()
    assert seen == []


def test_rejections_are_read_per_item_and_an_unmentioned_item_is_retried() -> None:
    answer = {"accepted": [], "rejected": [{"sku": "A", "country": "DE", "error": "bad content", "retry": False}]}
    assert _push(_json(answer)) == PushResult(
        rejected=(
            Rejected("A", "DE", "bad content", retry=False),
            Rejected("B", "FR", "not acknowledged", retry=True),
        )
    )


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {"accepted": [{"sku": "A", "country": "DE"}]},
        {"accepted": {"sku": "A"}, "rejected": []},
        {"accepted": [{"sku": "Z", "country": "DE"}], "rejected": []},  # not sent
        {"accepted": [{"sku": "A", "country": "FR"}], "rejected": []},  # a sent sku in a country not sent
        {"accepted": [{"sku": 1, "country": "DE"}], "rejected": []},
        {"accepted": ["A"], "rejected": []},
        {"accepted": [{"sku": "A", "country": "DE"}, {"sku": "A", "country": "DE"}], "rejected": []},
        {
            "accepted": [{"sku": "A", "country": "DE"}],
            "rejected": [{"sku": "A", "country": "DE", "error": "x", "retry": True}],
        },
        {"accepted": [], "rejected": [{"sku": "A", "country": "DE", "error": "x", "retry": "yes"}]},
        {"accepted": [], "rejected": [{"sku": "A", "country": "DE", "error": None, "retry": True}]},
    ],
)
def test_an_answer_off_its_shape_fails_the_whole_batch(answer: Any) -> None:
    assert _push(_json(answer)) == PushResult(error="malformed response")


@pytest.mark.parametrize(
    ("response", "error", "wait"),
    [
        (httpx.Response(429, headers={"Retry-After": "7"}), "rate limited (429)", 7.0),
        (httpx.Response(429, headers={"Retry-After": "2.5"}), "rate limited (429)", 2.5),
        (httpx.Response(429), "rate limited (429)", 1.0),
        (httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}), "rate limited (429)", 1.0),
        (httpx.Response(429, headers={"Retry-After": "-3"}), "rate limited (429)", 1.0),
        (httpx.Response(429, headers={"Retry-After": "nan"}), "rate limited (429)", 1.0),
        (httpx.Response(429, headers={"Retry-After": "99999999"}), "rate limited (429)", 3600.0),
        (httpx.Response(503, headers={"Retry-After": "4"}, text="down"), "HTTP 503: down", 4.0),
        (httpx.Response(500, text="boom\x00\nbad"), "HTTP 500: boom  bad", None),
        (httpx.Response(404), "HTTP 404", None),
        (httpx.Response(302, headers={"Location": "http://elsewhere.test/"}), "HTTP 302", None),
        (httpx.Response(200, content=b'{"accepted": ['), "malformed response: not JSON", None),
        (httpx.Response(200, content=b"\xff\xfe"), "malformed response: not JSON", None),
        (httpx.Response(200, content=b""), "malformed response: not JSON", None),
    ],
)
def test_a_failed_request_is_an_error_with_the_channel_s_wait(
    response: httpx.Response, error: str, wait: float | None
) -> None:
    assert _push(lambda _: response) == PushResult(error=error, retry_after_s=wait)


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.ConnectTimeout("slow"), "timeout"),
        (httpx.ConnectError("refused"), "connection error: ConnectError"),
        (httpx.RemoteProtocolError("closed"), "connection error: RemoteProtocolError"),
        (httpx.ReadError("reset"), "connection error: ReadError"),
    ],
)
def test_transport_failures_are_errors_not_exceptions(exc: Exception, error: str) -> None:
    def fail(_: httpx.Request) -> httpx.Response:
        raise exc

    assert _push(fail) == PushResult(error=error)
