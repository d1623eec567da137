"""The channel sync engine's domain: what each channel should show, what was pushed, and the connector port.

Keel keeps one **desired state** per (channel, country, SKU): the quantity the channel may sell there (its
ATP), and, when the catalog lists the SKU, the hash of the listing's content. Every change bumps the row's
``version``; a push carries the version it read, and the row counts as pushed only up to that version, so a
burst of changes collapses into the latest value and an older value is never marked as (or sent after) a
newer one.

A **connector** moves a batch of updates to one channel and says what happened to each (accepted, rejected
for good, or to retry) and when the channel will take more. Connectors declare their limits
(``Capabilities``); the engine paces itself by them and never by trial and error.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit


class ItemState(StrEnum):
    PENDING = "pending"  # a version newer than the pushed one waits (or backs off after a failure)
    SYNCED = "synced"  # the channel holds the newest version
    DEAD = "dead"  # failed ``max_attempts`` times; waits for an operator (retry, or a resync)


@dataclass(frozen=True)
class Capabilities:
    """What a connector's channel accepts, as the channel publishes it."""

    batch_size: int = 500  # updates per request
    rate_limit: int = 60  # requests per window
    window_s: float = 60.0
    delta: bool = True  # takes changed items only (False: every push is the full state)
    read_back: bool = False  # can read the channel's values back (drift detection)
    compare_and_set: bool = False  # refuses an update whose expected previous value is not the channel's
    orders: bool = False  # hands orders over (download or webhook)
    shipments: bool = False  # takes shipment, cancellation and refund updates
    updates_in_window: bool = False  # order updates are requests of the same budget (``rate_limit``) as pushes


@dataclass(frozen=True)
class Update:
    """One value for one listing, as pushed: the idempotency of a push is by (channel, country, sku, version)."""

    sku: str
    country: str
    quantity: int
    content: str | None
    version: int
    price: str | None = None  # from the pricing engine once it exists
    previous: int | None = None  # the quantity the channel last accepted from Keel (compare-and-set); None: never


@dataclass(frozen=True)
class Rejected:
    sku: str
    country: str
    error: str
    retry: bool  # True: a transient refusal (try again later); False: the channel will never take this value


@dataclass(frozen=True)
class PushResult:
    """What the channel did with a batch. ``error`` set: the whole batch failed (nothing counts as
    accepted); ``retry_after_s`` set: the channel asked to wait that long before the next request."""

    accepted: tuple[tuple[str, str], ...] = ()  # (sku, country)
    rejected: tuple[Rejected, ...] = ()
    error: str | None = None
    retry_after_s: float | None = None


class Connector(Protocol):
    """The port every channel connector implements (webhook JSON, file feed, Shopify-style, Amazon-style)."""

    kind: str
    capabilities: Capabilities

    def push(self, channel: str, updates: list[Update], key: str) -> PushResult:
        """Send ``updates`` (at most ``capabilities.batch_size``) under idempotency ``key``; never raises for
        a channel's failure: it is reported in the result."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ReadResult:
    """The channel's own values, read back: (sku, country) -> quantity; ``error`` set: the read failed."""

    values: dict[tuple[str, str], int] = field(default_factory=dict)
    error: str | None = None


@runtime_checkable
class ReadBack(Protocol):
    """A connector whose channel can be read back (``capabilities.read_back``): drift detection."""

    def read(self, channel: str, keys: list[tuple[str, str]]) -> ReadResult:
        """The channel's quantities of ``keys`` (a key the channel does not hold is left out)."""
        ...


@runtime_checkable
class FulfilledStock(Protocol):
    """A connector whose marketplace holds stock of its own for the channel (fulfilled by the marketplace)."""

    def fulfilled_stock(self, channel: str, countries: Iterable[str] | None = None) -> ReadResult:
        """(sku, country) -> units the marketplace holds for ``channel`` (its home countries by default)."""
        ...


@dataclass(frozen=True)
class OrderPage:
    """Orders downloaded from a channel, each as Keel's capture document (the body of ``POST /orders``:
    channel, external_id, lines with sku, quantity and unit_price, customer, ship_to), and where the next
    download starts. ``error`` set: the download failed (nothing in ``orders``)."""

    orders: tuple[dict[str, Any], ...] = ()
    cursor: str | None = None
    error: str | None = None


