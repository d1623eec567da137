"""The webhook JSON connector: signed batches POSTed to a channel's endpoint.

A push is one request, ``POST {url}/channels/{channel}/inventory`` with the body
``{"channel": ..., "items": [{"sku", "country", "quantity", "content", "price", "version"}]}`` and the headers
``X-Keel-Timestamp`` (unix seconds), ``X-Keel-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``
and ``Idempotency-Key``. The channel answers ``{"accepted": [{"sku", "country"}], "rejected": [{"sku",
"country", "error", "retry"}]}``.

A read back (drift detection) is ``GET {url}/channels/{channel}/inventory``, signed the same way over an empty
body; the channel answers with a list of the values it holds (``{"sku", "country", "quantity", ...}``).

The connector never raises for what a channel does: a refusal, an unexpected status, a timeout, a dropped
connection or an answer that does not parse all become a ``PushResult`` with ``error`` set, so the engine
retries the batch (under the same key) or dead-letters it. An answer is trusted only when its shape is exactly
right and it speaks only of the items sent; otherwise the whole batch counts as failed, since a half-understood
answer could mark an item synced that the channel never took.

``verify`` is the other side of the signature, for anything that receives Keel-style signed requests (the
inbound order webhooks).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from keel.channels.sync.model import (
    KIND_CAPABILITIES,
    Capabilities,
    OrderUpdate,
    PushResult,
    ReadResult,
    Rejected,
    Update,
)

TIMESTAMP_HEADER = "X-Keel-Timestamp"
SIGNATURE_HEADER = "X-Keel-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 3600.0  # a channel asking for more is clamped: the engine re-asks rather than sleeps a day
MALFORMED = "malformed response"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Keel-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds, as sent)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance_s: float = 300.0) -> bool:
    """Whether ``signature`` is ``body``'s signature at ``timestamp`` and ``timestamp`` is within ``tolerance_s``
    of ``now`` (either way: a replayed old request and a clock far ahead are both refused)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance_s:
        return False
    # compare_digest on equal-typed ASCII strings: no early exit that would leak how much of a guess matched
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


class WebhookConnector:
    """Pushes batches to one channel endpoint family (``{url}/channels/{channel}/...``) with one HTTP client,
    kept for its connection pool and closed by ``close()``."""

    kind = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        capabilities: Capabilities | None = None,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,  # tests: httpx.MockTransport
    ) -> None:
        self.url = url.rstrip("/")
        # the limits are the configuration's; what the endpoint family can do (read back, order updates) is
        # this kind's
        limits = capabilities or Capabilities()
        self.capabilities = replace(
            KIND_CAPABILITIES["webhook"],
            batch_size=limits.batch_size,
            rate_limit=limits.rate_limit,
            window_s=limits.window_s,
        )
        self._secret = secret
        self._clock = clock
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False, transport=transport)

    def push(self, channel: str, updates: list[Update], key: str) -> PushResult:
        """Send ``updates`` to ``channel`` under idempotency ``key``; every failure is reported in the result."""
        if not updates:
            return PushResult()
        sent = self._post(
            f"/channels/{channel}/inventory", {"channel": channel, "items": [_item(u) for u in updates]}, key
        )
        if isinstance(sent, PushResult):
            return sent
        return _result(sent, [(u.sku, u.country) for u in updates], ("sku", "country"))

    def send(self, channel: str, updates: list[OrderUpdate]) -> PushResult:
        """Order updates (shipped, cancelled, refunded) to ``channel``: ``POST .../orders/updates``, signed like a
        push, its idempotency key derived from the updates' own keys (a resend is recognised); the answer
        names (external_id, kind) pairs as a push's names (sku, country)."""
        if not updates:
            return PushResult()
        key = hashlib.sha256("\x00".join(sorted(u.key for u in updates)).encode()).hexdigest()[:32]
        sent = self._post(
            f"/channels/{channel}/orders/updates", {"channel": channel, "updates": [_update(u) for u in updates]}, key
        )
        if isinstance(sent, PushResult):
            return sent
        return _result(sent, [(u.external_id, u.kind) for u in updates], ("external_id", "kind"))

    def read(self, channel: str, keys: list[tuple[str, str]]) -> ReadResult:
        """The channel's quantities of ``keys``: ``GET {url}/channels/{channel}/inventory``, signed like a
        push over an empty body. The endpoint answers with every value the channel holds (a list of
        ``{"sku", "country", "quantity", ...}``); the ones not asked for are left out. Every failure is
        reported in the result, and an answer that is not exactly that shape is refused as a whole."""
        timestamp = str(int(self._clock()))
        headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(self._secret, timestamp, b"")}
        try:
            response = self._client.get(f"{self.url}/channels/{channel}/inventory", headers=headers)
        except httpx.TimeoutException:
            return ReadResult(error="timeout")
        except httpx.HTTPError as exc:
            return ReadResult(error=f"connection error: {type(exc).__name__}")
        if response.status_code == 429:
            return ReadResult(error="rate limited (429)")
        if not 200 <= response.status_code < 300:
            return ReadResult(error=f"HTTP {response.status_code}{_detail(response)}")
        try:
            answer = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            return ReadResult(error=f"{MALFORMED}: not JSON")
        wanted = set(keys)
        values: dict[tuple[str, str], int] = {}
        seen: set[tuple[str, str]] = set()
        if not isinstance(answer, list):
            return ReadResult(error=MALFORMED)
        for entry in answer:
            pair, quantity = _pair(entry), entry.get("quantity") if isinstance(entry, dict) else None
            if pair is None or not isinstance(quantity, int) or isinstance(quantity, bool) or pair in seen:
                return ReadResult(error=MALFORMED)
            seen.add(pair)
            if pair in wanted:
                values[pair] = quantity
        return ReadResult(values)

    def close(self) -> None:
        self._client.close()

    def _post(self, path: str, doc: dict[str, Any], key: str) -> httpx.Response | PushResult:
        """POST ``doc`` to ``path``, signed, under idempotency ``key``: the channel's response, or the failure to
        get one as a result."""
        body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            IDEMPOTENCY_HEADER: key,
        }
        try:
            return self._client.post(f"{self.url}{path}", content=body, headers=headers)
        except httpx.TimeoutException:
            return PushResult(error="timeout")
        except httpx.HTTPError as exc:  # refused, reset, closed without an answer, bad framing
            return PushResult(error=f"connection error: {type(exc).__name__}")


