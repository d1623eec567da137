"""The Amazon-style connector: quantities through the Selling Partner API's JSON listings feed, orders polled,
shipments confirmed, and the stock Amazon holds in its own warehouses (FBA) read back.

A push is one feed, as the real flow goes: ``createFeedDocument`` (``POST /feeds/2021-06-30/documents``), the
feed ``PUT`` to the pre-signed URL it answers, ``createFeed`` (``POST /feeds/2021-06-30/feeds``) naming that
document, then ``getFeed`` polled every ``poll_s`` until DONE, FATAL or CANCELLED, and the processing report
read (``getFeedDocument``, then its URL). The feed is::

    {"header": {"sellerId", "version": "2.0", "issueLocale"},
     "messages": [{"messageId": n, "sku", "operationType": "PATCH", "productType": "PRODUCT",
                   "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": q,
                                           "marketplace_id": m}]}]}]}

with one message per update, its ``marketplace_id`` the update's country's marketplace (``MARKETPLACES``).
Keel's channel code stands for the seller id. A report issue of severity ERROR rejects its message (for good
when its code is a data error, ``PERMANENT``; otherwise it is retried); a message without one was accepted.

Limits: at most 25,000 messages a feed (a larger batch is refused, not split: the engine never sends more than
``capabilities.batch_size``) and 5 createFeed calls per 5 minutes per region, the default capabilities the
engine paces by; a 429 still becomes ``retry_after_s``. The region is the endpoint's (``model.amazon_region``).

Redelivery: the batch key travels as the feed's ``clientReference``, and the marketplace answers a repeated
reference with the feed it already has, so a push retried after a timeout (or after ``feed still processing``,
when the feed did not finish within ``timeout_s``) is applied once. Every failure is a ``PushResult``, never
an exception. Auth: ``x-amz-access-token: <secret>``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable

import httpx

from keel.channels.sync import amazon_api
from keel.channels.sync.amazon_api import MARKETPLACES, CallFailed, SpApi
from keel.channels.sync.model import (
    KIND_CAPABILITIES,
    Capabilities,
    OrderPage,
    OrderUpdate,
    PushResult,
    ReadResult,
    Rejected,
    Update,
    amazon_region,
)

MAX_MESSAGES = 25_000
PATCH_PATH = "/attributes/fulfillment_availability"
PERMANENT = frozenset({"90220"})  # issue codes of bad data (a value out of range): the same value fails again
FEEDS = "/feeds/2021-06-30"
STILL_PROCESSING = "feed still processing"


class AmazonConnector:
    """One seller's region endpoint; ``url`` names the region (``https://sellingpartnerapi-eu.amazon.com``, or
    a simulator's ``http://127.0.0.1:<port>/eu``), ``token`` is the access token."""

    kind = "amazon"

    def __init__(
        self,
        url: str,
        token: str,
        capabilities: Capabilities | None = None,
        timeout_s: float = 5.0,
        *,
        poll_s: float = 0.05,
        page_size: int = 100,
        issue_locale: str = "en_US",
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,  # tests: httpx.MockTransport
    ) -> None:
        region = amazon_region(url)
        if region is None:  # configurations are checked when stored; this is a programming error
            raise ValueError(f"{url!r} names no Selling Partner API region")
        self.region = region
        self.capabilities = capabilities or KIND_CAPABILITIES["amazon"]
        self.timeout_s, self.poll_s, self.page_size, self.issue_locale = timeout_s, poll_s, page_size, issue_locale
        self._clock = clock
        self._api = SpApi(url, token, timeout_s, transport)

    def push(self, channel: str, updates: list[Update], key: str) -> PushResult:
        """One listings feed of ``updates`` under client reference ``key``; every failure is in the result."""
        if not updates:
            return PushResult()
        limit = min(MAX_MESSAGES, self.capabilities.batch_size)
        if len(updates) > limit:
            return PushResult(error=f"{len(updates)} updates exceed the {limit:,} messages a feed may carry")
        markets = MARKETPLACES[self.region]
        # in key order: the same batch key is then the same messages under the same messageIds, so a report
        # fetched for a resubmission (the marketplace's earlier feed) maps onto the right updates
        sent = sorted((u for u in updates if u.country in markets), key=lambda u: (u.sku, u.country))
        refused = tuple(
            Rejected(u.sku, u.country, f"no marketplace for {u.country} in region {self.region}", retry=False)
            for u in updates
            if u.country not in markets
        )
        if not sent:
            return PushResult(rejected=refused)
        try:
            result = self._feed(channel, sent, key)
        except CallFailed as failed:
            return PushResult(error=failed.error, retry_after_s=failed.retry_after_s)
        return PushResult(result.accepted, result.rejected + refused, result.error, result.retry_after_s)

    def _feed(self, channel: str, updates: list[Update], key: str) -> PushResult:
        started = self._clock()
        body = json.dumps(self._document(channel, updates), separators=(",", ":")).encode()
        doc = self._api.json("POST", f"{FEEDS}/documents", 201, body={"contentType": "application/json; charset=UTF-8"})
        document_id, upload = _text(doc, "feedDocumentId"), _text(doc, "url")
        self._api.call("PUT", upload, 200, content=body, presigned=True)
        markets = sorted({MARKETPLACES[self.region][u.country] for u in updates})
        request = {
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": markets,
            "inputFeedDocumentId": document_id,
            "feedOptions": {"clientReference": key},
        }
        feed_id = _text(self._api.json("POST", f"{FEEDS}/feeds", 202, body=request), "feedId")
        while True:
            feed = self._api.json("GET", f"{FEEDS}/feeds/{feed_id}")
            status = _text(feed, "processingStatus")
            if status in {"FATAL", "CANCELLED"}:
                return PushResult(error=f"feed {feed_id} ended {status}")
            if status == "DONE":
                break
            if status not in {"IN_QUEUE", "IN_PROGRESS"}:
                raise CallFailed(f"{amazon_api.MALFORMED}: processingStatus {status[:40]!r}")
            if self._clock() - started + self.poll_s > self.timeout_s:
                return PushResult(error=STILL_PROCESSING)
            time.sleep(self.poll_s)
        report_id = _text(feed, "resultFeedDocumentId")
        location = _text(self._api.json("GET", f"{FEEDS}/documents/{report_id}"), "url")
        report = self._api.call("GET", location, 200, presigned=True)
        try:
            return _outcome(json.loads(report.content), updates)
        except (ValueError, UnicodeDecodeError):
            raise CallFailed(f"{amazon_api.MALFORMED}: report is not JSON") from None

    def _document(self, channel: str, updates: list[Update]) -> dict[str, object]:
        markets = MARKETPLACES[self.region]
        return {
            "header": {"sellerId": channel, "version": "2.0", "issueLocale": self.issue_locale},
            "messages": [
                {
                    "messageId": n,
                    "sku": u.sku,
                    "operationType": "PATCH",
                    "productType": "PRODUCT",
                    "patches": [
                        {
                            "op": "replace",
                            "path": PATCH_PATH,
                            "value": [
                                {
                                    "fulfillment_channel_code": "DEFAULT",
                                    "quantity": u.quantity,
                                    "marketplace_id": markets[u.country],
                                }
                            ],
                        }
                    ],
                }
                for n, u in enumerate(updates, 1)
            ],
        }

    def orders(self, channel: str, cursor: str | None) -> OrderPage:
        """A page of the channel's orders as capture documents (``amazon_api.orders``)."""
        return amazon_api.orders(self._api, channel, cursor, self.page_size)

    def send(self, channel: str, updates: list[OrderUpdate]) -> PushResult:
        """Shipment confirmations and cancellations (``amazon_api.send``)."""
        return amazon_api.send(self._api, updates)

    def fulfilled_stock(self, channel: str, countries: Iterable[str] | None = None) -> ReadResult:
        """The channel's FBA stock, (sku, country) -> fulfillable units (``amazon_api.fulfilled_stock``)."""
        return amazon_api.fulfilled_stock(self._api, self.region, countries)

    def close(self) -> None:
        self._api.close()


