"""``/pricing/...`` over HTTP on both databases: price lists, SKU costs, tax rates and policies written through
the API answer what they recomputed; computed prices read back with their explanation and tax split; a
restricted identity reads only its channels and countries and cannot write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.testclient import TestClient

from keel.access import Role
from keel.bootstrap import Keel
from tests.support import MARKET, POS_FR, WEB_DE, World, snapshot

BASE = {
    "name": "Base EUR",
    "currency": "EUR",
    "prices": [
        {"sku": "SKU-1", "amount": "20.49", "compare_at": "29.00"},
        {"sku": "SKU-1", "amount": "18.00", "min_quantity": 10},
        {"sku": "SKU-2", "amount": "5.00"},
    ],
}


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_a_price_list_is_saved_read_priced_explained_and_deleted(client: TestClient, world: World) -> None:
    # when a list is saved: 3 markets with DE and FR, 4 (channel, country) pairs x 2 SKUs are priced
    saved = ok(client.put("/pricing/lists/base-eur", json=BASE))
    assert saved["price_list"] == {
        "code": "base-eur", "name": "Base EUR", "currency": "EUR", "channel": None, "country": None,
        "customer_group": None, "valid_from": None, "valid_to": None, "priority": 0, "prices": 3,
        "updated_at": saved["price_list"]["updated_at"],
    }  # fmt: skip
    assert {k: saved["recomputed"][k] for k in ("prices", "changed", "removed")} == {
        "prices": 8,
        "changed": 8,
        "removed": 0,
    }
    assert saved["recomputed"]["seconds"] >= 0
    # then the list reads back with a page of its prices, amounts as decimal strings
    assert [(pl["code"], pl["prices"]) for pl in ok(client.get("/pricing/lists"))] == [("base-eur", 3)]
    page = ok(client.get("/pricing/lists/base-eur", params={"limit": 2, "offset": 1}))
    assert page["prices"] == {
        "items": [
            {"sku": "SKU-1", "amount": "18.00", "compare_at": None, "min_quantity": 10},
            {"sku": "SKU-2", "amount": "5.00", "compare_at": None, "min_quantity": 1},
        ],
        "total": 3,
        "limit": 2,
        "offset": 1,
    }
    # and the computed prices page by channel, country and SKU
    prices = ok(client.get("/pricing/prices", params={"channel": MARKET, "sku": "SKU-1"}))
    assert prices["total"] == 2
    assert [(p["country"], p["amount"], p["compare_at"], p["tax_inclusive"]) for p in prices["items"]] == [
        ("DE", "19.99", "29.00", True),
        ("FR", "19.99", "29.00", True),
    ]
    assert ok(client.get("/pricing/prices", params={"limit": 3, "offset": 6}))["total"] == 8
    # and one price explains itself: its list, each step, the tax split at Germany's 19 %
    explained = ok(client.get(f"/pricing/prices/{WEB_DE}/DE/SKU-1"))
    assert (explained["amount"], explained["price_list"], explained["floor"]) == ("19.99", "base-eur", None)
    assert [(s["rule"], s["before"], s["after"]) for s in explained["steps"]] == [
        ("price_list", "20.49", "20.49"),
        ("ending", "20.49", "19.99"),
    ]
    assert explained["tax"] == {
        "tax_class": "standard",
        "rate": "0.19",
        "net": "16.80",
        "tax": "3.19",
        "gross": "19.99",
    }
    # when the list is deleted, its prices go and are counted as removed
    removed = ok(client.delete("/pricing/lists/base-eur"))
    assert (removed["prices"], removed["changed"], removed["removed"]) == (0, 0, 8)
    assert client.get("/pricing/lists/base-eur").status_code == 404
    assert client.delete("/pricing/lists/base-eur").status_code == 404
    assert client.get(f"/pricing/prices/{WEB_DE}/DE/SKU-1").status_code == 404
    assert ok(client.get("/pricing/prices"))["total"] == 0


def test_costs_policies_and_tax_rates_reprice_and_explain(client: TestClient, world: World) -> None:
    ok(client.put("/pricing/lists/base-eur", json={"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "10.00"}]}))
    # a cost, then a default policy with a margin floor: net >= 8.00 / 0.75 = 10.67, 12.70 with 19 % VAT
    costs = ok(client.put("/pricing/skus", json=[{"sku": "SKU-1", "cost": "8.00", "currency": "EUR"}]))
    assert (costs["prices"], costs["changed"]) == (4, 0)  # no policy uses the cost yet
    policy = {"rules": [{"rule": "cost_plus", "margin_floor": "0.25"}]}
    saved = ok(client.put("/pricing/policies/*", json=policy))
    assert (saved["policy"]["scope"], saved["policy"]["rules"]) == ("*", policy["rules"])
    assert (saved["recomputed"]["prices"], saved["recomputed"]["changed"]) == (4, 4)
    explained = ok(client.get(f"/pricing/prices/{WEB_DE}/DE/SKU-1"))
    assert (explained["amount"], explained["floor"]) == ("12.99", "12.70")
    assert [(s["rule"], s["before"], s["after"]) for s in explained["steps"]] == [
        ("price_list", "10.00", "10.00"),
        ("cost_plus", "10.00", "12.70"),
        ("ending", "12.70", "12.99"),
    ]
    # * travels percent-encoded too
    assert ok(client.get("/pricing/policies/%2A"))["rules"] == policy["rules"]
    assert [p["scope"] for p in ok(client.get("/pricing/policies"))] == ["*"]
    # a stored rate replaces the default: Germany's standard at 7 % lowers the floor; France keeps its default
    rate = ok(client.put("/pricing/tax-rates/DE/standard", json={"rate": "0.07"}))
    assert rate["rate"] == {"country": "DE", "tax_class": "standard", "rate": "0.07", "source": "stored"}
    assert rate["recomputed"]["prices"] == 2  # DE on web-de and market-eu
    rates = {(r["country"], r["tax_class"]): (r["rate"], r["source"]) for r in ok(client.get("/pricing/tax-rates"))}
    assert (rates[("DE", "standard")], rates[("FR", "standard")], rates[("US", "standard")]) == (
        ("0.07", "stored"),
        ("0.2", "default"),
        ("0", "default"),
    )
    explained = ok(client.get(f"/pricing/prices/{WEB_DE}/DE/SKU-1"))
    assert (explained["floor"], explained["tax"]["rate"], explained["tax"]["gross"]) == ("11.42", "0.07", "11.99")
    # a SKU's own tax class is used when it has a rate
    ok(client.put("/pricing/tax-rates/DE/reduced", json={"rate": "0.05"}))
    ok(client.put("/pricing/skus", json=[{"sku": "SKU-1", "cost": "8.00", "currency": "EUR", "tax_class": "reduced"}]))
    assert ok(client.get(f"/pricing/prices/{WEB_DE}/DE/SKU-1"))["tax"]["tax_class"] == "reduced"
    # a channel's own policy replaces the default; deleting it falls back
    ok(client.put(f"/pricing/policies/{WEB_DE}", json={"rules": []}))
    assert ok(client.get(f"/pricing/prices/{WEB_DE}/DE/SKU-1"))["amount"] == "9.99"
    dropped = ok(client.delete(f"/pricing/policies/{WEB_DE}"))
    assert (dropped["prices"], dropped["changed"]) == (1, 1)
    assert client.get(f"/pricing/policies/{WEB_DE}").status_code == 404
    assert client.delete(f"/pricing/policies/{WEB_DE}").status_code == 404
    # a full recompute finds nothing left to change
    again = ok(client.post("/pricing/recompute"))
    assert (again["prices"], again["changed"], again["removed"]) == (4, 0, 0)


def test_a_bad_price_list_names_each_row_and_changes_nothing(keel: Keel, client: TestClient, world: World) -> None:
    before = snapshot(keel)
    document = {
        "currency": "EUR",
        "valid_from": "2026-12-01T00:00:00Z",
        "valid_to": "2026-11-01T00:00:00Z",
        "prices": [
            {"sku": "SKU-1", "amount": "9.99"},
            {"sku": "SKU-2", "amount": "-1"},
            {"sku": "SKU-3", "amount": "1.999", "compare_at": "0.50"},
            {"sku": "SKU-4", "amount": "3.00", "surprise": True},
        ],
    }
    refused = client.put("/pricing/lists/base-eur", json=document)
    assert refused.status_code == 422, refused.text
    assert {(e["row"], e["field"]) for e in refused.json()["errors"]} == {
        (None, "valid_to"),
        (2, "amount"),
        (3, "amount"),
        (4, "surprise"),
    }
    assert snapshot(keel) == before


def test_a_restricted_identity_reads_only_its_markets_and_cannot_write(
    keel: Keel, world: World, client: TestClient, make_client: Callable[..., TestClient]
) -> None:
    ok(client.put("/pricing/lists/base-eur", json=BASE))
    ok(client.put("/pricing/lists/fr", json={**BASE, "country": "FR", "prices": BASE["prices"][:1]}))
    ok(client.put(f"/pricing/policies/{MARKET}", json={"rules": []}))
    ok(client.put("/pricing/policies/*", json={"rules": []}))
    keel.access.add_service("de-pricing", Role.PRICING)
    keel.access.set_scope("de-pricing", [WEB_DE], ["DE"], set(world.channels))
    restricted = make_client(keel, as_admin=False)
    restricted.headers["Authorization"] = f"Bearer {keel.access.create_token('de-pricing', 'p').secret}"
    # reads: its channel and country only (its single channel and country are implied)
    listed = ok(restricted.get("/pricing/prices"))
    assert [(p["channel"], p["country"], p["sku"]) for p in listed["items"]] == [
        (WEB_DE, "DE", "SKU-1"),
        (WEB_DE, "DE", "SKU-2"),
    ]
    assert ok(restricted.get("/pricing/prices", params={"channel": MARKET}))["total"] == 0
    assert restricted.get(f"/pricing/prices/{POS_FR}/FR/SKU-1").status_code == 404
    assert [pl["code"] for pl in ok(restricted.get("/pricing/lists"))] == ["base-eur"]
    assert restricted.get("/pricing/lists/fr").status_code == 404
    assert [p["scope"] for p in ok(restricted.get("/pricing/policies"))] == ["*"]
    assert {r["country"] for r in ok(restricted.get("/pricing/tax-rates"))} == {"DE"}
    # writes: refused whatever they touch (they reach other channels and countries)
    before = snapshot(keel)
    for response in (
        restricted.put("/pricing/lists/web", json={**BASE, "channel": WEB_DE}),
        restricted.put(f"/pricing/policies/{WEB_DE}", json={"rules": []}),
        restricted.put("/pricing/tax-rates/DE/standard", json={"rate": "0.07"}),
        restricted.post("/pricing/recompute"),
    ):
        assert response.status_code == 403, response.text
    assert snapshot(keel) == before


def observed(competitor: str, country: str, amount: str, at: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {"competitor": competitor, "country": country, "sku": "SKU-1", "currency": "EUR", "amount": amount,
            "observed_at": at}  # fmt: skip


def test_competitor_prices_are_recorded_listed_and_band_the_price(
    keel: Keel, world: World, client: TestClient, make_client: Callable[..., TestClient]
) -> None:
    ok(client.put("/pricing/lists/base-eur", json=BASE))
    policy = {"rules": [{"rule": "competitor", "within": "0.05", "max_age_days": 365}]}
    ok(client.put("/pricing/policies/*", json=policy))
    assert keel.pricing.competitors.page() == ([], 0)
    recent = datetime.now(UTC).replace(microsecond=0).isoformat()
    saved = ok(client.put("/pricing/competitor-prices", json=[observed("acme", "DE", "18.00", recent),
                                                              observed("bolt", "FR", "30.00", recent)]))  # fmt: skip
    assert saved["saved"] == 2
    # SKU-1 in DE and FR: market-eu in both, web-de, pos-fr
    assert (saved["recomputed"]["prices"], saved["recomputed"]["changed"]) == (4, 4)
    explained = ok(client.get(f"/pricing/prices/{WEB_DE}/DE/SKU-1"))
    assert [(s["rule"], s["after"]) for s in explained["steps"]] == [
        ("price_list", "20.49"), ("competitor", "18.90"), ("ending", "17.99")
    ]  # fmt: skip
    assert ok(client.get(f"/pricing/prices/{POS_FR}/FR/SKU-1"))["amount"] == "27.99"  # raised to 28.50, then .99
    listed = ok(client.get("/pricing/competitor-prices", params={"country": "DE"}))
    assert listed == {"items": [{**observed("acme", "DE", "18.00"), "observed_at": listed["items"][0]["observed_at"]}],
                      "total": 1, "limit": 100, "offset": 0}  # fmt: skip
    # a restricted identity sees its countries' observations only, and cannot record any
    keel.access.add_service("de-pricing", Role.PRICING)
    keel.access.set_scope("de-pricing", [WEB_DE], ["DE"], set(world.channels))
    restricted = make_client(keel, as_admin=False)
    restricted.headers["Authorization"] = f"Bearer {keel.access.create_token('de-pricing', 'p').secret}"
    assert [c["country"] for c in ok(restricted.get("/pricing/competitor-prices"))["items"]] == ["DE"]
    assert ok(restricted.get("/pricing/competitor-prices", params={"country": "FR"}))["total"] == 0
    before = snapshot(keel)
    assert restricted.put("/pricing/competitor-prices", json=[observed("acme", "DE", "1.00")]).status_code == 403
    assert snapshot(keel) == before
