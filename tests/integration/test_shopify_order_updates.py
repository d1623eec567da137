"""The Shopify-style connector's order updates against the shop simulator, over real HTTP on 127.0.0.1: a
shipment becomes a fulfilment with tracking (spread over the order's fulfillment orders), a cancellation an
order cancelled without restock, a refund a refund of its lines without restock; what the shop will never take
is refused for good, throttling stops the batch with a wait, a malformed answer is retried, and resends
(idempotency key, or an answer lost after the shop applied it) create nothing new."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from keel.channels.sync.model import OrderUpdate, OrderUpdates, PushResult, Rejected
from keel.channels.sync.shopify import ShopifyConnector
from keel.channels.sync.shopify_orders import CANCEL, FULFIL, ORDER, REFUND, idempotency_key
from keel.sim.shopify import Shopify
from keel.sim.shopify_orders import Cancellation, Fulfilment, Refund

TOKEN = "shpat_test_token_1"
SHOP = "shop-de"


class Clock:
    """The shop's rate limit clock, moved by hand (no timed assertions)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def shop() -> Iterator[Shopify]:
    with Shopify({SHOP: TOKEN, "other": "shpat_other_token"}) as s:
        yield s


@pytest.fixture
def connector(shop: Shopify) -> Iterator[ShopifyConnector]:
    c = ShopifyConnector(shop.url, TOKEN, timeout_s=2.0)
    yield c
    c.close()


