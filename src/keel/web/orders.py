"""Orders pages of the control tower: the list with fulfilment rates, one order with its timeline and the
routing explanation (candidates considered, why each was rejected, how the plans ranked), and waves
(preview the joint re-plan of allocated orders with a GET, apply it with a POST that redirects)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from keel.bootstrap import Keel
from keel.deps import KeelDep
from keel.orders import MAX_WAVE, ORDER_STATUSES, PlanWave, WaveReport
from keel.platform.errors import Conflict, NotFound, ValidationFailed
from keel.platform.scope import Scope
from keel.web import params
from keel.web.login import csrf_ok
from keel.web.params import Pager
from keel.web.render import UI, PageRoute, error_page, page_scope, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
STATUSES = frozenset(s.value for s in ORDER_STATUSES)


@router.get(f"{UI}/orders")
def orders_page(
    request: Request,
    keel: KeelDep,
    channel: str | None = None,
    status: str | None = None,
    country: str | None = None,
    since: str | None = None,
    page: str | None = None,
    size: str | None = None,
) -> Response:
    filters = {
        "channel": params.text(channel, "channel"),
        "status": params.choice(status, "status", STATUSES),
        "country": params.country(country),
        "since": params.text(since, "since"),
    }
    created_since = None
    if filters["since"]:
        try:
            created_since = datetime.fromisoformat(filters["since"])
        except ValueError:
            raise params.BadQuery("since", "must be a date such as 2026-05-01") from None
    pager = Pager.parse(page, size)
    scope = page_scope(request)
    found = keel.orders.reads.list(
        channel=filters["channel"],
        status=filters["status"],
        country=filters["country"],
        created_since=created_since,
        limit=pager.size,
        offset=pager.offset,
        scope=scope,
    )
    channels, _ = keel.channels.list(limit=10_000, scope=scope)
    return render(
        request,
        "orders.html",
        {
            "title": "Orders",
            "orders": found.items,
            "pager": pager.with_total(found.total),
            "filters": filters,
            "filtered": any(filters.values()),
            "metrics": keel.orders.reads.metrics(
                channel=filters["channel"], country=filters["country"], created_since=created_since, scope=scope
            ),
            "statuses": sorted(STATUSES),
            "channel_codes": [c.code for c in channels],
        },
    )


# -- waves (before /orders/{order_id}, which would take "waves" for an order id) ---------------------------
WAVES = f"{UI}/orders/waves"
FormField = Annotated[str | None, Form()]


def _wave_filters(keel: Keel, scope: Scope, country: str | None, channel: str | None, limit: str | None) -> PlanWave:
    """The wave form's values as a dry-run command, checked like any page's query string: a bad one is a
    400 page, an unknown channel a 404 page."""
    checked = params.country(country)
    number = params.integer(limit, "limit", default=200, low=1, high=MAX_WAVE)
    code = params.text(channel, "channel")
    if code:
        try:
            keel.channels.get(code, scope)
        except NotFound:
            raise NotFound(f"There is no channel {code!r}.") from None
    return PlanWave(country=checked, channel=code, limit=number)


def _wave(keel: Keel, scope: Scope, filters: PlanWave, *, apply: bool) -> WaveReport:
    """Run the wave (over the orders in ``scope``); a refusal of the service's own checks is shown like a bad
    value in the link."""
    try:
        return keel.orders.waves.plan(replace(filters, apply=apply), scope)
    except ValidationFailed as exc:
        first = exc.errors[0] if exc.errors else None
        raise params.BadQuery(first.field if first else "wave", first.reason if first else exc.detail) from None


def _waves_page(request: Request, keel: Keel, filters: PlanWave, status: int = 200, **extra: Any) -> Response:
    scope = page_scope(request)
    channels, _ = keel.channels.list(limit=10_000, scope=scope)
    context = {
        "title": "Waves",
        "filters": filters,
        "channel_codes": [c.code for c in channels],
        "countries": sorted({country for c in channels for country in c.countries if scope.sees_country(country)}),
        "max_wave": MAX_WAVE,
        "report": None,
        "moved": None,
        "conflict": None,
        **extra,
    }
    return render(request, "waves.html", context, status)


@router.get(WAVES)
def waves_page(
    request: Request,
    keel: KeelDep,
    country: str | None = None,
    channel: str | None = None,
    limit: str | None = None,
    preview: str | None = None,
    applied: str | None = None,
) -> Response:
    """The wave form; with ``preview`` the dry run's report (a GET never writes)."""
    scope = page_scope(request)
    filters = _wave_filters(keel, scope, country, channel, limit)
    moved = None
    if params.text(applied, "applied") is not None:
        moved = params.integer(applied, "applied", default=0, low=0, high=MAX_WAVE)
    report = _wave(keel, scope, filters, apply=False) if params.text(preview, "preview") else None
    return _waves_page(request, keel, filters, report=report, moved=moved)


@router.post(WAVES)
def apply_wave(
    request: Request,
    keel: KeelDep,
    country: FormField = None,
    channel: FormField = None,
    limit: FormField = None,
    csrf: FormField = None,
) -> Response:
    """Apply the wave, then redirect (303) to the form with ``applied=N`` so a reload does not apply again."""
    if not csrf_ok(request, csrf):
        return error_page(request, 403, "Refused", "Apply a wave from Keel's own waves page.")
    scope = page_scope(request)
    filters = _wave_filters(keel, scope, country, channel, limit)
    try:
        report = _wave(keel, scope, filters, apply=True)
    except Conflict as exc:
        return _waves_page(request, keel, filters, 409, conflict=exc.detail)
    shown = {"country": filters.country, "channel": filters.channel, "limit": filters.limit}
    query = {k: v for k, v in shown.items() if v is not None}
    return RedirectResponse(f"{WAVES}?{urlencode({**query, 'applied': report.orders_changed})}", status_code=303)


@router.get(UI + "/orders/{order_id}")
def order_page(request: Request, keel: KeelDep, order_id: str) -> Response:
    number = params.integer(order_id, "order", default=0, low=1, high=10**12)
    try:
        order = keel.orders.reads.get(number, page_scope(request))
    except NotFound:
        raise NotFound(f"There is no order {order_id}.") from None
    context = {"title": f"Order {order.id}", "order": order, "routes": order.routing, "live": order.live_shipments}
    return render(request, "order.html", context)
