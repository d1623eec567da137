"""The published OpenAPI document tells the truth about errors, content types and every operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from keel.bootstrap import Keel
from keel.platform.openapi import AUTH_STATUSES, PUBLIC_OPERATIONS

PROBLEM = "application/problem+json"


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in document["paths"].values() for op in item.values()}


def test_every_error_is_a_documented_problem(sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]) -> None:
    document = make_client(sqlite_keel).get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["Problem"]["required"] == ["type", "title", "status", "detail"]
    assert set(schemas["FieldError"]["properties"]) == {"row", "field", "reason"}
    for operation_id, op in operations(document).items():
        errors = {code: r for code, r in op["responses"].items() if not code.startswith("2")}
        for code, response in errors.items():
            expected = "ValidationProblem" if code == "422" else "Problem"
            assert response["content"] == {PROBLEM: {"schema": {"$ref": f"#/components/schemas/{expected}"}}}, (
                operation_id,
                code,
            )
        auth = {str(s) for s in AUTH_STATUSES}
        assert auth <= set(errors) if operation_id not in PUBLIC_OPERATIONS else not auth & set(errors), operation_id


def test_statuses_follow_the_rules(sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]) -> None:
    found = operations(make_client(sqlite_keel).get("/openapi.json").json())
    assert list(found["healthz"]["responses"]) == ["200", "400"]
    assert list(found["get_order"]["responses"]) == ["200", "400", "401", "403", "404", "422", "429"]
    assert list(found["post_movements"]["responses"]) == ["200", "400", "401", "403", "409", "413", "415", "422", "429"]
    assert list(found["list_location_groups"]["responses"]) == ["200", "400", "401", "403", "429"]
    # every write can be refused as cross-site (403), too big (413) or not JSON (415), public or not
    assert list(found["cancel_order"]["responses"]) == [
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "415",
        "422",
        "429",
    ]
    # a router's own reason for a status survives; only its schema is replaced
    assert found["get_postal_code"]["responses"]["404"]["description"].startswith("no centroid is known")


def test_every_operation_is_described_with_a_response_model(
    sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]
) -> None:
    found = operations(make_client(sqlite_keel).get("/openapi.json").json())
    assert len(found) == 55  # every operation of the app: a router left out of the document would show here
    for operation_id, op in found.items():
        assert op["summary"] and op["description"], operation_id
        success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        if operation_id == "delete_sourcing_policy":
            assert list(success) == ["204"] and "content" not in success["204"]
            continue
        (content,) = [r["content"] for r in success.values() if "content" in r][:1]
        schema = next(iter(content.values()))["schema"]
        assert schema not in ({}, {"type": "object"}, {"additionalProperties": True, "type": "object"}), operation_id


def test_metrics_are_documented_as_text(sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]) -> None:
    client = make_client(sqlite_keel)
    documented = operations(client.get("/openapi.json").json())["metrics"]["responses"]["200"]["content"]
    assert documented == {"text/plain": {"schema": {"type": "string"}}}
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")


def test_sent_problems_have_the_published_shape(sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]) -> None:
    client = make_client(sqlite_keel)
    properties = set(client.get("/openapi.json").json()["components"]["schemas"]["Problem"]["properties"])
    missing = client.get("/orders/999")
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM)
    assert set(missing.json()) == {"type", "title", "status", "detail"} <= properties
    invalid = client.get("/orders/abc")
    assert (invalid.status_code, invalid.headers["content-type"]) == (422, PROBLEM)
    assert set(invalid.json()) == {"type", "title", "status", "detail", "errors"} <= properties
    reason = "Input should be a valid integer, unable to parse string as an integer"
    assert invalid.json()["errors"] == [{"row": None, "field": "order_id", "reason": reason}]
