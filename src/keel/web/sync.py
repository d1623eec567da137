"""Channel sync pages of the control tower: every configured channel with its backlog, dead letters, lag and
errors; one channel with its settings, the operator's actions (pause, resume, resync, retry dead letters:
POST forms that redirect back with a notice, so a reload repeats nothing) and its desired state, a page at a
time by key.

The figures are the engine's own (``SyncService.status``): health against the channel's thresholds (with
"projected" when the trend would cross one), the request metrics of the last 15 minutes and the seller
standards on the channel's orders; and drift read back from the channel with a button to check now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from keel.access import ROUTES, Identity
from keel.channels import MIN_ORDERS, ChannelSync, Health
from keel.deps import KeelDep
from keel.platform.clock import utcnow
from keel.platform.errors import NotFound
from keel.web import params
from keel.web.login import csrf_ok
from keel.web.render import UI, PageRoute, error_page, page_scope, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
SYNC = f"{UI}/sync"
ACT = SYNC + "/{code}/{action}"
REFRESH_SECONDS = 15
ITEM_STATES = ("dead", "pending", "synced", "all")
ITEM_SIZES = (25, 50, 100, 200)
# the page's action word -> the service's method, and the notice it leaves ({n}: rows or flags changed)
ACTIONS = {
    "pause": ("pause", "Paused: nothing is pushed until you resume; changes keep collecting.", "Already paused."),
    "resume": ("resume", "Resumed: the pump pushes what is owed on its next pass.", "It was not paused."),
    "resync": ("resync", "Resync started: {n} value{s} owed to the channel again.", "Nothing to resync."),
    "retry": ("retry_dead", "{n} dead letter{s} back in the queue for new attempts.", "There were no dead letters."),
    "drift": (
        "check_drift",
        "Drift check done: {n} value{s} differed from what Keel pushed; each is corrected (see below).",
        "Drift check done: no difference found (see the last check below).",
    ),
}
HEALTH_TONE = {"ok": "ok", "breach": "bad", "projected": "warn", "no data": "off"}
HEALTH_NAMES = {
    "lag_p99_s": "Lag p99",
    "error_rate": "Error rate",
    "backlog_age_s": "Backlog age",
    "cancellation_rate": "Cancellation rate",
    "late_shipment_rate": "Late shipment rate",
    "valid_tracking_rate": "Valid tracking rate",
    "on_time_delivery_rate": "On-time delivery rate",
    "order_defect_rate": "Order defect rate",
}
RATES = frozenset({"error_rate", *(m for m in HEALTH_NAMES if m.endswith("_rate"))})
DRIFT_SHOWN = UPDATES_SHOWN = 10
NONE = "\u2013"  # an en dash, as the templates show a missing figure
FormField = Annotated[str | None, Form()]


def _age(since: datetime | None, now: datetime) -> str | None:
    """A duration as an operator reads it (``3 min``, ``2 h 05 min``, ``4 d 3 h``); None without a start."""
    if since is None:
        return None
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 1:
        return "under 1 s"
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{days} d {hours % 24} h"


def _seconds(value: float | None) -> str | None:
    if value is None:
        return None
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:,.1f} s"


def _row(s: ChannelSync, now: datetime) -> dict[str, Any]:
    """One channel's figures, worded for the page."""
    if s.paused:
        state, tone = "paused", "off"
    elif s.retry_at is not None:
        state, tone = "waiting", "warn"
    else:
        state, tone = "live", "ok"
    order = ("breach", "projected", "ok", "no data")
    worst = min((h.status for h in s.health), key=order.index, default="no data")
    return {
        "s": s,
        "worst": worst,
        "worst_tone": HEALTH_TONE.get(worst, "off"),
        "breaches": ", ".join(HEALTH_NAMES.get(h.metric, h.metric) for h in s.health if h.status == worst),
        "health": [_health(h) for h in s.health if h.orders is None],
        "standards": [_health(h) for h in s.health if h.orders is not None],
        "state": state,
        "tone": tone,
        "wait": _age(now, s.retry_at) if s.retry_at is not None else None,  # how long until it may push again
        "oldest": _age(s.oldest_pending_at, now),
        "p50": _seconds(s.lag_p50_s),
        "p99": _seconds(s.lag_p99_s),
        "error_rate": s.errors / s.requests if s.requests else None,
    }


def _health(h: Health) -> dict[str, Any]:
    """One health metric, worded: a rate as a percentage, the others as durations; an order metric's window in
    days, its orders, and when its projection crosses."""

    def shown(v: float | None) -> str:
        if v is None:
            return NONE
        return f"{v:.1%}" if h.metric in RATES else (_seconds(v) or NONE)

    days = h.window_s / 86400
    return {
        "metric": h.metric,
        "name": HEALTH_NAMES.get(h.metric, h.metric),
        "value": shown(h.value),
        "threshold": f"{h.direction} {shown(h.threshold)}",
        "status": h.status,
        "tone": HEALTH_TONE.get(h.status, "off"),
        "projected": shown(h.projected),
        "when": None if h.projected_in_s is None else _span(h.projected_in_s),
        "window": f"{days:g} day{'' if days == 1 else 's'}",
        "orders": h.orders,
    }


