"""The Shopify-style connector: Admin GraphQL (``POST {url}/admin/api/graphql.json`` with
``X-Shopify-Access-Token``).

**Push.** One ``inventorySetQuantities`` mutation per batch (name ``available``, reason ``correction``, at most
250 quantities), under ``@idempotent(key:)`` (a key derived from the batch key and the exact variables, so a
redelivered request is answered from Shopify's record and a different one never collides with it). The mapping:
inventory item ``gid://shopify/InventoryItem/<sku>``, location ``gid://shopify/Location/<country>`` (percent-
encoded). Each quantity is compare-and-set: ``changeFromQuantity`` is the quantity Shopify last accepted from
Keel (``Update.previous``; null when Keel never pushed it, which sets unconditionally).

When the shop sold some on its own, Shopify answers ``CHANGE_FROM_QUANTITY_STALE``; the mutation is one
adjustment group, so nothing in it was applied. The connector reads the stale levels' current quantities
(a ``nodes`` query of the inventory levels) and sends the batch again with those as ``changeFromQuantity``,
within the same push; a quantity stale a second time is ``Rejected(retry=True)`` (the engine comes back), any
other user error ``Rejected(retry=False)`` with Shopify's message. Keel's value wins over the shop's own sales
on purpose: those sales reach Keel as orders, and Keel's quantity already counts everything it knows.
A request that timed out may have been applied: the next push then finds it stale, reads the value it set
itself, and sets it again: harmless.

**Rate limit.** Shopify meters cost points in a bucket; a request over budget is answered 200 with an error
``THROTTLED`` and ``extensions.cost.throttleStatus``, which becomes ``PushResult(error="throttled",
retry_after_s=(requested - currentlyAvailable) / restoreRate)``.

**Read back** (``read``), **orders** (``orders``, cursor pagination ``orders(first: 50, after:)``, each
order mapped to Keel's capture document) and **order updates** (``send``: fulfilments, cancellations and
refunds, in ``shopify_orders``) use the same client. Nothing here raises for what the shop does:
statuses, timeouts, dropped connections, GraphQL errors and bodies of the wrong shape are results.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx

from keel.channels.sync import shopify_orders
from keel.channels.sync import shopify_parse as parse
from keel.channels.sync.model import Capabilities, OrderPage, OrderUpdate, PushResult, ReadResult, Rejected, Update

CAPABILITIES = Capabilities(
    batch_size=250, rate_limit=4, window_s=1.0, read_back=True, compare_and_set=True, orders=True, shipments=True
)
BATCH = 250
ORDERS_PAGE = 50
TOKEN_HEADER = "X-Shopify-Access-Token"
STALE = "CHANGE_FROM_QUANTITY_STALE"

SET_QUANTITIES = """
mutation SetQuantities($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { reason referenceDocumentUri }
    userErrors { field message code }
  }
}"""
LEVELS = """
query Levels($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on InventoryLevel {
      id
      item { id }
      location { id }
      quantities(names: ["available"]) { name quantity }
    }
  }
}"""
ORDERS = """
query Orders($first: Int!, $after: String) {
  orders(first: $first, after: $after, sortKey: CREATED_AT) {
    edges {
      cursor
      node {
        id
        name
        customer { displayName }
        shippingAddress { countryCodeV2 zip }
        lineItems(first: 250) { nodes { sku quantity originalUnitPriceSet { shopMoney { amount currencyCode } } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""


def item_id(sku: str) -> str:
    return "gid://shopify/InventoryItem/" + quote(sku, safe="")


def location_id(country: str) -> str:
    return "gid://shopify/Location/" + quote(country, safe="")


def level_id(sku: str, country: str) -> str:
    return f"gid://shopify/InventoryLevel/{quote(country, safe='')}?inventory_item_id={quote(sku, safe='')}"


class ShopifyConnector:
    """Talks to one shop (the token picks it) through one pooled HTTP client, closed by ``close()``."""

    kind = "shopify"

    def __init__(
        self,
        url: str,
        token: str,
        capabilities: Capabilities | None = None,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/") + "/admin/api/graphql.json"
        # the limits are the configuration's; what the channel can do (read back, compare-and-set, ...) is this kind's
        self.capabilities = (
            CAPABILITIES
            if capabilities is None
            else replace(
                CAPABILITIES,
                batch_size=min(capabilities.batch_size, BATCH),
                rate_limit=capabilities.rate_limit,
                window_s=capabilities.window_s,
            )
        )
        self._client = httpx.Client(
            timeout=timeout_s, follow_redirects=False, transport=transport, headers={TOKEN_HEADER: token}
        )

    def push(self, channel: str, updates: list[Update], key: str) -> PushResult:
        """Set ``updates`` with compare-and-set, retrying stale quantities once with the shop's values."""
        if not updates:
            return PushResult()
        over = tuple(Rejected(u.sku, u.country, "over the batch size of 250", retry=True) for u in updates[BATCH:])
        pending = {(u.sku, u.country): u for u in updates[:BATCH]}
        change_from = {k: u.previous for k, u in pending.items()}
        rejected: list[Rejected] = list(over)
        reread: set[tuple[str, str]] = set()
        # each round either settles a quantity or spends its one re-read, so 2 rounds per quantity bound it
        for _ in range(2 * len(pending) + 1):
            order = list(pending)
            variables = _set_variables(order, pending, change_from, key)
            answer = self._post(SET_QUANTITIES, variables)
            if isinstance(answer, PushResult):
                return PushResult(rejected=tuple(rejected), error=answer.error, retry_after_s=answer.retry_after_s)
            errors = parse.user_errors(answer, len(order))
            if errors is None:
                return PushResult(rejected=tuple(rejected), error=parse.MALFORMED)
            if not errors:
                return PushResult(accepted=tuple(order), rejected=tuple(rejected))
            stale: list[tuple[str, str]] = []
            for index, message, code in errors:
                if index is None:  # an error about the request, not a quantity: Keel's mistake, or Shopify's
                    return PushResult(rejected=tuple(rejected), error=f"user error: {message}")
                k = order[index]
                if k not in pending or k in stale:
                    continue  # a second error for one quantity: the first decides (it comes back if it stays)
                if code == STALE and k not in reread:
                    stale.append(k)
                    continue
                del pending[k]
                rejected.append(Rejected(k[0], k[1], f"{code}: {message}"[:200], retry=code == STALE))
            if stale:
                current = self.read(channel, stale)
                for k in stale:
                    reread.add(k)
                    if current.error is not None:
                        del pending[k]
                        rejected.append(Rejected(k[0], k[1], f"stale; reading it failed: {current.error}", True))
                    else:
                        change_from[k] = current.values.get(k)  # a level the shop does not hold: set it outright
            if not pending:
                return PushResult(rejected=tuple(rejected))
        rejected += [Rejected(k[0], k[1], "kept changing on the shop", retry=True) for k in pending]
        return PushResult(rejected=tuple(rejected))

    def read(self, channel: str, keys: list[tuple[str, str]]) -> ReadResult:
        """The shop's available quantities of ``keys`` (levels it does not hold are left out)."""
        values: dict[tuple[str, str], int] = {}
        for start in range(0, len(keys), BATCH):
            chunk = keys[start : start + BATCH]
            answer = self._post(LEVELS, {"ids": [level_id(sku, country) for sku, country in chunk]})
            if isinstance(answer, PushResult):
                return ReadResult(error=answer.error)
            levels = parse.levels(answer, chunk)
            if levels is None:
                return ReadResult(error=parse.MALFORMED)
            values.update(levels)
        return ReadResult(values=values)

    def orders(self, channel: str, cursor: str | None) -> OrderPage:
        """The page of orders after ``cursor`` (None: from the first), each as Keel's capture document; the
        page's cursor is where the next call starts (the last order seen, so later orders are found there)."""
        answer = self._post(ORDERS, {"first": ORDERS_PAGE, "after": cursor})
        if isinstance(answer, PushResult):
            return OrderPage(error=answer.error)
        page = parse.orders(answer, channel)
        if page is None:
            return OrderPage(error=parse.MALFORMED)
        documents, end = page
        return OrderPage(orders=documents, cursor=end or cursor)

    def send(self, channel: str, updates: list[OrderUpdate]) -> PushResult:
        """Shipments, cancellations and refunds, each read against its order first (``shopify_orders``);
        ``accepted``/``rejected`` name (external_id, kind)."""
        return shopify_orders.send(self._post, updates)

    def close(self) -> None:
        self._client.close()

    def _post(self, query: str, variables: dict[str, Any]) -> dict[str, Any] | PushResult:
        """The answer's document when it has ``data`` and no errors; otherwise the failure as a result."""
        body = json.dumps({"query": query, "variables": variables}, separators=(",", ":")).encode()
        try:
            response = self._client.post(self.url, content=body, headers={"Content-Type": "application/json"})
        except httpx.TimeoutException:
            return PushResult(error="timeout")
        except httpx.HTTPError as exc:
            return PushResult(error=f"connection error: {type(exc).__name__}")
        return parse.answer(response)


def _set_variables(
    order: list[tuple[str, str]],
    pending: dict[tuple[str, str], Update],
    change_from: dict[tuple[str, str], int | None],
    key: str,
) -> dict[str, Any]:
    quantities = [
        {
            "inventoryItemId": item_id(sku),
            "locationId": location_id(country),
            "quantity": pending[(sku, country)].quantity,
            "changeFromQuantity": change_from[(sku, country)],
        }
        for sku, country in order
    ]
    doc = {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": f"logistics://keel/sync/{key}",
        "quantities": quantities,
    }
    # the same variables always carry the same key (a retry is recognised), other variables another one
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:24]
    return {"input": doc, "idempotencyKey": f"{key[:32]}-{digest}"}