def _update(u: OrderUpdate) -> dict[str, Any]:
    return {
        "external_id": u.external_id,
        "kind": u.kind,
        "key": u.key,
        "lines": [{"sku": sku, "quantity": q} for sku, q in u.lines],
        "carrier": u.carrier,
        "tracking": u.tracking,
        "amount": u.amount,
    }


def _item(u: Update) -> dict[str, Any]:
    return {
        "sku": u.sku,
        "country": u.country,
        "quantity": u.quantity,
        "content": u.content,
        "price": u.price,
        "version": u.version,
    }


def _result(response: httpx.Response, sent: list[tuple[str, str]], fields: tuple[str, str]) -> PushResult:
    """The channel's answer to a batch whose entries are named by the pair of ``fields`` (``sku, country``
    for quantities, ``external_id, kind`` for order updates)."""
    status = response.status_code
    if status == 429:
        return PushResult(error="rate limited (429)", retry_after_s=_retry_after(response))
    if not 200 <= status < 300:
        # a 503 may say when to come back too; other statuses are retried on the engine's backoff
        wait = _retry_after(response) if "retry-after" in response.headers else None
        return PushResult(error=f"HTTP {status}{_detail(response)}", retry_after_s=wait)
    try:
        answer = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return PushResult(error=f"{MALFORMED}: not JSON")
    parsed = _parse(answer, set(sent), fields)
    if parsed is None:
        return PushResult(error=MALFORMED)
    accepted, rejected = parsed
    answered = set(accepted) | {(r.sku, r.country) for r in rejected}
    # an entry the channel did not mention was not taken: retry it rather than assume either way
    silent = tuple(Rejected(a, b, "not acknowledged", retry=True) for a, b in sent if (a, b) not in answered)
    return PushResult(accepted=accepted, rejected=rejected + silent)


def _parse(
    answer: object, sent: set[tuple[str, str]], fields: tuple[str, str]
) -> tuple[tuple[tuple[str, str], ...], tuple[Rejected, ...]] | None:
    """The answer's accepted pairs and rejections, or None when anything in it is off: not the documented
    shape, a wrong type, an entry that was not sent, an entry answered twice."""
    if not isinstance(answer, dict):
        return None
    acc, rej = answer.get("accepted"), answer.get("rejected")
    if not isinstance(acc, list) or not isinstance(rej, list):
        return None
    seen: set[tuple[str, str]] = set()
    accepted: list[tuple[str, str]] = []
    rejected: list[Rejected] = []
    for i, entry in enumerate(acc + rej):
        pair = _pair(entry, fields)
        if pair is None or pair not in sent or pair in seen:
            return None
        seen.add(pair)
        if i < len(acc):
            accepted.append(pair)
            continue
        error, retry = entry.get("error"), entry.get("retry")
        if not isinstance(error, str) or not isinstance(retry, bool):
            return None
        rejected.append(Rejected(pair[0], pair[1], error[:200], retry))
    return tuple(accepted), tuple(rejected)


def _pair(entry: object, fields: tuple[str, str] = ("sku", "country")) -> tuple[str, str] | None:
    if not isinstance(entry, dict):
        return None
    first, second = entry.get(fields[0]), entry.get(fields[1])
    if not isinstance(first, str) or not isinstance(second, str):
        return None
    return first, second


def _retry_after(response: httpx.Response) -> float:
    """Retry-After in seconds (the delay form; the HTTP-date form and junk fall back to the default)."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
    if not math.isfinite(seconds) or seconds < 0:
        return DEFAULT_RETRY_AFTER_S
    return min(seconds, MAX_RETRY_AFTER_S)


def _detail(response: httpx.Response) -> str:
    """A short, printable hint from an error body (a channel's body is untrusted and may be huge)."""
    text = response.content[:120].decode("utf-8", "replace")
    text = "".join(c if c.isprintable() else " " for c in text).strip()
    return f": {text}" if text else ""
