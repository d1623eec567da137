"""The published OpenAPI document tells the truth about errors, content types and every operation."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.testclient import TestClient

from keel.access import ROUTES
from keel.bootstrap import Keel
from keel.platform.openapi import AUTH_STATUSES, BEARER_SCHEME, PUBLIC_OPERATIONS

PROBLEM = "application/problem+json"
IDEMPOTENCY = re.compile(r"\b(Idempotent|Not idempotent|Safe to repeat)\b")


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in document["paths"].values() for op in item.values()}


SIGNED = {"receive_channel_orders"}  # a channel's order webhook: its signature is its credential


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
        if operation_id not in PUBLIC_OPERATIONS:
            assert auth <= set(errors), operation_id
        else:  # no token, so no token's refusals; 401 only where the route checks a credential of its own
            assert "429" not in errors and ("401" in errors) == (operation_id in SIGNED), operation_id


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


TEXT_OPERATIONS = {"metrics": "text/plain", "export_audit_entries": "text/csv"}
# a feed answers text (TSV, RSS, CSV) or a typed JSON document, as its format asks
FEED_TEXT = ("text/tab-separated-values", "application/rss+xml", "text/csv")
NO_CONTENT = {"delete_sourcing_policy", "delete_promotion", "delete_ad_rule"}
UNTYPED = ({}, {"type": "object"}, {"additionalProperties": True}, {"additionalProperties": True, "type": "object"})


def untyped(schema: dict[str, Any]) -> bool:
    """Whether ``schema`` says nothing about its value's shape (titles and descriptions aside)."""
    return {k: v for k, v in schema.items() if k not in ("title", "description")} in UNTYPED


def shapeless_parts(schema: dict[str, Any], components: dict[str, Any]) -> list[str]:
    """Where a response schema leaves the shape of what it answers open: the schema itself, the rows of an
    array, or the ``items`` of a page (``dict`` rows). Free-form documents inside typed rows (a channel's
    policy, an order's routing history) are documents on purpose."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    found = ["schema"] if untyped(schema) else []
    if schema.get("type") == "array" and untyped(schema.get("items", {})):
        found.append("rows")
    items = schema.get("properties", {}).get("items", {})
    if items.get("type") == "array" and untyped(items.get("items", {})):
        found.append("items[]")
    return found


def test_every_operation_has_a_summary_a_description_and_a_response_model(
    sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]
) -> None:
    client = make_client(sqlite_keel)
    document = client.get("/openapi.json").json()
    found = operations(document)
    components = document["components"]["schemas"]
    assert len(found) == 157  # every operation of the app: a router left out of the document would show here
    # summaries are written, not FastAPI's title-cased function names ("Metrics Endpoint")
    every = (c.original_route for c in iter_route_contexts(client.app.routes))  # type: ignore[attr-defined]
    routes = [r for r in every if isinstance(r, APIRoute) and r.include_in_schema]
    assert len(routes) == len(found)
    assert [r.operation_id for r in routes if not r.summary] == []
    wrong = []
    for operation_id, op in found.items():
        description = op.get("description", "")
        # what it does, what it refuses, and whether a retry is safe
        if not (op["summary"] and "\n\nRefuses " in description and IDEMPOTENCY.search(description)):
            wrong.append(f"{operation_id}: summary or description incomplete")
        success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        if operation_id in NO_CONTENT:
            if list(success) != ["204"] or "content" in success["204"]:
                wrong.append(f"{operation_id}: a 204 without a body")
            continue
        for code, response in success.items():
            content = response.get("content", {})
            feed = operation_id == "get_catalog_feed"
            if feed and any(content.pop(kind, None) != {"schema": {"type": "string"}} for kind in FEED_TEXT):
                wrong.append(f"{operation_id} {code}: a feed format not documented as text")
            if operation_id in TEXT_OPERATIONS:
                if content != {TEXT_OPERATIONS[operation_id]: {"schema": {"type": "string"}}}:
                    wrong.append(f"{operation_id} {code}: not documented as {TEXT_OPERATIONS[operation_id]}")
            elif list(content) != ["application/json"]:
                wrong.append(f"{operation_id} {code}: no JSON response documented")
            elif parts := shapeless_parts(content["application/json"]["schema"], components):
                wrong.append(f"{operation_id} {code}: no response model for {', '.join(parts)}")
    assert wrong == []


def test_credentials_are_documented_as_the_access_table_says(
    sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]
) -> None:
    document = make_client(sqlite_keel).get("/openapi.json").json()
    assert document["components"]["securitySchemes"] == {"bearer": BEARER_SCHEME}
    assert BEARER_SCHEME["type"] == "http" and BEARER_SCHEME["scheme"] == "bearer"
    public = set()
    # the document names a path parameter without its converter: /pricing/prices/.../{sku:path} is .../{sku}
    rules = {(method, path.replace(":path}", "}")): rule for (method, path), rule in ROUTES.items()}
    for path, item in document["paths"].items():
        for method, op in item.items():
            if rules[(method.upper(), path)].permission is None:
                public.add(op["operationId"])
            assert op.get("security") == (None if op["operationId"] in public else [{"bearer": []}]), path
    assert public == PUBLIC_OPERATIONS == {"healthz", *SIGNED}


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
