"""A marketplace, as the twin's channels see it: a local HTTP server that takes signed inventory batches, enforces
its rate limit, keeps what it accepted and fails at random, for the connector tests, the sync bench and the demo.

It plays the remote side of the webhook connector (``POST /channels/{channel}/inventory``, ``GET`` to read the
channel's values back) and is strict the way real marketplaces are:

- **Signatures.** Each channel has its secret; a request whose ``X-Keel-Signature`` is not
  ``sha256=<HMAC-SHA256(secret, "<timestamp>." + body)>`` or whose ``X-Keel-Timestamp`` is more than 5 minutes
  off is refused with 401 and recorded in ``refusals``. (The check is written here again rather than imported
  from the connector: a marketplace does not share Keel's code, and a mistake in the connector's signing must
  fail against it.)
- **Rate limit.** At most ``rate_limit`` requests per channel in any sliding ``window_s``; one more gets 429
  with ``Retry-After`` (whole seconds, rounded up) and counts as a ``rate_limit_violation``. Only the
  requests let through count towards the window.
- **Versions.** Per (channel, sku, country) it keeps the newest (quantity, content, price, version); an older
  version is acknowledged but changes nothing (``stale``), the same version again is a no-op.
- **Idempotency.** A request whose ``Idempotency-Key`` was answered before gets that answer again and changes
  nothing (``duplicates``). An answer that asked for a retry (partial success) is not remembered, so the
  retry is processed anew.
- **Faults**, drawn with a seeded ``random.Random`` for ``fault_rate`` of the admitted POSTs, among
  ``faults``: ``error`` (503, nothing applied), ``timeout`` (applied, answered after ``stall_s``: set it longer
  than the client waits), ``drop`` (the connection closed without an answer, nothing applied), ``malformed``
  (applied, 200 with a body that is not JSON), ``partial`` (some items refused with ``retry: true``).

Each item applied records ``accepted_at[(channel, sku, country, version)] = time.time()``, so a bench can
measure the lag from a commit to the marketplace holding the value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from keel.sim.http import LocalServer, Reply
from keel.sim.marketplace_orders import OrderBook, updates_of

FAULTS = ("error", "timeout", "drop", "malformed", "partial")
TOLERANCE_S = 300.0
ITEM_NAMES, ORDER_NAMES = ("sku", "country"), ("external_id", "kind")
PATH = re.compile(r"^/channels/([A-Za-z0-9_.-]{1,64})/(inventory|orders/updates)$")


@dataclass(frozen=True)
class Held:
    """What the marketplace shows for one listing."""

    quantity: int
    content: str | None
    price: str | None
    version: int


@dataclass(frozen=True)
class Refusal:
    channel: str
    status: int
    reason: str


@dataclass
class Stats:
    requests: int = 0  # every request that reached a channel's endpoint
    pushes: int = 0  # POSTs processed (applied, in part or whole)
    items_applied: int = 0  # items that replaced a value (or set a first one)
    stale: int = 0  # items older than the value held: acknowledged, not applied
    duplicates: int = 0  # requests answered from the idempotency record
    unauthorized: int = 0
    bad_requests: int = 0
    rate_limit_violations: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)


class Marketplace(LocalServer):
    """The simulator. ``secrets`` names the channels it serves; ``limits`` overrides ``(rate_limit, window_s)``
    per channel. Use as a context manager, or ``start()``/``stop()``; ``url`` is valid once started."""

    def __init__(
        self,
        secrets: Mapping[str, str],
        *,
        rate_limit: int = 60,
        window_s: float = 60.0,
        limits: Mapping[str, tuple[int, float]] | None = None,
        fault_rate: float = 0.0,
        faults: Iterable[str] = FAULTS,
        seed: int = 0,
        stall_s: float = 6.0,  # the timeout fault's delay: longer than the connector's default timeout (5 s)
        monotonic: Callable[[], float] = time.monotonic,  # the rate limit's clock (tests move it by hand)
        record: bool = True,  # keep ``accepted_at`` and ``applied`` (they grow with every value: off in the demo)
        callback: str | None = None,  # the seller's base URL, where orders sold are sent (``marketplace_orders``)
    ) -> None:
        self.faults = tuple(faults)
        unknown = set(self.faults) - set(FAULTS)
        if unknown or not self.faults or not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"faults must be among {FAULTS} and fault_rate in [0, 1] (got {sorted(unknown)})")
        super().__init__("marketplace")
        self.secrets = dict(secrets)
        self.record = record
        self.down: set[str] = set()  # channels in an outage: every POST answers 503 (``outage``)
        self.fault_rate = fault_rate
        self.stall_s = stall_s
        self._monotonic = monotonic
        self.accepted_at: dict[tuple[str, str, str, int], float] = {}
        # (channel, sku, country, quantity, time) of every value applied, in order (a bench's lag measure)
        self.applied: list[tuple[str, str, str, int, float]] = []
        self.refusals: list[Refusal] = []
        self._limits = {ch: (limits or {}).get(ch, (rate_limit, window_s)) for ch in self.secrets}
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._held: dict[str, dict[tuple[str, str], Held]] = {ch: {} for ch in self.secrets}
        self._sent: dict[str, deque[float]] = {ch: deque() for ch in self.secrets}
        self._answers: dict[tuple[str, str], Reply] = {}
        self._stats = Stats()
        self.orders = OrderBook(self.secrets, callback)

    # -- life cycle ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.base_url

    def stop(self) -> None:
        super().stop()
        self.orders.close()

    # -- reading --------------------------------------------------------------------------------------------

    def state(self, channel: str) -> dict[tuple[str, str], tuple[int, str | None, int]]:
        """(sku, country) -> (quantity, content, version) as the channel shows it."""
        with self._lock:
            return {k: (h.quantity, h.content, h.version) for k, h in self._held[channel].items()}

    def held(self, channel: str) -> dict[tuple[str, str], Held]:
        with self._lock:
            return dict(self._held[channel])

    def edit(self, channel: str, sku: str, country: str, quantity: int | None) -> None:
        """Change a held value behind Keel's back, as a seller editing the listing in the marketplace's own
        UI would (the version stays: the marketplace knows nothing of Keel's versions); None removes the
        listing. For drift tests and demos."""
        with self._lock:
            held = self._held[channel]
            if quantity is None:
                held.pop((sku, country), None)
            else:
                held[(sku, country)] = replace(held[(sku, country)], quantity=quantity)

    @property
    def stats(self) -> Stats:
        """A copy of the counters."""
        with self._lock:
            return replace(self._stats, faults_injected=dict(self._stats.faults_injected))

    # -- requests (called from the HTTP handler's threads) ----------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        match = PATH.match(path)
        if match is None or match.group(1) not in self.secrets:
            return _json(404, {"error": "no such channel endpoint"})
        channel, endpoint = match.group(1), match.group(2)
        with self._lock:
            self._stats.requests += 1
            signature = headers.get("x-keel-signature", "")
            if not _verify(self.secrets[channel], headers.get("x-keel-timestamp", ""), body, signature, time.time()):
                self._stats.unauthorized += 1
                return self._refuse(channel, 401, "bad or missing signature, or a stale timestamp")
            wait = self._admit(channel, self._monotonic())
            if wait is not None:
                self._stats.rate_limit_violations += 1
                self.refusals.append(Refusal(channel, 429, "rate limit"))
                retry_after = str(max(1, math.ceil(wait)))
                return _json(429, {"error": "rate limit exceeded"}, (("Retry-After", retry_after),))
            key = headers.get("idempotency-key", "")
            if endpoint == "orders/updates":
                if method != "POST":
                    return _json(405, {"error": "POST order updates"})
                return self._post(channel, key, updates_of(body, channel), self._order_update, ORDER_NAMES)
            if method == "GET":
                return _json(200, [_held_json(k, h) for k, h in sorted(self._held[channel].items())])
            return self._post(channel, key, _items(body, channel), self._inventory_item, ITEM_NAMES)

    def _admit(self, channel: str, now: float) -> float | None:
        """None when one more request fits the channel's sliding window (and counts it), else the wait."""
        limit, window = self._limits[channel]
        sent = self._sent[channel]
        while sent and now - sent[0] >= window:
            sent.popleft()
        if len(sent) >= limit:
            return sent[0] + window - now
        sent.append(now)
        return None

    def _post(
        self,
        channel: str,
        key: str,
        entries: list[dict[str, Any]] | None,
        take: Callable[[str, dict[str, Any], float], str | None],
        names: tuple[str, str],
    ) -> Reply:
        """A batch of either endpoint: idempotency, outage and faults, then ``take`` applies each entry (or
        says why it is refused for good); the answer names each entry by its ``names`` fields."""
        if not key:
            return self._refuse(channel, 400, "missing Idempotency-Key")
        if (channel, key) in self._answers:
            self._stats.duplicates += 1
            return self._answers[(channel, key)]
        if entries is None:
            return self._refuse(channel, 400, "body is not a valid batch for this endpoint")
        if channel in self.down:
            self._stats.faults_injected["outage"] = self._stats.faults_injected.get("outage", 0) + 1
            return _json(503, {"error": "channel down for maintenance"})
        fault = self._rng.choice(self.faults) if self._rng.random() < self.fault_rate else None
        if fault is not None:
            self._stats.faults_injected[fault] = self._stats.faults_injected.get(fault, 0) + 1
        if fault == "error":
            return _json(503, {"error": "service unavailable"})
        if fault == "drop":
            return Reply(0, drop=True)
        refused = set(self._rng.sample(range(len(entries)), max(1, len(entries) // 2))) if fault == "partial" else set()
        accepted: list[dict[str, Any]] = []
        rejected: list[dict[str, Any]] = []
        now = time.time()
        self._stats.pushes += 1
        for i, entry in enumerate(entries):
            name = {f: entry[f] for f in names}
            if i in refused:
                rejected.append({**name, "error": "temporarily unavailable", "retry": True})
            elif (why := take(channel, entry, now)) is not None:
                rejected.append({**name, "error": why, "retry": False})
            else:
                accepted.append(name)
        reply = _json(200, {"accepted": accepted, "rejected": rejected})
        if not refused:
            self._answers[(channel, key)] = reply
        if fault == "timeout":
            return replace(reply, stall=True)
        if fault == "malformed":
            return Reply(200, b'{"accepted": [{"sku": ', (("Content-Type", "application/json"),))
        return reply

    def _inventory_item(self, channel: str, item: dict[str, Any], now: float) -> str | None:
        if item["quantity"] < 0:
            return "quantity must not be negative"
        self._apply(channel, item, now)
        return None

    def _order_update(self, channel: str, update: dict[str, Any], now: float) -> str | None:
        return self.orders.apply(channel, update)

    def _apply(self, channel: str, item: dict[str, Any], now: float) -> None:
        where = (item["sku"], item["country"])
        old = self._held[channel].get(where)
        if old is not None and old.version > item["version"]:
            self._stats.stale += 1
            return
        if old is not None and old.version == item["version"]:
            return
        self._held[channel][where] = Held(item["quantity"], item["content"], item["price"], item["version"])
        if self.record:
            self.accepted_at[(channel, *where, item["version"])] = now
            self.applied.append((channel, where[0], where[1], item["quantity"], now))
        self._stats.items_applied += 1

    def _refuse(self, channel: str, status: int, reason: str) -> Reply:
        if status == 400:
            self._stats.bad_requests += 1
        self.refusals.append(Refusal(channel, status, reason))
        return _json(status, {"error": reason})


def _verify(secret: str, timestamp: str, body: bytes, signature: str, now: float) -> bool:
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_S:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={mac}".encode(), signature.encode("utf-8", "replace"))


def _items(body: bytes, channel: str) -> list[dict[str, Any]] | None:
    """The batch's items when the body is exactly the documented shape, else None."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("channel") != channel or not isinstance(doc.get("items"), list):
        return None
    items: list[dict[str, Any]] = doc["items"]
    seen = set()
    for item in items:
        if not isinstance(item, dict) or not _valid(item) or (item["sku"], item["country"]) in seen:
            return None
        seen.add((item["sku"], item["country"]))
    return items if items else None


def _valid(item: dict[str, Any]) -> bool:
    def is_int(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    return (
        isinstance(item.get("sku"), str)
        and isinstance(item.get("country"), str)
        and is_int(item.get("quantity"))
        and is_int(item.get("version"))
        and isinstance(item.get("content"), str | None)
        and isinstance(item.get("price"), str | None)
    )


def _held_json(where: tuple[str, str], h: Held) -> dict[str, Any]:
    return {
        "sku": where[0],
        "country": where[1],
        "quantity": h.quantity,
        "content": h.content,
        "price": h.price,
        "version": h.version,
    }


def _json(status: int, doc: object, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(
        status, json.dumps(doc, separators=(",", ":")).encode(), (("Content-Type", "application/json"), *headers)
    )
