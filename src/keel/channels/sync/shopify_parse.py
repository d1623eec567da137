"""Reading the Shopify-style connector's answers: every function takes an untrusted document and returns what it
means, or None when its shape is off (the caller reports ``MALFORMED``: a half-understood answer could mark
a quantity set that the shop never took)."""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx

from keel.channels.sync.model import PushResult

MALFORMED = "malformed response"
DEFAULT_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 3600.0
ORDER_PREFIX = "gid://shopify/Order/"


def answer(response: httpx.Response) -> dict[str, Any] | PushResult:
    """The ``data`` of a GraphQL answer without errors, or the failure (status, throttling, errors, shape)."""
    status = response.status_code
    if status == 429:  # the REST-style limit a proxy in front of the shop may still apply
        return PushResult(error="rate limited (429)", retry_after_s=_header_wait(response))
    if not 200 <= status < 300:
        text = "".join(c if c.isprintable() else " " for c in response.content[:120].decode("utf-8", "replace"))
        return PushResult(error=f"HTTP {status}: {text.strip()}" if text.strip() else f"HTTP {status}")
    try:
        doc = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return PushResult(error=f"{MALFORMED}: not JSON")
    if not isinstance(doc, dict):
        return PushResult(error=MALFORMED)
    errors = doc.get("errors")
    if errors:
        if not isinstance(errors, list):
            return PushResult(error=MALFORMED)
        codes = [_code(e) for e in errors]
        if "THROTTLED" in codes:
            return PushResult(error="throttled", retry_after_s=_throttle_wait(doc.get("extensions")))
        first = errors[0] if isinstance(errors[0], dict) else {}
        message = first.get("message") if isinstance(first.get("message"), str) else "?"
        return PushResult(error=f"graphql error {codes[0] or ''}: {message}"[:200])
    data = doc.get("data")
    return data if isinstance(data, dict) else PushResult(error=MALFORMED)


def user_errors(data: dict[str, Any], sent: int) -> list[tuple[int | None, str, str]] | None:
    """(index of the quantity or None for the whole request, message, code) of each user error."""
    payload = data.get("inventorySetQuantities")
    if not isinstance(payload, dict) or not isinstance(payload.get("userErrors"), list):
        return None
    out: list[tuple[int | None, str, str]] = []
    for e in payload["userErrors"]:
        if not isinstance(e, dict) or not isinstance(e.get("message"), str):
            return None
        where, code = e.get("field"), e.get("code")
        if not (where is None or (isinstance(where, list) and all(isinstance(p, str) for p in where))):
            return None
        index = None
        if where and len(where) >= 3 and where[:2] == ["input", "quantities"] and where[2].isdigit():
            index = int(where[2])
            if index >= sent:
                return None
        out.append((index, e["message"], code if isinstance(code, str) else ""))
    return out


def levels(data: dict[str, Any], keys: list[tuple[str, str]]) -> dict[tuple[str, str], int] | None:
    """The available quantity of each key the shop holds, from a ``nodes`` answer aligned with ``keys``."""
    nodes = data.get("nodes")
    if not isinstance(nodes, list) or len(nodes) != len(keys):
        return None
    out: dict[tuple[str, str], int] = {}
    for (sku, country), node in zip(keys, nodes, strict=True):
        if node is None:
            continue
        expected = f"gid://shopify/InventoryLevel/{quote(country, safe='')}?inventory_item_id={quote(sku, safe='')}"
        if not isinstance(node, dict) or node.get("id") != expected or not isinstance(node.get("quantities"), list):
            return None
        available = [
            q.get("quantity") for q in node["quantities"] if isinstance(q, dict) and q.get("name") == "available"
        ]
        quantity = available[0] if len(available) == 1 else None
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            return None
        out[(sku, country)] = quantity
    return out