def gql(shop: Shopify, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """One request to the shop as any app would send it (the document is what the simulator reads)."""
    body = json.dumps({"query": query, "variables": variables})
    headers = {"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/json"}
    doc: dict[str, Any] = httpx.post(shop.url + "/admin/api/graphql.json", content=body, headers=headers).json()
    return doc


def first_line(shop: Shopify, number: str) -> tuple[str, str]:
    """(fulfillment order id, its line item id) of an order with one line."""
    (fo,) = gql(shop, ORDER, {"id": f"gid://shopify/Order/{number}"})["data"]["order"]["fulfillmentOrders"]["nodes"]
    (item,) = fo["lineItems"]["nodes"]
    return fo["id"], item["id"]


def shipped(order: str, lines: tuple[tuple[str, int], ...], n: int = 1, tracking: str | None = None) -> OrderUpdate:
    return OrderUpdate(order, "shipped", lines, f"shipped:{order}:{n}", "DHL", tracking or f"T-{order}-{n}")


def test_a_shipment_becomes_a_fulfilment_with_tracking(shop: Shopify, connector: ShopifyConnector) -> None:
    port: OrderUpdates = connector  # the port it implements (checked by mypy)
    assert connector.capabilities.shipments
    number = shop.add_order(SHOP, [("SKU-1", 3, "9.90"), ("SKU-2", 1, "4.50")])
    first = port.send(SHOP, [shipped(number, (("SKU-1", 2),), 1)])
    second = port.send(SHOP, [shipped(number, (("SKU-1", 1), ("SKU-2", 1)), 2)])
    assert first == second == PushResult(accepted=((number, "shipped"),))
    assert shop.fulfilments(SHOP) == [
        Fulfilment(number, (("SKU-1", 2),), "DHL", f"T-{number}-1", True),
        Fulfilment(number, (("SKU-1", 1), ("SKU-2", 1)), "DHL", f"T-{number}-2", True),
    ]
    assert shop.fulfilments("other") == []
    # nothing is left to fulfil: a third shipment is refused for good
    (refused,) = port.send(SHOP, [shipped(number, (("SKU-2", 1),), 3)]).rejected
    assert (refused.retry, refused.error) == (
        False,
        "nothing left to fulfil: 1 of SKU-2 beyond what the order has open",
    )


def test_a_shipment_spans_the_orders_fulfillment_orders(shop: Shopify, connector: ShopifyConnector) -> None:
    number = shop.add_order(SHOP, [("SKU-1", 1, "1.00"), ("SKU-2", 2, "2.00")], fulfillment_orders=2)
    result = connector.send(SHOP, [shipped(number, (("SKU-2", 2), ("SKU-1", 1)))])
    assert result.accepted == ((number, "shipped"),)
    assert shop.fulfilments(SHOP) == [Fulfilment(number, (("SKU-2", 2), ("SKU-1", 1)), "DHL", f"T-{number}-1", True)]


def test_a_cancellation_cancels_the_order_without_restock(shop: Shopify, connector: ShopifyConnector) -> None:
    number = shop.add_order(SHOP, [("SKU-1", 2, "9.90")])
    update = OrderUpdate(number, "cancelled", (("SKU-1", 2),), f"cancelled:{number}:7")
    assert connector.send(SHOP, [update]) == PushResult(accepted=((number, "cancelled"),))
    assert connector.send(SHOP, [update]) == PushResult(accepted=((number, "cancelled"),))  # cancelled already
    assert shop.cancellations(SHOP) == [Cancellation(number, "OTHER", refund=False, restock=False, notify=True)]
    assert shop.stats.cancellations == 1
    # a cancelled order takes no shipment
    (refused,) = connector.send(SHOP, [shipped(number, (("SKU-1", 2),))]).rejected
    assert (refused.retry, refused.error) == (False, "the order is cancelled on the shop")


def test_a_partial_cancellation_is_refused_for_good(shop: Shopify, connector: ShopifyConnector) -> None:
    number = shop.add_order(SHOP, [("SKU-1", 2, "9.90"), ("SKU-2", 1, "1.00")])
    update = OrderUpdate(number, "cancelled", (("SKU-1", 1),), f"cancelled:{number}:7")
    (refused,) = connector.send(SHOP, [update]).rejected
    assert not refused.retry and refused.error.startswith("a partial cancellation (SKU-1 stays open)")
    # what shipped is not open any more: cancelling all the rest cancels the order
    assert connector.send(SHOP, [shipped(number, (("SKU-1", 1),))]).accepted
    assert (
        connector.send(SHOP, [update, shipped(number, (("SKU-2", 1),), 2)])
        .rejected[0]
        .error.startswith("a partial cancellation (SKU-2 stays open)")
    )
    whole = OrderUpdate(number, "cancelled", (("SKU-1", 1), ("SKU-2", 1)), f"cancelled:{number}:8")
    assert connector.send(SHOP, [whole]).accepted == ((number, "cancelled"),)
    assert [c.order for c in shop.cancellations(SHOP)] == [number]


def test_a_refund_refunds_its_lines_without_restock(shop: Shopify, connector: ShopifyConnector) -> None:
    number = shop.add_order(SHOP, [("SKU-1", 3, "9.90"), ("SKU-2", 1, "4.50")])
    update = OrderUpdate(number, "refunded", (("SKU-1", 2),), f"refunded:{number}:RMA-1", amount="19.80")
    bare = OrderUpdate(number, "refunded", (), f"refunded:{number}:RMA-2")
    assert connector.send(SHOP, [update, bare]) == PushResult(accepted=((number, "refunded"), (number, "refunded")))
    assert connector.send(SHOP, [update]).accepted == ((number, "refunded"),)  # found by its note: nothing new
    assert shop.refunds(SHOP) == [
        Refund(number, (("SKU-1", 2, "NO_RESTOCK"),), f"Refunded in Keel (refunded:{number}:RMA-1, amount 19.80)"),
        Refund(number, (), f"Refunded in Keel (refunded:{number}:RMA-2)"),
    ]
    too_much = OrderUpdate(number, "refunded", (("SKU-1", 2),), f"refunded:{number}:RMA-3")
    (refused,) = connector.send(SHOP, [too_much]).rejected
    assert (refused.retry, refused.error) == (
        False,
        "nothing left to refund: 1 of SKU-1 beyond what the order has refundable",
    )


def test_what_the_shop_will_never_take_is_refused_for_good(shop: Shopify, connector: ShopifyConnector) -> None:
    number = shop.add_order(SHOP, [("SKU-1", 1, "9.90")])
    other = shop.add_order("other", [("SKU-1", 1, "9.90")])
    updates = [
        shipped("424242", (("SKU-1", 1),)),
        shipped(other, (("SKU-1", 1),)),  # another shop's order
        shipped(number, (("SKU-9", 1),)),
        shipped(number, ()),
        OrderUpdate("#1001", "cancelled", (), "c"),
        OrderUpdate(number, "returned", (), "r"),
        OrderUpdate("424242", "refunded", (("SKU-1", 1),), "f"),
    ]
    result = connector.send(SHOP, updates)
    assert result.accepted == () and result.retry_after_s is None
    assert [(r.sku, r.country, r.error, r.retry) for r in result.rejected] == [
        ("424242", "shipped", "unknown order", False),
        (other, "shipped", "unknown order", False),
        (number, "shipped", "nothing left to fulfil: 1 of SKU-9 beyond what the order has open", False),
        (number, "shipped", "a shipment without lines", False),
        ("#1001", "cancelled", "not a Shopify order id: '#1001'", False),
        (number, "returned", "returned is not an order update Shopify takes", False),
        ("424242", "refunded", "unknown order", False),
    ]
    assert shop.fulfilments(SHOP) == [] and shop.refunds(SHOP) == [] and shop.cancellations(SHOP) == []


def test_a_user_error_of_the_shop_is_a_rejection_for_good(shop: Shopify) -> None:
    """The shop's own check (the order read said there was enough, another app fulfilled it meanwhile)."""
    number = shop.add_order(SHOP, [("SKU-1", 1, "9.90")])
    fo, item = first_line(shop, number)
    fulfillment = {
        "lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo, "fulfillmentOrderLineItems": [{"id": item, "quantity": 2}]}
        ]
    }
    answer = gql(shop, FULFIL, {"fulfillment": fulfillment, "idempotencyKey": "k-1"})["data"]
    assert answer["fulfillmentCreate"] == {
        "fulfillment": None,
        "userErrors": [
            {
                "field": [
                    "fulfillment",
                    "lineItemsByFulfillmentOrder",
                    "0",
                    "fulfillmentOrderLineItems",
                    "0",
                    "quantity",
                ],
                "message": "Quantity must be between 1 and the remaining quantity.",
            }
        ],
    }
    assert shop.fulfilments(SHOP) == [] and shop.stats.user_errors == 1