@runtime_checkable
class OrderSource(Protocol):
    """A connector that downloads its channel's orders (``capabilities.orders``)."""

    def orders(self, channel: str, cursor: str | None) -> OrderPage: ...


@dataclass(frozen=True)
class OrderUpdate:
    """A change of a channel's order sent back to it: ``kind`` shipped (with carrier and tracking), cancelled
    or refunded; ``lines`` are (sku, quantity); ``key`` its idempotency key."""

    external_id: str
    kind: str
    lines: tuple[tuple[str, int], ...]
    key: str
    carrier: str | None = None
    tracking: str | None = None
    amount: str | None = None  # a refund's amount, in the order's currency


@dataclass(frozen=True)
class OrderUpdateRecord:
    """An order update owed to (or sent to) a channel, as the outbox holds it."""

    update: OrderUpdate
    state: str  # pending, sent, dead
    attempts: int
    due_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@runtime_checkable
class OrderUpdates(Protocol):
    """A connector that takes shipment, cancellation and refund updates (``capabilities.shipments``)."""

    def send(self, channel: str, updates: list[OrderUpdate]) -> PushResult:
        """``accepted``/``rejected`` name (external_id, kind) pairs instead of (sku, country)."""
        ...


@dataclass(frozen=True)
class SyncConfig:
    """How Keel reaches one channel (stored; the secret is never shown again once set)."""

    channel: str
    connector: str  # one of CONNECTORS
    url: str
    secret: str
    capabilities: Capabilities = field(default_factory=Capabilities)
    max_attempts: int = 8
    timeout_s: float = 5.0


def batch_key(channel: str, updates: list[Update]) -> str:
    """The idempotency key of a batch: the same updates at the same versions give the same key, so a
    redelivered batch is recognised by the channel."""
    digest = hashlib.sha256(channel.encode())
    for u in sorted(updates, key=lambda u: (u.sku, u.country)):
        digest.update(f"\x00{u.sku}\x00{u.country}\x00{u.version}".encode())
    return digest.hexdigest()[:32]


def content_hash(payload_digest: str | None, state: str) -> str:
    """The content value a channel is told for a listing: its payload's digest and its state."""
    return f"{state}:{payload_digest or ''}"


@dataclass
class Window:
    """A channel's request budget: at most ``limit`` requests in any ``window_s`` (a sliding window, the
    strictest way a channel may count, with ``margin_s`` for requests that arrive later than they left).
    A wait the channel asks for (429 Retry-After) is the channel's ``not_before`` in the database, which
    every worker sees."""

    limit: int
    window_s: float
    margin_s: float = 0.05
    sent: deque[float] = field(default_factory=deque)

    def wait(self, now: float) -> float:
        """Seconds until one more request is allowed (0: now)."""
        span = self.window_s + self.margin_s
        # the same sum as ``free_at`` below: with ``now - sent[0] >= span`` float rounding could keep an entry
        # yet report it free (wait 0), letting any number of requests through at that instant
        while self.sent and self.sent[0] + span <= now:
            self.sent.popleft()
        free_at = self.sent[0] + span if len(self.sent) >= self.limit else now
        return max(0.0, free_at - now)

    def take(self, now: float) -> None:
        self.sent.append(now)


CONNECTORS = ("webhook", "file", "shopify", "amazon")
# what each kind's channel publishes: the defaults of a configuration that does not say otherwise (a file
# feed writes large batches and has no rate limit to speak of)
KIND_CAPABILITIES: dict[str, Capabilities] = {
    # one endpoint family: inventory (push, read back) and order updates share the channel's request budget;
    # orders come in by the signed order webhook
    "webhook": Capabilities(read_back=True, orders=True, shipments=True, updates_in_window=True),
    "file": Capabilities(batch_size=25_000, rate_limit=100_000, window_s=60.0),
    "shopify": Capabilities(batch_size=250, rate_limit=4, window_s=1.0, shipments=True),
    # Selling Partner API: 25,000 messages per JSON listings feed, createFeed 5 per 5 minutes per region
    "amazon": Capabilities(batch_size=25_000, rate_limit=5, window_s=300.0, orders=True, shipments=True),
}
KIND_MAX_BATCH = {"shopify": 250}  # Shopify sets at most 250 quantities per mutation
AMAZON_REGIONS = ("na", "eu", "fe")


