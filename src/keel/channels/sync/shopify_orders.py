"""The Shopify-style connector's order updates: shipments, cancellations and refunds sent back to the shop
through Admin GraphQL (``ShopifyConnector.send`` hands each batch here).

Each update first reads its order (``order(id:)``: whether it is cancelled, its line items with what is still
refundable, its open fulfillment orders with what each line still has to ship, the tracking numbers of its
fulfilments and the notes of its refunds), then sends one mutation:

- **shipped**: ``fulfillmentCreate`` with the update's lines spread over the open fulfillment orders' line
  items (by SKU, up to what each has left), the carrier and tracking number, and ``notifyCustomer``.
- **cancelled**: ``orderCancel`` with reason ``OTHER``, no refund and no restock: Keel owns the stock, so the
  shop must not put units back on its own. ``orderCancel`` cancels whole orders: a cancellation of some units
  while others stay open on the shop is refused for good (a dead letter for an operator to look at).
- **refunded**: ``refundCreate`` of the update's lines (``NO_RESTOCK``, for the same reason) with no
  transactions: the money moves in the payment provider, as Keel's returns say; the amount, when known, is
  in the refund's note.

**Exactly once.** A mutation carries ``@idempotent(key:)``: the update's key and a digest of the exact
variables, so a resend of the same request is answered from the shop's record and other variables never
collide with it. A request that timed out may still have landed, and the next attempt's variables differ (the
shop has less left to fulfil), so the order read decides first: a fulfilment with the update's tracking
number, a cancelled order, a refund with the update's note (which names its key) means the update already
arrived, and it counts as accepted without a second mutation. (A shipment without a tracking number cannot be
recognised so: if it landed and its answer was lost, the next attempt finds too little left to fulfil.)

**Failures.** A throttled request (the cost bucket) or a 429 stops the batch: the rest are
``Rejected(retry=True)`` and the result carries the wait. Timeouts, statuses, GraphQL errors and answers of
the wrong shape reject the update for a retry. A user error, an unknown order, a line the order does not
have, nothing left to fulfil or refund: the shop will never take it, ``Rejected(retry=False)``. Nothing here
raises for what the shop does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from keel.channels.sync import shopify_parse as parse
from keel.channels.sync.model import OrderUpdate, PushResult, Rejected

Post = Callable[[str, dict[str, Any]], "dict[str, Any] | PushResult"]
OPEN = frozenset({"OPEN", "IN_PROGRESS"})  # the fulfillment order statuses that still take a fulfilment

ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
    lineItems(first: 250) { nodes { id sku refundableQuantity } }
    fulfillmentOrders(first: 10) {
      nodes { id status lineItems(first: 250) { nodes { id remainingQuantity lineItem { sku } } } }
    }
    fulfillments(first: 250) { trackingInfo(first: 10) { company number } }
    refunds(first: 250) { note }
  }
}"""
FULFIL = """
mutation Fulfil($fulfillment: FulfillmentInput!, $idempotencyKey: String!) {
  fulfillmentCreate(fulfillment: $fulfillment) @idempotent(key: $idempotencyKey) {
    fulfillment { id status }
    userErrors { field message }
  }
}"""
CANCEL = """
mutation Cancel($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!,
    $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock,
      notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""
REFUND = """
mutation Refund($input: RefundInput!, $idempotencyKey: String!) {
  refundCreate(input: $input) @idempotent(key: $idempotencyKey) {
    refund { id note }
    userErrors { field message }
  }
}"""


@dataclass(frozen=True)
class ShopOrder:
    """What the order read says, as far as the updates need it."""

    cancelled: bool
    lines: tuple[tuple[str, str | None, int], ...]  # (line item id, sku, refundable quantity)
    # (fulfillment order id, status, ((fulfillment order line item id, sku, remaining quantity), ...))
    fulfillment_orders: tuple[tuple[str, str, tuple[tuple[str, str | None, int], ...]], ...]
    tracking: frozenset[str]  # tracking numbers of the order's fulfilments
    refund_notes: frozenset[str]


class _Stop(Exception):
    """The shop asked to wait (throttled, 429): the batch ends here."""

    def __init__(self, error: str, wait: float) -> None:
        super().__init__(error)
        self.error, self.wait = error, wait


def send(post: Post, updates: list[OrderUpdate]) -> PushResult:
    """Send each update in turn; ``accepted``/``rejected`` name (external_id, kind)."""
    accepted: list[tuple[str, str]] = []
    rejected: list[Rejected] = []
    for n, u in enumerate(updates):
        try:
            refusal = _one(post, u)
        except _Stop as stop:
            rest = [Rejected(x.external_id, x.kind, stop.error, True) for x in updates[n:]]
            return PushResult(tuple(accepted), (*rejected, *rest), retry_after_s=stop.wait)
        if refusal is None:
            accepted.append((u.external_id, u.kind))
        else:
            rejected.append(refusal)
    return PushResult(tuple(accepted), tuple(rejected))


def _one(post: Post, u: OrderUpdate) -> Rejected | None:
    """None: the shop holds the update (now or from an earlier attempt); else why not."""

    def refuse(error: str, retry: bool = False) -> Rejected:
        return Rejected(u.external_id, u.kind, error[:200], retry)

    if u.kind not in ("shipped", "cancelled", "refunded"):
        return refuse(f"{u.kind} is not an order update Shopify takes")
    # an order's external id is the number of its gid (shopify_parse); anything else names no order of the shop
    if not (u.external_id.isascii() and u.external_id.isdigit()):
        return refuse(f"not a Shopify order id: {u.external_id[:40]!r}")
    gid = parse.ORDER_PREFIX + u.external_id
    answer = _call(post, ORDER, {"id": gid})
    if isinstance(answer, str):
        return refuse(answer, True)
    if answer.get("order", False) is None:
        return refuse("unknown order")
    order = read_order(answer)
    if order is None:
        return refuse(parse.MALFORMED, True)
    if u.kind == "shipped":
        return _ship(post, u, order, refuse)
    if u.kind == "cancelled":
        if order.cancelled:
            return None  # cancelled already (an attempt that timed out, or on the shop): what Keel wants
        kept = _kept_open(order, u.lines)
        if kept:
            return refuse(f"a partial cancellation ({kept} stays open): Shopify's orderCancel cancels whole orders")
        variables: dict[str, Any] = {
            "orderId": gid,
            "reason": "OTHER",
            "refund": False,
            "restock": False,  # Keel owns the stock
            "notifyCustomer": True,
            "staffNote": f"Cancelled in Keel ({u.key})"[:255],
        }
        return _mutate(post, CANCEL, variables, "orderCancel", "orderCancelUserErrors", refuse)
    return _refund(post, u, gid, order, refuse)


def _ship(post: Post, u: OrderUpdate, order: ShopOrder, refuse: Callable[..., Rejected]) -> Rejected | None:
    if u.tracking and u.tracking in order.tracking:
        return None  # an earlier attempt landed (its answer was lost)
    if order.cancelled:
        return refuse("the order is cancelled on the shop")
    if not u.lines:
        return refuse("a shipment without lines")
    left = {foli: remaining for _, _, items in order.fulfillment_orders for foli, _, remaining in items}
    by_order: dict[str, list[dict[str, Any]]] = {}
    for sku, quantity in u.lines:
        owed = quantity
        for fo, status, items in order.fulfillment_orders:
            for foli, item_sku, _ in items:
                if owed <= 0 or status not in OPEN or item_sku != sku or left[foli] <= 0:
                    continue
                take = min(owed, left[foli])
                left[foli] -= take
                owed -= take
                by_order.setdefault(fo, []).append({"id": foli, "quantity": take})
        if owed > 0:
            return refuse(f"nothing left to fulfil: {owed} of {sku} beyond what the order has open")
    fulfillment: dict[str, Any] = {
        "lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo, "fulfillmentOrderLineItems": items} for fo, items in by_order.items()
        ],
        "notifyCustomer": True,
    }
    tracking = {k: v for k, v in (("company", u.carrier), ("number", u.tracking)) if v}
    if tracking:
        fulfillment["trackingInfo"] = tracking
    variables = {"fulfillment": fulfillment, "idempotencyKey": idempotency_key(u.key, fulfillment)}
    return _mutate(post, FULFIL, variables, "fulfillmentCreate", "userErrors", refuse, "fulfillment")


def _kept_open(order: ShopOrder, cancelled: tuple[tuple[str, int], ...]) -> str | None:
    """A SKU of which the shop would still have units to fulfil after Keel's cancellation (None: it cancels
    all that is open, or names no lines: the whole order)."""
    if not cancelled:
        return None
    open_left: dict[str | None, int] = {}
    for _, status, items in order.fulfillment_orders:
        for _, sku, remaining in items if status in OPEN else ():
            open_left[sku] = open_left.get(sku, 0) + remaining
    wanted: dict[str | None, int] = {}
    for sku, quantity in cancelled:
        wanted[sku] = wanted.get(sku, 0) + quantity
    return next((str(sku) for sku, left in open_left.items() if left > wanted.get(sku, 0)), None)


def _refund(post: Post, u: OrderUpdate, gid: str, order: ShopOrder, refuse: Callable[..., Rejected]) -> Rejected | None:
    note = refund_note(u)
    if note in order.refund_notes:
        return None  # an earlier attempt landed
    left = {item: refundable for item, _, refundable in order.lines}
    lines: list[dict[str, Any]] = []
    for sku, quantity in u.lines:
        owed = quantity
        for item, item_sku, _ in order.lines:
            if owed > 0 and item_sku == sku and left[item] > 0:
                take = min(owed, left[item])
                left[item] -= take
                owed -= take
                lines.append({"lineItemId": item, "quantity": take, "restockType": "NO_RESTOCK"})
        if owed > 0:
            return refuse(f"nothing left to refund: {owed} of {sku} beyond what the order has refundable")
    # an update naming no lines (none returned) is recorded by its note alone
    refund = {"orderId": gid, "note": note, "refundLineItems": lines}
    variables = {"input": refund, "idempotencyKey": idempotency_key(u.key, refund)}
    return _mutate(post, REFUND, variables, "refundCreate", "userErrors", refuse, "refund")


def _mutate(
    post: Post,
    query: str,
    variables: dict[str, Any],
    root: str,
    errors_field: str,
    refuse: Callable[..., Rejected],
    result_field: str | None = None,
) -> Rejected | None:
    answer = _call(post, query, variables)
    if isinstance(answer, str):
        return refuse(answer, True)
    payload = answer.get(root)
    errors = user_errors(payload, errors_field)
    if errors is None:
        return refuse(parse.MALFORMED, True)
    if errors:
        return refuse(f"user error: {'; '.join(errors)}")
    assert isinstance(payload, dict)  # user_errors read it
    if result_field is not None and not isinstance(payload.get(result_field), dict):
        return refuse(parse.MALFORMED, True)  # no error and nothing created: not an answer to rely on
    return None


def _call(post: Post, query: str, variables: dict[str, Any]) -> dict[str, Any] | str:
    """The answer's data, or its error (raising ``_Stop`` when the shop asks to wait)."""
    answer = post(query, variables)
    if isinstance(answer, PushResult):
        if answer.retry_after_s is not None:
            raise _Stop(answer.error or "throttled", answer.retry_after_s)
        return answer.error or parse.MALFORMED
    return answer


