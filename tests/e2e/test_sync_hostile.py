"""The channel sync's inputs refused with a 4xx problem on both databases, state unchanged: hostile
configuration bodies, odd channel codes and paging keys, and hostile order webhooks (signed or not)."""

from __future__ import annotations

import json
import time

import pytest
from starlette.testclient import TestClient

from keel.bootstrap import Keel
from keel.channels.sync.webhook import sign
from tests.support import WEB_DE, World

SECRET = "hostile-secret-1"
BIG = 9223372036854775808  # 2^63


@pytest.fixture
def configured(keel: Keel, world: World, client: TestClient) -> TestClient:
    keel.sync.configure(WEB_DE, {"url": "http://127.0.0.1:9/hook", "secret": SECRET})
    return client


def problem(response: object) -> None:
    status, headers = response.status_code, response.headers  # type: ignore[attr-defined]
    assert 400 <= status < 500, response.text  # type: ignore[attr-defined]
    assert headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"url": "http://x.example", "secret": "s3cret-s3cret", "extra": 1}', "application/json"),
        ('{"url": ' + "[" * 200 + "]" * 200 + ', "secret": "s3cret-s3cret"}', "application/json"),
        ('{"url": "http://x.example/\\u0000", "secret": "s3cret-s3cret"}', "application/json"),
        ('{"url": "http://x.example", "secret": "s3cret\\u0000s3cret"}', "application/json"),
        (f'{{"url": "http://x.example", "secret": "s3cret-s3cret", "batch_size": {BIG}}}', "application/json"),
        ('{"url": "http://x.example", "secret": "s3cret-s3cret", "window_s": 1e400}', "application/json"),
        ('{"url": "' + "h" * 100_000 + '", "secret": "s3cret-s3cret"}', "application/json"),
        ('{"url": "http://x.example", "secret": "s3cret-s3cret", "connector": "ftp"}', "application/json"),
        ("url=http://x.example&secret=s3cret-s3cret", "application/x-www-form-urlencoded"),
    ],
)  # fmt: skip
def test_a_hostile_configuration_is_refused_and_changes_nothing(
    keel: Keel, configured: TestClient, body: str, content_type: str
) -> None:
    before = keel.sync.channel(WEB_DE)
    problem(configured.put(f"/sync/channels/{WEB_DE}", content=body, headers={"content-type": content_type}))
    assert keel.sync.channel(WEB_DE) == before


@pytest.mark.parametrize("code", ["%00", "a" * 5000, str(BIG), "..%2F..", "%F0%9F%92%A9"])
def test_odd_channel_codes_are_refused(configured: TestClient, code: str) -> None:
    problem(configured.get(f"/sync/channels/{code}"))
    problem(configured.get(f"/sync/channels/{code}/items"))
    problem(configured.get(f"/sync/channels/{code}/order-updates"))
    problem(configured.post(f"/sync/channels/{code}/pause"))


@pytest.mark.parametrize(
    "query", [{"state": "\x00"}, {"limit": str(BIG)}, {"limit": "0"}, {"after": "x" * 5000}, {"state": "gone"}]
)
def test_odd_paging_is_refused(configured: TestClient, query: dict[str, str]) -> None:
    problem(configured.get(f"/sync/channels/{WEB_DE}/items", params=query))
    if "after" not in query:  # the order updates page by offset
        problem(configured.get(f"/sync/channels/{WEB_DE}/order-updates", params=query))


@pytest.mark.parametrize("query", [{"offset": str(BIG)}, {"offset": "-1"}, {"offset": "1e400"}, {"limit": "NaN"}])
def test_odd_offsets_of_order_updates_are_refused(configured: TestClient, query: dict[str, str]) -> None:
    problem(configured.get(f"/sync/channels/{WEB_DE}/order-updates", params=query))


@pytest.mark.parametrize(
    "body",
    [
        b'{"orders": ' + b"[" * 200 + b"]" * 200 + b"}",
        b'{"orders": [{"external_id": "X\\u0000", "lines": []}]}',
        json.dumps({"orders": [{"external_id": "X", "lines": [{"sku": "SKU-1", "quantity": BIG}]}]}).encode(),
        b"\x00\x01\x02",
        b'{"orders": "' + b"o" * 2_000_000 + b'"}',
    ],
)
def test_a_hostile_order_webhook_is_refused_or_refuses_each_order(
    keel: Keel, configured: TestClient, body: bytes
) -> None:
    stamp = str(int(time.time()))
    headers = {"X-Keel-Timestamp": stamp, "X-Keel-Signature": sign(SECRET, stamp, body)}
    response = configured.post(
        f"/sync/channels/{WEB_DE}/orders", content=body, headers=headers | {"content-type": "application/json"}
    )
    # a well-formed batch whose orders are bad answers 200 naming each refusal; anything else is a 4xx problem
    if response.status_code == 200:
        assert {row["outcome"] for row in response.json()["orders"]} == {"refused"}
    else:
        problem(response)
    unsigned = configured.post(f"/sync/channels/{WEB_DE}/orders", content=body, headers={"content-type": "text/plain"})
    problem(unsigned)
    assert keel.orders.reads.list(channel=WEB_DE).total == 0
