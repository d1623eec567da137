"""Replenishment planning pages of the control tower (issue 15): the suggestions waiting for a decision, with
counts per kind and status and the latest planning runs; and one suggestion with its quantity written out as
arithmetic an operations manager can check by hand, and the last eight weeks of demand at its destination.

The buttons (accept, reject, receive, plan a country) are POST forms carrying the session's CSRF token; each
redirects (303) back to the page it came from with a notice, so a reload repeats nothing. A viewer without
planning.write sees no buttons (the route table decides, as everywhere)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from keel.access import Identity
from keel.bootstrap import Keel
from keel.deps import KeelDep
from keel.inventory import DemandSeries, Location
from keel.planning import Explanation, PlanReport, Status, Suggestion, SuggestionFilter
from keel.platform.clock import utcnow
from keel.platform.errors import NotFound
from keel.platform.scope import Scope
from keel.platform.vocabulary import LocationKind
from keel.web import params
from keel.web.login import csrf_ok
from keel.web.media import can
from keel.web.params import Pager
from keel.web.planning_automation import router as automation_pages
from keel.web.planning_charts import history_chart
from keel.web.planning_forecast import router as forecast_pages
from keel.web.render import UI, PageRoute, error_page, page_scope, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PLANNING = f"{UI}/planning"
SUGGESTION = PLANNING + "/suggestions/{suggestion_id}"
DECIDE = SUGGESTION + "/{decision}"
RUN = PLANNING + "/run"
KINDS = ("purchase", "transfer", "rebalance")
MODES = ("replenish", "rebalance")
STATUSES = tuple(s.value for s in Status)
EVERY_STATUS = "all"  # the status filter's "any": absent means the default, proposed
RUNS_SHOWN = 8
HISTORY_DAYS = 56
MAX_ID = 2**31 - 1  # an INTEGER column: a larger id is a bad link, not a database error
MAX_TOP = 100_000
NOTICE_KEYS = ("done", "suggestion", "run")
TONES = {"proposed": "warn", "accepted": "kind", "received": "ok", "rejected": "off", "superseded": "off"}
FormField = Annotated[str | None, Form()]


def _decisions(keel: Keel) -> dict[str, tuple[str, Callable[..., Suggestion]]]:
    """decision in the URL -> (the status it leads to, the use case)."""
    p = keel.planning
    return {"accept": ("accepted", p.accept), "reject": ("rejected", p.reject), "receive": ("received", p.receive)}


# -- words and numbers ----------------------------------------------------------------------------------------
def units(value: float, places: int = 1) -> str:
    """A quantity of units: whole numbers as they are, fractions (forecasts, safety stock) to ``places``."""
    return f"{value:,}" if isinstance(value, int) else f"{value:,.{places}f}"


def count(n: int, noun: str) -> str:
    """``n`` and the noun, plural when it is not 1 ("1 suggestion", "3 suggestions")."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def place_words(code: str, names: dict[str, Location]) -> str:
    """A location's code and name ("ST-DE-1 (Munich store)"), or just the code when it is not in view."""
    loc = names.get(code)
    return f"{code} ({loc.name})" if loc is not None and loc.name and loc.name != code else code


def headline(s: Suggestion) -> str:
    """What the suggestion does, in one line."""
    if s.kind == "rebalance":
        return f"Rebalance {s.quantity:,} \N{MULTIPLICATION SIGN} {s.sku} from {s.source} to {s.location}"
    if s.kind == "transfer":
        return f"Transfer {s.quantity:,} \N{MULTIPLICATION SIGN} {s.sku} from {s.source} to {s.location}"
    return f"Buy {s.quantity:,} \N{MULTIPLICATION SIGN} {s.sku} for {s.location}"


def moved_out(e: Explanation) -> int:
    """Units a DC's position already gives up to transfers planned in the same run (position = available +
    incoming - these), so the written-out sum adds up."""
    return e.available + e.incoming - e.position


