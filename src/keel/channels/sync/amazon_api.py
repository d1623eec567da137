"""The Amazon connector's HTTP side and its order, shipment and FBA calls (the listings feed is in ``amazon``).

``SpApi`` makes one Selling Partner API call and turns every way it can go wrong (a timeout, a dropped
connection, an unexpected status, a body that does not parse) into ``CallFailed``; the functions here catch it
and answer with a result, so nothing a marketplace does raises out of the connector.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx

from keel.channels.sync.model import OrderPage, OrderUpdate, PushResult, ReadResult, Rejected

# Amazon's marketplace ids of the countries Keel sells in, by region (Amazon's published table; "UK" is
# Keel's country code for the United Kingdom)
MARKETPLACES = {
    "na": {"US": "ATVPDKIKX0DER", "CA": "A2EUQ1WTGCTBG2", "MX": "A1AM78C64UM0Y8", "BR": "A2Q3Y263D00KWC"},
    "eu": {"DE": "A1PA6795UKMFR9", "FR": "A13V1IB3VIYZZH", "IT": "APJ6JRA9NG5V4", "ES": "A1RKKUPIHCS9HS",
           "UK": "A1F83G8C2ARO7P", "NL": "A1805IZSGTT6HS", "PL": "A1C3SOZRARQ6R3", "SE": "A2NODRKZP88ZB9",
           "BE": "AMEN7PMS3EDWL"},
    "fe": {"JP": "A1VC38T7YXB528", "AU": "A39IBJ37TRP1C6", "SG": "A19VAU5U5O7RUS"},
}  # fmt: skip
HOME = {"na": "US", "eu": "DE", "fe": "JP"}  # the FBA summary read when no country is named
TOKEN_HEADER = "x-amz-access-token"
DEFAULT_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 3600.0
MALFORMED = "malformed response"
FIRST_ORDERS = "1970-01-01T00:00:00+00:00"
MAX_PAGES = 1000  # an FBA read that pages further than this is a marketplace looping on its token


class CallFailed(Exception):
    """A call that did not get the answer it needed; ``status`` 0: no HTTP answer at all."""

    def __init__(self, error: str, status: int = 0, retry_after_s: float | None = None) -> None:
        super().__init__(error)
        self.error, self.status, self.retry_after_s = error, status, retry_after_s

    @property
    def permanent(self) -> bool:
        """The marketplace refused the request itself (4xx but 429): sending it again changes nothing."""
        return 400 <= self.status < 500 and self.status != 429


class SpApi:
    """One region's endpoint with one pooled HTTP client; the token goes only to the API itself, never to the
    pre-signed document URLs it hands out."""

    def __init__(self, url: str, token: str, timeout_s: float, transport: httpx.BaseTransport | None) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False, transport=transport)

    def call(
        self,
        method: str,
        path: str,
        expect: int,
        *,
        params: dict[str, str] | None = None,
        body: object = None,
        content: bytes | None = None,
        presigned: bool = False,
    ) -> httpx.Response:
        url = path if presigned else self.url + path
        # a pre-signed URL is the storage's, not the API's: it gets the content type, never the token
        headers = {"Content-Type": "application/json; charset=UTF-8"} if presigned else {TOKEN_HEADER: self._token}
        if presigned and content is None:
            headers = {}
        try:
            response = self._client.request(method, url, params=params, json=body, content=content, headers=headers)
        except httpx.TimeoutException:
            raise CallFailed("timeout") from None
        except httpx.HTTPError as exc:  # refused, reset, closed without an answer, bad framing, a bad URL
            raise CallFailed(f"connection error: {type(exc).__name__}") from None
        status = response.status_code
        if status == 429:
            raise CallFailed("rate limited (429)", 429, retry_after(response))
        if status != expect:
            wait = retry_after(response) if "retry-after" in response.headers else None
            raise CallFailed(f"HTTP {status}{detail(response)}", status, wait)
        return response

    def json(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> dict[str, Any]:
        """A call whose answer must be a JSON object."""
        response = self.call(method, path, expect, **kwargs)
        try:
            doc = response.json()
        except (ValueError, UnicodeDecodeError):
            raise CallFailed(f"{MALFORMED}: not JSON", response.status_code) from None
        if not isinstance(doc, dict):
            raise CallFailed(MALFORMED, response.status_code)
        return doc

    def close(self) -> None:
        self._client.close()


def orders(api: SpApi, channel: str, cursor: str | None, page_size: int) -> OrderPage:
    """One page of orders as Keel's capture documents. The cursor is ``next:<NextToken>`` inside a listing, or
    ``after:<time>`` between listings: each listing ends at the ``CreatedBefore`` the marketplace answered
    (exclusive) and the next starts there (inclusive), so no order is read twice or skipped. A Pending order
    (not yet paid, no address) ends the page and the next listing starts at it, so it is captured once it is
    Unshipped; an order cancelled before then is left out."""
    params = {"MaxResultsPerPage": str(page_size)}
    if cursor is None or cursor.startswith("after:"):
        params["CreatedAfter"] = cursor.removeprefix("after:") if cursor else FIRST_ORDERS
    elif cursor.startswith("next:"):
        params["NextToken"] = cursor.removeprefix("next:")
    else:
        return OrderPage(error=f"not an Amazon orders cursor: {cursor[:40]!r}")
    try:
        payload = _field(api.json("GET", "/orders/v0/orders", params=params), "payload", dict)
        listed, token = _field(payload, "Orders", list), payload.get("NextToken")
        captured: list[dict[str, Any]] = []
        for order in listed:
            status = _field(order, "OrderStatus", str)
            if status == "Pending":  # not paid yet, no address: the cursor stops here until it is
                return OrderPage(tuple(captured), "after:" + _field(order, "PurchaseDate", str))
            if status != "Canceled":  # cancelled before Keel saw it: nothing to capture
                captured.append(_capture(api, channel, order))
        if isinstance(token, str) and token:
            return OrderPage(tuple(captured), "next:" + token)
        return OrderPage(tuple(captured), "after:" + _field(payload, "CreatedBefore", str))
    except CallFailed as failed:
        return OrderPage(error=failed.error)


def _capture(api: SpApi, channel: str, order: object) -> dict[str, Any]:
    """An Amazon order and its items as the body of Keel's ``POST /orders``."""
    order_id = _field(order, "AmazonOrderId", str)
    address = _field(order, "ShippingAddress", dict)
    payload = _field(api.json("GET", f"/orders/v0/orders/{order_id}/orderItems"), "payload", dict)
    lines = []
    for item in _field(payload, "OrderItems", list):
        quantity = _field(item, "QuantityOrdered", int)
        if quantity <= 0:  # an item cancelled before shipping stays listed with nothing ordered
            continue
        try:  # ItemPrice is the line's total; Keel keeps the unit price
            total = Decimal(_field(_field(item, "ItemPrice", dict), "Amount", str))
            unit = (total / quantity).quantize(Decimal("0.01"), ROUND_HALF_UP)
        except (InvalidOperation, ArithmeticError):
            raise CallFailed(f"{MALFORMED}: ItemPrice of {order_id}") from None
        lines.append({"sku": _field(item, "SellerSKU", str), "quantity": quantity, "unit_price": str(unit)})
    if not lines:
        raise CallFailed(f"{MALFORMED}: order {order_id} has no items")
    buyer = order.get("BuyerInfo") if isinstance(order, dict) else None
    name = buyer.get("BuyerName") if isinstance(buyer, dict) else None
    ship_to = {"country": _field(address, "CountryCode", str)}
    for ours, theirs in (("city", "City"), ("postal_code", "PostalCode")):
        if isinstance(address.get(theirs), str):
            ship_to[ours] = address[theirs]
    customer = {"name": name if isinstance(name, str) and name else address.get("Name") or "Amazon customer"}
    return {"channel": channel, "external_id": order_id, "lines": lines, "customer": customer, "ship_to": ship_to}


