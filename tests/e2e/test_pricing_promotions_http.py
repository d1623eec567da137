"""``/pricing/promotions`` and ``/pricing/carts`` over HTTP on both databases: promotions saved, listed by status,
read and deleted; coupon codes added and paged; a cart priced with every line, discount, tax split and
explanation; redemptions counted once per reference, replayed in the currency they were taken in, and refused
whole (409, counters unchanged) when a code ran out; a restricted identity prices carts in its channels only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from keel.access import Role
from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from tests.support import MARKET, POS_FR, WEB_DE, WH_DE, World, receive, snapshot

ALL = {"all": True}
TEN = {"kind": "percent_off", "percent": "0.10", "currency": "EUR", "scope": {"skus": ["SKU-1"]}}
VIP = {"kind": "percent_off", "percent": "0.20", "coupon": True, "scope": ALL}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def cart(*lines: tuple[str, int], **extra: Any) -> dict[str, Any]:
    return {"channel": WEB_DE, "country": "DE", "lines": [{"sku": s, "quantity": q} for s, q in lines], **extra}


@pytest.fixture
def priced(world: World, client: TestClient) -> TestClient:
    """SKU-1 at 20.99 and SKU-2 at 5.99 on every channel (no ending changes them)."""
    prices = [{"sku": "SKU-1", "amount": "20.99"}, {"sku": "SKU-2", "amount": "5.99"}]
    ok(client.put("/pricing/lists/base-eur", json={"currency": "EUR", "prices": prices}))
    return client


def test_promotions_are_saved_listed_by_status_read_and_deleted(priced: TestClient) -> None:
    # when a promotion is saved it answers its document as stored, its status and its counters
    saved = ok(priced.put("/pricing/promotions/ten", json={**TEN, "name": "Ten off SKU-1"}))
    assert saved == {
        "code": "ten", "name": "Ten off SKU-1", "kind": "percent_off", "currency": "EUR", "status": "live",
        "uses": 0, "spent": "0.00", "updated_at": saved["updated_at"],
        "document": {
            "name": "Ten off SKU-1", "kind": "percent_off", "currency": "EUR", "target": "items", "percent": "0.10",
            "scope": {"skus": ["SKU-1"]}, "valid_from": None, "valid_to": None, "priority": 0, "exclusive": "none",
            "stop_further": False, "group": None, "coupon": False, "usage_limit": None, "per_customer_limit": None,
            "budget": None, "max_applications": None, "min_subtotal": None, "active": True, "publish": False,
        },
    }  # fmt: skip
    # and the stored document saves again as it is
    assert ok(priced.put("/pricing/promotions/ten", json=saved["document"]))["document"] == saved["document"]
    now = utcnow()
    ok(priced.put("/pricing/promotions/later", json={**VIP, "valid_from": (now + timedelta(days=3)).isoformat()}))
    ended = {"valid_from": (now - timedelta(days=9)).isoformat(), "valid_to": (now - timedelta(days=2)).isoformat()}
    ok(priced.put("/pricing/promotions/gone", json={**VIP, **ended}))
    ok(priced.put("/pricing/promotions/paused", json={**VIP, "active": False}))
    # then each status filters, by code, and pages
    for status, codes in (("live", ["ten"]), ("scheduled", ["later"]), ("ended", ["gone"]), ("off", ["paused"])):
        page = ok(priced.get("/pricing/promotions", params={"status": status}))
        assert ([p["code"] for p in page["items"]], page["total"]) == (codes, 1)
    page = ok(priced.get("/pricing/promotions", params={"limit": 2, "offset": 1}))
    assert ([p["code"] for p in page["items"]], page["total"], page["limit"], page["offset"]) == (
        ["later", "paused"], 4, 2, 1,
    )  # fmt: skip
    assert ok(priced.get("/pricing/promotions/gone"))["spent"] is None  # no currency: discounts are not summed
    # when one is deleted it is gone; a second delete is 404
    deleted = priced.delete("/pricing/promotions/later")
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert priced.get("/pricing/promotions/later").status_code == 404
    assert priced.delete("/pricing/promotions/later").status_code == 404
    assert ok(priced.get("/pricing/promotions"))["total"] == 3


def test_coupon_codes_are_generated_given_and_paged(keel: Keel, priced: TestClient) -> None:
    ok(priced.put("/pricing/promotions/vip", json=VIP))
    added = ok(priced.post("/pricing/promotions/vip/codes", json={"count": 3, "prefix": "xmas-", "codes": ["summer"]}))
    assert added["promotion"] == "vip" and len(added["codes"]) == 4 and "SUMMER" in added["codes"]
    generated = [c for c in added["codes"] if c != "SUMMER"]
    assert all(c.startswith("XMAS-") and len(c) == 15 for c in generated)
    # a given code stored before is not new; an unlimited one says so
    assert ok(priced.post("/pricing/promotions/vip/codes", json={"codes": ["SUMMER"]}))["codes"] == []
    assert ok(priced.post("/pricing/promotions/vip/codes", json={"codes": ["TEAM"], "max_uses": None}))["codes"] == [
        "TEAM"
    ]
    # codes page by code: SUMMER, TEAM, then the generated ones
    page = ok(priced.get("/pricing/promotions/vip/codes", params={"limit": 2, "offset": 1}))
    assert page == {
        "items": [{"code": "TEAM", "max_uses": None, "uses": 0}, {"code": min(generated), "max_uses": 1, "uses": 0}],
        "total": 5, "limit": 2, "offset": 1,
    }  # fmt: skip
    # refused whole: a code of another promotion (409), a promotion that is not a coupon (422), none (404)
    ok(priced.put("/pricing/promotions/other", json=VIP))
    ok(priced.put("/pricing/promotions/ten", json=TEN))
    before = snapshot(keel)
    clash = priced.post("/pricing/promotions/other/codes", json={"codes": ["NEW-1", "SUMMER"]})
    assert (clash.status_code, clash.json()["detail"]) == (409, "code 'SUMMER' belongs to another promotion")
    plain = priced.post("/pricing/promotions/ten/codes", json={"count": 1})
    assert (plain.status_code, plain.json()["errors"]) == (
        422, [{"row": None, "field": "promotion", "reason": "coupon must be true"}],
    )  # fmt: skip
    assert priced.post("/pricing/promotions/nope/codes", json={"count": 1}).status_code == 404
    assert priced.get("/pricing/promotions/nope/codes").status_code == 404
    assert snapshot(keel) == before


def test_a_cart_is_priced_discounted_taxed_and_explained(keel: Keel, priced: TestClient) -> None:
    ok(priced.put("/pricing/promotions/ten", json=TEN))
    ok(priced.put("/pricing/promotions/vip", json=VIP))
    ok(priced.post("/pricing/promotions/vip/codes", json={"codes": ["XMAS-1"]}))
    ok(priced.put("/pricing/promotions/far", json={**TEN, "scope": {"channels": [POS_FR]}}))  # not for web-de
    before = snapshot(keel)
    # when a cart with a code, an unknown code and shipping is evaluated
    body = ok(priced.post("/pricing/carts/evaluate", json=cart(("SKU-1", 2), ("SKU-2", 1), codes=["xmas-1", "NOPE"],
                                                               shipping="4.95")))  # fmt: skip
    # then SKU-1 takes 10 % (4.198 -> 4.20), then the coupon's 20 % of what is left (37.78 -> 7.56); SKU-2 1.20
    sku1, sku2 = body["lines"]
    assert sku1 == {
        "sku": "SKU-1", "quantity": 2, "unit": "20.99", "amount": "41.98",
        "discounts": [{"promotion": "ten", "amount": "4.20"}, {"promotion": "vip", "amount": "7.56"}],
        "total": "30.22", "net": "25.39", "tax": "4.83", "gross": "30.22", "rate": "0.19",
        "price_list": "base-eur", "compare_at": None,
        "steps": [{"rule": "price_list", "before": "20.99", "after": "20.99", "note": "base price from list base-eur"}],
    }  # fmt: skip
    assert (sku2["discounts"], sku2["total"], sku2["net"], sku2["tax"]) == (
        [{"promotion": "vip", "amount": "1.20"}], "4.79", "4.03", "0.76",
    )  # fmt: skip
    # and shipping (taxed at Germany's standard rate, no promotion for it), the totals, the outcomes, the codes
    assert body["shipping"] == {
        "amount": "4.95", "discounts": [], "total": "4.95", "net": "4.16", "tax": "0.79", "gross": "4.95",
        "rate": "0.19",
    }  # fmt: skip
    assert body["totals"] == {
        "subtotal": "52.92", "discount": "12.96", "total": "39.96", "net": "33.58", "tax": "6.38", "gross": "39.96"
    }  # fmt: skip
    assert (body["channel"], body["country"], body["currency"], body["tax_inclusive"]) == (WEB_DE, "DE", "EUR", True)
    assert body["outcomes"] == [
        {"promotion": "ten", "applied": True, "amount": "4.20", "reason": "10% off 1 line(s)"},
        {"promotion": "vip", "applied": True, "amount": "8.76", "reason": "20% off 2 line(s)"},
    ]  # "far" is for another channel: left out
    assert body["codes"] == [{"code": "NOPE", "status": "unknown"}, {"code": "XMAS-1", "status": "applied"}]
    # evaluating counts nothing
    assert snapshot(keel) == before
    # promotions that do not apply say why: not started yet, no code (one for other SKUs is not considered)
    ok(priced.put("/pricing/promotions/soon", json={**VIP, "valid_from": (utcnow() + timedelta(days=1)).isoformat()}))
    other = ok(priced.post("/pricing/carts/evaluate", json=cart(("SKU-2", 1), shipping=None)))
    assert (other["shipping"], [(o["promotion"], o["applied"], o["reason"]) for o in other["outcomes"]]) == (
        None,
        [("soon", False, "not live now"), ("vip", False, "needs one of its codes")],
    )


def test_redemptions_count_once_replay_in_their_currency_and_refuse_a_used_code(keel: Keel, priced: TestClient) -> None:
    ok(priced.put("/pricing/promotions/ten", json=TEN))
    ok(priced.put("/pricing/promotions/vip", json=VIP))
    ok(priced.post("/pricing/promotions/vip/codes", json={"codes": ["XMAS-1"]}))
    paid = cart(("SKU-1", 2), codes=["XMAS-1"], customer={"id": "c-1"})
    # when a paid cart is redeemed, each promotion and the code count one use
    first = ok(priced.post("/pricing/carts/redeem/order-1", json=paid))
    assert (first["reference"], first["replayed"], first["redemptions"]) == ("order-1", False, [
        {"promotion": "ten", "code": None, "amount": "4.20", "currency": "EUR"},
        {"promotion": "vip", "code": "XMAS-1", "amount": "7.56", "currency": "EUR"},
    ])  # fmt: skip
    assert (first["cart"]["totals"]["total"], first["cart"]["codes"]) == (
        "30.22", [{"code": "XMAS-1", "status": "applied"}],
    )  # fmt: skip
    ten = ok(priced.get("/pricing/promotions/ten"))
    assert (ten["uses"], ten["spent"]) == (1, "4.20")
    assert ok(priced.get("/pricing/promotions/vip/codes"))["items"] == [{"code": "XMAS-1", "max_uses": 1, "uses": 1}]
    # and replacing a promotion keeps its counters
    assert ok(priced.put("/pricing/promotions/ten", json=TEN))["uses"] == 1
    # when the same reference comes again, nothing is counted and it answers what it took
    before = snapshot(keel)
    again = ok(priced.post("/pricing/carts/redeem/order-1", json=paid))
    assert (again["replayed"], again["redemptions"], again["cart"]) == (True, first["redemptions"], None)
    assert snapshot(keel) == before
    # even after the channel's currency changed: the amounts stay in the currency they were taken in
    ok(priced.patch(f"/channels/{WEB_DE}", json={"currency": "CHF"}))
    assert ok(priced.post("/pricing/carts/redeem/order-1", json=paid))["redemptions"] == first["redemptions"]
    ok(priced.patch(f"/channels/{WEB_DE}", json={"currency": "EUR"}))
    # when another cart names the used single-use code, it is refused whole and nothing is counted
    before = snapshot(keel)
    refused = priced.post("/pricing/carts/redeem/order-2", json=paid)
    assert (refused.status_code, refused.headers["content-type"], refused.json()["detail"]) == (
        409, "application/problem+json", "code XMAS-1: exhausted",
    )  # fmt: skip
    assert snapshot(keel) == before
    assert (ok(priced.get("/pricing/promotions/ten"))["uses"], ok(priced.get("/pricing/promotions/vip"))["uses"]) == (
        1, 1,
    )  # fmt: skip
    # the same cart without the code is redeemed with what still applies
    rest = ok(priced.post("/pricing/carts/redeem/order-2", json={**paid, "codes": []}))
    assert [(r["promotion"], r["amount"]) for r in rest["redemptions"]] == [("ten", "4.20")]


def test_a_restricted_identity_prices_carts_in_its_channels_only(
    keel: Keel, priced: TestClient, world: World, make_client: Callable[..., TestClient]
) -> None:
    ok(priced.put("/pricing/promotions/everywhere", json=VIP))
    ok(priced.put("/pricing/promotions/web", json={**TEN, "scope": {"channels": [WEB_DE]}}))
    ok(priced.put("/pricing/promotions/fr", json={**TEN, "scope": {"channels": [POS_FR]}}))
    keel.access.add_service("de-pricing", Role.PRICING)
    keel.access.set_scope("de-pricing", [WEB_DE], ["DE"], set(world.channels))
    restricted = make_client(keel, as_admin=False)
    restricted.headers["Authorization"] = f"Bearer {keel.access.create_token('de-pricing', 'p').secret}"
    # reads: promotions for every channel or for its own
    assert [p["code"] for p in ok(restricted.get("/pricing/promotions"))["items"]] == ["everywhere", "web"]
    assert restricted.get("/pricing/promotions/fr").status_code == 404
    # codes can be spent: only unrestricted pricing.write reads them
    assert restricted.get("/pricing/promotions/fr/codes").status_code == 403
    # carts: its channel and country only
    assert ok(restricted.post("/pricing/carts/evaluate", json=cart(("SKU-1", 1))))["totals"]["total"] == "18.89"
    other = restricted.post("/pricing/carts/evaluate", json={**cart(("SKU-1", 1)), "channel": MARKET})
    assert (other.status_code, other.json()["type"]) == (403, "https://keel.dev/problems/out-of-scope")
    assert restricted.post("/pricing/carts/evaluate", json={**cart(("SKU-1", 1)), "country": "FR",
                                                            "channel": POS_FR}).status_code == 403  # fmt: skip
    # writes reach every channel: refused; nothing is written
    before = snapshot(keel)
    for response in (
        restricted.put("/pricing/promotions/mine", json={**TEN, "scope": {"channels": [WEB_DE]}}),
        restricted.delete("/pricing/promotions/web"),
        restricted.post("/pricing/promotions/everywhere/codes", json={"count": 1}),
        restricted.post("/pricing/carts/redeem/r-1", json={**cart(("SKU-1", 1)), "channel": MARKET}),
    ):
        assert response.status_code == 403, response.text
    assert snapshot(keel) == before
    # its own checkout's carts it redeems (a shop's service account does the same)
    assert ok(restricted.post("/pricing/carts/redeem/r-1", json=cart(("SKU-1", 1))))["redemptions"][0]["amount"]


def test_an_order_is_priced_as_a_cart_and_a_promotion_previewed_before_it_is_saved(
    keel: Keel, priced: TestClient
) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    order = {"channel": WEB_DE, "external_id": "W-1", "customer": {"name": "Ann"},
             "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "20.99"}],
             "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10115"}}  # fmt: skip
    placed = ok(priced.post("/orders", json=order), 201)
    view = ok(priced.post(f"/pricing/carts/orders/{placed['id']}", json={"shipping": "4.95"}))
    assert (view["lines"][0]["sku"], view["lines"][0]["quantity"], view["totals"]["total"]) == ("SKU-1", 2, "46.93")
    assert priced.post("/pricing/carts/orders/999999", json={}).status_code == 404
    assert priced.post(f"/pricing/carts/orders/{placed['id']}", json={"bogus": 1}).status_code == 422
    before = snapshot(keel)
    preview = ok(priced.post("/pricing/promotions/ten/preview", json=TEN))
    assert (preview["carts"], preview["applied"], preview["unpriced"]) == (1, 1, 0)
    (eur,) = preview["currencies"]
    assert (eur["discount_before"], eur["discount_after"]) == ("0.00", "4.20")  # 10 % of 2 x 20.99, rounded
    assert preview["skus"] == [{"channel": WEB_DE, "country": "DE", "sku": "SKU-1", "currency": "EUR", "units": 2,
                                "discount_before": "0.00", "discount_after": "4.20"}]  # fmt: skip
    assert snapshot(keel) == before  # nothing saved or counted
    bad = priced.post("/pricing/promotions/ten/preview", json={**TEN, "scope": {}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "scope"


def test_a_policy_is_previewed_before_it_is_saved(keel: Keel, priced: TestClient) -> None:
    ok(priced.put("/pricing/skus", json=[{"sku": "SKU-1", "cost": "15.00", "currency": "EUR"}]))
    before = snapshot(keel)
    rules = {"rules": [{"rule": "cost_plus", "margin_floor": "0.40"}]}
    preview = ok(priced.post("/pricing/policies/*/preview", json=rules, params={"days": 7}))
    assert (preview["scope"], preview["changed"], preview["removed"], preview["days"]) == ("*", 4, 0, 7)
    assert {(m["channel"], m["before"], m["after"], m["units_per_day"]) for m in preview["moves"]} >= {
        (WEB_DE, "20.99", "29.99", "0.00")}  # fmt: skip
    assert preview["currencies"] == [{"currency": "EUR", "prices": 4, "up": 4, "down": 0,
                                      "net_per_day_before": "0.00", "net_per_day_after": "0.00"}]  # fmt: skip
    assert snapshot(keel) == before
    bad = priced.post("/pricing/policies/*/preview", json={"rules": [{"rule": "cost_plus"}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "margin_floor"
    assert priced.post("/pricing/policies/nope/preview", json=rules).status_code == 422
