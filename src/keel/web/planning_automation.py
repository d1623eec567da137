"""The planning automation page of the control tower: each country's rule (how often the worker re-plans and
what it may accept on its own), a form to change it and a button to run it now, and the log of every automatic
step with its reason: runs made or skipped, suggestions accepted or held and by which guardrail.

Buttons are POST forms with the session's CSRF token that redirect (303) back with a notice; a viewer without
planning.write sees no form (the route table decides, as everywhere)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from keel.deps import KeelDep
from keel.planning import AUTO_KINDS, Automation, AutomationReport
from keel.platform.clock import utcnow
from keel.platform.errors import ValidationFailed
from keel.platform.scope import OutOfScope
from keel.platform.vocabulary import LocationKind
from keel.web import params
from keel.web.login import csrf_ok
from keel.web.media import can
from keel.web.params import Pager
from keel.web.render import UI, PageRoute, error_page, page_scope, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
AUTOMATION = f"{UI}/planning/automation"
SAVE = AUTOMATION + "/rule"
RUN = AUTOMATION + "/run"
ACTIONS = ("planned", "skipped", "accepted", "held", "failed")
TONES = {"planned": "kind", "skipped": "off", "accepted": "ok", "held": "warn", "failed": "bad"}
FormField = Annotated[str | None, Form()]
FormList = Annotated[list[str] | None, Form()]


def describe(rule: Automation) -> str:
    """The rule in one sentence, as an operations manager would say it."""
    modes = " and ".join(m for m in ("replenish", "rebalance") if getattr(rule, m)) or "nothing"
    top = f" the top {rule.top:,} SKUs" if rule.top else " every SKU"
    accepts = (
        f"accepts {', '.join(rule.accept_kinds)} suggestions of at most {rule.max_units:,} units, up to "
        f"{rule.max_value_per_day:,.2f} of goods a day"
        if rule.accept_kinds
        else "accepts nothing on its own (suggests only)"
    )
    never = f"; never touches {', '.join(rule.excluded_locations)}" if rule.excluded_locations else ""
    return f"Every {rule.every_minutes:,} minutes: {modes}{top} whose stock moved; {accepts}{never}."


def _notice(report: str | None, accepted: str | None, held: str | None, saved: str | None) -> str | None:
    """The line a redirect leaves (numbers only from the URL, checked; the words are the page's own)."""
    if saved is not None:
        country = params.country(saved, "saved")
        return f"The automation rule of {country} is saved."
    if report is None:
        return None
    country = params.country(report, "ran")
    if accepted is None:
        return f"{country}: nothing moved since the last automatic run, so no new run was made."
    took = params.integer(accepted, "accepted", default=0, low=0, high=10**9)
    kept = params.integer(held, "held", default=0, low=0, high=10**9)
    return f"{country} re-planned: {took:,} suggestions accepted automatically, {kept:,} held for a person."


@router.get(AUTOMATION)
def automation_page(
    request: Request,
    keel: KeelDep,
    country: str | None = None,
    action: str | None = None,
    page: str | None = None,
    size: str | None = None,
    ran: str | None = None,
    accepted: str | None = None,
    held: str | None = None,
    saved: str | None = None,
) -> Response:
    scope = page_scope(request)
    shown = {"country": params.country(country), "action": params.choice(action, "action", set(ACTIONS))}
    pager = Pager.parse(page, size)
    items, total = keel.automation.actions(
        country=shown["country"], action=shown["action"], limit=pager.size, offset=pager.offset, scope=scope
    )
    states = keel.automation.states(scope)
    places, _ = keel.locations.list(limit=1_000_000, scope=scope)
    countries = sorted({p.country for p in places if p.active and p.kind != LocationKind.SUPPLIER})
    editing = shown["country"] or (states[0].rule.country if states else (countries[0] if countries else None))
    context: dict[str, Any] = {
        "title": "Planning automation",
        "states": states,
        "describe": describe,
        "rows": items,
        "pager": pager.with_total(total),
        "shown": shown,
        "actions": ACTIONS,
        "tones": TONES,
        "countries": countries,
        "editing": keel.automation.rule(editing, scope) if editing else None,
        "locations": sorted(p.code for p in places if p.country == editing and p.kind != LocationKind.SUPPLIER),
        "kinds": AUTO_KINDS,
        "notice": _notice(ran, accepted, held, saved),
        "can_write": can(request, "POST", SAVE),
        "now": utcnow(),
    }
    return render(request, "planning_automation.html", context)


def _rule_document(form: dict[str, Any]) -> dict[str, Any]:
    """The rule's JSON document from the form's fields (numbers checked; the service checks the rest)."""
    doc: dict[str, Any] = {
        "enabled": form["enabled"] == "on",
        "replenish": form["replenish"] == "on",
        "rebalance": form["rebalance"] == "on",
        "every_minutes": params.integer(form["every_minutes"], "every_minutes", default=1440, low=1, high=10_080),
        "max_units": params.integer(form["max_units"], "max_units", default=0, low=0, high=10_000_000),
        "accept_kinds": [k for k in form["accept_kinds"] or [] if k in AUTO_KINDS],
        "excluded_locations": sorted(c for c in form["excluded_locations"] or [] if c),
    }
    top = params.integer(form["top"], "top", default=0, low=0, high=100_000)
    doc["top"] = top or None
    value = params.text(form["max_value_per_day"], "max_value_per_day") or "0"
    try:
        doc["max_value_per_day"] = float(value.replace(",", ""))
    except ValueError:
        raise params.BadQuery("max_value_per_day", f"must be a number, got {value[:20]!r}") from None
    return doc


@router.post(SAVE)
def save_rule(
    request: Request,
    keel: KeelDep,
    country: FormField = None,
    enabled: FormField = None,
    replenish: FormField = None,
    rebalance: FormField = None,
    every_minutes: FormField = None,
    top: FormField = None,
    accept_kinds: FormList = None,
    max_units: FormField = None,
    max_value_per_day: FormField = None,
    excluded_locations: FormList = None,
    csrf: FormField = None,
) -> Response:
    """Replace a country's rule from the form, then back to the page with a notice."""
    checked = params.country(country)
    if checked is None:
        raise params.BadQuery("country", "is needed: the country whose rule this is")
    doc = _rule_document({
        "enabled": enabled, "replenish": replenish, "rebalance": rebalance, "every_minutes": every_minutes,
        "top": top, "accept_kinds": accept_kinds, "max_units": max_units, "max_value_per_day": max_value_per_day,
        "excluded_locations": excluded_locations,
    })  # fmt: skip
    if not csrf_ok(request, csrf):
        return error_page(request, 403, "Refused", "Change automation from Keel's own planning pages.")
    try:
        keel.automation.set_rule(checked, doc, page_scope(request))
    except ValidationFailed as exc:
        reasons = "; ".join(f"{e.field} {e.reason}" for e in exc.errors)
        return error_page(request, 422, "The rule was not saved", f"{reasons}. Nothing was changed.")
    except OutOfScope as exc:
        return error_page(request, 403, "Refused", str(exc))
    return RedirectResponse(f"{AUTOMATION}?{urlencode({'country': checked, 'saved': checked})}", status_code=303)


@router.post(RUN)
def run_now(request: Request, keel: KeelDep, country: FormField = None, csrf: FormField = None) -> Response:
    """Run a country's rule now (it forecasts: seconds), then back to the page with what it did."""
    checked = params.country(country)
    if checked is None:
        raise params.BadQuery("country", "is needed: the country to re-plan")
    if not csrf_ok(request, csrf):
        return error_page(request, 403, "Refused", "Run automation from Keel's own planning pages.")
    try:
        report: AutomationReport = keel.automation.run(checked, trigger="manual", scope=page_scope(request))
    except ValidationFailed as exc:
        reasons = "; ".join(f"{e.field} {e.reason}" for e in exc.errors)
        return error_page(request, 422, "Nothing was run", f"{reasons}.")
    except OutOfScope as exc:
        return error_page(request, 403, "Refused", str(exc))
    query: dict[str, Any] = {"country": checked, "ran": checked}
    if not report.skipped:
        query |= {"accepted": report.accepted, "held": report.held}
    return RedirectResponse(f"{AUTOMATION}?{urlencode(query)}", status_code=303)