def send(api: SpApi, updates: list[OrderUpdate]) -> PushResult:
    """Shipment confirmations (one package per update, its key the package reference, so a repeat confirms
    nothing new) and cancellations; refunds are not taken by this API. ``accepted``/``rejected`` name
    (external_id, kind); a 429 stops the batch and says how long to wait."""
    accepted: list[tuple[str, str]] = []
    rejected: list[Rejected] = []
    for n, u in enumerate(updates):
        try:
            if u.kind == "shipped":
                _ship(api, u)
            elif u.kind == "cancelled":
                api.call("POST", f"/orders/v0/orders/{u.external_id}/cancellation", 204, body={})
            else:
                rejected.append(Rejected(u.external_id, u.kind, f"{u.kind} is not supported by Amazon", False))
                continue
        except CallFailed as failed:
            if failed.status == 429:
                rest = [Rejected(x.external_id, x.kind, failed.error, True) for x in updates[n:]]
                return PushResult(tuple(accepted), (*rejected, *rest), retry_after_s=failed.retry_after_s)
            rejected.append(Rejected(u.external_id, u.kind, failed.error[:200], not failed.permanent))
            continue
        accepted.append((u.external_id, u.kind))
    return PushResult(tuple(accepted), tuple(rejected))


def _ship(api: SpApi, u: OrderUpdate) -> None:
    if not u.carrier or not u.tracking:
        raise CallFailed("a shipment confirmation needs a carrier and a tracking number", 400)
    payload = _field(api.json("GET", f"/orders/v0/orders/{u.external_id}/orderItems"), "payload", dict)
    item_of = {_field(i, "SellerSKU", str): _field(i, "OrderItemId", str) for i in _field(payload, "OrderItems", list)}
    unknown = [sku for sku, _ in u.lines if sku not in item_of]
    if unknown or not u.lines:
        raise CallFailed(f"not items of the order: {', '.join(unknown)[:150] or 'none'}", 400)
    package = {
        "packageReferenceId": u.key,
        "carrierCode": u.carrier,
        "trackingNumber": u.tracking,
        "shipDate": datetime.now(UTC).isoformat(),
        "orderItems": [{"orderItemId": item_of[sku], "quantity": q} for sku, q in u.lines],
    }
    api.call("POST", f"/orders/v0/orders/{u.external_id}/shipmentConfirmation", 204, body={"packageDetail": package})


