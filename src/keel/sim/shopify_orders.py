"""The Shopify simulator's orders: what ``add_order`` creates (line items, and fulfillment orders over them),
the ``orders`` pages and ``order(id:)`` read, and the three order mutations (``fulfillmentCreate``,
``orderCancel``, ``refundCreate``) with Shopify's user errors. Pure state, no locking and no HTTP: the
``Shopify`` server calls it under its lock, and answers the idempotency, cost and faults itself.

The shop is strict where Shopify is: a fulfilment names open fulfillment orders of one order and at most
each line's remaining quantity; a refund at most each line item's refundable quantity; a cancelled order is
not cancelled again nor fulfilled; a mutation with a user error changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keel.sim import shopify_wire as wire

FO_PREFIX = "gid://shopify/FulfillmentOrder/"
FOLI_PREFIX = "gid://shopify/FulfillmentOrderLineItem/"
LINE_PREFIX = "gid://shopify/LineItem/"
RESTOCK_TYPES = frozenset({"NO_RESTOCK", "CANCEL", "RETURN", "LEGACY_RESTOCK"})
CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})


@dataclass(frozen=True)
class Fulfilment:
    """A fulfilment the shop accepted: (sku, quantity) lines, the tracking, whether the customer was told."""

    order: str  # the order's number (its gid's last part)
    lines: tuple[tuple[str | None, int], ...]
    company: str | None
    number: str | None
    notify: bool


@dataclass(frozen=True)
class Cancellation:
    order: str
    reason: str
    refund: bool
    restock: bool
    notify: bool


@dataclass(frozen=True)
class Refund:
    order: str
    lines: tuple[tuple[str | None, int, str], ...]  # (sku, quantity, restock type)
    note: str | None


@dataclass
class _Line:
    id: str
    sku: str | None
    quantity: int
    price: str
    currency: str
    refunded: int = 0


@dataclass
class _FulfillmentOrder:
    id: str
    status: str  # OPEN, IN_PROGRESS, CLOSED, CANCELLED
    items: list[tuple[str, int, list[int]]]  # (fulfillment order line item id, line index, [remaining])


@dataclass
class _Order:
    number: str
    name: str
    customer: str | None
    ship_to: tuple[str, str | None] | None
    lines: list[_Line]
    fulfillment_orders: list[_FulfillmentOrder]
    cancelled_at: str | None = None
    fulfilments: list[Fulfilment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)


class OrderBook:
    """Every shop's orders, in the order they were placed."""

    def __init__(self, shops: list[str]) -> None:
        self._orders: dict[str, list[_Order]] = {shop: [] for shop in shops}
        self._by_number: dict[tuple[str, str], _Order] = {}
        self._ids = 0
        self.cancellations: dict[str, list[Cancellation]] = {shop: [] for shop in shops}

    def _next(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def add(
        self,
        shop: str,
        lines: list[tuple[str | None, int, str]],
        customer: str | None,
        ship_to: tuple[str, str | None] | None,
        currency: str,
        fulfillment_orders: int,
    ) -> str:
        """A new order; its lines are spread over ``fulfillment_orders`` (one per location that ships them)."""
        number = str(1000 + len(self._by_number) + 1)
        items = [_Line(self._next(LINE_PREFIX), sku, qty, price, currency) for sku, qty, price in lines]
        fos = [_FulfillmentOrder(self._next(FO_PREFIX), "OPEN", []) for _ in range(max(1, fulfillment_orders))]
        for index, line in enumerate(items):
            fos[index % len(fos)].items.append((self._next(FOLI_PREFIX), index, [line.quantity]))
        order = _Order(number, f"#{number}", customer, ship_to, items, [fo for fo in fos if fo.items] or fos[:1])
        self._orders[shop].append(order)
        self._by_number[(shop, number)] = order
        return number

    def orders_page(self, shop: str, first: object, after: object) -> dict[str, Any] | tuple[str, str]:
        """The ``orders`` connection of ``first`` orders after the cursor ``after``, or (message, code)."""
        if not isinstance(first, int) or isinstance(first, bool) or not 1 <= first <= 250:
            return "first must be between 1 and 250", "INVALID_VARIABLE"
        start = 0
        if after is not None:
            position = wire.position(after)
            if position is None:
                return "Invalid cursor for current pagination sort.", "INVALID_CURSOR"
            start = position + 1
        orders = self._orders[shop]
        edges = [{"cursor": wire.cursor(start + i), "node": _listed(o)} for i, o in enumerate(orders[start:][:first])]
        info = {"hasNextPage": start + first < len(orders), "endCursor": edges[-1]["cursor"] if edges else None}
        return {"edges": edges, "pageInfo": info}

    def get(self, shop: str, number: str) -> _Order | None:
        return self._by_number.get((shop, number))

    def fulfilments(self, shop: str) -> list[Fulfilment]:
        return [f for o in self._orders[shop] for f in o.fulfilments]

    def refunds(self, shop: str) -> list[Refund]:
        return [r for o in self._orders[shop] for r in o.refunds]

    # -- the API ------------------------------------------------------------------------------------------

    def read(self, shop: str, gid: object) -> dict[str, Any] | None:
        """The ``order(id:)`` node (None: no such order of this shop)."""
        order = self._find(shop, gid)
        if order is None:
            return None
        return {
            "id": wire.ORDER + order.number,
            "cancelledAt": order.cancelled_at,
            "lineItems": {
                "nodes": [
                    {"id": line.id, "sku": line.sku, "refundableQuantity": line.quantity - line.refunded}
                    for line in order.lines
                ]
            },
            "fulfillmentOrders": {
                "nodes": [
                    {
                        "id": fo.id,
                        "status": fo.status,
                        "lineItems": {
                            "nodes": [
                                {"id": i, "remainingQuantity": left[0], "lineItem": {"sku": order.lines[n].sku}}
                                for i, n, left in fo.items
                            ]
                        },
                    }
                    for fo in order.fulfillment_orders
                ]
            },
            "fulfillments": [
                {"trackingInfo": [{"company": f.company, "number": f.number}] if f.number or f.company else []}
                for f in order.fulfilments
            ],
            "refunds": [{"note": r.note} for r in order.refunds],
        }

    def fulfil(self, shop: str, doc: object) -> dict[str, Any] | None:
        """``fulfillmentCreate``'s payload, or None when the input's shape is off (a variable error)."""
        if not isinstance(doc, dict) or not isinstance(doc.get("lineItemsByFulfillmentOrder"), list):
            return None
        tracking, notify = doc.get("trackingInfo"), doc.get("notifyCustomer", False)
        if tracking is None:
            tracking = {}
        if not isinstance(tracking, dict) or not isinstance(notify, bool):
            return None
        company, number = tracking.get("company"), tracking.get("number")
        if not all(v is None or isinstance(v, str) for v in (company, number)):
            return None
        wanted: list[tuple[_FulfillmentOrder, int, list[int], int]] = []  # (fo, line index, remaining, quantity)
        orders: set[str] = set()
        taken: dict[str, int] = {}
        errors: list[dict[str, Any]] = []
        for g, group in enumerate(doc["lineItemsByFulfillmentOrder"]):
            where = ["fulfillment", "lineItemsByFulfillmentOrder", str(g)]
            if not isinstance(group, dict) or not isinstance(group.get("fulfillmentOrderLineItems"), list):
                return None
            found = self._fulfillment_order(shop, group.get("fulfillmentOrderId"))
            if found is None:
                errors.append(_error([*where, "fulfillmentOrderId"], "Fulfillment order does not exist."))
                continue
            order, fo = found
            orders.add(order.number)
            if fo.status not in ("OPEN", "IN_PROGRESS"):
                errors.append(_error([*where, "fulfillmentOrderId"], f"Fulfillment order is {fo.status.lower()}."))
                continue
            items = {i: (n, left) for i, n, left in fo.items}
            for k, entry in enumerate(group["fulfillmentOrderLineItems"]):
                item = entry.get("id") if isinstance(entry, dict) else None
                quantity = entry.get("quantity") if isinstance(entry, dict) else None
                if not isinstance(item, str) or not isinstance(quantity, int) or isinstance(quantity, bool):
                    return None
                at = [*where, "fulfillmentOrderLineItems", str(k)]
                taken[item] = taken.get(item, 0) + quantity
                if item not in items:
                    errors.append(_error([*at, "id"], "Fulfillment order line item does not exist."))
                elif quantity <= 0 or taken[item] > items[item][1][0]:
                    errors.append(_error([*at, "quantity"], "Quantity must be between 1 and the remaining quantity."))
                else:
                    wanted.append((fo, items[item][0], items[item][1], quantity))
        if not errors and not wanted:
            errors.append(_error(["fulfillment"], "A fulfillment needs at least one line item."))
        if not errors and len(orders) > 1:
            errors.append(_error(["fulfillment"], "All fulfillment orders must belong to the same order."))
        if errors:
            return {"fulfillment": None, "userErrors": errors}
        order = self._by_number[(shop, orders.pop())]
        for fo, _, left, quantity in wanted:
            left[0] -= quantity
            fo.status = "IN_PROGRESS" if any(rest[0] for _, _, rest in fo.items) else "CLOSED"
        lines = tuple((order.lines[n].sku, q) for _, n, _, q in wanted)
        order.fulfilments.append(Fulfilment(order.number, lines, company, number, notify))
        return {"fulfillment": {"id": f"gid://shopify/Fulfillment/{len(order.fulfilments)}", "status": "SUCCESS"},
                "userErrors": []}  # fmt: skip

    def cancel(self, shop: str, variables: dict[str, Any], now: str) -> dict[str, Any] | None:
        """``orderCancel``'s payload (synchronous here: the job is done at once), or None for a variable error."""
        reason, refund, restock = variables.get("reason"), variables.get("refund"), variables.get("restock")
        notify = variables.get("notifyCustomer", False)
        if not isinstance(reason, str) or reason not in CANCEL_REASONS:
            return None
        if not all(isinstance(v, bool) for v in (refund, restock, notify)):
            return None
        order = self._find(shop, variables.get("orderId"))
        if order is None:
            return _cancel_error("Order does not exist.", "NOT_FOUND")
        if order.cancelled_at is not None:
            return _cancel_error("Order has already been cancelled.", "INVALID")
        order.cancelled_at = now
        for fo in order.fulfillment_orders:
            if fo.status in ("OPEN", "IN_PROGRESS"):
                fo.status = "CANCELLED"
        self.cancellations[shop].append(Cancellation(order.number, str(reason), bool(refund), bool(restock), notify))
        return {"job": {"id": f"gid://shopify/Job/cancel-{order.number}", "done": True}, "orderCancelUserErrors": []}

    def refund(self, shop: str, doc: object) -> dict[str, Any] | None:
        """``refundCreate``'s payload, or None for a variable error."""
        if not isinstance(doc, dict) or not isinstance(doc.get("refundLineItems", []), list):
            return None
        note = doc.get("note")
        if not (note is None or isinstance(note, str)):
            return None
        order = self._find(shop, doc.get("orderId"))
        if order is None:
            return {"refund": None, "userErrors": [_error(["orderId"], "Order does not exist.")]}
        lines = {line.id: line for line in order.lines}
        taken: dict[str, int] = {}
        wanted: list[tuple[_Line, int, str]] = []
        errors: list[dict[str, Any]] = []
        for k, entry in enumerate(doc.get("refundLineItems", [])):
            item = entry.get("lineItemId") if isinstance(entry, dict) else None
            quantity = entry.get("quantity") if isinstance(entry, dict) else None
            restock = entry.get("restockType", "NO_RESTOCK") if isinstance(entry, dict) else None
            if not isinstance(item, str) or not isinstance(quantity, int) or isinstance(quantity, bool):
                return None
            if not isinstance(restock, str) or restock not in RESTOCK_TYPES:
                return None
            at = ["refundLineItems", str(k)]
            line = lines.get(item)
            if line is None:
                errors.append(_error([*at, "lineItemId"], "Line item does not exist."))
                continue
            taken[item] = taken.get(item, 0) + quantity
            if quantity <= 0 or taken[item] > line.quantity - line.refunded:
                errors.append(_error([*at, "quantity"], "Quantity cannot refund more items than were purchased."))
                continue
            wanted.append((line, quantity, str(restock)))
        if errors:
            return {"refund": None, "userErrors": errors}
        for line, quantity, _ in wanted:
            line.refunded += quantity
        order.refunds.append(Refund(order.number, tuple((ln.sku, q, r) for ln, q, r in wanted), note))
        return {"refund": {"id": f"gid://shopify/Refund/{order.number}-{len(order.refunds)}", "note": note},
                "userErrors": []}  # fmt: skip

    def _find(self, shop: str, gid: object) -> _Order | None:
        if not isinstance(gid, str) or not gid.startswith(wire.ORDER):
            return None
        return self._by_number.get((shop, gid[len(wire.ORDER) :]))

    def _fulfillment_order(self, shop: str, gid: object) -> tuple[_Order, _FulfillmentOrder] | None:
        for order in self._orders[shop] if isinstance(gid, str) else ():
            for fo in order.fulfillment_orders:
                if fo.id == gid:
                    return order, fo
        return None


def _listed(order: _Order) -> dict[str, Any]:
    """An order as the ``orders`` page shows it."""
    return {
        "id": wire.ORDER + order.number,
        "name": order.name,
        "customer": None if order.customer is None else {"displayName": order.customer},
        "shippingAddress": None
        if order.ship_to is None
        else {"countryCodeV2": order.ship_to[0], "zip": order.ship_to[1]},
        "lineItems": {
            "nodes": [
                {
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "originalUnitPriceSet": {"shopMoney": {"amount": line.price, "currencyCode": line.currency}},
                }
                for line in order.lines
            ]
        },
    }


def _error(where: list[str], message: str) -> dict[str, Any]:
    return {"field": where, "message": message}


def _cancel_error(message: str, code: str) -> dict[str, Any]:
    return {"job": None, "orderCancelUserErrors": [{"field": ["orderId"], "message": message, "code": code}]}
