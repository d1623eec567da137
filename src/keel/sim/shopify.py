"""A Shopify-style shop, as the Shopify connector sees it: a local HTTP server playing the Admin GraphQL API
(``POST /admin/api/graphql.json``) for the connector tests and the demo.

Each shop (a Keel channel) has its access token (``X-Shopify-Access-Token``); the token picks the shop. The
server does not parse GraphQL: it recognises the documents the connector sends by their root field
(``inventorySetQuantities``, ``nodes``, ``orders``, ``order``, ``fulfillmentCreate``, ``orderCancel``,
``refundCreate``) and takes everything else from the variables, validated strictly. Inventory items and
locations are identified as in the connector's mapping (``gid://shopify/InventoryItem/<sku>``,
``gid://shopify/Location/<country>``, inventory levels as
``gid://shopify/InventoryLevel/<country>?inventory_item_id=<sku>``, the parts percent-encoded).

It is strict where Shopify is:

- **Compare-and-set.** Every quantity must carry ``changeFromQuantity``: null sets unconditionally; a number
  must equal the shop's current available quantity (0 for a level it does not hold), else the user error
  ``CHANGE_FROM_QUANTITY_STALE``. A mutation with any user error changes nothing (it is one adjustment group).
  Other user errors: ``INVALID_INVENTORY_ITEM`` (an item outside ``items``, when given), ``INVALID_LOCATION``
  (outside ``locations``, when given), ``INVALID_QUANTITY_NEGATIVE``, ``INVALID_QUANTITY_TOO_HIGH``,
  ``INVALID_NAME``, ``INVALID_REASON``, ``NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR``.
- **Orders** (``keel.sim.shopify_orders``): each has fulfillment orders over its lines; ``fulfillmentCreate``
  takes at most what each line has left, ``orderCancel`` refuses an order cancelled already, ``refundCreate``
  at most what each line item has refundable; unknown orders and line items are user errors.
- **Idempotency.** ``inventorySetQuantities``, ``fulfillmentCreate`` and ``refundCreate`` need
  ``@idempotent(key: $idempotencyKey)``; a key seen before with the same variables gets the first answer
  again and changes nothing (``duplicates``); with other variables it is an error.
- **Cost-based rate limit.** A bucket of ``maximum`` points per shop refills at ``restore_rate`` points per
  second; a mutation costs ``mutation_cost``, a ``nodes`` read 1 + one per id, an orders page 2 + ``first``,
  an order read ``ORDER_COST`` (a simplification of Shopify's calculated cost). A request the bucket cannot
  pay is answered HTTP 200 with ``errors: [{"extensions": {"code": "THROTTLED"}}]`` and
  ``extensions.cost.throttleStatus``, and changes nothing (``throttled``).
- **Faults**, for ``fault_rate`` of the admitted requests, drawn with a seeded ``random.Random`` among
  ``faults``: ``error`` (503, nothing applied), ``timeout`` (applied, answered after ``stall_s``), ``drop``
  (connection closed, nothing applied), ``malformed`` (applied, a body that is not JSON).

Tests act as the shop's other side with ``sell`` (the shop sells stock on its own, so Keel's compare-and-set
goes stale), ``add_order`` and ``cancel_order``, and read what it holds with ``levels``, ``applied``,
``fulfilments``, ``cancellations``, ``refunds`` and ``stats``.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from keel.sim import shopify_wire as wire
from keel.sim.http import LocalServer, Reply
from keel.sim.shopify_orders import Cancellation, Fulfilment, OrderBook, Refund

FAULTS = ("error", "timeout", "drop", "malformed")
PATH = "/admin/api/graphql.json"
# the root fields served, mutations first (a query's text may name a field inside another, never a root)
OPERATIONS = ("fulfillmentCreate", "orderCancel", "refundCreate", "inventorySetQuantities", "nodes", "orders", "order")
ORDER_MUTATIONS = frozenset({"fulfillmentCreate", "orderCancel", "refundCreate"})
ORDER_COST = 5


@dataclass
class Stats:
    requests: int = 0
    mutations: int = 0  # mutations applied
    items_set: int = 0
    stale: int = 0  # quantities refused as CHANGE_FROM_QUANTITY_STALE
    user_errors: int = 0
    duplicates: int = 0
    fulfilments: int = 0
    cancellations: int = 0
    refunds: int = 0
    throttled: int = 0
    unauthorized: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)


class Shopify(LocalServer):
    """The simulator. ``tokens`` maps each shop (channel) to its access token. Use as a context manager."""

    def __init__(
        self,
        tokens: Mapping[str, str],
        *,
        maximum: float = 1000.0,
        restore_rate: float = 50.0,
        mutation_cost: int = 10,
        items: Iterable[str] | None = None,
        locations: Iterable[str] | None = None,
        fault_rate: float = 0.0,
        faults: Iterable[str] = FAULTS,
        seed: int = 0,
        stall_s: float = 6.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.faults = tuple(faults)
        if set(self.faults) - set(FAULTS) or not self.faults or not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"faults must be among {FAULTS} and fault_rate in [0, 1]")
        self.shops = {token: shop for shop, token in tokens.items()}
        self.maximum, self.restore_rate, self.mutation_cost = maximum, restore_rate, mutation_cost
        self.items = None if items is None else frozenset(items)
        self.locations = None if locations is None else frozenset(locations)
        super().__init__("shop")
        self.fault_rate, self.stall_s = fault_rate, stall_s
        self._monotonic = monotonic
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._levels: dict[str, dict[tuple[str, str], int]] = {shop: {} for shop in tokens}
        self._book = OrderBook(list(tokens))
        self._bucket = {shop: (maximum, monotonic()) for shop in tokens}
        self._answers: dict[tuple[str, str], tuple[str, Reply]] = {}
        self._stats = Stats()
        # (shop, sku, country, quantity, idempotency key) of every quantity set, in order
        self.applied: list[tuple[str, str, str, int, str]] = []

    # -- life cycle ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.base_url

    # -- the shop's own side (tests) ----------------------------------------------------------------------

    def levels(self, shop: str) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._levels[shop])

    def sell(self, shop: str, sku: str, country: str, quantity: int) -> None:
        """The shop sells ``quantity`` on its own: its available quantity drops without Keel knowing."""
        with self._lock:
            self._levels[shop][(sku, country)] = self._levels[shop].get((sku, country), 0) - quantity

    def add_order(
        self,
        shop: str,
        lines: list[tuple[str | None, int, str]],
        customer: str | None = "Ann Example",
        ship_to: tuple[str, str | None] | None = ("DE", "10117"),
        currency: str = "EUR",
        fulfillment_orders: int = 1,
    ) -> str:
        """A new order (lines of sku, quantity, unit price, spread over ``fulfillment_orders``); returns its
        numeric id."""
        with self._lock:
            return self._book.add(shop, lines, customer, ship_to, currency, fulfillment_orders)

    def cancel_order(self, shop: str, number: str) -> None:
        """The shop cancels an order on its own (Keel does not know)."""
        with self._lock:
            variables = {"orderId": wire.ORDER + number, "reason": "CUSTOMER", "refund": False, "restock": False}
            self._book.cancel(shop, variables, _now())

    def fulfilments(self, shop: str) -> list[Fulfilment]:
        with self._lock:
            return self._book.fulfilments(shop)

    def cancellations(self, shop: str) -> list[Cancellation]:
        with self._lock:
            return list(self._book.cancellations[shop])

    def refunds(self, shop: str) -> list[Refund]:
        with self._lock:
            return self._book.refunds(shop)

    @property
    def stats(self) -> Stats:
        with self._lock:
            return replace(self._stats, faults_injected=dict(self._stats.faults_injected))

    # -- requests -----------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        if method != "POST" or path != PATH:
            return _json(404, {"errors": "Not Found"})
        with self._lock:
            self._stats.requests += 1
            shop = self.shops.get(headers.get("x-shopify-access-token", ""))
            if shop is None:
                self._stats.unauthorized += 1
                return _json(401, {"errors": "[API] Invalid API key or access token"})
            try:
                doc = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                return _json(400, {"errors": "body is not JSON"})
            query = doc.get("query") if isinstance(doc, dict) else None
            variables = doc.get("variables") if isinstance(doc, dict) else None
            if not isinstance(query, str) or not isinstance(variables, dict):
                return _json(400, {"errors": "a query and its variables are required"})
            operation = next((op for op in OPERATIONS if f"{op}(" in query), None)
            if operation is None:
                return _errors(f"this simulator serves {', '.join(OPERATIONS)} only", "BAD_REQUEST")
            cost = self._cost(operation, variables)
            if cost > self.maximum:
                return _errors(f"query cost {cost} exceeds the single query maximum", "MAX_COST_EXCEEDED")
            status = self._charge(shop, cost)
            if status is not None:
                self._stats.throttled += 1
                return _json(200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}], **status})
            fault = self._rng.choice(self.faults) if self._rng.random() < self.fault_rate else None
            if fault is not None:
                self._stats.faults_injected[fault] = self._stats.faults_injected.get(fault, 0) + 1
            if fault == "error":
                return _json(503, {"errors": "service unavailable"})
            if fault == "drop":
                return Reply(0, drop=True)
            if operation == "inventorySetQuantities":
                reply = self._idempotent(shop, query, variables, lambda: self._set(shop, variables, cost))
            elif operation in ORDER_MUTATIONS:
                reply = self._order_mutation(shop, operation, query, variables, cost)
            elif operation == "order":
                node = self._book.read(shop, variables.get("id"))
                reply = _json(200, {"data": {"order": node}, **self._extensions(shop, cost, cost)})
            elif operation == "nodes":
                reply = self._nodes(shop, variables, cost)
            else:
                reply = self._orders_page(shop, variables, cost)
            if fault == "timeout":
                return replace(reply, stall=True)
            if fault == "malformed":
                return Reply(200, b'{"data": {"inventorySetQu', (("Content-Type", "application/json"),))
            return reply

    def _cost(self, operation: str, variables: dict[str, Any]) -> int:
        if operation == "inventorySetQuantities" or operation in ORDER_MUTATIONS:
            return self.mutation_cost
        if operation == "order":
            return ORDER_COST
        if operation == "nodes":
            ids = variables.get("ids")
            return 1 + (len(ids) if isinstance(ids, list) else 0)
        first = variables.get("first")
        return 2 + (first if isinstance(first, int) else 0)

    def _charge(self, shop: str, cost: int) -> dict[str, Any] | None:
        """None when the bucket pays ``cost`` (and takes it), else the extensions of a throttled answer."""
        available, at = self._bucket[shop]
        now = self._monotonic()
        available = min(self.maximum, available + (now - at) * self.restore_rate)
        paid = cost <= available
        self._bucket[shop] = (available - cost if paid else available, now)
        return None if paid else self._extensions(shop, cost, None)

    def _extensions(self, shop: str, cost: int, actual: int | None) -> dict[str, Any]:
        status = {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": self._bucket[shop][0],
            "restoreRate": self.restore_rate,
        }
        return {
            "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": actual, "throttleStatus": status}}
        }

    def _idempotent(self, shop: str, query: str, variables: dict[str, Any], apply: Callable[[], Reply]) -> Reply:
        """``apply`` once per idempotency key: a key seen before with the same variables gets its first answer."""
        key = variables.get("idempotencyKey")
        if "@idempotent(key: $idempotencyKey)" not in query or not isinstance(key, str) or not key:
            return _errors("The @idempotent directive is required for this mutation", "BAD_REQUEST")
        fingerprint = json.dumps({k: v for k, v in variables.items() if k != "idempotencyKey"}, sort_keys=True)
        seen = self._answers.get((shop, key))
        if seen is not None:
            if seen[0] != fingerprint:
                return _errors("The idempotency key was used with other arguments", "IDEMPOTENCY_KEY_MISMATCH")
            self._stats.duplicates += 1
            return seen[1]
        reply = apply()
        if not reply.body.startswith(b'{"errors"'):  # a request error (bad variables) is no answer to remember
            self._answers[(shop, key)] = (fingerprint, reply)
        return reply

    def _order_mutation(self, shop: str, operation: str, query: str, variables: dict[str, Any], cost: int) -> Reply:
        def apply() -> Reply:
            if operation == "fulfillmentCreate":
                payload = self._book.fulfil(shop, variables.get("fulfillment"))
            elif operation == "orderCancel":
                payload = self._book.cancel(shop, variables, _now())
            else:
                payload = self._book.refund(shop, variables.get("input"))
            if payload is None:
                return _errors(f"Variables of {operation} were provided invalid values", "INVALID_VARIABLE")
            errors = payload.get("userErrors", payload.get("orderCancelUserErrors"))
            if errors:
                self._stats.user_errors += len(errors)
            else:
                name = {"fulfillmentCreate": "fulfilments", "orderCancel": "cancellations"}.get(operation, "refunds")
                setattr(self._stats, name, getattr(self._stats, name) + 1)
            return _json(200, {"data": {operation: payload}, **self._extensions(shop, cost, cost)})

        return apply() if operation == "orderCancel" else self._idempotent(shop, query, variables, apply)

    def _set(self, shop: str, variables: dict[str, Any], cost: int) -> Reply:
        quantities = wire.quantities(variables.get("input"))
        if quantities is None:
            return _errors(
                "Variable $input of type InventorySetQuantitiesInput! was provided invalid value", "INVALID_VARIABLE"
            )
        name, reason = variables["input"]["name"], variables["input"]["reason"]
        errors = [wire.user_error(["input", "name"], "INVALID_NAME")] if name != "available" else []
        errors += [wire.user_error(["input", "reason"], "INVALID_REASON")] if reason not in wire.REASONS else []
        held, seen_pairs = self._levels[shop], set[tuple[str, str]]()
        for i, (sku, country, quantity, change_from) in enumerate(quantities):
            problem = self._problem(held, seen_pairs, sku, country, quantity, change_from)
            if problem is not None:
                self._stats.stale += problem[1] == "CHANGE_FROM_QUANTITY_STALE"
                errors.append(wire.user_error(["input", "quantities", str(i), *problem[:1]], problem[1]))
            seen_pairs.add((sku, country))
        if errors:
            self._stats.user_errors += len(errors)
            payload: dict[str, Any] = {"inventoryAdjustmentGroup": None, "userErrors": errors}
        else:
            for sku, country, quantity, _ in quantities:
                held[(sku, country)] = quantity
                self.applied.append((shop, sku, country, quantity, variables["idempotencyKey"]))
            self._stats.mutations += 1
            self._stats.items_set += len(quantities)
            group = {"reason": reason, "referenceDocumentUri": variables["input"].get("referenceDocumentUri")}
            payload = {"inventoryAdjustmentGroup": group, "userErrors": []}
        return _json(200, {"data": {"inventorySetQuantities": payload}, **self._extensions(shop, cost, cost)})

    def _problem(
        self,
        held: dict[tuple[str, str], int],
        seen: set[tuple[str, str]],
        sku: str,
        country: str,
        quantity: int,
        change_from: int | None,
    ) -> tuple[str, str] | None:
        """(the quantity's field at fault, the user error's code) or None when the quantity may be set."""
        if (sku, country) in seen:
            return "inventoryItemId", "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"
        if self.items is not None and sku not in self.items:
            return "inventoryItemId", "INVALID_INVENTORY_ITEM"
        if self.locations is not None and country not in self.locations:
            return "locationId", "INVALID_LOCATION"
        if quantity < 0:
            return "quantity", "INVALID_QUANTITY_NEGATIVE"
        if quantity > wire.MAX_QUANTITY:
            return "quantity", "INVALID_QUANTITY_TOO_HIGH"
        if change_from is not None and change_from != held.get((sku, country), 0):
            return "changeFromQuantity", "CHANGE_FROM_QUANTITY_STALE"
        return None

    def _nodes(self, shop: str, variables: dict[str, Any], cost: int) -> Reply:
        ids = variables.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > 250:
            return _errors("ids must be a list of at most 250 IDs", "INVALID_VARIABLE")
        nodes: list[dict[str, Any] | None] = []
        for gid in ids:
            pair = wire.level(gid)
            quantity = None if pair is None else self._levels[shop].get(pair)
            if pair is None or quantity is None:
                nodes.append(None)
                continue
            nodes.append(
                {
                    "id": gid,
                    "item": {"id": wire.ITEM + quote(pair[0], safe="")},
                    "location": {"id": wire.LOCATION + quote(pair[1], safe="")},
                    "quantities": [{"name": "available", "quantity": quantity}],
                }
            )
        return _json(200, {"data": {"nodes": nodes}, **self._extensions(shop, cost, cost)})

    def _orders_page(self, shop: str, variables: dict[str, Any], cost: int) -> Reply:
        page = self._book.orders_page(shop, variables.get("first"), variables.get("after"))
        if isinstance(page, tuple):
            return _errors(*page)
        return _json(200, {"data": {"orders": page}, **self._extensions(shop, cost, cost)})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _errors(message: str, code: str) -> Reply:
    return _json(200, {"errors": [{"message": message, "extensions": {"code": code}}]})


def _json(status: int, doc: object) -> Reply:
    return Reply(status, json.dumps(doc, separators=(",", ":")).encode(), (("Content-Type", "application/json"),))