def fulfilled_stock(api: SpApi, region: str, countries: Iterable[str] | None) -> ReadResult:
    """What the marketplace holds in its own warehouses, (sku, country) -> fulfillable units, from the FBA
    inventory summaries of each country (default: the region's home marketplace)."""
    values: dict[tuple[str, str], int] = {}
    try:
        for country in countries if countries is not None else (HOME[region],):
            market = MARKETPLACES[region].get(country)
            if market is None:
                return ReadResult(error=f"no marketplace for {country} in region {region}")
            params = {"granularityType": "Marketplace", "granularityId": market, "marketplaceIds": market}
            params["details"] = "true"
            for _ in range(MAX_PAGES):
                doc = api.json("GET", "/fba/inventory/v1/summaries", params=params)
                for row in _field(_field(doc, "payload", dict), "inventorySummaries", list):
                    details = _field(row, "inventoryDetails", dict)
                    values[(_field(row, "sellerSku", str), country)] = _field(details, "fulfillableQuantity", int)
                token = doc.get("pagination", {}).get("nextToken") if isinstance(doc.get("pagination"), dict) else None
                if not isinstance(token, str) or not token:
                    break
                params["nextToken"] = token
            else:
                return ReadResult(error="FBA summaries never stopped paging")
    except CallFailed as failed:
        return ReadResult(error=failed.error)
    return ReadResult(values)


def _field(doc: object, name: str, kind: type[Any]) -> Any:
    """``doc[name]`` when ``doc`` is an object holding a ``kind`` there (a bool is not an int), else the answer
    is malformed."""
    value = doc.get(name) if isinstance(doc, dict) else None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CallFailed(f"{MALFORMED}: {name}")
    return value


def retry_after(response: httpx.Response) -> float:
    """Retry-After in seconds (the delay form; the HTTP-date form and junk fall back to the default)."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
    if not math.isfinite(seconds) or seconds < 0:
        return DEFAULT_RETRY_AFTER_S
    return min(seconds, MAX_RETRY_AFTER_S)


def detail(response: httpx.Response) -> str:
    """A short, printable hint from an error body (untrusted, maybe huge)."""
    text = response.content[:120].decode("utf-8", "replace")
    text = "".join(c if c.isprintable() else " " for c in text).strip()
    return f": {text}" if text else ""