def _span(seconds: float) -> str:
    """A span ahead, in days or hours (the seller standards' projections are days long)."""
    return f"{seconds / 86400:.1f} days" if seconds >= 86400 else f"{seconds / 3600:.0f} h"


def _can_act(request: Request) -> bool:
    """Whether the viewer may use the action buttons: decided by the route table, like the navigation (a
    button that only leads to a 403 page helps nobody)."""
    identity: Identity | None = request.scope.get("state", {}).get("identity")
    return identity is None or identity.can(ROUTES[("POST", ACT)].permission or "")


def _refresh(raw: str | None) -> int:
    return params.integer(raw, "refresh", default=REFRESH_SECONDS, low=0, high=3600)


@router.get(SYNC)
def sync_page(request: Request, keel: KeelDep, refresh: str | None = None) -> Response:
    every = _refresh(refresh)
    now = utcnow()
    rows = [_row(s, now) for s in keel.sync.status(page_scope(request))]
    totals = {
        "pending": sum(r["s"].pending for r in rows),
        "dead": sum(r["s"].dead for r in rows),
        "errors": sum(r["s"].errors for r in rows),
        "requests": sum(r["s"].requests for r in rows),
        "paused": sum(1 for r in rows if r["s"].paused),
    }
    context = {"title": "Channel sync", "rows": rows, "totals": totals, "now": now, "refresh": every}
    return render(request, "sync.html", context)


def _after(raw: str | None) -> tuple[str, str] | None:
    """The ``after`` key of a page of items: ``SKU@COUNTRY`` of the previous page's last row."""
    value = params.text(raw, "after")
    if value is None:
        return None
    sku, _, country = value.rpartition("@")
    if not sku or not country:
        raise params.BadQuery("after", "must be SKU@COUNTRY, as the Next link gives it")
    return sku, country


@router.get(SYNC + "/{code}")
def channel_page(
    request: Request,
    keel: KeelDep,
    code: str,
    state: str | None = None,
    after: str | None = None,
    size: str | None = None,
    done: str | None = None,
    changed: str | None = None,
) -> Response:
    scope = page_scope(request)
    try:
        status = keel.sync.channel(code, scope)
    except NotFound:
        raise NotFound(
            f"Channel {code!r} has no sync configuration (or is not yours to see). Configure it with "
            f"`keel channels sync configure {code} settings.json` or PUT /sync/channels/{code}."
        ) from None
    # dead letters first: they are what an operator has to act on
    shown = params.choice(state, "state", frozenset(ITEM_STATES)) or ("dead" if status.dead else "all")
    rows = params.integer(size, "size", default=50, low=1, high=ITEM_SIZES[-1])
    key = _after(after)
    items = keel.sync.items(code, None if shown == "all" else shown, key, rows + 1, scope)
    more = len(items) > rows
    items = items[:rows]
    notice = None
    action = params.choice(done, "done", frozenset(ACTIONS))
    if action is not None:
        n = params.integer(changed, "changed", default=0, low=0, high=10**9)
        _, did, nothing = ACTIONS[action]
        notice = did.format(n=f"{n:,}", s="" if n == 1 else "s") if n else nothing
    now = utcnow()
    context = {
        "title": f"Sync of {code}",
        "row": _row(status, now),
        "items": items,
        "state": shown,
        "states": ITEM_STATES,
        "size": rows,
        "sizes": ITEM_SIZES,
        "after": key,
        "next_after": f"{items[-1].sku}@{items[-1].country}" if more else None,
        "notice": notice,
        "drift": keel.sync.drift_found(code, None, DRIFT_SHOWN, scope),
        # the order updates an operator must look at first: the dead letters, else the latest
        "updates": keel.sync.order_updates(code, "dead" if status.updates_dead else None, UPDATES_SHOWN, 0, scope)[0],
        "can_act": _can_act(request),
        "min_orders": MIN_ORDERS,
        "now": now,
    }
    return render(request, "sync_channel.html", context)


@router.post(ACT)
def channel_action(request: Request, keel: KeelDep, code: str, action: str, csrf: FormField = None) -> Response:
    """Run the action, then redirect (303) to the channel's page with a notice, so a reload repeats nothing."""
    if action not in ACTIONS:
        raise NotFound(f"There is no sync action {action!r}: pause, resume, resync, retry or drift.")
    if not csrf_ok(request, csrf):
        return error_page(request, 403, "Refused", "Act on a channel from Keel's own sync page.")
    method, _, _ = ACTIONS[action]
    try:
        done = getattr(keel.sync, method)(code, page_scope(request))
        changed = done.differences if action == "drift" else int(done)
    except NotFound:
        raise NotFound(f"Channel {code!r} has no sync configuration (or is not yours to see).") from None
    query = urlencode({"done": action, "changed": changed})
    return RedirectResponse(f"{SYNC}/{quote(code, safe='')}?{query}", status_code=303)
