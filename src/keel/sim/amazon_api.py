"""The Amazon-style simulator's orders, shipment confirmations and FBA inventory endpoints, its routes and its
HTTP handler (the feeds and the rules are in ``keel.sim.amazon``, whose docstring describes the whole API)."""

from __future__ import annotations

import base64
import json
import random
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from keel.sim.http import Reply

# the marketplace ids of the countries the simulator serves, by region
MARKETPLACES = {
    "na": {"US": "ATVPDKIKX0DER", "CA": "A2EUQ1WTGCTBG2", "MX": "A1AM78C64UM0Y8"},
    "eu": {"DE": "A1PA6795UKMFR9", "FR": "A13V1IB3VIYZZH", "IT": "APJ6JRA9NG5V4", "ES": "A1RKKUPIHCS9HS",
           "UK": "A1F83G8C2ARO7P", "NL": "A1805IZSGTT6HS", "PL": "A1C3SOZRARQ6R3", "SE": "A2NODRKZP88ZB9"},
    "fe": {"JP": "A1VC38T7YXB528", "AU": "A39IBJ37TRP1C6", "SG": "A19VAU5U5O7RUS"},
}  # fmt: skip
COUNTRY_OF = {mp: c for region in MARKETPLACES.values() for c, mp in region.items()}
ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), op)
    for method, pattern, op in (
        ("POST", r"^/feeds/2021-06-30/documents$", "document"),
        ("PUT", r"^/uploads/([\w.-]+)$", "upload"),
        ("POST", r"^/feeds/2021-06-30/feeds$", "create"),
        ("GET", r"^/feeds/2021-06-30/feeds/([\w.-]+)$", "feed"),
        ("GET", r"^/feeds/2021-06-30/documents/([\w.-]+)$", "report"),
        ("GET", r"^/downloads/([\w.-]+)$", "download"),
        ("GET", r"^/orders/v0/orders$", "orders"),
        ("GET", r"^/orders/v0/orders/([\w-]+)/orderItems$", "items"),
        ("POST", r"^/orders/v0/orders/([\w-]+)/shipmentConfirmation$", "confirm"),
        ("POST", r"^/orders/v0/orders/([\w-]+)/cancellation$", "cancel"),
        ("GET", r"^/fba/inventory/v1/summaries$", "fba"),
    )
)


@dataclass
class Order:
    id: str
    seller: str
    country: str
    purchased: datetime
    items: list[dict[str, Any]]  # OrderItemId, SellerSKU, QuantityOrdered, ItemPrice, and ``shipped`` (ours)
    ship_to: dict[str, str]
    status: str = "Unshipped"


@dataclass(frozen=True)
class Confirmation:
    seller: str
    order_id: str
    package: str
    carrier: str
    tracking: str
    items: tuple[tuple[str, int], ...]  # (OrderItemId, quantity)


class _State(Protocol):
    page_size: int
    _lock: threading.Lock
    _rng: random.Random
    _orders: dict[str, Order]
    _fba: dict[tuple[str, str, str], int]
    confirmations: list[Confirmation]
    cancellations: list[tuple[str, str]]

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply: ...

    def stalled(self) -> bool: ...


