"""The audit log in the control tower: write attempts newest first, filtered by path, outcome, identity and
action, and one entry with the events its request appended."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from keel.audit import AuditQuery
from keel.deps import KeelDep
from keel.platform.errors import NotFound
from keel.web import params
from keel.web.render import UI, PageRoute, error_page, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
VIAS = frozenset({"api", "web", "cli", "worker", "automation", "system"})
OUTCOMES = {"failed": True, "succeeded": False}
PAGE = 50


@router.get(f"{UI}/audit")
def audit_page(
    request: Request,
    keel: KeelDep,
    via: str | None = None,
    outcome: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    after: str | None = None,
) -> Response:
    filters = {
        "via": params.choice(via, "via", VIAS),
        "outcome": params.choice(outcome, "outcome", frozenset(OUTCOMES)),
        "actor": params.text(actor, "actor"),
        "action": params.text(action, "action"),
    }
    start = params.integer(after, "after", default=0, low=0, high=2**62) or None
    failed = OUTCOMES[filters["outcome"]] if filters["outcome"] else None
    found = keel.audit.entries(
        AuditQuery(filters["actor"], filters["via"], filters["action"], None, None, failed, start, PAGE)
    )
    return render(
        request,
        "audit.html",
        {
            "title": "Audit log",
            "entries": found.items,
            "next_after": found.next_after,
            "filters": filters,
            "filtered": any(filters.values()),
            "vias": sorted(VIAS),
            "outcomes": sorted(OUTCOMES),
            "paged": start is not None,
        },
    )


@router.get(UI + "/audit/{seq}")
def audit_entry_page(request: Request, keel: KeelDep, seq: str) -> Response:
    number = params.integer(seq, "seq", default=0, low=1, high=2**62)
    try:
        trail = keel.audit.trail(number)
    except NotFound as exc:
        return error_page(request, 404, "No such audit entry", exc.detail)
    return render(request, "audit_entry.html", {"title": f"Audit entry {number}", "trail": trail})