def test_throttling_stops_the_batch_with_a_wait() -> None:
    clock = Clock()
    # an update costs 5 (the order read) + 10 (the mutation): 25 points pay for one and the next read
    with Shopify({SHOP: TOKEN}, maximum=25, restore_rate=50, mutation_cost=10, monotonic=clock) as shop:
        numbers = [shop.add_order(SHOP, [("SKU-1", 1, "1.00")]) for _ in range(3)]
        c = ShopifyConnector(shop.url, TOKEN)
        result = c.send(SHOP, [shipped(n, (("SKU-1", 1),)) for n in numbers])
        assert result.accepted == ((numbers[0], "shipped"),)
        assert [(r.sku, r.error, r.retry) for r in result.rejected] == [
            (numbers[1], "throttled", True),
            (numbers[2], "throttled", True),
        ]
        assert result.retry_after_s == pytest.approx(0.1)  # 5 points left, 10 asked, 50 restored a second
        assert len(shop.fulfilments(SHOP)) == 1 and shop.stats.throttled == 1
        # once the bucket refilled, each batch gets as far as the bucket pays, until all arrived
        clock.now += 10
        again = c.send(SHOP, [shipped(n, (("SKU-1", 1),)) for n in numbers[1:]])
        assert again.accepted == ((numbers[1], "shipped"),) and again.retry_after_s is not None
        clock.now += 10
        assert c.send(SHOP, [shipped(numbers[2], (("SKU-1", 1),))]).accepted == ((numbers[2], "shipped"),)
        c.close()
        assert [f.order for f in shop.fulfilments(SHOP)] == numbers


def test_a_malformed_answer_is_retried() -> None:
    with Shopify({SHOP: TOKEN}, fault_rate=1.0, faults=("malformed",)) as shop:
        number = shop.add_order(SHOP, [("SKU-1", 1, "1.00")])
        c = ShopifyConnector(shop.url, TOKEN)
        result = c.send(SHOP, [shipped(number, (("SKU-1", 1),))])
        c.close()
    assert result == PushResult(rejected=(Rejected(number, "shipped", "malformed response: not JSON", True),))


