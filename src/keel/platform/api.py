"""HTTP plumbing shared by every context: problem responses and pagination parameters."""

from __future__ import annotations

import logging
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from keel.platform.errors import KeelError

PROBLEM = "application/problem+json"
logger = logging.getLogger("keel.api")
T = TypeVar("T")


Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="rows to skip")]  # 2**63 would overflow SQLite


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


def problem_response(status: int, title: str, detail: str, slug: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://keel.dev/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


async def keel_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KeelError)
    return JSONResponse(exc.problem(), status_code=exc.status, media_type=PROBLEM)


async def validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "row": None,
            "field": ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path")),
            "reason": e["msg"],
        }
        for e in exc.errors()
    ]
    return problem_response(422, "Validation failed", "the request is not valid", "validation", errors=errors)


async def http_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    response = problem_response(exc.status_code, str(exc.detail), str(exc.detail), "http")
    for name, value in (exc.headers or {}).items():  # a 405's Allow: the methods the path does answer
        response.headers[name] = with_head(value) if name.lower() == "allow" else value
    return response


def with_head(allow: str) -> str:
    """An ``Allow`` value with HEAD beside GET: every GET route answers HEAD (``keel.platform.head``)."""
    methods = [m.strip() for m in allow.split(",") if m.strip()]
    return ", ".join([*methods, "HEAD"]) if "GET" in methods and "HEAD" not in methods else allow


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A bug, not a client mistake: logged with its traceback, answered in the same problem shape."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "Internal error", "an unexpected error occurred; it has been logged", "internal")


async def integrity_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Two requests raced to create the same record: the loser gets a 409, as if it had come second."""
    return problem_response(409, "Conflict", "the request conflicts with a record created at the same time", "conflict")