def idempotency_key(key: str, doc: dict[str, Any]) -> str:
    """The update's key with a digest of the exact input: a resend of the same request is recognised, another
    request under the same update never collides with it."""
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:24]
    return f"{key[:100]}-{digest}"


def refund_note(u: OrderUpdate) -> str:
    amount = f", amount {u.amount}" if u.amount else ""
    return f"Refunded in Keel ({u.key}{amount})"[:255]


def user_errors(payload: object, field: str) -> list[str] | None:
    """The messages of a mutation payload's user errors, or None when its shape is off."""
    errors = payload.get(field) if isinstance(payload, dict) else None
    if not isinstance(errors, list):
        return None
    messages: list[str] = []
    for e in errors:
        if not isinstance(e, dict) or not isinstance(e.get("message"), str):
            return None
        messages.append(e["message"])
    return messages


def read_order(data: dict[str, Any]) -> ShopOrder | None:
    """The order read's answer, or None when its shape is off."""
    node = data.get("order")
    if not isinstance(node, dict) or not isinstance(node.get("id"), str):
        return None
    cancelled = node.get("cancelledAt")
    lines = _nodes(node.get("lineItems"))
    fos = _nodes(node.get("fulfillmentOrders"))
    fulfilments, refunds = node.get("fulfillments"), node.get("refunds")
    if lines is None or fos is None or not isinstance(fulfilments, list) or not isinstance(refunds, list):
        return None
    if not (cancelled is None or isinstance(cancelled, str)):
        return None
    items = [_item(line, "refundableQuantity", "sku") for line in lines]
    orders = [_fulfillment_order(fo) for fo in fos]
    tracking = [_tracking(f) for f in fulfilments]
    notes = [r.get("note") if isinstance(r, dict) else 0 for r in refunds]
    if None in items or None in orders or None in tracking or not all(n is None or isinstance(n, str) for n in notes):
        return None
    return ShopOrder(
        cancelled=cancelled is not None,
        lines=tuple(i for i in items if i is not None),
        fulfillment_orders=tuple(o for o in orders if o is not None),
        tracking=frozenset(n for t in tracking if t is not None for n in t),
        refund_notes=frozenset(n for n in notes if isinstance(n, str)),
    )