def steps(s: Suggestion) -> list[tuple[str, str, str]]:
    """The order-up-to arithmetic as (step, how, result) rows, in the order an operations manager checks it:
    every number is the stored explanation's, so the page cannot disagree with the decision it shows."""
    e, times, ceil = s.explanation, "\N{MULTIPLICATION SIGN}", ("\N{LEFT CEILING}", "\N{RIGHT CEILING}")
    position = f"available + incoming = {e.available:,} + {e.incoming:,}"
    if moved_out(e):
        position += f" \N{MINUS SIGN} {moved_out(e):,} planned to move out to stores in this run"
    rows = [
        ("Protection period", "P = lead time + review period (until the next order can arrive), rounded up",
         f"{e.protection_days} days"),
        ("Forecast demand", f"D = the forecast units over those {e.protection_days} days "
         f"({units(e.forecast_units / max(e.protection_days, 1), 2)} a day)",
         f"{units(e.forecast_units, 2)} units"),
        ("Service level", f"{e.service_level:.1%} of cycles end without a stockout \N{RIGHTWARDS ARROW} z",
         f"z = {e.z:.3f}")
        if e.fill_rate is None
        else ("Fill rate", f"{e.fill_rate:.1%} of demand served from the shelf: the smallest z whose expected "
              "shortage a review cycle is at most the rest", f"z = {e.z:.3f}"),
        ("Uncertainty", "\N{GREEK SMALL LETTER SIGMA} of demand over P days, lead-time variation included",
         f"\N{GREEK SMALL LETTER SIGMA} = {units(e.sigma, 2)} units"),
        ("Safety stock", f"SS = z {times} \N{GREEK SMALL LETTER SIGMA} = {e.z:.3f} {times} {units(e.sigma, 2)}",
         f"{units(e.safety_stock, 2)} units"),
        ("Order-up-to level", f"S = {ceil[0]}D + SS{ceil[1]} = {ceil[0]}{units(e.forecast_units, 2)} + "
         f"{units(e.safety_stock, 2)}{ceil[1]}", f"{e.order_up_to:,} units"),
        ("Inventory position", position, f"{e.position:,} units"),
        ("Needed", f"S \N{MINUS SIGN} position = {e.order_up_to:,} \N{MINUS SIGN} {e.position:,}",
         f"{e.needed:,} units"),
    ]  # fmt: skip
    if e.lost_before is not None and e.lost_after is not None and e.value is not None:
        rows += [
            ("Expected lost sales", f"units demand is expected to exceed stock by over {e.protection_days} days, "
             "without and with this run's transfers here", f"{units(e.lost_before, 2)} \N{RIGHTWARDS ARROW} "
             f"{units(e.lost_after, 2)} units"),
            ("Value", "margin saved by this transfer less its fixed and per-unit cost (the country's currency)",
             f"{e.value:,.2f}"),
        ]  # fmt: skip
    # the notes (MOQ, packs, shelf capacity, a DC's spare stock) are listed under the table, once
    how = "= needed" if e.quantity == e.needed else f"needed {e.needed:,}, then the notes below"
    if s.kind == "rebalance" and e.quantity != e.needed:
        how = f"needed {e.needed:,}; as many as the source spares and are worth moving (the MILP's choice)"
    rows.append(("This suggestion", how, f"{s.quantity:,} units"))
    return rows


def summary(s: Suggestion, names: dict[str, Location]) -> str:
    """The arithmetic as one paragraph, for the reader who wants the gist before the table."""
    e = s.explanation
    where = place_words(s.location, names)
    act = f"transfer {s.quantity:,} from {place_words(s.source, names)}" if s.kind != "purchase" else (
        f"buy {s.quantity:,} from the supplier")  # fmt: skip
    if s.kind == "rebalance" and e.lost_before is not None and e.lost_after is not None:
        act += (f", which has stock to spare; expected lost sales fall from {units(e.lost_before)} to "
                f"{units(e.lost_after)} units")  # fmt: skip
    return (
        f"Keel expects {where} to need {units(e.forecast_units)} units of {s.sku} over the next "
        f"{e.protection_days} days. To end {e.service_level:.0%} of cycles without a stockout it keeps "
        f"{units(e.safety_stock)} units of safety stock, so stock should reach {e.order_up_to:,}. It has "
        f"{e.position:,} (available and incoming), so {e.needed:,} are needed: {act}."
    )


def writes(s: Suggestion) -> list[str]:
    """The ledger movements accepting and receiving write (or wrote), in words."""
    if s.kind != "purchase":
        accept = [f"transfer_out {s.quantity:,} at {s.source}", f"expected {s.quantity:,} at {s.location}"]
        arrive = f"transfer_in {s.quantity:,} at {s.location}"
    else:
        accept, arrive = [f"expected {s.quantity:,} at {s.location}"], f"received {s.quantity:,} at {s.location}"
    return [f"Accepting: {' and '.join(accept)}", f"Receiving: {arrive}, which settles the incoming quantity"]


