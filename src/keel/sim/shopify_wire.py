"""The Shopify simulator's wire format: global IDs, cursors, the mutation's input, user errors (pure functions
of untrusted documents; see ``keel.sim.shopify``)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, unquote

ITEM, LOCATION, LEVEL, ORDER = (f"gid://shopify/{k}/" for k in ("InventoryItem", "Location", "InventoryLevel", "Order"))
REASONS = frozenset({"correction", "cycle_count_available", "received", "restock", "other"})
MAX_QUANTITY = 1_000_000_000
MESSAGES = {
    "INVALID_NAME": "The quantity name must be 'available'.",
    "INVALID_REASON": "The specified reason is invalid.",
    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR": "An item and location may appear once per mutation.",
    "INVALID_INVENTORY_ITEM": "The specified inventory item could not be found.",
    "INVALID_LOCATION": "The specified location could not be found.",
    "INVALID_QUANTITY_NEGATIVE": "The quantity can't be negative.",
    "INVALID_QUANTITY_TOO_HIGH": "The quantity can't be higher than 1,000,000,000.",
    "CHANGE_FROM_QUANTITY_STALE": "The changeFromQuantity does not match the persisted value.",
}


def level_id(sku: str, country: str) -> str:
    return f"{LEVEL}{quote(country, safe='')}?inventory_item_id={quote(sku, safe='')}"


def quantities(doc: object) -> list[tuple[str, str, int, int | None]] | None:
    """(sku, country, quantity, changeFromQuantity) of each input quantity, or None when the input is off."""
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or not isinstance(doc.get("reason"), str):
        return None
    entries = doc.get("quantities")
    if not isinstance(entries, list) or not entries:
        return None
    out: list[tuple[str, str, int, int | None]] = []
    for q in entries:
        if not isinstance(q, dict) or "changeFromQuantity" not in q:
            return None
        item, location, quantity, change_from = (
            q.get("inventoryItemId"),
            q.get("locationId"),
            q.get("quantity"),
            q["changeFromQuantity"],
        )
        if not (
            isinstance(item, str)
            and item.startswith(ITEM)
            and isinstance(location, str)
            and location.startswith(LOCATION)
        ):
            return None
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            return None
        if not (change_from is None or _whole(change_from)):
            return None
        out.append((unquote(item[len(ITEM) :]), unquote(location[len(LOCATION) :]), quantity, change_from))
    return out


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def level(gid: str) -> tuple[str, str] | None:
    if not gid.startswith(LEVEL) or "?inventory_item_id=" not in gid:
        return None
    country, sku = gid[len(LEVEL) :].split("?inventory_item_id=", 1)
    return unquote(sku), unquote(country)


def cursor(position: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"last_id": position}).encode()).decode()


def position(cursor: object) -> int | None:
    try:
        doc = json.loads(base64.urlsafe_b64decode(str(cursor).encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    position = doc.get("last_id") if isinstance(doc, dict) else None
    return position if isinstance(position, int) and not isinstance(position, bool) and position >= 0 else None


def user_error(where: list[str], code: str) -> dict[str, Any]:
    return {"field": where, "message": MESSAGES[code], "code": code}
