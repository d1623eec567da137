"""Resource endpoints over HTTP on both databases: locations, groups, channels, reservations, counts, ATP."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from keel.bootstrap import Keel
from tests.e2e.test_http import assert_problem
from tests.support import MARKET, ST_DE, WEB_DE, WH_DE, WH_FR, World, mv, position, receive, snapshot

LOCATION = {"code": "DS-DE-1", "name": "Berlin dark store", "kind": "dark_store", "country": "DE",
            "capabilities": ["ship", "pickup"]}  # fmt: skip
CHANNEL = {"code": "social-de", "name": "Social DE", "kind": "social", "countries": ["DE"], "currency": "EUR",
           "policy": {"sources": {"DE": {"locations": [WH_DE]}}, "max_listed": 3}}  # fmt: skip


def test_location_lifecycle(keel: Keel, client: TestClient) -> None:
    created = client.post("/locations", json=LOCATION)
    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("code", "country", "capabilities", "active")} == {
        "code": "DS-DE-1", "country": "DE", "capabilities": ["pickup", "ship"], "active": True,
    }  # fmt: skip
    assert client.get("/locations/DS-DE-1").json()["name"] == "Berlin dark store"
    assert client.patch("/locations/DS-DE-1", json={"city": "Berlin"}).json()["city"] == "Berlin"
    assert client.delete("/locations/DS-DE-1").json()["active"] is False
    page = client.get("/locations", params={"active": "false", "country": "de"}).json()
    assert (page["total"], page["limit"], page["offset"], [i["code"] for i in page["items"]]) == (
        1,
        100,
        0,
        ["DS-DE-1"],
    )


def test_location_problems(keel: Keel, client: TestClient) -> None:
    client.post("/locations", json=LOCATION)
    before = snapshot(keel)
    assert_problem(client.post("/locations", json=LOCATION), 409, "conflict")
    problem = assert_problem(
        client.post("/locations", json={**LOCATION, "code": "X", "country": "XX"}), 422, "validation"
    )
    assert problem["errors"] == [{"row": None, "field": "country", "reason": "not an ISO 3166-1 alpha-2 code: 'XX'"}]
    problem = assert_problem(client.post("/locations", json={"code": "X"}), 422, "validation")
    assert sorted(e["field"] for e in problem["errors"]) == ["country", "kind", "name"]
    problem = assert_problem(client.patch("/locations/DS-DE-1", json={"capabilities": ["fly"]}), 422, "validation")
    assert problem["errors"][0]["field"] == "capabilities"
    assert_problem(client.get("/locations/NOPE"), 404, "not-found")
    assert_problem(client.delete("/locations/NOPE"), 404, "not-found")
    assert snapshot(keel) == before


def test_location_groups(keel: Keel, world: World, client: TestClient) -> None:
    response = client.post("/location-groups", json={"code": "de", "name": "DE", "members": [WH_DE, ST_DE]})
    assert (response.status_code, response.json()["members"]) == (201, [ST_DE, WH_DE])
    assert client.put("/location-groups/de/members", json={"members": [WH_DE]}).json()["members"] == [WH_DE]
    assert [g["code"] for g in client.get("/location-groups").json()] == ["de", "fulfilment-eu"]
    problem = assert_problem(
        client.post("/location-groups", json={"code": "x", "name": "X", "members": ["NOPE"]}), 422, "validation"
    )
    assert problem["errors"] == [{"row": None, "field": "members", "reason": "unknown location 'NOPE'"}]
    assert_problem(client.put("/location-groups/ghost/members", json={"members": []}), 404, "not-found")


def test_channel_lifecycle(keel: Keel, world: World, client: TestClient) -> None:
    created = client.post("/channels", json=CHANNEL)
    assert created.status_code == 201
    assert created.json()["policy"]["max_listed"] == 3
    assert client.get("/channels/social-de").json()["kind"] == "social"
    updated = client.patch("/channels/social-de", json={"policy": {"sources": {"DE": {"groups": ["fulfilment-eu"]}}}})
    assert updated.json()["policy"]["sources"] == {"DE": {"locations": [], "groups": ["fulfilment-eu"]}}
    assert client.delete("/channels/social-de").json()["active"] is False
    listed = client.get("/channels", params={"country": "DE", "active": "true"}).json()
    assert (listed["total"], [c["code"] for c in listed["items"]]) == (2, [MARKET, WEB_DE])


def test_channel_problems(keel: Keel, world: World, client: TestClient) -> None:
    before = snapshot(keel)
    bad_source = {**CHANNEL, "policy": {"sources": {"DE": {"locations": ["NOPE"]}}}}
    problem = assert_problem(client.post("/channels", json=bad_source), 422, "validation")
    assert problem["errors"] == [
        {"row": None, "field": "policy.sources.DE.locations", "reason": "unknown location 'NOPE'"}
    ]
    assert_problem(client.post("/channels", json={**CHANNEL, "code": WEB_DE}), 409, "conflict")
    assert_problem(client.post("/channels", json={**CHANNEL, "countries": "DE"}), 422, "validation")
    assert_problem(client.get("/channels/ghost"), 404, "not-found")
    assert_problem(client.patch("/channels/web-de", json={"currency": "XXXX"}), 422, "validation")
    assert snapshot(keel) == before


def test_reservation_endpoints(keel: Keel, world: World, client: TestClient) -> None:
    receive(keel, "SKU-1", WH_DE, 5)
    body = {"sku": "SKU-1", "location": WH_DE, "quantity": 2, "ttl_seconds": 60, "id": "cart-1", "reference": "b1"}
    created = client.post("/inventory/reservations", json=body)
    assert created.status_code == 201
    assert {k: created.json()[k] for k in ("id", "status", "quantity", "location", "reference")} == {
        "id": "cart-1", "status": "active", "quantity": 2, "location": WH_DE, "reference": "b1",
    }  # fmt: skip
    assert client.post("/inventory/reservations", json=body).json() == created.json()  # idempotent retry
    assert client.get("/inventory/reservations/cart-1").json()["status"] == "active"
    assert client.post("/inventory/reservations/cart-1/commit").json()["status"] == "committed"
    client.post("/inventory/reservations", json={**body, "id": "cart-2", "quantity": 1})
    assert client.post("/inventory/reservations/cart-2/release").json()["status"] == "released"
    assert (position(keel, "SKU-1", WH_DE)["available"], position(keel, "SKU-1", WH_DE)["committed"]) == (3, 2)


def test_reservation_problems(keel: Keel, world: World, client: TestClient) -> None:
    receive(keel, "SKU-1", WH_DE, 5)
    before = snapshot(keel)
    body: dict[str, Any] = {"sku": "SKU-1", "location": WH_DE, "quantity": 6}
    problem = assert_problem(client.post("/inventory/reservations", json=body), 409, "insufficient-stock")
    assert problem["available"] == 5
    problem = assert_problem(client.post("/inventory/reservations", json={**body, "quantity": 0}), 422, "validation")
    assert problem["errors"] == [{"row": None, "field": "quantity", "reason": "must be > 0, got 0"}]
    assert_problem(client.post("/inventory/reservations", json={**body, "quantity": "many"}), 422, "validation")
    assert_problem(client.get("/inventory/reservations/ghost"), 404, "not-found")
    assert_problem(client.post("/inventory/reservations/ghost/release"), 404, "not-found")
    assert snapshot(keel) == before


def test_counts_and_accuracy(keel: Keel, world: World, client: TestClient) -> None:
    receive(keel, "SKU-1", WH_DE, 100)
    response = client.post("/inventory/counts", json={"sku": "SKU-1", "location": WH_DE, "counted": 95, "id": "c1"})
    assert response.status_code == 201
    assert {k: response.json()[k] for k in ("book", "counted", "variance", "within_tolerance")} == {
        "book": 100, "counted": 95, "variance": -5, "within_tolerance": False,
    }  # fmt: skip
    report = client.get("/inventory/accuracy", params={"tolerance_pct": 5}).json()
    assert report["overall"] == {"counted": 1, "within_tolerance": 1, "accuracy": 1.0}
    assert client.get("/inventory/accuracy").json()["overall"]["accuracy"] == 0.0
    assert_problem(
        client.post("/inventory/counts", json={"sku": "SKU-1", "location": WH_DE, "counted": -1}), 422, "validation"
    )
    assert_problem(client.get("/inventory/accuracy", params={"tolerance_pct": -1}), 422, "validation")


@pytest.fixture
def listed(keel: Keel, world: World, client: TestClient) -> TestClient:
    """30 x SKU-1 at WH-DE-1 and 4 at WH-FR-1, projected."""
    client.post(
        "/inventory/movements", json=[mv("a", "received", "SKU-1", WH_DE, 30), mv("b", "received", "SKU-1", WH_FR, 4)]
    )
    keel.availability.catch_up()
    return client


def test_availability_of_a_sku(listed: TestClient) -> None:
    body = listed.get("/availability/SKU-1").json()
    assert body["sku"] == "SKU-1"
    # market-eu FR (4 -> buffer 2 -> 50 % 1 -> zero below 3) was never above 0, so it is not listed
    assert [(r["channel"], r["country"], r["quantity"], r["backorder"]) for r in body["availability"]] == [
        (MARKET, "DE", 16, False),
        (WEB_DE, "DE", 30, False),
    ]
    only = listed.get("/availability/SKU-1", params={"channel": MARKET, "country": "de"}).json()["availability"]
    assert [(r["channel"], r["country"], r["quantity"]) for r in only] == [(MARKET, "DE", 16)]
    assert listed.get("/availability/NOTHING").json() == {"sku": "NOTHING", "availability": []}
    assert_problem(listed.get("/availability/SKU-1", params={"channel": "ghost"}), 404, "not-found")


def test_availability_explained(listed: TestClient) -> None:
    body = listed.get("/availability/SKU-1", params={"explain": "true", "channel": MARKET, "country": "DE"}).json()
    [row] = body["availability"]
    assert (row["quantity"], row["projected"], row["backorder"]) == (16, 16, False)
    assert row["contributions"] == [
        {"location": WH_DE, "available": 30, "counted": 30},
        {"location": WH_FR, "available": 4, "counted": 4},
    ]
    assert [(s["rule"], s["removed"], s["result"]) for s in row["steps"]] == [
        ("pooled from source locations", 0, 34),
        ("safety buffer 2", 2, 32),
        ("allocation 50%", 16, 16),
        ("maximum listed 20", 0, 16),
    ]
    everything = listed.get("/availability/SKU-1?explain=true").json()["availability"]
    assert [(r["channel"], r["country"]) for r in everything] == [
        (WEB_DE, "DE"), (MARKET, "DE"), (MARKET, "FR"), ("pos-fr", "FR")
    ]  # fmt: skip
    assert_problem(listed.get("/availability/SKU-1?explain=true&channel=ghost"), 404, "not-found")


def test_availability_query_for_many_skus(listed: TestClient) -> None:
    body = listed.post("/availability/query", json={"skus": ["SKU-1", "SKU-2"], "channel": WEB_DE}).json()
    assert [(r["channel"], r["quantity"]) for r in body["items"]["SKU-1"]] == [(WEB_DE, 30)]
    assert body["items"]["SKU-2"] == []
    problem = assert_problem(listed.post("/availability/query", json={"skus": ["S"] * 1001}), 422, "validation")
    assert problem["errors"][0]["field"] == "skus"
    assert_problem(listed.post("/availability/query", json={"skus": "SKU-1"}), 422, "validation")