def _places(keel: Keel, scope: Scope) -> dict[str, Location]:
    found, _ = keel.locations.list(limit=1_000_000, scope=scope)
    return {loc.code: loc for loc in found}


def _notice(keel: Keel, scope: Scope, done: str | None, subject: str | None, run: str | None) -> str | None:
    """The line a redirect after a button leaves on the page (built from what is stored, never from the URL's
    words, so a crafted link cannot make the page say anything)."""
    word = params.choice(done, "done", {"accepted", "rejected", "received", "planned"})
    if word == "planned":
        number = params.integer(run, "run", default=0, low=0, high=MAX_ID)
        report = next((r for r in keel.planning.runs(RUNS_SHOWN, scope) if r.run_id == number), None)
        if report is None:
            return None
        made = f"{count(report.purchases, 'purchase')}, {count(report.transfers, 'transfer')}" if (
            report.mode == "replenish") else count(report.transfers, "rebalancing transfer")  # fmt: skip
        label = "Planning" if report.mode == "replenish" else "Rebalancing"
        return (
            f"{label} run {report.run_id} done in {report.seconds:g} s: {report.series:,} SKU "
            f"\N{MULTIPLICATION SIGN} location series, {count(report.suggestions, 'suggestion')} ({made}); "
            f"{report.superseded:,} older proposal{'' if report.superseded == 1 else 's'} superseded."
        )
    if word is None:
        return None
    try:
        s = keel.planning.get(params.integer(subject, "suggestion", default=0, low=0, high=MAX_ID), scope)
    except NotFound:
        return None
    if word == "accepted":
        ledger = writes(s)[0].removeprefix("Accepting: ")
        return f"Suggestion {s.id} accepted ({headline(s)}): the ledger now has {ledger}."
    if word == "received":
        return f"Suggestion {s.id} received: {s.quantity:,} \N{MULTIPLICATION SIGN} {s.sku} arrived at {s.location}."
    return f"Suggestion {s.id} rejected: stock is untouched."


# -- the pages ------------------------------------------------------------------------------------------------
@router.get(PLANNING)
def planning_page(
    request: Request,
    keel: KeelDep,
    status: str | None = None,
    kind: str | None = None,
    location: str | None = None,
    sku: str | None = None,
    page: str | None = None,
    size: str | None = None,
    done: str | None = None,
    suggestion: str | None = None,
    run: str | None = None,
) -> Response:
    scope = page_scope(request)
    picked = params.choice(status, "status", {*STATUSES, EVERY_STATUS}) or Status.PROPOSED.value
    shown = {
        "status": picked,
        "kind": params.choice(kind, "kind", set(KINDS)),
        "location": params.text(location, "location"),
        "sku": params.text(sku, "sku"),
    }
    pager = Pager.parse(page, size)
    where = SuggestionFilter(
        None if picked == EVERY_STATUS else Status(picked), shown["kind"], shown["sku"], shown["location"]
    )
    rows, total = keel.planning.suggestions(where, limit=pager.size, offset=pager.offset, scope=scope)
    counts = keel.planning.counts(scope)
    places = _places(keel, scope)
    planned = sorted({loc.country for loc in places.values() if loc.active and loc.kind != LocationKind.SUPPLIER})
    context = {
        "title": "Replenishment planning",
        "rows": rows,
        "pager": pager.with_total(total),
        "shown": shown,
        "filtered": picked != Status.PROPOSED.value or any(v for k, v in shown.items() if k != "status"),
        "counts": counts,
        "any_suggestion": any(n for by_status in counts.values() for n in by_status.values()),
        "kinds": KINDS,
        "statuses": STATUSES,
        "every_status": EVERY_STATUS,
        "runs": keel.planning.runs(RUNS_SHOWN, scope),
        "places": places,
        "destinations": sorted(c for c, loc in places.items() if loc.kind != LocationKind.SUPPLIER),
        "countries": planned,
        "notice": _notice(keel, scope, done, suggestion, run),
        "can_decide": can(request, "POST", DECIDE),
        "can_plan": can(request, "POST", RUN),
        "tones": TONES,
        "units": units,
        "back": params.url_with(request, **dict.fromkeys(NOTICE_KEYS)),
        "now": utcnow(),
    }
    return render(request, "planning.html", context)