class OrdersApi:
    """The orders and FBA endpoints and the tests' side of them, mixed into the simulator (which holds the
    state and the lock)."""

    def add_order(
        self: _State,
        seller: str,
        country: str,
        lines: list[tuple[str, int, str]],  # (sku, quantity, unit price)
        *,
        buyer: str = "Ann Buyer",
        city: str = "Berlin",
        postal_code: str = "10117",
        currency: str = "EUR",
        status: str = "Unshipped",
    ) -> str:
        """A new order, bought now (each later order strictly later); its Amazon order id."""
        with self._lock:
            n = len(self._orders) + 1
            order_id = f"302-{n:07d}-{self._rng.randrange(10**7):07d}"
            now = datetime.now(UTC)
            last = max((o.purchased for o in self._orders.values()), default=now - timedelta(seconds=1))
            items = [
                {"OrderItemId": f"{order_id}-{i}", "SellerSKU": sku, "QuantityOrdered": q, "shipped": 0,
                 "ItemPrice": {"CurrencyCode": currency, "Amount": str(Decimal(price) * q)}}
                for i, (sku, q, price) in enumerate(lines, 1)
            ]  # fmt: skip
            ship_to = {"Name": buyer, "City": city, "PostalCode": postal_code, "CountryCode": country}
            purchased = max(now, last + timedelta(microseconds=1))
            self._orders[order_id] = Order(order_id, seller, country, purchased, items, ship_to, status)
            return order_id

    def set_order_status(self: _State, order_id: str, status: str) -> None:
        """Move an order on (Pending -> Unshipped once paid, or Canceled)."""
        with self._lock:
            self._orders[order_id].status = status

    def order_status(self: _State, order_id: str) -> str:
        with self._lock:
            return self._orders[order_id].status

    def add_fba_stock(self: _State, seller: str, country: str, sku: str, quantity: int) -> None:
        with self._lock:
            self._fba[(seller, country, sku)] = quantity

    def _op_orders(self: _State, seller: str, region: str, arg: str, q: dict[str, str], *_: Any) -> Reply:
        if "NextToken" in q:
            try:
                after, before, offset = json.loads(base64.urlsafe_b64decode(q["NextToken"]))
            except ValueError:
                return error_reply(400, "InvalidInput", "NextToken is not valid")
        elif "CreatedAfter" in q:
            after, before, offset = q["CreatedAfter"], datetime.now(UTC).isoformat(), 0
        else:
            return error_reply(400, "InvalidInput", "CreatedAfter or NextToken is required")
        try:
            low, high = datetime.fromisoformat(after), datetime.fromisoformat(before)
            size = min(self.page_size, max(1, int(q.get("MaxResultsPerPage", self.page_size))))
        except (ValueError, TypeError):
            return error_reply(400, "InvalidInput", "CreatedAfter must be ISO 8601, MaxResultsPerPage a number")
        countries = set(MARKETPLACES[region])
        found = sorted(
            (o for o in self._orders.values() if o.seller == seller and o.country in countries
             and low <= o.purchased < high),
            key=lambda o: (o.purchased, o.id),
        )  # fmt: skip
        page = found[offset : offset + size]
        payload: dict[str, Any] = {"Orders": [_order_json(o) for o in page], "CreatedBefore": high.isoformat()}
        if offset + size < len(found):
            token = json.dumps([after, before, offset + size]).encode()
            payload["NextToken"] = base64.urlsafe_b64encode(token).decode()
        return json_reply(200, {"payload": payload})

    def _op_items(self: _State, seller: str, region: str, arg: str, *_: Any) -> Reply:
        order = self._orders.get(arg)
        if order is None or order.seller != seller:
            return error_reply(404, "NotFound", "no such order")
        items = [{k: v for k, v in item.items() if k != "shipped"} for item in order.items]
        return json_reply(200, {"payload": {"AmazonOrderId": order.id, "OrderItems": items}})

    def _op_confirm(self: _State, seller: str, region: str, arg: str, q: dict[str, str], body: bytes, *_: Any) -> Reply:
        order = self._orders.get(arg)
        if order is None or order.seller != seller:
            return error_reply(404, "NotFound", "no such order")
        doc = load_json(body)
        detail = doc.get("packageDetail") if isinstance(doc, dict) else None
        if not isinstance(detail, dict):
            return error_reply(400, "InvalidInput", "packageDetail is required")
        package, carrier, tracking = (detail.get(k) for k in ("packageReferenceId", "carrierCode", "trackingNumber"))
        lines = detail.get("orderItems")
        if not all(isinstance(v, str) and v for v in (package, carrier, tracking)) or not isinstance(lines, list):
            return error_reply(400, "InvalidInput", "package, carrier, tracking and items required")
        if any(c.order_id == order.id and c.package == package for c in self.confirmations):
            return Reply(204)  # the same package confirmed again: nothing new
        if order.status == "Canceled":
            return error_reply(400, "InvalidInput", "the order is cancelled")
        by_id = {item["OrderItemId"]: item for item in order.items}
        taken: list[tuple[str, int]] = []
        for line in lines:
            item = by_id.get(line.get("orderItemId")) if isinstance(line, dict) else None
            qty = line.get("quantity") if isinstance(line, dict) else None
            if item is None or not isinstance(qty, int) or not 0 < qty <= item["QuantityOrdered"] - item["shipped"]:
                return error_reply(400, "InvalidInput", "an order item is unknown or its quantity is not open")
            taken.append((item["OrderItemId"], qty))
        for item_id, qty in taken:
            by_id[item_id]["shipped"] += qty
        shipped_all = all(i["shipped"] >= i["QuantityOrdered"] for i in order.items)
        order.status = "Shipped" if shipped_all else "PartiallyShipped"
        self.confirmations.append(
            Confirmation(seller, order.id, str(package), str(carrier), str(tracking), tuple(taken))
        )
        return Reply(204)

    def _op_cancel(self: _State, seller: str, region: str, arg: str, *_: Any) -> Reply:
        order = self._orders.get(arg)
        if order is None or order.seller != seller:
            return error_reply(404, "NotFound", "no such order")
        if order.status == "Canceled":
            return Reply(204)
        if order.status != "Unshipped":
            return error_reply(400, "InvalidInput", "a shipped order cannot be cancelled")
        order.status = "Canceled"
        self.cancellations.append((seller, order.id))
        return Reply(204)

    def _op_fba(self: _State, seller: str, region: str, arg: str, q: dict[str, str], *_: Any) -> Reply:
        country = COUNTRY_OF.get(q.get("granularityId", ""))
        if country is None or country not in MARKETPLACES[region] or q.get("granularityType") != "Marketplace":
            return error_reply(400, "InvalidInput", "granularityType Marketplace and a granularityId of the region")
        try:
            offset = int(q.get("nextToken", "0"))
        except ValueError:
            return error_reply(400, "InvalidInput", "nextToken is not valid")
        rows = sorted((sku, n) for (s, c, sku), n in self._fba.items() if s == seller and c == country)
        page = rows[offset : offset + self.page_size]
        summaries = [
            {"sellerSku": sku, "condition": "NewItem", "totalQuantity": n,
             "inventoryDetails": {"fulfillableQuantity": n}}
            for sku, n in page
        ]  # fmt: skip
        doc: dict[str, Any] = {
            "payload": {"granularity": {"granularityType": "Marketplace"}, "inventorySummaries": summaries}
        }
        if offset + self.page_size < len(rows):
            doc["pagination"] = {"nextToken": str(offset + self.page_size)}
        return json_reply(200, doc)