def _nodes(connection: object) -> list[Any] | None:
    nodes = connection.get("nodes") if isinstance(connection, dict) else None
    return nodes if isinstance(nodes, list) else None


def _item(node: object, quantity_field: str, sku_of: str) -> tuple[str, str | None, int] | None:
    """(id, sku, quantity) of a line item (``sku_of`` "sku") or a fulfillment order line item ("lineItem")."""
    if not isinstance(node, dict) or not isinstance(node.get("id"), str):
        return None
    quantity = node.get(quantity_field)
    holder = node.get("lineItem") if sku_of == "lineItem" else node
    sku = holder.get("sku") if isinstance(holder, dict) else 0
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not (sku is None or isinstance(sku, str)):
        return None
    return node["id"], sku, quantity


def _fulfillment_order(node: object) -> tuple[str, str, tuple[tuple[str, str | None, int], ...]] | None:
    if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not isinstance(node.get("status"), str):
        return None
    nodes = _nodes(node.get("lineItems"))
    items = [_item(i, "remainingQuantity", "lineItem") for i in nodes] if nodes is not None else [None]
    if None in items:
        return None
    return node["id"], node["status"], tuple(i for i in items if i is not None)


def _tracking(fulfilment: object) -> list[str] | None:
    info = fulfilment.get("trackingInfo") if isinstance(fulfilment, dict) else None
    if not isinstance(info, list) or not all(isinstance(t, dict) for t in info):
        return None
    numbers = [t.get("number") for t in info]
    return [n for n in numbers if isinstance(n, str)]
