"""The published OpenAPI document, corrected to tell the truth about errors.

FastAPI documents every error as its own ``HTTPValidationError`` in ``application/json``; Keel answers every
error with an RFC 9457 problem in ``application/problem+json`` (``keel.platform.api``). ``truthful_openapi``
post-processes the generated document once: it publishes the ``Problem`` schema, replaces the default 422,
and adds the statuses each operation really returns, from the rules and tables below (one place to adjust,
so routers stay free of error boilerplate); it also names the bearer scheme every non-public operation needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from keel.platform.api import PROBLEM

# Operations anyone may call (``keel.access.ROUTES`` says PUBLIC): every other one needs credentials, so it
# answers 401, 403 and 429 and its document names the bearer scheme (Swagger UI's "Authorize" then sends it).
PUBLIC_OPERATIONS = frozenset({"healthz", "receive_channel_orders"})  # the second checks a channel's signature
BEARER = "bearer"
BEARER_SCHEME: dict[str, Any] = {
    "type": "http",
    "scheme": "bearer",
    "description": "an API token, ``keel_...`` (``keel tokens create``); see docs/access.md",
}
AUTH_STATUSES = (401, 403, 429)

# 409: the state does not allow the command (keel.platform.errors.Conflict, InsufficientStock), or a
# concurrent insert of the same key lost the race (the IntegrityError handler).
CONFLICTS = frozenset(
    {
        "create_location",
        "update_location",
        "deactivate_location",
        "create_location_group",
        "set_location_group_members",
        "post_movements",
        "create_reservation",
        "release_reservation",
        "commit_reservation",
        "record_count",
        "create_channel",
        "update_channel",
        "deactivate_channel",
        "capture_order",
        "plan_wave",
        "pick_allocation",
        "pack_allocation",
        "ship_allocation",
        "deliver_allocation",
        "reject_allocation",
        "cancel_order",
        "create_return",
        "receive_return",
        "refund_return",
        "set_sourcing_policy",
        "add_promotion_codes",  # a given code belongs to another promotion
        "redeem_cart",  # a code, a usage limit or a budget ran out
        "approve_ad_action",  # already decided, or its object changed since the rule asked
        "reject_ad_action",
        "resolve_ad_drift",  # no drift to resolve
        "retry_ad_dead_letter",  # not a dead letter
        "accept_planning_suggestion",  # already decided, received or superseded
        "reject_planning_suggestion",
        "receive_planning_suggestion",  # not accepted
    }
)
# 404 beyond the path lookups: a code named in the body or the query does not exist.
REFERENCE_LOOKUPS = frozenset(
    {
        "sku_availability",
        "query_availability",
        "list_positions",
        "create_location_group",
        "create_reservation",
        "record_count",
        "capture_order",
        "plan_wave",
        "receive_return",
        "get_demand_history",  # the location, or the SKU's position there
        "get_demand_forecast",
        "get_country_demand_forecast",  # the SKU's positions in the country
    }
)
READS = frozenset({"get", "head", "options"})

TEXT_RESPONSES = {"metrics": "text/plain", "export_audit_entries": "text/csv"}  # Prometheus exposition; CSV

STATUS_DESCRIPTIONS = {
    400: "a Host that is not allowed, a NUL in the URL, or a body that is not well-formed JSON",
    401: "no valid credentials",
    403: "the credentials do not allow this operation on this data",
    404: "a record named in the path, the query or the body does not exist",
    409: "the current state does not allow the command",
    413: "the body is over the configured size or batch limit",
    415: "the body is not in a supported content type",
    422: "the request is not valid; ``errors`` lists each field and reason",
    429: "too many requests for these credentials; retry later",
}

FIELD_ERROR: dict[str, Any] = {
    "type": "object",
    "description": "one reason a row or field was refused",
    "properties": {
        "row": {
            "anyOf": [{"type": "integer"}, {"type": "null"}],
            "description": "1-based row within a batch or file; null for a single object",
        },
        "field": {"type": "string", "description": "dotted path of the field; empty for the whole row or body"},
        "reason": {"type": "string"},
    },
    "required": ["row", "field", "reason"],
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "an RFC 9457 problem: every error Keel sends has this shape",
    "properties": {
        "type": {
            "type": "string",
            "description": "a URI naming the kind of problem",
            "examples": ["https://keel.dev/problems/not-found"],
        },
        "title": {"type": "string", "description": "the kind of problem, the same for every occurrence"},
        "status": {"type": "integer", "description": "the HTTP status code"},
        "detail": {"type": "string", "description": "what went wrong in this occurrence"},
        "instance": {"type": "string", "description": "a URI of this occurrence, when there is one"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
        "available": {"type": "integer", "description": "insufficient-stock of a reservation: units available"},
        "skus": {
            "type": "array",
            "items": {"type": "string"},
            "description": "insufficient-stock of an order capture: the SKUs that ran out",
        },
    },
    "required": ["type", "title", "status", "detail"],
}

VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "allOf": [{"$ref": "#/components/schemas/Problem"}],
    "description": "a 422 problem: ``errors`` lists every refused field (``row`` is null outside batches)",
    "required": ["errors"],
}


def error_statuses(operation_id: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses ``operation`` can answer, by the rules above and the HTTP guard's
    (``keel.platform.http``): 400 for any request (a Host not allowed, a NUL in the URL, a body that is not
    JSON or nested too deep); on writes, 403 from another site, 413 over the body limit, 415 for a body that
    is not JSON."""
    params = operation.get("parameters", [])
    has_body = "requestBody" in operation
    statuses: set[int] = {400}
    if any(p.get("in") == "path" for p in params) or operation_id in REFERENCE_LOOKUPS:
        statuses.add(404)
    if operation_id in CONFLICTS:
        statuses.add(409)
    if method not in READS:
        statuses.update((403, 413, 415))
    if params or has_body:
        statuses.add(422)
    if operation_id not in PUBLIC_OPERATIONS:
        statuses.update(AUTH_STATUSES)
    return sorted(statuses)


def _problem_response(status: int) -> dict[str, Any]:
    schema = "ValidationProblem" if status == 422 else "Problem"
    return {
        "description": STATUS_DESCRIPTIONS[status],
        "content": {PROBLEM: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def correct(document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite FastAPI's generated ``document`` in place so its errors match what Keel sends; returns it."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(FieldError=FIELD_ERROR, Problem=PROBLEM_SCHEMA, ValidationProblem=VALIDATION_PROBLEM_SCHEMA)
    document["components"]["securitySchemes"] = {BEARER: BEARER_SCHEME}
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            operation_id = operation["operationId"]
            responses = operation.setdefault("responses", {})
            for code in [c for c in responses if not c.startswith("2")]:
                # a router's own description (e.g. why a 404 happens) is kept; its schema is replaced
                described = responses.pop(code).get("description")
                responses[code] = _problem_response(int(code))
                if described and int(code) != 422:
                    responses[code]["description"] = described
            for status in error_statuses(operation_id, method, operation):
                responses.setdefault(str(status), _problem_response(status))
            operation["responses"] = dict(sorted(responses.items()))
            if operation_id not in PUBLIC_OPERATIONS:
                operation["security"] = [{BEARER: []}]
            if operation_id in TEXT_RESPONSES:
                ok = operation["responses"]["200"]
                ok["content"] = {TEXT_RESPONSES[operation_id]: {"schema": {"type": "string"}}}
    return document


def truthful_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """An ``app.openapi`` replacement: FastAPI's document, corrected once and cached like FastAPI's own."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            generated = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = correct(generated)
        return app.openapi_schema

    return openapi
