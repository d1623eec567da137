"""The marketplace simulator's order book: what its buyers bought, sent to the seller, and what the seller said
back about each order.

**Orders out to the seller.** ``sell(channel, document)`` records an order (a capture document, as Keel's
``POST /orders`` takes) and, when the marketplace knows the seller's order webhook (``callback``: Keel's base
URL), POSTs it there as a real marketplace notifies a seller: ``POST {callback}/sync/channels/{channel}/orders``
with ``{"orders": [document]}``, signed with the channel's secret (``X-Keel-Timestamp``, ``X-Keel-Signature``).
A delivery that fails (the seller's server not up yet, a 5xx) is tried again a few times with a short pause,
then given up and counted; what the seller answered is returned.

**Updates from the seller.** ``POST /channels/{channel}/orders/updates`` (signed, rate-limited and
fault-injected like the inventory endpoint, see ``keel.sim.marketplace``) carries ``{"channel", "updates":
[{"external_id", "kind", "key", "lines": [{"sku", "quantity"}], "carrier", "tracking", "amount"}]}``; the
book applies each update once by its ``key`` and refuses, for good (``retry: false``), an update of an order
it never sold, a shipment without a carrier and tracking, lines the order does not have, and anything after
a cancellation but a refund.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

KINDS = ("shipped", "cancelled", "refunded")
DELIVERY_TRIES, DELIVERY_PAUSE_S = 5, 0.5


@dataclass
class SoldOrder:
    """An order as the marketplace tracks it: its lines, and the seller's updates applied to it."""

    channel: str
    external_id: str
    lines: dict[str, int]
    status: str = "unshipped"  # unshipped, shipped, cancelled
    shipments: list[tuple[str, str, tuple[tuple[str, int], ...]]] = field(default_factory=list)  # carrier, tracking
    refunds: list[str | None] = field(default_factory=list)  # amounts
    keys: set[str] = field(default_factory=set)


@dataclass
class Delivery:
    """What the seller's order webhook answered for one order (``outcome`` None: never delivered)."""

    external_id: str
    outcome: str | None
    order_id: int | None = None
    error: str | None = None


class OrderBook:
    def __init__(self, secrets: dict[str, str], callback: str | None = None, timeout_s: float = 10.0) -> None:
        self.secrets = secrets
        self.callback = callback.rstrip("/") if callback else None
        self.undelivered = 0
        self._lock = threading.Lock()
        self._orders: dict[tuple[str, str], SoldOrder] = {}
        self.timeout_s = timeout_s
        self._client: httpx.Client | None = None  # opened at the first delivery, closed with the simulator

    def order(self, channel: str, external_id: str) -> SoldOrder | None:
        with self._lock:
            return self._orders.get((channel, external_id))

    def sell(self, channel: str, document: dict[str, Any]) -> Delivery:
        """Record ``document`` as an order of ``channel`` and send it to the seller's webhook (when known)."""
        external_id = str(document["external_id"])
        lines: dict[str, int] = {}
        for line in document["lines"]:
            lines[line["sku"]] = lines.get(line["sku"], 0) + int(line["quantity"])
        with self._lock:
            self._orders.setdefault((channel, external_id), SoldOrder(channel, external_id, lines))
        if self.callback is None:
            return Delivery(external_id, None)
        with self._lock:
            client = self._client = self._client or httpx.Client(timeout=self.timeout_s)
        body = json.dumps({"orders": [document]}, separators=(",", ":")).encode()
        error = "not sent"
        for attempt in range(DELIVERY_TRIES):
            timestamp = str(int(time.time()))
            mac = hmac.new(self.secrets[channel].encode(), timestamp.encode() + b"." + body, hashlib.sha256)
            headers = {
                "Content-Type": "application/json",
                "X-Keel-Timestamp": timestamp,
                "X-Keel-Signature": "sha256=" + mac.hexdigest(),
            }
            try:
                response = client.post(f"{self.callback}/sync/channels/{channel}/orders", content=body, headers=headers)
                if response.status_code == 200:
                    row = response.json()["orders"][0]
                    return Delivery(external_id, row["outcome"], row.get("order_id"), row.get("reason"))
                error = f"HTTP {response.status_code}"
                if response.status_code < 500:
                    break  # refused for good: the same request would be refused again
            except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
                error = type(exc).__name__
            if attempt + 1 < DELIVERY_TRIES:
                time.sleep(DELIVERY_PAUSE_S)
        with self._lock:
            self.undelivered += 1
        return Delivery(external_id, None, error=error)

    def apply(self, channel: str, update: dict[str, Any]) -> str | None:
        """Apply one update (already shape-checked); the reason it is refused for good, or None."""
        with self._lock:
            order = self._orders.get((channel, update["external_id"]))
            if order is None:
                return "no such order"
            if update["key"] in order.keys:
                return None  # a resend: applied once already
            kind = update["kind"]
            lines = tuple((ln["sku"], ln["quantity"]) for ln in update["lines"])
            if any(sku not in order.lines or q > order.lines[sku] for sku, q in lines):
                return "lines the order does not have"
            if order.status == "cancelled" and kind != "refunded":
                return "the order is cancelled"
            if kind == "shipped":
                if not update["carrier"] or not update["tracking"]:
                    return "a shipment needs a carrier and a tracking number"
                order.shipments.append((update["carrier"], update["tracking"], lines))
                order.status = "shipped"
            elif kind == "cancelled":
                if order.status == "shipped":
                    return "the order has shipped"
                order.status = "cancelled"
            else:
                order.refunds.append(update["amount"])
            order.keys.add(update["key"])
            return None

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def updates_of(body: bytes, channel: str) -> list[dict[str, Any]] | None:
    """The updates of a request body when it is exactly the documented shape, else None."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("channel") != channel or not isinstance(doc.get("updates"), list):
        return None
    updates: list[dict[str, Any]] = doc["updates"]
    seen = set()
    for u in updates:
        if not isinstance(u, dict) or not _valid(u) or (u["external_id"], u["kind"]) in seen:
            return None
        seen.add((u["external_id"], u["kind"]))
    return updates or None


def _valid(u: dict[str, Any]) -> bool:
    lines = u.get("lines")
    return (
        isinstance(u.get("external_id"), str)
        and u.get("kind") in KINDS
        and isinstance(u.get("key"), str)
        and all(isinstance(u.get(f), str | None) for f in ("carrier", "tracking", "amount"))
        and isinstance(lines, list)
        and all(
            isinstance(ln, dict)
            and isinstance(ln.get("sku"), str)
            and isinstance(ln.get("quantity"), int)
            and not isinstance(ln.get("quantity"), bool)
            and ln["quantity"] > 0
            for ln in lines
        )
    )
