"""The Shopify-style connector's order update requests and its reading of odd answers, on httpx's mock
transport: what each mutation carries, a stable idempotency key, throttling between the read and the mutation,
and statuses, GraphQL errors and bodies of the wrong shape, each a retry and never an exception."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from keel.channels.sync.model import OrderUpdate, PushResult, Rejected
from keel.channels.sync.shopify import ShopifyConnector

Answer = Callable[[dict[str, Any]], httpx.Response]
GID = "gid://shopify/Order/77"
ORDER = {
    "id": GID,
    "cancelledAt": None,
    "lineItems": {"nodes": [{"id": "gid://shopify/LineItem/1", "sku": "A", "refundableQuantity": 2}]},
    "fulfillmentOrders": {
        "nodes": [
            {
                "id": "gid://shopify/FulfillmentOrder/5",
                "status": "OPEN",
                "lineItems": {
                    "nodes": [
                        {
                            "id": "gid://shopify/FulfillmentOrderLineItem/9",
                            "remainingQuantity": 2,
                            "lineItem": {"sku": "A"},
                        }
                    ]
                },
            }
        ]
    },
    "fulfillments": [],
    "refunds": [],
}
SHIP = OrderUpdate("77", "shipped", (("A", 2),), "shipped:77:1", "DHL", "T-1")
CANCEL = OrderUpdate("77", "cancelled", (("A", 2),), "cancelled:77:4")
REFUND = OrderUpdate("77", "refunded", (("A", 1),), "refunded:77:R-1", amount="9.90")


def _connector(answer: Answer, seen: list[dict[str, Any]]) -> ShopifyConnector:
    def handler(request: httpx.Request) -> httpx.Response:
        doc = json.loads(request.content)
        seen.append(doc)
        return answer(doc)

    return ShopifyConnector("http://shop.test/", "shpat_1", transport=httpx.MockTransport(handler))


def _data(doc: Any) -> httpx.Response:
    return httpx.Response(200, json={"data": doc})


def _shop(mutation: dict[str, Any]) -> Answer:
    """The order read answers ORDER; every mutation answers ``mutation``."""
    return lambda doc: _data({"order": ORDER}) if "order(id:" in doc["query"] else _data(mutation)


def test_each_mutation_carries_what_the_shop_needs() -> None:
    seen: list[dict[str, Any]] = []
    answers = {
        "fulfillmentCreate": {"fulfillment": {"id": "f", "status": "SUCCESS"}, "userErrors": []},
        "orderCancel": {"job": {"id": "j", "done": False}, "orderCancelUserErrors": []},
        "refundCreate": {"refund": {"id": "r", "note": "n"}, "userErrors": []},
    }
    c = _connector(_shop(answers), seen)
    assert c.send("shop", [SHIP, CANCEL, REFUND]) == PushResult(
        accepted=(("77", "shipped"), ("77", "cancelled"), ("77", "refunded"))
    )
    reads = [d for d in seen if "order(id:" in d["query"]]
    ship, cancel, refund = [d for d in seen if "order(id:" not in d["query"]]
    assert [d["variables"] for d in reads] == [{"id": GID}] * 3
    assert "fulfillmentCreate(fulfillment: $fulfillment) @idempotent(key: $idempotencyKey)" in ship["query"]
    assert ship["variables"]["fulfillment"] == {
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/5",
                "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/9", "quantity": 2}],
            }
        ],
        "notifyCustomer": True,
        "trackingInfo": {"company": "DHL", "number": "T-1"},
    }
    assert ship["variables"]["idempotencyKey"].startswith("shipped:77:1-")
    assert cancel["variables"] == {
        "orderId": GID,
        "reason": "OTHER",
        "refund": False,
        "restock": False,
        "notifyCustomer": True,
        "staffNote": "Cancelled in Keel (cancelled:77:4)",
    }
    assert "@idempotent(key: $idempotencyKey)" in refund["query"]
    assert refund["variables"]["input"] == {
        "orderId": GID,
        "note": "Refunded in Keel (refunded:77:R-1, amount 9.90)",
        "refundLineItems": [{"lineItemId": "gid://shopify/LineItem/1", "quantity": 1, "restockType": "NO_RESTOCK"}],
    }
    # the same update again sends the same request under the same key
    c.send("shop", [SHIP])
    assert seen[-1]["variables"] == ship["variables"]


def test_an_update_already_on_the_shop_sends_no_mutation() -> None:
    seen: list[dict[str, Any]] = []
    done = {
        **ORDER,
        "cancelledAt": "2026-01-01T00:00:00Z",
        "fulfillments": [{"trackingInfo": [{"company": "DHL", "number": "T-1"}]}],
        "refunds": [{"note": "Refunded in Keel (refunded:77:R-1, amount 9.90)"}, {"note": None}],
    }
    c = _connector(lambda _: _data({"order": done}), seen)
    assert c.send("shop", [SHIP, CANCEL, REFUND]).accepted == (
        ("77", "shipped"),
        ("77", "cancelled"),
        ("77", "refunded"),
    )
    assert all("order(id:" in d["query"] for d in seen) and len(seen) == 3


def test_throttling_between_the_read_and_the_mutation_stops_the_batch() -> None:
    throttled = httpx.Response(
        200,
        json={
            "errors": [{"extensions": {"code": "THROTTLED"}}],
            "extensions": {
                "cost": {"requestedQueryCost": 10, "throttleStatus": {"currentlyAvailable": 4, "restoreRate": 2}}
            },
        },
    )
    c = _connector(lambda doc: _data({"order": ORDER}) if "order(id:" in doc["query"] else throttled, [])
    assert c.send("shop", [SHIP, CANCEL]) == PushResult(
        rejected=(Rejected("77", "shipped", "throttled", True), Rejected("77", "cancelled", "throttled", True)),
        retry_after_s=3.0,
    )


def test_user_errors_are_refusals_for_good() -> None:
    errors = {
        "fulfillmentCreate": {"fulfillment": None, "userErrors": [{"field": None, "message": "Nope."}]},
        "orderCancel": {
            "job": None,
            "orderCancelUserErrors": [{"field": ["orderId"], "message": "No.", "code": "INVALID"}],
        },
        "refundCreate": {"refund": None, "userErrors": [{"field": ["x"], "message": "A."}, {"message": "B."}]},
    }
    assert _connector(_shop(errors), []).send("shop", [SHIP, CANCEL, REFUND]) == PushResult(
        rejected=(
            Rejected("77", "shipped", "user error: Nope.", False),
            Rejected("77", "cancelled", "user error: No.", False),
            Rejected("77", "refunded", "user error: A.; B.", False),
        )
    )


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(503, text="down"), "HTTP 503: down"),
        (httpx.Response(429, headers={"Retry-After": "bad"}), None),
        (httpx.Response(200, content=b"{"), "malformed response: not JSON"),
        (
            httpx.Response(200, json={"errors": [{"message": "boom", "extensions": {"code": "X"}}]}),
            "graphql error X: boom",
        ),
        (_data({}), "malformed response"),
        (_data({"order": []}), "malformed response"),
        (_data({"order": {**ORDER, "cancelledAt": 1}}), "malformed response"),
        (
            _data({"order": {**ORDER, "lineItems": {"nodes": [{"id": "l", "sku": 1, "refundableQuantity": 1}]}}}),
            "malformed response",
        ),
        (
            _data({"order": {**ORDER, "lineItems": {"nodes": [{"id": "l", "sku": "A", "refundableQuantity": True}]}}}),
            "malformed response",
        ),
        (
            _data({"order": {**ORDER, "fulfillmentOrders": {"nodes": [{"id": "f", "status": None}]}}}),
            "malformed response",
        ),
        (
            _data(
                {"order": {**ORDER, "fulfillmentOrders": {"nodes": [{"id": "f", "status": "OPEN", "lineItems": {}}]}}}
            ),
            "malformed response",
        ),
        (_data({"order": {**ORDER, "fulfillments": [{"trackingInfo": "T-1"}]}}), "malformed response"),
        (_data({"order": {**ORDER, "refunds": [{"note": 3}]}}), "malformed response"),
        (_data({"order": {**ORDER, "refunds": None}}), "malformed response"),
    ],
)
def test_an_odd_answer_to_the_order_read_is_a_retry(response: httpx.Response, error: str | None) -> None:
    result = _connector(lambda _: response, []).send("shop", [SHIP])
    if error is None:  # a 429 stops the batch with the default wait
        assert result == PushResult(
            rejected=(Rejected("77", "shipped", "rate limited (429)", True),), retry_after_s=1.0
        )
    else:
        assert result == PushResult(rejected=(Rejected("77", "shipped", error, True),))


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {"fulfillmentCreate": None},
        {"fulfillmentCreate": {"userErrors": "x"}},
        {"fulfillmentCreate": {"userErrors": [{"field": None}]}},
        {"fulfillmentCreate": {"fulfillment": None, "userErrors": []}},  # nothing created, and no reason given
    ],
)
def test_an_odd_answer_to_a_mutation_is_a_retry(payload: dict[str, Any] | None) -> None:
    def answer(doc: dict[str, Any]) -> httpx.Response:
        if "order(id:" in doc["query"]:
            return _data({"order": ORDER})
        return httpx.Response(200, json={"data": payload})

    assert _connector(answer, []).send("shop", [SHIP]) == PushResult(
        rejected=(Rejected("77", "shipped", "malformed response", True),)
    )


def test_a_transport_failure_is_a_retry() -> None:
    def fail(_: dict[str, Any]) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    assert _connector(fail, []).send("shop", [SHIP, CANCEL]) == PushResult(
        rejected=(Rejected("77", "shipped", "timeout", True), Rejected("77", "cancelled", "timeout", True))
    )
