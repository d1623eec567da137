"""Orders in from channels, on both databases: a channel's signed order webhook over HTTP and orders
downloaded from a connector that offers them, each through order capture, idempotent by external id."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.testclient import TestClient

from keel.bootstrap import Keel
from keel.channels import Capabilities, OrderPage, PushResult, SyncConfig, SyncService, Update
from keel.channels.sync.webhook import sign
from tests.support import WEB_DE, WH_DE, World, receive

SECRET = "orders-secret-1"
CONFIG = {"url": "http://127.0.0.1:9/hook", "secret": SECRET}


def order(external_id: str, sku: str = "SKU-1", quantity: int = 1) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": "9.90"}],
        "customer": {"name": "Ann"},
        "ship_to": {"country": "DE", "postal_code": "10115", "latitude": 52.5, "longitude": 13.4},
    }


def signed(body: bytes, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    stamp = str(int(time.time() if at is None else at))
    return {
        "X-Keel-Timestamp": stamp,
        "X-Keel-Signature": sign(secret, stamp, body),
        "Content-Type": "application/json",
    }


def test_a_signed_order_webhook_captures_each_order_once(
    keel: Keel, world: World, make_client: Callable[..., TestClient]
) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    keel.availability.catch_up()
    keel.sync.configure(WEB_DE, CONFIG)
    client = make_client(keel, as_admin=False)  # the channel holds no Keel token
    body = json.dumps({"orders": [order("W-1"), order("W-2", "NOPE"), order("W-3", quantity=2)]}).encode()
    # when the channel sends its orders, signed
    first = client.post(f"/sync/channels/{WEB_DE}/orders", content=body, headers=signed(body))
    assert first.status_code == 200, first.text
    outcomes = {row["external_id"]: row["outcome"] for row in first.json()["orders"]}
    # then the good ones are captured and the one with an unknown SKU is refused with the reason
    assert outcomes == {"W-1": "captured", "W-3": "captured", "W-2": "refused"}
    refused = next(row for row in first.json()["orders"] if row["outcome"] == "refused")
    assert "NOPE" in refused["reason"]
    captured = keel.orders.reads.list(channel=WEB_DE)
    assert sorted(o.external_id for o in captured.items) == ["W-1", "W-3"]
    # and the same webhook again captures nothing twice
    again = client.post(f"/sync/channels/{WEB_DE}/orders", content=body, headers=signed(body))
    assert {row["external_id"]: row["outcome"] for row in again.json()["orders"]} == {
        "W-1": "duplicate",
        "W-3": "duplicate",
        "W-2": "refused",
    }
    assert keel.orders.reads.list(channel=WEB_DE).total == 2


def test_an_order_webhook_that_does_not_verify_is_refused_and_changes_nothing(
    keel: Keel, world: World, make_client: Callable[..., TestClient]
) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    keel.availability.catch_up()
    keel.sync.configure(WEB_DE, CONFIG)
    client = make_client(keel, as_admin=False)
    body = json.dumps({"orders": [order("W-1")]}).encode()
    url = f"/sync/channels/{WEB_DE}/orders"
    for headers in (
        signed(body, secret="another-secret"),  # someone else's secret
        signed(body, at=time.time() - 600),  # replayed ten minutes later
        {"Content-Type": "application/json"},  # unsigned
        signed(body + b" "),  # the body changed after signing
    ):
        answer = client.post(url, content=body, headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert client.post("/sync/channels/pos-fr/orders", content=body, headers=signed(body)).status_code == 404
    for bad in (b"[]", b'{"orders": []}', b"not json", json.dumps({"orders": [1] * 101}).encode()):
        assert client.post(url, content=bad, headers=signed(bad)).status_code == 422, bad
    assert keel.orders.reads.list(channel=WEB_DE).total == 0


@dataclass
class Shop:
    """A connector offering its channel's orders in pages of two, from a cursor."""

    placed: list[dict[str, Any]]
    asked: list[str | None] = field(default_factory=list)
    kind: str = "fake"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(orders=True))

    def orders(self, channel: str, cursor: str | None) -> OrderPage:
        self.asked.append(cursor)
        start = int(cursor or 0)
        page = self.placed[start : start + 2]
        return OrderPage(tuple(page), str(start + len(page)) if page else cursor)

    def push(self, channel: str, updates: list[Update], key: str) -> PushResult:
        return PushResult(accepted=tuple((u.sku, u.country) for u in updates))

    def close(self) -> None:
        return None


def test_orders_downloaded_from_a_cursor_are_captured_once(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    keel.availability.catch_up()
    shop = Shop([order(f"S-{i}") for i in range(5)])

    def connect(config: SyncConfig) -> Shop:
        return shop

    sync = SyncService(
        keel.db, keel.channels.exists, keel.availability.listed_of, connect,  # type: ignore[arg-type]
        worker="w", capture=keel.sync.orders.capture,
    )  # fmt: skip
    sync.configure(WEB_DE, CONFIG)
    sync.run_pass()  # the pump takes the channel
    # when the orders are downloaded (three pages), then again
    assert sync.orders.pull() == 5
    assert sync.orders.pull() == 0
    # then each is captured once, and the second download started where the first ended
    assert sorted(o.external_id for o in keel.orders.reads.list(channel=WEB_DE).items) == [f"S-{i}" for i in range(5)]
    # (the first download reads on past its last order and finds the end; the second starts there)
    assert shop.asked == [None, "2", "4", "5", "5"]
    # a new order on the channel is picked up from the stored cursor
    shop.placed.append(order("S-5"))
    assert sync.orders.pull() == 1
    assert keel.orders.reads.list(channel=WEB_DE).total == 6
    sync.close()
