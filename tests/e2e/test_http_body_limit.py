"""Every route (POST /inventory/movements here, the largest) refuses a body over ``max_body_bytes`` with 413
before buffering it: the HTTP guard (keel.platform.http) applies the one limit to all routes.

Both ways a client can send a body are covered: with Content-Length (refused before anything is read) and
chunked, without one (refused as soon as more than the limit has arrived).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.types import Message

from keel.bootstrap import Keel
from keel.platform.config import Settings
from keel.platform.http import Guard
from tests.e2e.test_http import assert_problem
from tests.support import WH_DE, build_world, mv, position, snapshot

LIMIT = 1000
ROWS = [mv(f"m{i}", "received", "SKU-1", WH_DE, 1) for i in range(3)]
DETAIL = f"body over {LIMIT} bytes (setting max_body_bytes)"


def body_of(size: int) -> bytes:
    """The three valid ROWS as a JSON array, padded with trailing whitespace (still valid JSON) to ``size``."""
    raw = json.dumps(ROWS).encode()
    assert len(raw) < size
    return raw + b" " * (size - len(raw))


def chunked(raw: bytes, size: int = 100) -> Iterator[bytes]:
    """A generator body: httpx sends it with Transfer-Encoding: chunked and no Content-Length."""
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


def post(client: TestClient, raw: bytes, mode: str) -> Any:
    content = raw if mode == "declared" else chunked(raw)
    response = client.post("/inventory/movements", content=content, headers={"content-type": "application/json"})
    assert ("content-length" in response.request.headers) is (mode == "declared")
    return response


@pytest.fixture
def small(keel_factory: Callable[..., Keel]) -> Keel:
    keel = keel_factory(max_body_bytes=LIMIT)
    build_world(keel)
    return keel


@pytest.mark.parametrize("mode", ["declared", "chunked"])
def test_a_body_one_byte_over_the_limit_is_a_413_and_writes_nothing(
    small: Keel, make_client: Callable[[Keel], TestClient], mode: str
) -> None:
    client = make_client(small)
    before = snapshot(small)
    problem = assert_problem(post(client, body_of(LIMIT + 1), mode), 413, "payload-too-large")
    assert problem["detail"] == DETAIL
    assert snapshot(small) == before


@pytest.mark.parametrize("mode", ["declared", "chunked"])
def test_a_body_of_exactly_the_limit_is_applied(
    small: Keel, make_client: Callable[[Keel], TestClient], mode: str
) -> None:
    response = post(make_client(small), body_of(LIMIT), mode)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 3
    assert position(small, "SKU-1", WH_DE)["on_hand"] == 3


async def refuse_app(_scope: Any, _receive: Any, _send: Any) -> None:
    raise AssertionError("the route was reached")


def guarded(receive: Callable[[], Any], headers: list[tuple[bytes, bytes]]) -> list[Message]:
    """What the guard (limit LIMIT) sends for a POST /inventory/movements fed by ``receive``."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/inventory/movements", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers]}  # fmt: skip
    asyncio.run(Guard(refuse_app, Settings(max_body_bytes=LIMIT))(scope, receive, send))
    return sent


def test_an_endless_upload_is_refused_at_the_first_chunk_past_the_limit() -> None:
    received = 0

    async def receive() -> Message:
        nonlocal received
        received += 1
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    sent = guarded(receive, [(b"transfer-encoding", b"chunked")])
    assert sent[0]["status"] == 413
    assert received == LIMIT // 100 + 1


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    async def receive() -> Message:
        raise AssertionError("the body was read")

    sent = guarded(receive, [(b"content-length", str(LIMIT + 1).encode())])
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["detail"] == DETAIL
