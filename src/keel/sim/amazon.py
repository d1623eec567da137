"""An Amazon-style marketplace, as the Amazon connector sees it: a local HTTP server playing a simplified Selling
Partner API (feeds, orders, FBA inventory) for the connector tests.

Every path starts with the region (``/na``, ``/eu``, ``/fe``), standing in for the regional host; a request
carries ``x-amz-access-token``, and ``tokens`` maps each token to its seller. The endpoints:

- ``POST /{r}/feeds/2021-06-30/documents`` -> ``{"feedDocumentId", "url"}``; ``PUT`` the feed to that URL
  (pre-signed: no token); ``POST /{r}/feeds/2021-06-30/feeds`` with ``{"feedType": "JSON_LISTINGS_FEED",
  "marketplaceIds", "inputFeedDocumentId", "feedOptions": {"clientReference"}}`` -> 202 ``{"feedId"}``;
  ``GET .../feeds/{id}`` -> ``processingStatus`` (IN_QUEUE until ``processing_s`` after creation, then DONE or
  FATAL) and ``resultFeedDocumentId``; ``GET .../documents/{id}`` -> its URL; ``GET`` that URL -> the processing
  report ``{"header", "issues": [{"messageId", "code", "severity", "message"}], "summary"}``.
- ``GET /{r}/orders/v0/orders?CreatedAfter=&NextToken=&MaxResultsPerPage=`` (``CreatedAfter`` inclusive, the
  answer's ``CreatedBefore`` exclusive), ``GET .../orders/{id}/orderItems``, ``POST .../orders/{id}/
  shipmentConfirmation`` and (simplified) ``POST .../orders/{id}/cancellation``, each 204 when taken.
- ``GET /{r}/fba/inventory/v1/summaries?granularityId=<marketplace>&details=true&nextToken=``.

Rules, strict where the real one is:

- **Rate limit.** At most ``feed_limit`` createFeed calls per seller and region in any sliding
  ``feed_window_s``; one more gets 429 with ``Retry-After`` (whole seconds) and counts as a violation.
- **Feed idempotency.** A createFeed whose ``clientReference`` names a feed of the same seller and region gets
  that feed's id back and creates nothing; a feed that ended FATAL or with transient message errors forgets
  its reference, so resubmitting it is processed anew.
- **Order of application.** Feeds are processed in the order they were created, each message replacing the
  quantity held for (seller, country, sku): last writer wins by feed order, and each held value records the
  feed's sequence number as its version, which never goes backwards. (Keel sends one feed per channel at a
  time, a newer value in a later feed, so feed order is version order.)
- **Faults**, drawn with a seeded ``random.Random`` for ``fault_rate`` of the requests to ``fault_ops`` (by
  operation, ``OPS``: document, upload, create, feed, report, download, orders, items, confirm, cancel, fba):
  ``error`` (503, nothing done), ``timeout`` (done, answered after ``stall_s``), ``drop`` (connection closed,
  nothing done), ``malformed`` (done, 200 with a body that is not JSON); on a new feed, ``fatal`` (ends FATAL,
  nothing applied) and ``partial`` (about half its messages get a transient ERROR issue, code ``5000``).
  A message with a bad shape or quantity gets the permanent ERROR code ``90220``.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from keel.sim.amazon_api import (
    COUNTRY_OF,
    MARKETPLACES,
    Confirmation,
    Order,
    OrdersApi,
    error_reply,
    json_reply,
    load_json,
    route,
)
from keel.sim.http import LocalServer, Reply

FAULTS = ("error", "timeout", "drop", "malformed", "fatal", "partial")
OPS = ("document", "upload", "create", "feed", "report", "download", "orders", "items", "confirm", "cancel", "fba")
FEEDS = "/feeds/2021-06-30"
PATCH_PATH = "/attributes/fulfillment_availability"


@dataclass
class Feed:
    id: str
    seq: int
    seller: str
    region: str
    reference: str
    marketplaces: tuple[str, ...]
    document: str
    ready_at: float
    fault: str | None
    status: str = "IN_QUEUE"
    report: str | None = None  # the result document's id, once processed


@dataclass
class Stats:
    requests: int = 0
    feeds: int = 0  # feeds created
    duplicate_feeds: int = 0  # createFeed answered with an existing feed (its client reference)
    items_applied: int = 0
    rate_limit_violations: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)


class AmazonMarketplace(OrdersApi, LocalServer):
    """The simulator; use as a context manager, or ``start()``/``stop()``; ``url(region)`` once started."""

    def __init__(
        self,
        tokens: Mapping[str, str],
        *,
        feed_limit: int = 5,
        feed_window_s: float = 300.0,
        processing_s: float = 0.05,
        page_size: int = 100,
        fault_rate: float = 0.0,
        faults: Iterable[str] = FAULTS,
        fault_ops: Iterable[str] = OPS,
        seed: int = 0,
        stall_s: float = 6.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.faults, self.fault_ops = tuple(faults), frozenset(fault_ops)
        if set(self.faults) - set(FAULTS) or self.fault_ops - set(OPS) or not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"faults must be among {FAULTS}, fault_ops among {OPS}, fault_rate in [0, 1]")
        self.tokens = dict(tokens)
        self.feed_limit, self.feed_window_s, self.processing_s = feed_limit, feed_window_s, processing_s
        LocalServer.__init__(self, "marketplace")
        self.page_size, self.fault_rate, self.stall_s = page_size, fault_rate, stall_s
        self._monotonic = monotonic
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stats = Stats()
        self._documents: dict[str, bytes | None] = {}  # uploaded feeds and processing reports
        self._feeds: dict[str, Feed] = {}
        self._queue: deque[Feed] = deque()  # in creation order; all wait the same time, so ready in that order
        self._references: dict[tuple[str, str, str], str] = {}
        self._sent: dict[tuple[str, str], deque[float]] = {}
        self._held: dict[tuple[str, str, str], tuple[int, int]] = {}  # (seller, country, sku) -> (quantity, seq)
        self.applied: list[tuple[str, str, str, int, int]] = []  # (seller, country, sku, quantity, feed seq)
        self._orders: dict[str, Order] = {}
        self.confirmations: list[Confirmation] = []
        self.cancellations: list[tuple[str, str]] = []  # (seller, order id)
        self._fba: dict[tuple[str, str, str], int] = {}

    # -- life cycle -----------------------------------------------------------------------------------------

    def url(self, region: str = "eu") -> str:
        return f"{self.base_url}/{region}"

    # -- the tests' side --------------------------------------------------------------------------------------

    def state(self, seller: str) -> dict[tuple[str, str], tuple[int, int]]:
        """(sku, country) -> (quantity, feed seq) held for ``seller``, after processing every feed that is due."""
        with self._lock:
            self._settle(self._monotonic())
            return {(sku, c): v for (s, c, sku), v in self._held.items() if s == seller}

    def feed_statuses(self) -> list[str]:
        with self._lock:
            self._settle(self._monotonic())
            return [f.status for f in sorted(self._feeds.values(), key=lambda f: f.seq)]

    @property
    def stats(self) -> Stats:
        with self._lock:
            s = self._stats
            return Stats(s.requests, s.feeds, s.duplicate_feeds, s.items_applied, s.rate_limit_violations,
                         dict(s.faults_injected))  # fmt: skip

    # -- requests (the HTTP handler's threads) ----------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        parts = urlsplit(target)
        region, _, path = parts.path.lstrip("/").partition("/")
        path = "/" + path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self._stats.requests += 1
            now = self._monotonic()
            self._settle(now)
            if region not in MARKETPLACES:
                return error_reply(404, "NotFound", "no such region")
            found = route(method, path)
            if found is None:
                return error_reply(404, "NotFound", f"no resource {method} {path}")
            op, arg = found
            seller = self.tokens.get(headers.get("x-amz-access-token", ""))
            if seller is None and op not in {"upload", "download"}:  # pre-signed URLs carry no token
                return error_reply(403, "Unauthorized", "access to the requested resource is denied")
            if op == "create" and (wait := self._admit((seller or "", region), now)) is not None:
                self._stats.rate_limit_violations += 1
                retry = (("Retry-After", str(max(1, math.ceil(wait)))),)
                return json_reply(429, {"errors": [{"code": "QuotaExceeded", "message": "too many requests"}]}, retry)
            fault = (
                self._rng.choice(self.faults) if op in self.fault_ops and self._rng.random() < self.fault_rate else None
            )
            if fault in {"fatal", "partial"} and op != "create":
                fault = None
            if fault is not None and fault != "fatal" and fault != "partial":
                self._count(fault)
            if fault == "error":
                return error_reply(503, "ServiceUnavailable", "try again later")
            if fault == "drop":
                return Reply(0, drop=True)
            handler: Callable[..., Reply] = getattr(self, f"_op_{op}")
            reply = handler(seller or "", region, arg, query, body, now, fault)
            if fault == "timeout":
                return Reply(reply.status, reply.body, reply.headers, stall=True)
            if fault == "malformed":
                status = reply.status if 200 <= reply.status < 300 else 200
                return Reply(status, b'{"payload": {"feedId": ', (("Content-Type", "application/json"),))
            return reply

    def _count(self, fault: str) -> None:
        self._stats.faults_injected[fault] = self._stats.faults_injected.get(fault, 0) + 1

    def _admit(self, key: tuple[str, str], now: float) -> float | None:
        sent = self._sent.setdefault(key, deque())
        while sent and now - sent[0] >= self.feed_window_s:
            sent.popleft()
        if len(sent) >= self.feed_limit:
            return sent[0] + self.feed_window_s - now
        sent.append(now)
        return None

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{self._rng.getrandbits(64):016x}"

    # -- feeds ------------------------------------------------------------------------------------------------

    def _op_document(self, seller: str, region: str, arg: str, q: dict[str, str], body: bytes, *_: Any) -> Reply:
        doc = load_json(body)
        if not isinstance(doc, dict) or not isinstance(doc.get("contentType"), str):
            return error_reply(400, "InvalidInput", "contentType is required")
        doc_id = self._new_id("amzn1.tortuga.")
        self._documents[doc_id] = None
        return json_reply(201, {"feedDocumentId": doc_id, "url": f"{self.url(region)}/uploads/{doc_id}"})

    def _op_upload(self, seller: str, region: str, arg: str, q: dict[str, str], body: bytes, *_: Any) -> Reply:
        if arg not in self._documents or self._documents[arg] is not None:
            return error_reply(403, "AccessDenied", "no such upload, or already uploaded")
        self._documents[arg] = body
        return Reply(200)

    def _op_create(self, seller: str, region: str, arg: str, q: dict[str, str], body: bytes, now: float,
                fault: str | None) -> Reply:  # fmt: skip
        doc = load_json(body)
        if not isinstance(doc, dict) or doc.get("feedType") != "JSON_LISTINGS_FEED":
            return error_reply(400, "InvalidInput", "feedType must be JSON_LISTINGS_FEED")
        marketplaces, document = doc.get("marketplaceIds"), doc.get("inputFeedDocumentId")
        options = doc.get("feedOptions") or {}
        reference = options.get("clientReference", "") if isinstance(options, dict) else ""
        if (
            not isinstance(marketplaces, list)
            or not marketplaces
            or set(marketplaces) - set(MARKETPLACES[region].values())
        ):
            return error_reply(400, "InvalidInput", "marketplaceIds must name marketplaces of the region")
        if not isinstance(document, str) or self._documents.get(document) is None:
            return error_reply(400, "InvalidInput", "inputFeedDocumentId names no uploaded document")
        if reference and (existing := self._references.get((seller, region, reference))) is not None:
            self._stats.duplicate_feeds += 1
            return json_reply(202, {"feedId": existing})
        if fault in {"fatal", "partial"}:
            self._count(fault)
        self._stats.feeds += 1
        feed = Feed(self._new_id(""), self._stats.feeds, seller, region, str(reference), tuple(marketplaces),
                    document, now + self.processing_s, fault if fault in {"fatal", "partial"} else None)  # fmt: skip
        self._feeds[feed.id] = feed
        self._queue.append(feed)
        if reference:
            self._references[(seller, region, feed.reference)] = feed.id
        return json_reply(202, {"feedId": feed.id})

    def _op_feed(self, seller: str, region: str, arg: str, *_: Any) -> Reply:
        feed = self._feeds.get(arg)
        if feed is None or feed.seller != seller:
            return error_reply(404, "NotFound", "no such feed")
        doc: dict[str, Any] = {"feedId": feed.id, "feedType": "JSON_LISTINGS_FEED", "processingStatus": feed.status}
        if feed.report is not None:
            doc["resultFeedDocumentId"] = feed.report
        return json_reply(200, doc)

    def _op_report(self, seller: str, region: str, arg: str, *_: Any) -> Reply:
        if self._documents.get(arg) is None:
            return error_reply(404, "NotFound", "no such document")
        return json_reply(200, {"feedDocumentId": arg, "url": f"{self.url(region)}/downloads/{arg}"})

    def _op_download(self, seller: str, region: str, arg: str, *_: Any) -> Reply:
        content = self._documents.get(arg)
        if content is None:
            return error_reply(404, "NotFound", "no such document")
        return Reply(200, content, (("Content-Type", "application/json"),))

    def _settle(self, now: float) -> None:
        """Process, in creation order, every queued feed whose processing time has come."""
        while self._queue and self._queue[0].ready_at <= now:
            self._process(self._queue.popleft())

    def _process(self, feed: Feed) -> None:
        doc = load_json(self._documents.get(feed.document) or b"")
        header = doc.get("header") if isinstance(doc, dict) else None
        messages = doc.get("messages") if isinstance(doc, dict) else None
        fatal = feed.fault == "fatal" or not (
            isinstance(header, dict) and header.get("sellerId") == feed.seller and header.get("version") == "2.0"
            and isinstance(messages, list) and 0 < len(messages) <= 25_000
        )  # fmt: skip
        issues: list[dict[str, Any]] = []
        if fatal or not isinstance(messages, list):
            feed.status = "FATAL"
            issues.append({"code": "4000", "severity": "ERROR", "message": "the feed could not be processed"})
        else:
            feed.status = "DONE"
            transient = set()
            if feed.fault == "partial":
                transient = set(self._rng.sample(range(len(messages)), max(1, len(messages) // 2)))
            for i, message in enumerate(messages):
                issue = "5000" if i in transient else self._apply(feed, message)
                if issue is not None:
                    text = "internal error, resubmit" if issue == "5000" else "invalid message or value"
                    mid = message.get("messageId") if isinstance(message, dict) else None
                    issues.append({"messageId": mid, "code": issue, "severity": "ERROR", "message": text})
        if feed.status == "FATAL" or any(i["code"] == "5000" for i in issues):
            self._references.pop((feed.seller, feed.region, feed.reference), None)
        errors = len({i.get("messageId") for i in issues})
        total = len(messages) if isinstance(messages, list) else 0
        report = {
            "header": {"sellerId": feed.seller, "version": "2.0", "feedId": feed.id},
            "issues": issues,
            "summary": {"errors": len(issues), "warnings": 0, "messagesProcessed": total,
                        "messagesAccepted": 0 if fatal else total - errors, "messagesInvalid": errors},
        }  # fmt: skip
        feed.report = self._new_id("amzn1.tortuga.report.")
        self._documents[feed.report] = json.dumps(report).encode()

    def _apply(self, feed: Feed, message: object) -> str | None:
        """Apply one message; the code of its ERROR issue, None when it landed."""
        if not isinstance(message, dict) or not isinstance(message.get("sku"), str):
            return "90220"
        patches = message.get("patches")
        if message.get("operationType") != "PATCH" or not isinstance(patches, list) or len(patches) != 1:
            return "90220"
        patch = patches[0]
        value = patch.get("value") if isinstance(patch, dict) else None
        if not isinstance(patch, dict) or patch.get("op") != "replace" or patch.get("path") != PATCH_PATH:
            return "90220"
        if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
            return "90220"
        quantity, market = value[0].get("quantity"), value[0].get("marketplace_id")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            return "90220"
        if market not in feed.marketplaces or value[0].get("fulfillment_channel_code") != "DEFAULT":
            return "90220"
        key = (feed.seller, COUNTRY_OF[market], message["sku"])
        old = self._held.get(key)
        assert old is None or old[1] <= feed.seq, "feeds are processed in creation order"
        self._held[key] = (quantity, feed.seq)
        self.applied.append((*key, quantity, feed.seq))
        self._stats.items_applied += 1
        return None