def _outcome(report: object, updates: list[Update]) -> PushResult:
    """Accepted and rejected updates from a processing report; an issue about a message that was not sent, or
    an ERROR about the whole feed, fails the push (a half-understood report must not mark anything synced)."""
    issues = report.get("issues") if isinstance(report, dict) else None
    if not isinstance(issues, list):
        raise CallFailed(f"{amazon_api.MALFORMED}: report has no issues list")
    errors: dict[int, tuple[str, str]] = {}
    for issue in issues:
        if not isinstance(issue, dict) or not isinstance(issue.get("severity"), str):
            raise CallFailed(f"{amazon_api.MALFORMED}: report issue")
        if issue["severity"] != "ERROR":
            continue
        mid, code, message = issue.get("messageId"), str(issue.get("code", "")), str(issue.get("message", ""))
        if not isinstance(mid, int) or isinstance(mid, bool):
            return PushResult(error=f"feed error {code}: {message}"[:200])
        if not 1 <= mid <= len(updates):
            raise CallFailed(f"{amazon_api.MALFORMED}: issue about message {mid}, not sent")
        errors.setdefault(mid, (code, message))
    accepted = tuple((u.sku, u.country) for n, u in enumerate(updates, 1) if n not in errors)
    rejected = tuple(
        Rejected(u.sku, u.country, f"{errors[n][0]}: {errors[n][1]}"[:200], retry=errors[n][0] not in PERMANENT)
        for n, u in enumerate(updates, 1)
        if n in errors
    )
    return PushResult(accepted, rejected)


def _text(doc: dict[str, object], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise CallFailed(f"{amazon_api.MALFORMED}: {name}")
    return value