def test_a_resend_under_the_same_key_is_answered_from_the_shops_record(shop: Shopify) -> None:
    number = shop.add_order(SHOP, [("SKU-1", 2, "1.00")])
    fo, item = first_line(shop, number)
    fulfillment = {
        "lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo, "fulfillmentOrderLineItems": [{"id": item, "quantity": 1}]}
        ],
        "trackingInfo": {"company": "DHL", "number": "T-1"},
    }
    key = idempotency_key(f"shipped:{number}:1", fulfillment)
    answers = [gql(shop, FULFIL, {"fulfillment": fulfillment, "idempotencyKey": key})["data"] for _ in range(2)]
    assert answers[0] == answers[1] and answers[0]["fulfillmentCreate"]["userErrors"] == []
    assert len(shop.fulfilments(SHOP)) == 1 and shop.stats.duplicates == 1
    # the same key with other variables is an error, and changes nothing
    mismatch = gql(shop, FULFIL, {"fulfillment": {**fulfillment, "notifyCustomer": True}, "idempotencyKey": key})
    assert mismatch["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_MISMATCH"
    assert len(shop.fulfilments(SHOP)) == 1


@pytest.mark.parametrize("fault", ["error", "timeout", "drop", "malformed"])
def test_with_faults_every_update_arrives_exactly_once(fault: str) -> None:
    with Shopify({SHOP: TOKEN}, fault_rate=0.5, faults=(fault,), seed=11, stall_s=0.3) as shop:
        numbers = [shop.add_order(SHOP, [("SKU-1", 2, "1.00"), ("SKU-2", 1, "2.00")]) for _ in range(6)]
        updates = [shipped(n, (("SKU-1", 2), ("SKU-2", 1))) for n in numbers[:2]]
        updates += [OrderUpdate(n, "cancelled", (), f"cancelled:{n}:1") for n in numbers[2:4]]
        updates += [OrderUpdate(n, "refunded", (("SKU-1", 1),), f"refunded:{n}:R") for n in numbers[4:]]
        c = ShopifyConnector(shop.url, TOKEN, timeout_s=0.15)
        owed = list(updates)
        for _ in range(60):
            if not owed:
                break
            result = c.send(SHOP, owed)  # raises nothing, whatever the shop does
            assert all(r.retry for r in result.rejected), result.rejected
            done = set(result.accepted)
            owed = [u for u in owed if (u.external_id, u.kind) not in done]
        c.close()
        assert owed == []
        assert sorted(f.order for f in shop.fulfilments(SHOP)) == numbers[:2]
        assert all(f.number == f"T-{f.order}-1" for f in shop.fulfilments(SHOP))
        assert sorted(x.order for x in shop.cancellations(SHOP)) == numbers[2:4]
        assert sorted(r.order for r in shop.refunds(SHOP)) == numbers[4:]
        assert shop.stats.faults_injected[fault] > 0


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (ORDER, {"id": ["gid://shopify/Order/1001"]}),
        (ORDER, {"id": "gid://shopify/Product/1"}),
        (FULFIL, {"fulfillment": [], "idempotencyKey": "k"}),
        (FULFIL, {"fulfillment": {"lineItemsByFulfillmentOrder": [1]}, "idempotencyKey": "k"}),
        (FULFIL, {"fulfillment": {"lineItemsByFulfillmentOrder": [], "trackingInfo": "x"}, "idempotencyKey": "k"}),
        (FULFIL, {"fulfillment": {"lineItemsByFulfillmentOrder": []}, "idempotencyKey": "k"}),
        (FULFIL, {"fulfillment": {"lineItemsByFulfillmentOrder": []}}),
        (CANCEL, {"orderId": "gid://shopify/Order/1001", "reason": ["OTHER"], "refund": False, "restock": False}),
        (CANCEL, {"orderId": "gid://shopify/Order/1001", "reason": "OTHER", "refund": "no", "restock": False}),
        (REFUND, {"input": {"orderId": "gid://shopify/Order/1001", "refundLineItems": {}}, "idempotencyKey": "k"}),
        (
            REFUND,
            {
                "input": {
                    "orderId": "gid://shopify/Order/1001",
                    "refundLineItems": [{"lineItemId": "x", "quantity": 1, "restockType": {}}],
                },
                "idempotencyKey": "k2",
            },
        ),
        (REFUND, {"input": {"orderId": 1001, "note": None}, "idempotencyKey": "k3"}),
    ],
)
def test_hostile_variables_get_an_answer_and_change_nothing(
    shop: Shopify, query: str, variables: dict[str, Any]
) -> None:
    shop.add_order(SHOP, [("SKU-1", 1, "9.90")])
    doc = gql(shop, query, variables)
    data = doc.get("data") or {}
    root = next(iter(data.values()), None)
    answered = "errors" in doc or root is None or bool(root.get("userErrors") or root.get("orderCancelUserErrors"))
    assert answered, doc
    assert shop.fulfilments(SHOP) == [] and shop.cancellations(SHOP) == [] and shop.refunds(SHOP) == []
