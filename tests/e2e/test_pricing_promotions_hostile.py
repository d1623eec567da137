"""The promotions and carts API's inputs refused with a 4xx problem on both databases, state unchanged: hostile
promotions (huge, nested, NUL bytes, 2^63, unknown fields, bad currencies, negative amounts, an empty scope,
overlapping exclusive promotions), code batches, carts (to evaluate and to redeem), codes that cannot be used
at redemption (expired, not valid yet), odd codes and references in paths, odd paging."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from tests.support import WEB_DE, WH_DE, World, receive, snapshot

BIG = 9223372036854775808  # 2^63
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
P = '"kind": "percent_off", "percent": "0.10", "scope": {"all": true}'
AMOUNT = '"kind": "amount_off", "currency": "EUR", "scope": {"all": true}'
W = f'"channel": "{WEB_DE}", "country": "DE"'
L = '"lines": [{"sku": "SKU-1", "quantity": 1}]'


def refused(response: object, status: int, fields: set[str] | None = None) -> None:
    """A problem of ``status``; a 422 names exactly ``fields`` (``""``: the body as a whole)."""
    request = response.request  # type: ignore[attr-defined]
    where = (request.method, str(request.url)[:120], response.text[:300])  # type: ignore[attr-defined]
    assert response.status_code == status, where  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json"), where  # type: ignore[attr-defined]
    if status == 422 and fields is not None:
        assert {e["field"] for e in response.json()["errors"]} == fields, where  # type: ignore[attr-defined]


@pytest.fixture
def promoted(keel: Keel, world: World, client: TestClient) -> TestClient:
    """A price, an exclusive promotion for every cart and a coupon promotion with a code: something to damage."""
    prices = {"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "20.99"}]}
    assert client.put("/pricing/lists/base-eur", json=prices).status_code == 200
    sale = {"kind": "percent_off", "percent": "0.10", "scope": {"all": True}, "exclusive": "global"}
    assert client.put("/pricing/promotions/sale", json=sale).status_code == 200
    vip = {"kind": "percent_off", "percent": "0.20", "scope": {"all": True}, "coupon": True, "priority": 5}
    assert client.put("/pricing/promotions/vip", json=vip).status_code == 200
    assert client.post("/pricing/promotions/vip/codes", json={"codes": ["VIP-1"]}).status_code == 200
    return client


# Each group of cases shares one database per backend: every case is checked against the state before it.
PROMOTIONS = [
        ("{" + P + ', "extra": 1}', JSON, 422, {"extra"}),
        ("{" + P + ', "name": ' + "[" * 200 + "]" * 200 + "}", JSON, 400, None),
        ("{" + P + ', "scope": {"brands": ' + "[" * 15 + '"x"' + "]" * 15 + "}}", JSON, 422, {""}),
        ("{" + P + ', "name": "a\\u0000b"}', JSON, 422, {""}),
        ('{"kind": "percent_off", "percent": "0.10", "scope": {"skus": ["SKU\\u0000"]}}', JSON, 422, {""}),
        ("{" + P + f', "priority": {BIG}}}', JSON, 422, {""}),
        ("{" + P + f', "usage_limit": {BIG - 1}}}', JSON, 422, {"usage_limit"}),
        ('{"kind": "percent_off", "percent": 0.1, "scope": {"all": true}}', JSON, 422, {"percent"}),
        ('{"kind": "percent_off", "percent": "1.5", "scope": {"all": true}}', JSON, 422, {"percent"}),
        ('{"kind": "percent_off", "percent": "NaN", "scope": {"all": true}}', JSON, 422, {"percent"}),
        ("{" + AMOUNT + ', "amount": "-1.00"}', JSON, 422, {"amount"}),
        ("{" + AMOUNT + ', "amount": "0"}', JSON, 422, {"amount"}),
        ("{" + AMOUNT + ', "amount": "1.001"}', JSON, 422, {"amount"}),
        ("{" + AMOUNT + ', "amount": "99999999999999999999"}', JSON, 422, {"amount"}),
        ('{"kind": "amount_off", "amount": "1.00", "currency": "ZZZ", "scope": {"all": true}}', JSON, 422,
         {"currency"}),
        ('{"kind": "amount_off", "amount": "1.00", "currency": "eur", "scope": {"all": true}}', JSON, 422,
         {"currency"}),
        ('{"kind": "amount_off", "amount": "1.00", "scope": {"all": true}}', JSON, 422, {"currency"}),
        ('{"kind": "percent_off", "percent": "0.10", "scope": {}}', JSON, 422, {"scope"}),
        ('{"kind": "percent_off", "percent": "0.10"}', JSON, 422, {"scope"}),
        ('{"kind": "percent_off", "percent": "0.10", "scope": {"skus": []}}', JSON, 422, {"scope.skus"}),
        ('{"kind": "percent_off", "percent": "0.10", "scope": {"all": false}}', JSON, 422, {"scope.all"}),
        ('{"kind": "percent_off", "percent": "0.10", "scope": {"planets": ["mars"]}}', JSON, 422, {"scope.planets"}),
        ('{"kind": "percent_off", "percent": "0.10", "scope": {"skus": ['
         + ",".join(f'"S-{i}"' for i in range(10_001)) + "]}}", JSON, 422, {"scope.skus"}),
        ('{"kind": "discount", "scope": {"all": true}}', JSON, 422, {"kind"}),
        ('{"percent": "0.10", "scope": {"all": true}}', JSON, 422, {"kind"}),
        ("{" + P + ', "valid_from": "2026-12-02T00:00:00Z", "valid_to": "2026-12-01T00:00:00Z"}', JSON, 422,
         {"valid_to"}),
        ("{" + P + ', "valid_from": "2026-12-02T00:00:00"}', JSON, 422, {"valid_from"}),
        ("{" + P + ', "buy": 2}', JSON, 422, {"buy"}),
        ('{"kind": "bundle", "items": [{"sku": "SKU-1"}], "amount": "9.00", "currency": "EUR", "scope": {"all": true}}',
         JSON, 422, {"items"}),
        ('{"kind": "tiered_spend", "currency": "EUR", "scope": {"all": true}, "tiers": ['
         + ",".join(['{"spend": "1.00", "amount": "1.00"}'] * 21) + "]}", JSON, 422, {"tiers"}),
        ('{"kind": "tiered_spend", "tiers": [{"spend": "10.00", "percent": "0.1"}], "scope": {"all": true}}', JSON, 422,
         {"currency"}),
        ("{" + P + ', "exclusive": "always"}', JSON, 422, {"exclusive"}),
        ("{" + P + ', "coupon": "yes"}', JSON, 422, {"coupon"}),
        ("{" + P + ', "name": "' + "n" * 100_000 + '"}', JSON, 422, {"name"}),
        ("[]", JSON, 422, {""}),
        ("not json", JSON, 422, {"0"}),
        ("kind=percent_off", FORM, 415, None),
        ("{" + P + "}", "text/plain", 415, None),
]  # fmt: skip


def test_hostile_promotions_are_refused_and_change_nothing(keel: Keel, promoted: TestClient) -> None:
    before = snapshot(keel)
    for body, content_type, status, fields in PROMOTIONS:
        for code in ("new", "sale"):  # a new promotion, and one replacing a stored one
            response = promoted.put(f"/pricing/promotions/{code}", content=body, headers={"content-type": content_type})
            refused(response, status, fields)
    # exclusive beside "sale" (exclusive for every cart) at the same priority: which applies would be a coin toss
    for exclusive in ('"global"', '"class"'):
        body = "{" + P + ', "exclusive": ' + exclusive + "}"
        refused(
            promoted.put("/pricing/promotions/new", content=body, headers={"content-type": JSON}), 422, {"exclusive"}
        )
    assert snapshot(keel) == before


CODES = [
        ({"count": BIG}, {"count"}),
        ({"count": 100_001}, {"count"}),
        ({"codes": [f"C{i}" for i in range(100_001)]}, {"codes"}),
        ({}, {"count"}),
        ({"count": 0, "codes": []}, {"count"}),
        ({"codes": ["bad code!"]}, {"codes"}),
        ({"codes": ["A\x00"]}, {"codes.0"}),
        ({"codes": "ABC"}, {"codes"}),
        ({"codes": [1]}, {"codes.0"}),
        ({"count": 1, "prefix": "X" * 21}, {"prefix"}),
        ({"count": 1, "prefix": "X\x00"}, {"prefix"}),
        ({"count": 1, "prefix": "x y"}, {"prefix"}),
        ({"count": 1, "max_uses": 0}, {"max_uses"}),
        ({"count": 1, "max_uses": BIG - 1}, {"max_uses"}),
        ({"count": 1, "max_uses": "1"}, {"max_uses"}),
        ({"count": "1"}, {"count"}),
        ({"count": 1.5}, {"count"}),
        ({"count": 1, "extra": 1}, {"extra"}),
]  # fmt: skip


def test_hostile_code_batches_are_refused_and_change_nothing(keel: Keel, promoted: TestClient) -> None:
    before = snapshot(keel)
    for body, fields in CODES:
        refused(promoted.post("/pricing/promotions/vip/codes", json=body), 422, fields)
    refused(promoted.post("/pricing/promotions/sale/codes", json={"count": 1}), 422, {"promotion"})  # no coupon
    refused(promoted.post("/pricing/promotions/nope/codes", json={"count": 1}), 404)
    refused(promoted.post("/pricing/promotions/vip/codes", content="count=1", headers={"content-type": FORM}), 415)
    assert snapshot(keel) == before


CARTS = [
        ("{" + W + ", " + L + ', "extra": 1}', JSON, 422, {"extra"}),
        ("{" + W + ', "lines": [' + ",".join(['{"sku": "SKU-1", "quantity": 1}'] * 201) + "]}", JSON, 422, {"lines"}),
        ("{" + W + ', "lines": []}', JSON, 422, {"lines"}),
        ("{" + W + "}", JSON, 422, {"lines"}),
        ("{" + W + ", " + L + ', "customer": ' + '{"id": ' * 20 + "1" + "}" * 20 + "}", JSON, 422, {""}),
        ("{" + W + ", " + L + ', "codes": ' + "[" * 200 + "]" * 200 + "}", JSON, 400, None),
        ("{" + W + ', "lines": [{"sku": "SKU\\u0000", "quantity": 1}]}', JSON, 422, {""}),
        ("{" + W + f', "lines": [{{"sku": "SKU-1", "quantity": {BIG}}}]}}', JSON, 422, {""}),
        ("{" + W + f', "lines": [{{"sku": "SKU-1", "quantity": {BIG - 1}}}]}}', JSON, 422, {"quantity"}),
        ("{" + W + ', "lines": [{"sku": "SKU-1", "quantity": 0}]}', JSON, 422, {"quantity"}),
        ("{" + W + ', "lines": [{"sku": "SKU-1", "quantity": -1}]}', JSON, 422, {"quantity"}),
        ("{" + W + ', "lines": [{"sku": "SKU-1", "quantity": "1"}]}', JSON, 422, {"quantity"}),
        ("{" + W + ', "lines": [{"sku": "SKU-1", "quantity": 1.5}]}', JSON, 422, {"quantity"}),
        ("{" + W + ', "lines": [{"sku": "SKU-1", "quantity": 1, "price": "1.00"}]}', JSON, 422, {"lines"}),
        ("{" + W + ', "lines": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-9", "quantity": 1}]}', JSON, 422,
         {"sku"}),
        ('{"channel": "nope", "country": "DE", ' + L + "}", JSON, 422, {"channel"}),
        ('{"channel": "pos-fr", "country": "DE", ' + L + "}", JSON, 422, {"country"}),
        ('{"channel": "web-de", "country": "de", ' + L + "}", JSON, 422, {"country"}),
        ("{" + W + ", " + L + ', "shipping": "-4.95"}', JSON, 422, {"shipping"}),
        ("{" + W + ", " + L + ', "shipping": 4.95}', JSON, 422, {"shipping"}),
        ("{" + W + ", " + L + ', "shipping": "4.999"}', JSON, 422, {"shipping"}),
        ("{" + W + ", " + L + ', "shipping": "NaN"}', JSON, 422, {"shipping"}),
        ("{" + W + ", " + L + ', "codes": [' + ",".join(f'"C{i}"' for i in range(21)) + "]}", JSON, 422, {"codes"}),
        ("{" + W + ", " + L + ', "codes": ["no way"]}', JSON, 422, {"codes"}),
        ("{" + W + ", " + L + ', "codes": "VIP-1"}', JSON, 422, {"codes"}),
        ("{" + W + ", " + L + ', "at": "tomorrow"}', JSON, 422, {"at"}),
        ("{" + W + ", " + L + ', "at": "2026-12-24T10:00:00"}', JSON, 422, {"at"}),
        ("{" + W + ", " + L + ', "customer": {"id": "a b"}}', JSON, 422, {"customer.id"}),
        ("{" + W + ", " + L + ', "customer": {"name": "Ann"}}', JSON, 422, {"customer"}),
        ("{" + W + ", " + L + ', "customer": {"group": "VIP!"}}', JSON, 422, {"customer.group"}),
        ("[]", JSON, 422, {""}),
        ("not json", JSON, 422, {"0"}),
        ("channel=web-de", FORM, 415, None),
        ("{" + W + ", " + L + "}", "text/plain", 415, None),
]  # fmt: skip


def test_hostile_carts_are_refused_whether_evaluated_or_redeemed(keel: Keel, promoted: TestClient) -> None:
    before = snapshot(keel)
    for body, content_type, status, fields in CARTS:
        for path in ("/pricing/carts/evaluate", "/pricing/carts/redeem/r-1"):
            refused(promoted.post(path, content=body, headers={"content-type": content_type}), status, fields)
    assert snapshot(keel) == before


def test_codes_that_cannot_be_used_refuse_the_redemption_and_count_nothing(keel: Keel, promoted: TestClient) -> None:
    now = utcnow()
    windows = {
        "old": {"valid_from": (now - timedelta(days=9)).isoformat(), "valid_to": (now - timedelta(days=1)).isoformat()},
        "soon": {"valid_from": (now + timedelta(days=1)).isoformat()},
    }
    for code, window in windows.items():
        document = {"kind": "percent_off", "percent": "0.5", "scope": {"all": True}, "coupon": True, **window}
        assert promoted.put(f"/pricing/promotions/{code}", json=document).status_code == 200
        assert promoted.post(f"/pricing/promotions/{code}/codes", json={"codes": [code.upper()]}).status_code == 200
    cart = {"channel": WEB_DE, "country": "DE", "lines": [{"sku": "SKU-1", "quantity": 1}]}
    before = snapshot(keel)
    for codes, detail in (
        (["OLD"], "code OLD: expired"),
        (["SOON"], "code SOON: not valid yet"),
        (["VIP-1", "NOPE"], "code NOPE: unknown"),
    ):
        refusal = promoted.post("/pricing/carts/redeem/r-1", json={**cart, "codes": codes})
        refused(refusal, 409)
        assert refusal.json()["detail"] == detail
    assert snapshot(keel) == before
    # evaluating the same cart says why instead of refusing it
    evaluated = promoted.post("/pricing/carts/evaluate", json={**cart, "codes": ["OLD", "SOON"]})
    assert evaluated.json()["codes"] == [
        {"code": "OLD", "status": "expired"},
        {"code": "SOON", "status": "not valid yet"},
    ]


def test_odd_codes_references_and_paging_are_refused(keel: Keel, promoted: TestClient) -> None:
    before = snapshot(keel)
    document = json.dumps({"kind": "percent_off", "percent": "0.10", "scope": {"all": True}})
    # (code, what a PUT answers, what reading or deleting answers): a code that cannot exist is not found
    for code, put, other in (
        ("%00", 400, 400),
        ("a" * 65, 422, 422),
        ("..%2F..", 404, 404),
        ("%F0%9F%92%A9", 422, 404),
        ("Sale", 422, 404),
    ):
        response = promoted.put(f"/pricing/promotions/{code}", content=document, headers={"content-type": JSON})
        refused(response, put, {"code"})
        for method, path in (("GET", ""), ("DELETE", ""), ("GET", "/codes"), ("POST", "/codes")):
            body = {"count": 1} if method == "POST" else None
            refused(promoted.request(method, f"/pricing/promotions/{code}{path}", json=body), other, {"code"})
    cart = {"channel": WEB_DE, "country": "DE", "lines": [{"sku": "SKU-1", "quantity": 1}]}
    for reference, status in (("%00", 400), ("r" * 129, 422), ("%7F", 422), ("a%0Ab", 422)):
        refused(promoted.post(f"/pricing/carts/redeem/{reference}", json=cart), status, {"reference"})
    for query in ({"status": "bogus"}, {"limit": "0"}, {"limit": str(BIG)}, {"offset": "-1"}, {"offset": "1e400"}):
        refused(promoted.get("/pricing/promotions", params=query), 422, set(query))
        if "status" not in query:
            refused(promoted.get("/pricing/promotions/vip/codes", params=query), 422, set(query))
    assert snapshot(keel) == before


# The calls added after the promotions API: an order priced as a cart, and the two what-if previews.
PREVIEWS = [
    ("/pricing/policies/*/preview", '{"rules": [{"rule": "cost_plus", "margin_floor": "0.2"}], "x": 1}', JSON, 422),
    ("/pricing/policies/*/preview", '{"rules": ' + "[" * 200 + "]" * 200 + "}", JSON, 400),
    ("/pricing/policies/*/preview", '{"rules": [{"rule": "cost_plus", "margin_floor": "0.2\\u0000"}]}', JSON, 422),
    ("/pricing/policies/*/preview", f'{{"rules": [{{"rule": "max_change_per_day", "limit": {BIG}}}]}}', JSON, 422),
    ("/pricing/policies/*/preview", "rules=1", FORM, 415),
    ("/pricing/policies/*/preview?days=0", '{"rules": []}', JSON, 422),
    ("/pricing/policies/*/preview?days=" + str(BIG), '{"rules": []}', JSON, 422),
    ("/pricing/policies/nope/preview", '{"rules": []}', JSON, 422),
    ("/pricing/promotions/new/preview", "{" + P + ', "extra": 1}', JSON, 422),
    ("/pricing/promotions/new/preview", "{" + P + ', "name": ' + "[" * 200 + "]" * 200 + "}", JSON, 400),
    ("/pricing/promotions/new/preview", "{" + P + ', "name": "a\\u0000"}', JSON, 422),
    ("/pricing/promotions/new/preview", "{" + P + f', "priority": {BIG}}}', JSON, 422),
    ("/pricing/promotions/new/preview", '{"kind": "percent_off", "percent": "0.1", "scope": {}}', JSON, 422),
    ("/pricing/promotions/new/preview", "kind=percent_off", FORM, 415),
    ("/pricing/promotions/new/preview?limit=0", "{" + P + "}", JSON, 422),
    ("/pricing/promotions/new/preview?limit=" + str(BIG), "{" + P + "}", JSON, 422),
    ("/pricing/carts/orders/1", '{"codes": ["VIP-1"], "bogus": 1}', JSON, 422),
    ("/pricing/carts/orders/1", '{"codes": ' + "[" * 200 + "]" * 200 + "}", JSON, 400),
    ("/pricing/carts/orders/1", '{"codes": ["A\\u0000"]}', JSON, 422),
    ("/pricing/carts/orders/1", '{"shipping": "' + "9" * 30 + '"}', JSON, 422),
    ("/pricing/carts/orders/1", "codes=1", FORM, 415),
    (f"/pricing/carts/orders/{BIG}", "{}", JSON, 422),
    ("/pricing/carts/orders/0", "{}", JSON, 422),
    ("/pricing/carts/orders/999999", "{}", JSON, 404),
]


@pytest.mark.parametrize(("path", "body", "content_type", "status"), PREVIEWS)
def test_hostile_previews_and_order_pricing_are_refused_and_change_nothing(
    keel: Keel, promoted: TestClient, path: str, body: str, content_type: str, status: int
) -> None:
    receive(keel, "SKU-1", WH_DE, 5)
    order = {"channel": WEB_DE, "external_id": "H-1", "customer": {"name": "Ann"},
             "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "20.99"}],
             "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10115"}}  # fmt: skip
    assert promoted.post("/orders", json=order).status_code == 201
    before = snapshot(keel)
    refused(promoted.post(path, content=body, headers={"content-type": content_type}), status)
    assert snapshot(keel) == before