@router.get(SUGGESTION)
def suggestion_page(
    request: Request, keel: KeelDep, suggestion_id: str, done: str | None = None, suggestion: str | None = None
) -> Response:
    scope = page_scope(request)
    number = params.integer(suggestion_id, "suggestion", default=0, low=1, high=MAX_ID)
    try:
        s = keel.planning.get(number, scope)
    except NotFound:
        raise NotFound(f"There is no suggestion {suggestion_id}: it may be a link from another installation.") from None
    try:
        series: DemandSeries | None = keel.planning.history(s.sku, s.location, HISTORY_DAYS, scope)
    except NotFound:  # the destination was deactivated or lost its position since the run
        series = None
    places = _places(keel, scope)
    context = {
        "title": f"Suggestion {s.id}",
        "s": s,
        "e": s.explanation,
        "headline": headline(s),
        "summary": summary(s, places),
        "steps": steps(s),
        "writes": writes(s),
        "series": series,
        "stockout_days": sum(series.stockout) if series else 0,
        "sold": sum(series.units) if series else 0,
        "charts": [history_chart(series, s.explanation)] if series else [],
        "place_words": lambda code: place_words(code, places),
        "places": places,
        "notice": _notice(keel, scope, done, suggestion, None),
        "can_decide": can(request, "POST", DECIDE),
        "tones": TONES,
        "units": units,
        "back": request.url.path,
        "now": utcnow(),
    }
    return render(request, "planning_suggestion.html", context)


def _back(raw: str | None, extra: dict[str, str]) -> str:
    """Where a button's redirect goes: the planning page it was pressed on (with its filters), never another
    site or another section (no open redirect), with the notice's keys replaced."""
    target = urlsplit(raw or PLANNING)
    path = target.path
    if target.scheme or target.netloc or not (path == PLANNING or path.startswith(PLANNING + "/suggestions/")):
        path, query = PLANNING, []
    else:
        query = [(k, v) for k, v in parse_qsl(target.query) if k not in NOTICE_KEYS]
    return f"{path}?{urlencode([*query, *extra.items()])}"


@router.post(DECIDE)
def decide(
    request: Request, keel: KeelDep, suggestion_id: str, decision: str, csrf: FormField = None, back: FormField = None
) -> Response:
    """Accept, reject or receive a suggestion, then back to the page the button was on with a notice."""
    decisions = _decisions(keel)
    if decision not in decisions:
        raise NotFound(f"There is no decision {decision!r}: accept, reject or receive.")
    number = params.integer(suggestion_id, "suggestion", default=0, low=1, high=MAX_ID)
    if not csrf_ok(request, csrf):
        return error_page(request, 403, "Refused", "Decide on a suggestion from Keel's own planning pages.")
    identity: Identity | None = request.scope.get("state", {}).get("identity")
    word, use_case = decisions[decision]
    done = use_case(number, identity.name if identity else "operator", page_scope(request))
    return RedirectResponse(_back(back, {"done": word, "suggestion": str(done.id)}), status_code=303)


@router.post(RUN)
def plan_country(
    request: Request,
    keel: KeelDep,
    country: FormField = None,
    top: FormField = None,
    mode: FormField = None,
    csrf: FormField = None,
) -> Response:
    """Plan or rebalance one country now (every SKU, or its N best sellers), then back to the list with the
    run's figures. Takes seconds: the forecast runs in this request."""
    checked = params.country(country)
    if checked is None:
        raise params.BadQuery("country", "is needed: the country to plan")
    best = params.integer(top, "top", default=0, low=1, high=MAX_TOP) if params.text(top, "top") else None
    picked = params.choice(mode, "mode", set(MODES)) or "replenish"
    if not csrf_ok(request, csrf):
        return error_page(request, 403, "Refused", "Plan a country from Keel's own planning page.")
    start = keel.planning.plan if picked == "replenish" else keel.planning.rebalance
    report: PlanReport = start(country=checked, top=best, trigger="manual", scope=page_scope(request))
    query = urlencode({"done": "planned", "run": report.run_id})
    return RedirectResponse(f"{PLANNING}?{query}", status_code=303)


router.include_router(automation_pages)  # the automation and forecast pages live under /ui/planning too
router.include_router(forecast_pages)
