"""Client mistakes found in review get a 4xx problem, never a 5xx; a real bug gets a 500 problem."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from keel.api import create_app
from keel.bootstrap import Keel
from tests.e2e.test_http import assert_problem
from tests.support import WH_DE, World, admin_headers, mv, receive, snapshot

CHANNEL = {"code": "c-1", "name": "C", "kind": "web_store", "countries": ["DE"], "currency": "EUR"}


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"sources": ["DE"]}, "policy.sources"),
        ({"sources": {"DE": "WH-DE-1"}}, "policy.sources.DE"),
        ({"sources": {"DE": {"locations": "WH-DE-1"}}}, "policy.sources.DE.locations"),
    ],
)
def test_malformed_policy_shapes_are_422(
    client: TestClient, keel: Keel, world: World, policy: dict[str, Any], field: str
) -> None:
    before = snapshot(keel)
    problem = assert_problem(client.post("/channels", json={**CHANNEL, "policy": policy}), 422, "validation")
    assert field in [e["field"] for e in problem["errors"]]
    assert snapshot(keel) == before


def test_internal_movement_id_prefixes_are_reserved(client: TestClient, keel: Keel, world: World) -> None:
    before = snapshot(keel)
    problem = assert_problem(client.post("/inventory/movements", json=[mv("rsv:x", "received", "S", WH_DE, 1)]), 422,
                             "validation")  # fmt: skip
    assert problem["errors"] == [
        {"row": 1, "field": "id", "reason": "ids starting with rsv: or count: are reserved for Keel's own movements"}
    ]
    assert snapshot(keel) == before


def test_reservation_ids_are_bounded_so_ledger_ids_fit(client: TestClient, keel: Keel, world: World) -> None:
    receive(keel, "S", WH_DE, 5)
    before = snapshot(keel)
    body = {"sku": "S", "location": WH_DE, "quantity": 1, "id": "r" * 101}
    assert_problem(client.post("/inventory/reservations", json=body), 422, "validation")
    assert snapshot(keel) == before
    assert client.post("/inventory/reservations", json={**body, "id": "r" * 100}).status_code == 201


def test_an_unexpected_error_is_a_logged_500_problem(keel: Keel, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(keel.locations, "list", broken)
    with TestClient(create_app(keel), raise_server_exceptions=False, headers=admin_headers(keel)) as client:
        problem = assert_problem(client.get("/locations"), 500, "internal")
    assert "simulated bug" not in problem["detail"]  # internals are logged, not shown


def test_redoc_is_not_served_because_it_needs_a_cdn(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"quantity": 10**20}, "quantity"),
        ({"occurred_at": "0001-01-01T00:00:00+01:00"}, "occurred_at"),
        ({"reference": {"po": 1}}, "reference"),
        ({"reason": ["x"]}, "reason"),
        ({"reference": "x" * 201}, "reference"),
        ({"reference": "a\x00b"}, "reference"),
    ],
)
def test_out_of_range_movement_fields_are_422(
    client: TestClient, keel: Keel, world: World, row: dict[str, Any], field: str
) -> None:
    before = snapshot(keel)
    movement = {**mv("m-1", "received", "S", WH_DE, 1), **row}
    problem = assert_problem(client.post("/inventory/movements", json=[movement]), 422, "validation")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert snapshot(keel) == before


def test_position_buckets_cannot_overflow(client: TestClient, keel: Keel, world: World) -> None:
    receive(keel, "S", WH_DE, 2**31 - 1)
    before = snapshot(keel)
    problem = assert_problem(client.post("/inventory/movements", json=[mv("m-2", "received", "S", WH_DE, 1)]), 422,
                             "validation")  # fmt: skip
    assert problem["errors"][0]["reason"].startswith("received of 1 would take on_hand past 2147483647")
    assert snapshot(keel) == before


@pytest.mark.parametrize(
    "query", ["since=0001-01-01T00:00:00%2B01:00", "after_seq=100000000000000000000", "since=2026-01-01T00:00:00"]
)
def test_out_of_range_ledger_queries_are_422(client: TestClient, query: str) -> None:
    assert_problem(client.get(f"/inventory/movements?{query}"), 422, "validation")


def test_location_updates_ignore_null_for_required_fields(client: TestClient, world: World) -> None:
    response = client.patch(f"/locations/{WH_DE}", json={"active": None, "name": None, "city": "Potsdam"})
    assert response.status_code == 200, response.text
    assert (response.json()["active"], response.json()["city"]) == (True, "Potsdam")
    assert_problem(client.patch(f"/locations/{WH_DE}", json={"name": "n" * 201}), 422, "validation")


def test_sku_availability_reads_its_query_by_hand_but_still_documents_and_checks_it(
    client: TestClient, world: World
) -> None:
    assert_problem(client.get("/availability/SKU-1?explain=maybe"), 422, "validation")
    assert client.get("/availability/SKU-1?explain=true").json()["availability"][0]["steps"]
    spec = client.get("/openapi.json").json()["paths"]["/availability/{sku}"]["get"]
    assert {p["name"] for p in spec["parameters"]} == {"sku", "channel", "country", "explain"}
