"""Promotion pages of the control tower: every promotion with what it gives, to whom, how it stacks, its uses
and spend, on an eight-week calendar (bars over each validity window, drawn on the server); one promotion with
its document, counters and coupon codes; and a cart simulator that evaluates a cart exactly as the cart API
does (``keel.promotions.evaluate``: it counts nothing) and shows every line, discount, tax and reason.

The simulator is a GET form: an evaluation changes nothing, so it needs no CSRF token and its URL can be
shared ("this cart, these codes, this price") like any filtered page."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from keel.access import ROUTES, Identity
from keel.deps import KeelDep
from keel.platform.clock import utcnow
from keel.platform.errors import FieldError, ValidationFailed
from keel.pricing import PromotionView, wording
from keel.web import params
from keel.web.params import Pager
from keel.web.pricing import PRICING, money
from keel.web.render import PageRoute, page_scope, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PROMOTIONS = f"{PRICING}/promotions"
CART = f"{PRICING}/cart"
STATUSES = ("live", "scheduled", "ended", "off")
WEEKS = 8
MAX_LINES_TEXT = 20_000  # characters of the simulator's lines box: 200 lines of long SKUs
LINE_RE = re.compile(r"^(\S+?)(?:[\s,;]+(\S+))?$")


# -- the calendar ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bar:
    """One promotion's row on the calendar: where its window falls, in per cent of the calendar's width."""

    view: PromotionView
    left: float
    width: float
    open_start: bool  # it began before the calendar (or has no start)
    open_end: bool  # it runs past the calendar (or has no end)
    outside: str | None  # "before" or "after" when its window misses the calendar


@dataclass(frozen=True)
class Calendar:
    start: date
    end: date  # exclusive
    weeks: list[tuple[date, float]]  # each Monday and its offset in per cent
    today: float | None
    bars: list[Bar]
    earlier: date
    later: date


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def calendar(views: list[PromotionView], start: date, now: datetime) -> Calendar:
    """``WEEKS`` weeks from ``start`` (a Monday), one row per promotion ordered by when it starts."""
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    last = first + timedelta(weeks=WEEKS)
    span = (last - first).total_seconds()

    def at(moment: datetime) -> float:
        return round(100 * min(max((moment - first).total_seconds(), 0), span) / span, 3)

    bars = []
    for v in sorted(
        views, key=lambda v: (v.promotion.valid_from is not None, v.promotion.valid_from or first, v.promotion.code)
    ):
        p = v.promotion
        begin, end = p.valid_from or first - timedelta(seconds=1), p.valid_to or last + timedelta(seconds=1)
        outside = "before" if end <= first else "after" if begin >= last else None
        left = at(begin)
        bars.append(Bar(v, left, max(at(end) - left, 0.4), begin < first, end > last, outside))
    weeks = [(start + timedelta(weeks=i), round(100 * i / WEEKS, 3)) for i in range(WEEKS)]
    today = at(now) if first <= now < last else None
    return Calendar(start, start + timedelta(weeks=WEEKS), weeks, today, bars, start - timedelta(weeks=4),
                    start + timedelta(weeks=4))  # fmt: skip


def _start(raw: str | None, now: datetime) -> date:
    value = params.text(raw, "start")
    if value is None:
        return _monday(now.date()) - timedelta(weeks=1)  # last week for context, then seven ahead
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2200:  # a calendar's arithmetic stays far from year 1 and 9999
        raise params.BadQuery("start", f"a date from 2000 to 2200 such as 2026-05-04, got {value[:20]!r}")
    return _monday(day)


# -- the pages ------------------------------------------------------------------------------------------------
@router.get(PROMOTIONS)
def promotions_page(
    request: Request,
    keel: KeelDep,
    status: str | None = None,
    start: str | None = None,
    page: str | None = None,
    size: str | None = None,
) -> Response:
    shown = params.choice(status, "status", set(STATUSES))
    pager = Pager.parse(page, size)
    now = utcnow()
    first = _start(start, now)
    every, _ = keel.promotions.promotions(page_scope(request), limit=1_000_000)
    matching = [v for v in every if shown is None or v.status == shown]
    pager = pager.with_total(len(matching))
    rows = matching[pager.offset : pager.offset + pager.size]
    table = [_row(v) for v in rows]
    given = Counter[str]()
    for v in every:
        if v.promotion.currency is not None:
            given[v.promotion.currency] += v.spent
    context = {
        "title": "Promotions",
        "rows": table,
        "offers": {r["p"].code: r["offer"] for r in table},
        "counts": Counter(v.status for v in every),
        "total": len(every),
        "given": sorted(given.items()),
        "uses": sum(v.uses for v in every),
        "status": shown,
        "statuses": STATUSES,
        "pager": pager,
        "calendar": calendar(rows, first, now),
        "money": money,
        "now": now,
    }
    return render(request, "promotions.html", context)


def _row(v: PromotionView) -> dict[str, Any]:
    """What the tables show of a promotion, in words, with its spend against its budget."""
    p = v.promotion
    share = None if p.budget is None or p.budget <= 0 else min(v.spent / p.budget, 1.0)
    return {
        "v": v,
        "p": p,
        "offer": wording.offer(p),
        "audience": wording.audience(p),
        "stacking": wording.stacking(p),
        "spent": money(v.spent, p.currency) if p.currency else None,
        "budget": money(p.budget, p.currency) if p.currency and p.budget is not None else None,
        "share": share,
    }


@router.get(PROMOTIONS + "/{code}")
def promotion_page(
    request: Request, keel: KeelDep, code: str, page: str | None = None, size: str | None = None
) -> Response:
    pager = Pager.parse(page, size)
    found = keel.promotions.get(code, page_scope(request))  # NotFound: the 404 page
    # codes can be spent: shown to those who may read them through the API (pricing.write), counted for others
    identity: Identity | None = request.scope.get("state", {}).get("identity")
    shown = identity is None or identity.can(ROUTES[("GET", "/pricing/promotions/{code}/codes")].permission or "")
    coupons, total = keel.promotions.codes(code, pager.size, pager.offset) if found.promotion.coupon else ([], 0)
    if not shown:
        coupons = []
    context = {
        "codes_shown": shown,
        "title": f"Promotion {code}",
        "r": _row(found),
        "document": found.document,
        "coupons": coupons,
        "pager": pager.with_total(total),
        "money": money,
    }
    return render(request, "promotion.html", context)


@router.get(CART)
def cart_page(
    request: Request,
    keel: KeelDep,
    channel: str | None = None,
    country: str | None = None,
    lines: str | None = None,
    codes: str | None = None,
    customer: str | None = None,
    group: str | None = None,
    tier: str | None = None,
    shipping: str | None = None,
    at: str | None = None,
) -> Response:
    scope = page_scope(request)
    channels, _ = keel.channels.list(active=True, limit=10_000, scope=scope)
    markets = {c.code: [k for k in c.countries if scope.sees_country(k)] for c in channels}
    form = {
        "channel": params.text(channel, "channel") or next(iter(markets), None),
        "country": params.country(country),
        "lines": (lines or "").strip(),
        "codes": params.text(codes, "codes"),
        "customer": params.text(customer, "customer"),
        "group": params.text(group, "group"),
        "tier": params.text(tier, "tier"),
        "shipping": params.text(shipping, "shipping"),
        "at": params.text(at, "at"),
    }
    if form["country"] is None and form["channel"] in markets and markets[form["channel"]]:
        form["country"] = markets[form["channel"]][0]
    context: dict[str, Any] = {"title": "Cart simulator", "form": form, "markets": markets, "money": money}
    context |= {"view": None, "refusal": None, "errors": [], "document": None}
    if not form["lines"]:
        return render(request, "pricing_cart.html", context)
    try:
        document = _document(form)
        view = keel.promotions.evaluate(document, scope)
    except ValidationFailed as exc:
        context |= {"refusal": exc.detail, "errors": [_problem(e) for e in exc.errors]}
        return render(request, "pricing_cart.html", context, status=400)
    context |= {"view": view, "document": document}
    return render(request, "pricing_cart.html", context)


def _problem(e: FieldError) -> str:
    return f"line {e.row} {e.field}: {e.reason}" if e.row is not None else f"{e.field}: {e.reason}"


def _document(form: dict[str, Any]) -> dict[str, Any]:
    """The cart document the API takes, from the form: one "SKU quantity" a line (quantity 1 when left out),
    codes separated by spaces or commas, the moment in UTC when it has no offset."""
    text: str = form["lines"]
    if len(text) > MAX_LINES_TEXT:
        raise ValidationFailed("invalid cart", [FieldError(None, "lines", f"at most {MAX_LINES_TEXT:,} characters")])
    lines, errors = [], []
    for row, raw in enumerate((t.strip() for t in text.splitlines() if t.strip()), start=1):
        match = LINE_RE.fullmatch(raw)
        quantity = match.group(2) if match else None
        if match is None or (quantity is not None and not re.fullmatch(r"[0-9]{1,9}", quantity)):
            errors.append(FieldError(row, "lines", f"{raw[:60]!r}: a SKU, then a whole quantity (e.g. SKU-1 2)"))
            continue
        lines.append({"sku": match.group(1), "quantity": int(quantity or 1)})
    if errors:
        raise ValidationFailed("invalid cart", errors)
    document: dict[str, Any] = {"channel": form["channel"], "country": form["country"], "lines": lines}
    if form["codes"]:
        document["codes"] = [c for c in re.split(r"[\s,;]+", form["codes"]) if c]
    who = {k: form[f] for k, f in (("id", "customer"), ("group", "group"), ("loyalty_tier", "tier")) if form[f]}
    if who:
        document["customer"] = who
    if form["shipping"]:
        document["shipping"] = form["shipping"]
    if form["at"]:
        moment = form["at"]
        document["at"] = moment + ("" if re.search(r"(Z|[+-]\d\d:\d\d)$", moment) else "+00:00")
    return document
