"""The HTTP API over starlette's TestClient on both databases: movements, problems, platform endpoints."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from keel.bootstrap import Keel
from tests.support import ST_DE, WH_DE, World, build_world, mv, position, snapshot

PROBLEM = "application/problem+json"
NDJSON = {"content-type": "application/x-ndjson"}


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status``; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert (body["status"], body["type"]) == (status, f"https://keel.dev/problems/{slug}")
    assert body["title"] and body["detail"]
    return body


def ndjson(*rows: dict[str, Any]) -> str:
    return "\n".join(json.dumps(r) for r in rows) + "\n"


def test_post_movements_as_a_json_array_then_retry(keel: Keel, world: World, client: TestClient) -> None:
    rows = [mv("a", "received", "SKU-1", WH_DE, 10), mv("b", "sold", "SKU-1", WH_DE, 4)]
    response = client.post("/inventory/movements", json=rows)
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "first_seq": 1, "last_seq": 2}
    assert position(keel, "SKU-1", WH_DE)["available"] == 6
    # a retry is acknowledged, not applied twice
    assert client.post("/inventory/movements", json=rows).json() == {
        "accepted": 0,
        "duplicates": 2,
        "first_seq": None,
        "last_seq": None,
    }
    assert position(keel, "SKU-1", WH_DE)["available"] == 6


def test_post_movements_as_ndjson(keel: Keel, world: World, client: TestClient) -> None:
    body = ndjson(mv("a", "received", "SKU-1", WH_DE, 3)) + "\n   \n" + ndjson(mv("b", "received", "SKU-2", ST_DE, 1))
    response = client.post("/inventory/movements", content=body, headers=NDJSON)
    assert (response.status_code, response.json()["accepted"]) == (200, 2)
    assert position(keel, "SKU-2", ST_DE)["on_hand"] == 1


def test_a_malformed_ndjson_line_is_reported_by_line_and_nothing_written(
    keel: Keel, world: World, client: TestClient
) -> None:
    before = snapshot(keel)
    body = (
        ndjson(mv("a", "received", "SKU-1", WH_DE, 3))
        + '{"id": "b", "kind": \n'
        + ndjson(mv("c", "sold", "S", WH_DE, 1))
    )
    problem = assert_problem(client.post("/inventory/movements", content=body, headers=NDJSON), 422, "validation")
    [error] = problem["errors"]
    assert (error["row"], error["field"]) == (2, "")
    assert error["reason"].startswith("invalid JSON: ")
    assert snapshot(keel) == before


@pytest.mark.parametrize(
    ("rows", "errors"),
    [
        ([mv("a", "received", "SKU-1", "NOWHERE", 1)], [(1, "location", "unknown or inactive location 'NOWHERE'")]),
        ([mv("a", "received", "SKU-1", WH_DE, 1), mv("b", "received", "SKU-1", WH_DE, 0)],
         [(2, "quantity", "must be > 0, got 0")]),
        ([mv("a", "received", "SKU-1", WH_DE, -2)], [(1, "quantity", "must be > 0, got -2")]),
        ([mv("a", "warped", "SKU-1", WH_DE, 1)], [(1, "kind", "unknown movement kind 'warped'")]),
        ([mv("a", "received", "SKU-1", WH_DE, 1), mv("a", "received", "SKU-1", WH_DE, 1)],
         [(2, "id", "duplicate of row 1 in the same batch")]),
        ([mv("a", "adjusted_out", "SKU-1", WH_DE, 1)], [(1, "reason", "required for adjusted_out")]),
        (["text"], [(1, "", "each movement must be an object")]),
    ],
    ids=["unknown-location", "zero", "negative", "unknown-kind", "duplicate-ids", "no-reason", "not-object"],
)  # fmt: skip
def test_bad_rows_get_a_problem_with_row_field_reason_and_nothing_written(
    keel: Keel, world: World, client: TestClient, rows: list[Any], errors: list[tuple[Any, str, str]]
) -> None:
    before = snapshot(keel)
    problem = assert_problem(client.post("/inventory/movements", json=rows), 422, "validation")
    assert [(e["row"], e["field"], e["reason"]) for e in problem["errors"]] == errors
    assert snapshot(keel) == before


def test_an_oversell_is_a_422_naming_the_row(keel: Keel, world: World, client: TestClient) -> None:
    client.post("/inventory/movements", json=[mv("a", "received", "SKU-1", WH_DE, 2)])
    before = snapshot(keel)
    problem = assert_problem(
        client.post("/inventory/movements", json=[mv("b", "sold", "SKU-1", WH_DE, 3)]), 422, "validation"
    )
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [(1, "quantity")]
    assert snapshot(keel) == before


@pytest.mark.parametrize(
    ("content", "headers", "reason"),
    [
        ("{not json", {"content-type": "application/json"}, "invalid JSON: "),
        ('{"id": "a"}', {"content-type": "application/json"}, "expected an array"),
        ("", {"content-type": "application/json"}, "invalid JSON: "),
    ],
    ids=["broken", "object", "empty"],
)
def test_a_body_that_is_not_a_json_array_is_a_422(
    keel: Keel, world: World, client: TestClient, content: str, headers: dict[str, str], reason: str
) -> None:
    before = snapshot(keel)
    problem = assert_problem(client.post("/inventory/movements", content=content, headers=headers), 422, "validation")
    assert problem["errors"][0]["reason"].startswith(reason)
    assert snapshot(keel) == before


def test_a_batch_over_the_limit_is_a_413(
    keel_factory: Callable[..., Keel], make_client: Callable[[Keel], TestClient]
) -> None:
    small = keel_factory(max_batch=2)
    build_world(small)
    client = make_client(small)
    rows = [mv(f"m{i}", "received", "SKU-1", WH_DE, 1) for i in range(3)]
    before = snapshot(small)
    problem = assert_problem(client.post("/inventory/movements", json=rows), 413, "payload-too-large")
    assert problem["detail"] == "3 movements in one batch; the limit is 2"
    problem = assert_problem(
        client.post("/inventory/movements", content=ndjson(*rows), headers=NDJSON), 413, "payload-too-large"
    )
    assert problem["detail"] == "3 movements in one request; the limit is 2"
    assert snapshot(small) == before


def test_healthz(keel: Keel, world: World, client: TestClient) -> None:
    client.post("/inventory/movements", json=[mv("a", "received", "SKU-1", WH_DE, 2)])
    body = client.get("/healthz").json()
    with keel.db.read() as conn:
        last = keel.events.last_seq(conn)
    assert body["status"] == "ok"
    assert body["database"] == keel.db.dialect
    assert body["last_event_seq"] == last
    assert body["availability_lag_events"] == 1  # the stock.moved event the projector has not read yet


def test_metrics_in_prometheus_text(client: TestClient) -> None:
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'keel_http_requests_total{method="GET",route="/healthz",status="200"}' in response.text
    assert "# TYPE keel_http_request_seconds histogram" in response.text


def test_ledger_and_positions_over_http(keel: Keel, world: World, client: TestClient) -> None:
    client.post(
        "/inventory/movements",
        json=[mv(f"m{i}", "received", f"SKU-{i % 2}", WH_DE if i < 3 else ST_DE, 1) for i in range(5)],
    )
    page = client.get("/inventory/movements", params={"limit": 2}).json()
    assert [m["id"] for m in page["items"]] == ["m0", "m1"]
    assert page["next_after_seq"] == 2
    rest = client.get("/inventory/movements", params={"limit": 2, "after_seq": 4}).json()
    assert ([m["id"] for m in rest["items"]], rest["next_after_seq"]) == (["m4"], None)
    assert [m["id"] for m in client.get("/inventory/movements?sku=SKU-1&kind=received").json()["items"]] == ["m1", "m3"]
    positions = client.get("/inventory/positions", params={"location": ST_DE}).json()
    assert (positions["total"], [p["sku"] for p in positions["items"]]) == (2, ["SKU-0", "SKU-1"])
    assert client.get("/inventory/positions", params={"channel": "pos-fr"}).json()["total"] == 0
    assert_problem(client.get("/inventory/positions", params={"channel": "ghost"}), 404, "not-found")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/inventory/movements?limit=0", "limit"),
        ("/inventory/movements?after_seq=-1", "after_seq"),
        ("/inventory/movements?kind=warped", "kind"),
        ("/inventory/movements?since=yesterday", "since"),
        ("/inventory/positions?limit=5000", "limit"),
        ("/locations?offset=-1", "offset"),
    ],
)
def test_bad_query_parameters_are_422_problems(client: TestClient, path: str, field: str) -> None:
    problem = assert_problem(client.get(path), 422, "validation")
    assert [e["field"] for e in problem["errors"]] == [field]


def test_openapi_and_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Keel"
    operations = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"post_movements", "list_positions", "create_reservation", "sku_availability", "create_channel",
            "create_location", "healthz"} <= operations  # fmt: skip
    assert set(spec["paths"]["/inventory/movements"]["post"]["requestBody"]["content"]) == {
        "application/json",
        "application/x-ndjson",
    }
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    # nothing is fetched from outside: every script and stylesheet is served by Keel itself
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_unknown_paths_are_404_problems(client: TestClient) -> None:
    assert_problem(client.get("/no/such/thing"), 404, "http")
    assert_problem(client.put("/healthz"), 405, "http")
