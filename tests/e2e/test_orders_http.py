"""Orders over HTTP: status codes, problem documents and the whole journey of one order."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from keel.bootstrap import Keel
from tests.support import WEB_DE, WH_DE, World, position, receive, snapshot

PROBLEM = "application/problem+json"


def body(external_id: str = "W-1", qty: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "channel": WEB_DE,
        "external_id": external_id,
        "lines": [{"sku": "SKU-1", "quantity": qty, "unit_price": "12.50"}],
        "customer": {"name": "Ann"},
        "ship_to": {"country": "DE", "postal_code": "10115", "latitude": 52.5, "longitude": 13.4},
        **extra,
    }


def test_order_journey_over_http(client: TestClient, keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    created = client.post("/orders", json=body())
    assert created.status_code == 201, created.text
    oid = created.json()["id"]
    assert created.json()["geocoded"] == "given"
    assert client.post("/orders", json=body()).status_code == 200
    conflict = client.post("/orders", json=body(qty=3))
    assert (conflict.status_code, conflict.headers["content-type"]) == (409, PROBLEM)
    listed = client.get("/orders", params={"channel": WEB_DE, "country": "DE", "status": "allocated"}).json()
    assert [o["id"] for o in listed["items"]] == [oid] and listed["total"] == 1
    assert client.get("/orders", params={"channel": "other"}).json()["total"] == 0
    assert (
        client.post(f"/orders/{oid}/allocations/1/ship", json={"carrier": "DHL", "tracking_number": "1"}).status_code
        == 409
    )
    for step in ("pick", "pack"):
        assert client.post(f"/orders/{oid}/allocations/1/{step}").status_code == 200
    shipped = client.post(f"/orders/{oid}/allocations/1/ship", json={"carrier": "DHL", "tracking_number": "JJD1"})
    assert shipped.json()["status"] == "shipped"
    assert client.post(f"/orders/{oid}/allocations/1/deliver").json()["status"] == "delivered"
    rma = client.post(f"/orders/{oid}/returns", json={"lines": [{"line_no": 1, "quantity": 1}]})
    assert rma.status_code == 201
    code = rma.json()["rma"]
    received = client.post(
        f"/returns/{code}/receive", json={"location": WH_DE, "lines": [{"line_no": 1, "outcome": "returned_qc"}]}
    )
    assert received.json()["status"] == "received"
    assert client.post(f"/returns/{code}/refund").json()["refund_status"] == "refunded"
    assert position(keel, "SKU-1", WH_DE)["quality_control"] == 1
    metrics = client.get("/orders/metrics").json()
    assert (metrics["split_rate"], metrics["on_time_rate"]) == (0.0, 1.0)
    assert client.get("/orders/999").status_code == 404


def test_bad_orders_are_problems_and_write_nothing(client: TestClient, keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    before = snapshot(keel)
    for bad, field in (
        (body(qty=0), "quantity"),
        (body(channel="nope"), "channel"),
        ({k: v for k, v in body().items() if k != "ship_to"}, "ship_to"),
    ):
        response = client.post("/orders", json=bad)
        assert (response.status_code, response.headers["content-type"]) == (422, PROBLEM)
        assert field in [e["field"] for e in response.json()["errors"]]
    short = client.post("/orders", json=body(qty=11))
    assert short.status_code == 409 and short.json()["title"] == "Insufficient stock"
    assert snapshot(keel) == before


def test_cancel_and_reject_over_http(client: TestClient, keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    oid = client.post("/orders", json=body(qty=4)).json()["id"]
    before = snapshot(keel)
    empty = client.post(f"/orders/{oid}/cancel", json={"lines": []})
    assert (empty.status_code, empty.json()["errors"][0]["field"]) == (422, "lines")
    assert snapshot(keel) == before
    partly = client.post(f"/orders/{oid}/cancel", json={"lines": [{"line_no": 1, "quantity": 1}]})
    assert partly.json()["lines"][0]["cancelled"] == 1
    rejected = client.post(f"/orders/{oid}/allocations/1/reject", json={"reason": "damaged shelf"})
    assert rejected.status_code == 200
    assert rejected.json()["shipments"][0]["status"] == "rejected"
    assert position(keel, "SKU-1", WH_DE)["committed"] == 0
