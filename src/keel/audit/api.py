"""HTTP adapters of the audit log: the middleware that records every write request, and the read routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keel.audit.model import AuditQuery, NewAuditEntry
from keel.deps import KeelDep
from keel.platform.actor import Actor, current_actor

router = APIRouter(tags=["audit"])
READS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuditMiddleware:
    """Records one audit entry per write request (any method but GET, HEAD, OPTIONS), refused ones included.

    It gives the request an id and an anonymous actor with the client's address before anything runs; the
    authentication layer replaces ``scope["state"]["actor"]`` (and the context variable) with the identity it
    resolves, so the events the request appends carry that identity and request id. The entry is written
    before the response starts: a client that saw its write acknowledged can count on the entry existing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        path: str = scope["path"]
        actor = Actor(
            "anonymous",
            "anonymous",
            "web" if path == "/ui" or path.startswith("/ui/") else "api",
            client[0] if client else None,
            uuid.uuid4().hex,
        )
        state = scope.setdefault("state", {})
        state["actor"] = actor

        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                await run_in_threadpool(self._record, scope, message["status"])
            await send(message)

        token = current_actor.set(actor)
        try:
            await self.app(scope, receive, send_recorded)
        finally:
            current_actor.reset(token)

    @staticmethod
    def _record(scope: Scope, status: int) -> None:
        actor: Actor = scope["state"]["actor"]
        route = scope.get("route")
        action = getattr(route, "operation_id", None) or getattr(route, "name", None) or "unmatched"
        query = scope.get("query_string", b"").decode("latin-1")
        target = scope["path"] + (f"?{query}" if query else "")
        entry = NewAuditEntry(
            actor.identity_id, actor.name, actor.via, actor.address, action, scope["method"], target, status,
            actor.request_id or "",
        )  # fmt: skip
        scope["app"].state.keel.audit.record(entry)


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    actor_name: str
    via: str
    address: str | None
    action: str
    method: str
    target: str
    status: int
    request_id: str


class AuditPagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    items: list[AuditEntryPublic]
    next_after: int | None


class LinkedEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    type: str
    subject: str
    data: dict[str, Any]
    occurred_at: datetime


class AuditTrailPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    entry: AuditEntryPublic
    events: list[LinkedEventPublic]


def audit_query(
    actor: Annotated[str | None, Query(max_length=200, description="identity id")] = None,
    via: Annotated[str | None, Query(pattern="^(api|web|cli|worker|automation|system)$")] = None,
    action: Annotated[str | None, Query(max_length=200, description="operation id, page or command")] = None,
    since: Annotated[datetime | None, Query(description="at or after this instant")] = None,
    until: Annotated[datetime | None, Query(description="before this instant")] = None,
    failed: Annotated[bool | None, Query(description="true: refused or failed (status >= 400) only")] = None,
    after: Annotated[int | None, Query(ge=1, le=2**62, description="the previous page's next_after")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditQuery:
    """The filters of an audit read, from the query string."""
    return AuditQuery(actor, via, action, since, until, failed, after, limit)


QueryDep = Annotated[AuditQuery, Depends(audit_query)]


@router.get("/audit", response_model=AuditPagePublic, operation_id="list_audit_entries", summary="Read the audit log")
def list_audit_entries(keel: KeelDep, query: QueryDep) -> AuditPagePublic:
    """Write attempts (API, pages, CLI, worker), newest first, with who, through what, the target and the status;
    filtered by actor, way in (``via``), action, time and failure. Page with ``after`` = the previous page's
    ``next_after``.

    Refuses malformed filters (422) and callers without ``audit.read``. Idempotent: a read, it changes nothing.
    """
    return AuditPagePublic.model_validate(keel.audit.entries(query))


@router.get(
    "/audit/export.csv",
    operation_id="export_audit_entries",
    summary="Export the audit log as CSV",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "header row, then one row per entry"}},
)
def export_audit_entries(keel: KeelDep, query: QueryDep) -> StreamingResponse:
    """Every entry matching the filters (``limit`` is ignored), newest first, as CSV: a header row, then one row per
    entry, streamed a page at a time.

    Refuses malformed filters (422) and callers without ``audit.read``. Idempotent: a read, it changes nothing.
    """
    headers = {"Content-Disposition": 'attachment; filename="keel-audit.csv"'}
    return StreamingResponse(keel.audit.export_csv(query), media_type="text/csv", headers=headers)


@router.get("/audit/{seq}", response_model=AuditTrailPublic, operation_id="get_audit_entry", summary="One audit entry")
def get_audit_entry(seq: Annotated[int, Path(ge=1, le=2**62)], keel: KeelDep) -> AuditTrailPublic:
    """One entry and the events its request or command appended: ledger movements, order events and others.

    Refuses an unknown sequence number (404). Idempotent: a read, it changes nothing.
    """
    return AuditTrailPublic.model_validate(keel.audit.trail(seq))