def amazon_region(url: str) -> str | None:
    """The Selling Partner API region of an endpoint URL: the host's ``sellingpartnerapi-{na,eu,fe}`` part, or
    else (a simulator, a proxy) the URL's last path segment (``http://127.0.0.1:8080/eu``); None: neither."""
    parts = urlsplit(url)
    host = (parts.hostname or "").split(".")[0]
    if host.startswith("sellingpartnerapi-") and host.removeprefix("sellingpartnerapi-") in AMAZON_REGIONS:
        return host.removeprefix("sellingpartnerapi-")
    last = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return last if last in AMAZON_REGIONS else None


# (setting, lowest, highest): what a configuration may ask for
LIMITS: dict[str, tuple[float, float]] = {
    "batch_size": (1, 25_000),
    "rate_limit": (1, 100_000),
    "window_s": (0.1, 86_400),
    "max_attempts": (1, 100),
    "timeout_s": (0.1, 60),
}
UNKNOWN = "unknown field"


def _cap(setting: str, connector: str, high: float) -> float:
    """The highest value of ``setting`` a connector kind takes (a Shopify batch is at most 250)."""
    return KIND_MAX_BATCH.get(connector, high) if setting == "batch_size" else high


def parse_config(channel: str, doc: object) -> tuple[SyncConfig | None, list[tuple[str, str]]]:
    """A channel's sync configuration from a document, or the (field, reason) problems that refuse it."""
    if not isinstance(doc, dict):
        return None, [("", "must be an object")]
    problems: list[tuple[str, str]] = [(k, UNKNOWN) for k in doc if k not in {"connector", "url", "secret", *LIMITS}]
    connector, url, secret = doc.get("connector", "webhook"), doc.get("url"), doc.get("secret")
    if connector not in CONNECTORS:
        problems.append(("connector", f"must be one of {', '.join(CONNECTORS)}"))
    scheme = ("file:///",) if connector == "file" else ("http://", "https://")
    if not isinstance(url, str) or not url.startswith(scheme) or len(url) > 2000 or "\x00" in url:
        what = "a file:/// URL of an absolute directory" if connector == "file" else "an http(s) URL"
        problems.append(("url", f"must be {what} of at most 2000 characters"))
    elif connector == "amazon" and amazon_region(url) is None:
        problems.append(("url", "must name a region: a sellingpartnerapi-{na,eu,fe} host or a last path segment"))
    if connector == "file" and secret in (None, ""):
        secret = ""  # a directory has no credential
    elif not isinstance(secret, str) or not 8 <= len(secret) <= 200 or not secret.isprintable():
        problems.append(("secret", "must be 8-200 printable characters"))
    numbers: dict[str, float] = {}
    for name, (low, high) in LIMITS.items():
        if name not in doc:
            continue
        value = doc[name]
        whole = name in {"batch_size", "rate_limit", "max_attempts"}
        if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
            problems.append((name, "must be a whole number" if whole else "must be a number"))
        elif not low <= value <= _cap(name, str(connector), high):
            cap = _cap(name, str(connector), high)
            whose = f" for {connector}" if cap != high else ""
            problems.append((name, f"must be between {low:g} and {cap:g}{whose}"))
        else:
            numbers[name] = value
    if problems:
        return None, problems
    kind = KIND_CAPABILITIES.get(str(connector), Capabilities())
    caps = replace(
        kind,
        batch_size=int(numbers.get("batch_size", kind.batch_size)),
        rate_limit=int(numbers.get("rate_limit", kind.rate_limit)),
        window_s=float(numbers.get("window_s", kind.window_s)),
    )
    config = SyncConfig(
        channel,
        str(connector),
        str(url),
        str(secret),
        caps,
        int(numbers.get("max_attempts", 8)),
        float(numbers.get("timeout_s", 5.0)),
    )
    return config, []


def settings_of(config: SyncConfig) -> dict[str, float]:
    """The stored form of a configuration's numbers (everything but connector, URL and secret)."""
    c = config.capabilities
    return {
        "batch_size": c.batch_size,
        "rate_limit": c.rate_limit,
        "window_s": c.window_s,
        "max_attempts": config.max_attempts,
        "timeout_s": config.timeout_s,
    }