def orders(data: dict[str, Any], channel: str) -> tuple[tuple[dict[str, Any], ...], str | None] | None:
    """The page's orders as capture documents, and the cursor of its last order (None: an empty page)."""
    conn = data.get("orders")
    if not isinstance(conn, dict) or not isinstance(conn.get("edges"), list):
        return None
    documents: list[dict[str, Any]] = []
    end: str | None = None
    for edge in conn["edges"]:
        if not isinstance(edge, dict) or not isinstance(edge.get("cursor"), str):
            return None
        document = _order(edge.get("node"), channel)
        if document is None:
            return None
        documents.append(document)
        end = edge["cursor"]
    return tuple(documents), end


def _order(node: object, channel: str) -> dict[str, Any] | None:
    if not isinstance(node, dict):
        return None
    gid, name = node.get("id"), node.get("name")
    if not isinstance(gid, str) or not gid.startswith(ORDER_PREFIX) or not isinstance(name, str):
        return None
    items = node.get("lineItems")
    if not isinstance(items, dict) or not isinstance(items.get("nodes"), list):
        return None
    lines: list[dict[str, Any]] = []
    for item in items["nodes"]:
        line = _line(item)
        if line is None:
            return None
        lines.append(line)
    customer = node.get("customer")
    if not (customer is None or isinstance(customer, dict)):
        return None
    display = customer.get("displayName") if customer else None
    # a guest checkout has no customer: the order's own name keeps the capture's required name meaningful
    document: dict[str, Any] = {
        "channel": channel,
        "external_id": gid[len(ORDER_PREFIX) :],
        "lines": lines,
        "customer": {"name": display if isinstance(display, str) and display else f"Shopify order {name}"},
    }
    address = node.get("shippingAddress")
    if isinstance(address, dict):
        country, zip_code = address.get("countryCodeV2"), address.get("zip")
        if not isinstance(country, str) or not (zip_code is None or isinstance(zip_code, str)):
            return None
        document["ship_to"] = {"country": country, **({"postal_code": zip_code} if zip_code else {})}
    elif address is not None:
        return None
    return document


def _line(item: object) -> dict[str, Any] | None:
    """A line as captured. A custom line without a SKU keeps ``sku: None``: capture refuses the order visibly
    rather than Keel taking it without the line."""
    if not isinstance(item, dict):
        return None
    sku, quantity, price = item.get("sku"), item.get("quantity"), item.get("originalUnitPriceSet")
    money = price.get("shopMoney") if isinstance(price, dict) else None
    amount = money.get("amount") if isinstance(money, dict) else None
    if not (sku is None or isinstance(sku, str)) or not _whole(quantity) or not isinstance(amount, str):
        return None
    return {"sku": sku or None, "quantity": quantity, "unit_price": _price(amount)}


def _price(amount: str) -> str:
    """Shopify's decimal as Keel's price string ("12.5" -> "12.50"); more decimals are left for capture to refuse."""
    try:
        value = Decimal(amount)
    except InvalidOperation:
        return amount
    exponent = value.as_tuple().exponent
    if not value.is_finite() or not isinstance(exponent, int) or exponent < -2:
        return amount
    return f"{value:.2f}"


def _code(error: object) -> str | None:
    ext = error.get("extensions") if isinstance(error, dict) else None
    code = ext.get("code") if isinstance(ext, dict) else None
    return code if isinstance(code, str) else None


def _throttle_wait(extensions: object) -> float:
    """Seconds until the bucket holds the request's cost: (requested - available) / restore rate."""
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    status = cost.get("throttleStatus") if isinstance(cost, dict) else None
    if not isinstance(cost, dict) or not isinstance(status, dict):
        return DEFAULT_RETRY_AFTER_S
    requested, available, rate = (
        cost.get("requestedQueryCost"),
        status.get("currentlyAvailable"),
        status.get("restoreRate"),
    )
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (requested, available, rate)):
        return DEFAULT_RETRY_AFTER_S
    assert isinstance(requested, int | float) and isinstance(available, int | float) and isinstance(rate, int | float)
    if rate <= 0 or not math.isfinite(requested - available):
        return DEFAULT_RETRY_AFTER_S
    return min(MAX_RETRY_AFTER_S, max(0.0, (requested - available) / rate))


def _header_wait(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
    return min(seconds, MAX_RETRY_AFTER_S) if math.isfinite(seconds) and seconds >= 0 else DEFAULT_RETRY_AFTER_S


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