def _order_json(o: Order) -> dict[str, Any]:
    total = sum((Decimal(i["ItemPrice"]["Amount"]) for i in o.items), Decimal(0))
    currency = o.items[0]["ItemPrice"]["CurrencyCode"] if o.items else "EUR"
    return {
        "AmazonOrderId": o.id,
        "PurchaseDate": o.purchased.isoformat(),
        "OrderStatus": o.status,
        "MarketplaceId": MARKETPLACES_BY_COUNTRY[o.country],
        "OrderTotal": {"CurrencyCode": currency, "Amount": str(total)},
        "BuyerInfo": {"BuyerName": o.ship_to["Name"]},
        # a Pending order (not paid yet) shows no address
        **({} if o.status == "Pending" else {"ShippingAddress": dict(o.ship_to)}),
    }


MARKETPLACES_BY_COUNTRY = {c: mp for mp, c in COUNTRY_OF.items()}


def route(method: str, path: str) -> tuple[str, str] | None:
    """(operation, path argument) of a request inside a region, None when nothing serves it."""
    for m, pattern, op in ROUTES:
        if m == method and (match := pattern.match(path)) is not None:
            return op, match.group(1) if pattern.groups else ""
    return None


def json_reply(status: int, doc: object, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(
        status, json.dumps(doc, separators=(",", ":")).encode(), (("Content-Type", "application/json"), *headers)
    )


def error_reply(status: int, code: str, message: str) -> Reply:
    return json_reply(status, {"errors": [{"code": code, "message": message}]})


def load_json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
