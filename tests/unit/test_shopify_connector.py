"""The Shopify-style connector's requests and its reading of odd answers, on httpx's mock transport: a quantity
stale twice, errors about the whole request, throttling without numbers, statuses, bodies of the wrong shape,
orders that do not parse, and a batch over Shopify's size."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from keel.channels.sync.model import (
    Connector,
    OrderPage,
    OrderSource,
    PushResult,
    ReadBack,
    ReadResult,
    Rejected,
    Update,
)
from keel.channels.sync.shopify import ShopifyConnector

Answer = Callable[[dict[str, Any]], httpx.Response]
UPDATES = [Update("A", "DE", 3, None, 2, previous=5), Update("B", "FR", 1, None, 2)]


def _connector(answer: Answer, seen: list[dict[str, Any]]) -> ShopifyConnector:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-shopify-access-token"] == "shpat_1"
        assert str(request.url) == "http://shop.test/admin/api/graphql.json"
        doc = json.loads(request.content)
        seen.append(doc)
        return answer(doc)

    return ShopifyConnector("http://shop.test/", "shpat_1", transport=httpx.MockTransport(handler))


def _data(doc: Any) -> httpx.Response:
    return httpx.Response(200, json={"data": doc})


def _stale(index: int) -> dict[str, Any]:
    return {
        "field": ["input", "quantities", str(index), "changeFromQuantity"],
        "message": "stale",
        "code": "CHANGE_FROM_QUANTITY_STALE",
    }


def _set_answer(errors: list[dict[str, Any]]) -> httpx.Response:
    return _data({"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}})


def test_the_mutation_carries_compare_and_set_and_an_idempotency_key() -> None:
    seen: list[dict[str, Any]] = []
    c = _connector(lambda _: _set_answer([]), seen)
    port: Connector = c  # the ports it implements (checked by mypy)
    reader: ReadBack = c
    source: OrderSource = c
    assert port.kind == "shopify" and reader.read("shop", []) == ReadResult() and source.orders is not None
    assert c.capabilities.compare_and_set and c.capabilities.read_back and c.capabilities.orders
    assert c.push("shop", UPDATES, "k1") == PushResult(accepted=(("A", "DE"), ("B", "FR")))
    (doc,) = seen
    assert "inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey)" in doc["query"]
    variables = doc["variables"]
    assert variables["input"] == {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": "logistics://keel/sync/k1",
        "quantities": [
            {
                "inventoryItemId": "gid://shopify/InventoryItem/A",
                "locationId": "gid://shopify/Location/DE",
                "quantity": 3,
                "changeFromQuantity": 5,
            },
            {
                "inventoryItemId": "gid://shopify/InventoryItem/B",
                "locationId": "gid://shopify/Location/FR",
                "quantity": 1,
                "changeFromQuantity": None,
            },
        ],
    }
    assert variables["idempotencyKey"].startswith("k1-")
    c.push("shop", UPDATES, "k1")
    assert seen[1]["variables"]["idempotencyKey"] == variables["idempotencyKey"]  # the same request, the same key


def test_a_quantity_stale_twice_is_left_for_the_engine_to_retry() -> None:
    seen: list[dict[str, Any]] = []

    def answer(doc: dict[str, Any]) -> httpx.Response:
        if "nodes(" in doc["query"]:
            level = {"id": doc["variables"]["ids"][0], "quantities": [{"name": "available", "quantity": 4}]}
            return _data({"nodes": [level]})
        quantities = doc["variables"]["input"]["quantities"]
        # A is always stale (the shop keeps selling); B goes through once A is out of the mutation
        return _set_answer([_stale(0)] if quantities[0]["inventoryItemId"].endswith("/A") else [])

    c = _connector(answer, seen)
    result = c.push("shop", UPDATES, "k1")
    assert result == PushResult(
        accepted=(("B", "FR"),), rejected=(Rejected("A", "DE", "CHANGE_FROM_QUANTITY_STALE: stale", retry=True),)
    )
    kinds = ["read" if "nodes(" in d["query"] else "set" for d in seen]
    assert kinds == ["set", "read", "set", "set"]
    assert seen[2]["variables"]["input"]["quantities"][0]["changeFromQuantity"] == 4  # the value read
    keys = {d["variables"]["idempotencyKey"] for d in seen if "idempotencyKey" in d["variables"]}
    assert len(keys) == 3  # other variables, another key


def test_a_failed_read_of_a_stale_quantity_leaves_it_for_a_retry() -> None:
    def answer(doc: dict[str, Any]) -> httpx.Response:
        if "nodes(" in doc["query"]:
            return httpx.Response(503, text="down")
        return _set_answer([_stale(1)] if len(doc["variables"]["input"]["quantities"]) == 2 else [])

    result = _connector(answer, []).push("shop", UPDATES, "k1")
    assert result == PushResult(
        accepted=(("A", "DE"),), rejected=(Rejected("B", "FR", "stale; reading it failed: HTTP 503: down", True),)
    )


def test_two_errors_for_one_quantity_never_break_the_push() -> None:
    def answer(doc: dict[str, Any]) -> httpx.Response:
        if "nodes(" in doc["query"]:
            return httpx.Response(503)
        negative = {
            "field": ["input", "quantities", "0", "quantity"],
            "message": "negative",
            "code": "INVALID_QUANTITY_NEGATIVE",
        }
        return _set_answer(
            [_stale(0), _stale(0), negative] if len(doc["variables"]["input"]["quantities"]) == 2 else []
        )

    result = _connector(answer, []).push("shop", UPDATES, "k1")
    assert result == PushResult(
        accepted=(("B", "FR"),), rejected=(Rejected("A", "DE", "stale; reading it failed: HTTP 503", True),)
    )


def test_a_user_error_about_the_whole_request_fails_the_batch() -> None:
    errors = [{"field": ["input", "reason"], "message": "The specified reason is invalid.", "code": "INVALID_REASON"}]
    result = _connector(lambda _: _set_answer(errors), []).push("shop", UPDATES, "k1")
    assert result == PushResult(error="user error: The specified reason is invalid.")


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            httpx.Response(200, json={"errors": [{"extensions": {"code": "THROTTLED"}}]}),
            PushResult(error="throttled", retry_after_s=1.0),
        ),
        (
            httpx.Response(
                200,
                json={
                    "errors": [{"extensions": {"code": "THROTTLED"}}],
                    "extensions": {
                        "cost": {
                            "requestedQueryCost": 10,
                            "throttleStatus": {"currentlyAvailable": 2, "restoreRate": 4},
                        }
                    },
                },
            ),
            PushResult(error="throttled", retry_after_s=2.0),
        ),
        (
            httpx.Response(
                200,
                json={
                    "errors": [{"extensions": {"code": "THROTTLED"}}],
                    "extensions": {
                        "cost": {
                            "requestedQueryCost": 10,
                            "throttleStatus": {"currentlyAvailable": 2, "restoreRate": 0},
                        }
                    },
                },
            ),
            PushResult(error="throttled", retry_after_s=1.0),
        ),
        (httpx.Response(429, headers={"Retry-After": "7"}), PushResult(error="rate limited (429)", retry_after_s=7.0)),
        (httpx.Response(502, text="bad\ngateway"), PushResult(error="HTTP 502: bad gateway")),
        (
            httpx.Response(
                200, json={"errors": [{"message": "boom", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
            ),
            PushResult(error="graphql error INTERNAL_SERVER_ERROR: boom"),
        ),
        (httpx.Response(200, content=b"{not json"), PushResult(error="malformed response: not JSON")),
        (httpx.Response(200, json=[1]), PushResult(error="malformed response")),
        (httpx.Response(200, json={"errors": "x"}), PushResult(error="malformed response")),
        (_data({"inventorySetQuantities": None}), PushResult(error="malformed response")),
        (
            _data(
                {"inventorySetQuantities": {"userErrors": [{"field": ["input", "quantities", "9"], "message": "?"}]}}
            ),
            PushResult(error="malformed response"),
        ),
        (
            _data({"inventorySetQuantities": {"userErrors": [{"field": [1], "message": "?"}]}}),
            PushResult(error="malformed response"),
        ),
    ],
)
def test_every_odd_answer_is_a_result(response: httpx.Response, expected: PushResult) -> None:
    assert _connector(lambda _: response, []).push("shop", UPDATES, "k1") == expected


def test_a_transport_failure_is_a_result() -> None:
    def fail(_: dict[str, Any]) -> httpx.Response:
        raise httpx.ConnectError("refused")

    c = _connector(fail, [])
    assert c.push("shop", UPDATES, "k1") == PushResult(error="connection error: ConnectError")
    assert c.read("shop", [("A", "DE")]) == ReadResult(error="connection error: ConnectError")
    assert c.orders("shop", None) == OrderPage(error="connection error: ConnectError")


def test_a_batch_over_shopifys_size_sends_250_and_leaves_the_rest() -> None:
    seen: list[dict[str, Any]] = []
    updates = [Update(f"S{i}", "DE", 1, None, 1) for i in range(252)]
    result = _connector(lambda _: _set_answer([]), seen).push("shop", updates, "k1")
    assert len(result.accepted) == 250 and len(seen[0]["variables"]["input"]["quantities"]) == 250
    assert [(r.sku, r.retry) for r in result.rejected] == [("S250", True), ("S251", True)]


def test_a_read_back_of_the_wrong_levels_is_refused() -> None:
    wrong = _data(
        {
            "nodes": [
                {
                    "id": "gid://shopify/InventoryLevel/FR?inventory_item_id=A",
                    "quantities": [{"name": "available", "quantity": 1}],
                }
            ]
        }
    )
    assert _connector(lambda _: wrong, []).read("shop", [("A", "DE")]) == ReadResult(error="malformed response")
    short = _data({"nodes": []})
    assert _connector(lambda _: short, []).read("shop", [("A", "DE")]) == ReadResult(error="malformed response")


ORDER = {
    "id": "gid://shopify/Order/77",
    "name": "#1077",
    "customer": {"displayName": "Ann"},
    "shippingAddress": {"countryCodeV2": "FR", "zip": None},
    "lineItems": {"nodes": [{"sku": None, "quantity": 1, "originalUnitPriceSet": {"shopMoney": {"amount": "4.125"}}}]},
}


def test_orders_are_mapped_and_a_custom_line_is_kept_for_capture_to_refuse() -> None:
    page = _data({"orders": {"edges": [{"cursor": "c1", "node": ORDER}], "pageInfo": {"hasNextPage": False}}})
    assert _connector(lambda _: page, []).orders("shop", "c0") == OrderPage(
        orders=(
            {
                "channel": "shop",
                "external_id": "77",
                "lines": [{"sku": None, "quantity": 1, "unit_price": "4.125"}],
                "customer": {"name": "Ann"},
                "ship_to": {"country": "FR"},
            },
        ),
        cursor="c1",
    )


@pytest.mark.parametrize(
    "node",
    [
        {**ORDER, "id": "gid://shopify/Product/1"},
        {**ORDER, "lineItems": {"nodes": [{"sku": "A", "quantity": "1", "originalUnitPriceSet": None}]}},
        {**ORDER, "shippingAddress": "FR"},
        {**ORDER, "customer": []},
    ],
)
def test_an_order_page_that_does_not_parse_is_an_error(node: dict[str, Any]) -> None:
    page = _data({"orders": {"edges": [{"cursor": "c1", "node": node}], "pageInfo": {"hasNextPage": False}}})
    assert _connector(lambda _: page, []).orders("shop", "c0") == OrderPage(error="malformed response")
