"""The media action log and savings pages: every decision of the rules (and of people) with its reason and
numbers, the changes waiting for approval with approve/reject buttons, the objects a person changed on their
platform (drift) with "keep Keel's" / "keep the platform's" buttons; and what the rules saved and cost, day by
day on a chart per currency and by rule, campaign, channel and region.

The buttons are POST forms carrying the session's CSRF token; each redirects (303) back to the log with a
notice, so a reload repeats nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from keel.access import Identity
from keel.deps import KeelDep
from keel.media import Figures, Groups, Level, Savings
from keel.platform.clock import utcnow
from keel.platform.errors import NotFound
from keel.platform.money import plain
from keel.web import params
from keel.web.login import csrf_ok
from keel.web.media import ACTION_WORDS, MEDIA, can, state_words, window, window_words
from keel.web.params import PAGE_SIZES, Pager
from keel.web.pricing import money
from keel.web.render import PageRoute, error_page, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
ACTIONS = MEDIA + "/actions"
DECIDE = ACTIONS + "/{action_id}/{decision}"
DRIFT = MEDIA + "/drift/{level}/{code}/{keep}"
SAVINGS = MEDIA + "/savings"
MODES = ("applied", "approval", "approved", "rejected", "dry_run", "drift", "manual")
DECISIONS = {"approve": True, "reject": False}
KEEPS = {"keel": "Keel's state kept: it is sent to the platform again.", "platform": "The platform's state kept."}
DAYS = (7, 14, 28)
MAX_DAYS = 93
DRIFT_SHOWN = 50
SERIES = (("wasted_spend", "Wasted spend", "#d92d20"), ("avoided_spend", "Avoided spend", "#0e9384"),
          ("missed_sales", "Missed sales (estimate)", "#f79009"))  # fmt: skip
FormField = Annotated[str | None, Form()]


# -- the action log -------------------------------------------------------------------------------------------
@router.get(ACTIONS)
def actions_page(
    request: Request,
    keel: KeelDep,
    rule: str | None = None,
    mode: str | None = None,
    account: str | None = None,
    code: str | None = None,
    done: str | None = None,
    action: str | None = None,
    page: str | None = None,
    size: str | None = None,
) -> Response:
    accounts = {a.code: a for a in keel.media.setup.accounts()}
    shown = {
        "rule": params.text(rule, "rule"),
        "mode": params.choice(mode, "mode", set(MODES)),
        "account": params.choice(account, "account", set(accounts)),
        "code": params.text(code, "code"),
    }
    pager = Pager.parse(page, size)
    rows, total = keel.media.actions(**shown, limit=pager.size, offset=pager.offset)
    drifted, drift_total = keel.media.states(shown["account"], "drift", DRIFT_SHOWN, 0)
    waiting = keel.media.actions(mode="approval", account=shown["account"], limit=1)[1]
    currency = {c: a.currency for c, a in accounts.items()}
    context = {
        "title": "Media actions",
        "tab": "actions",
        "rows": rows,
        "shown": shown,
        "filtered": any(shown.values()),
        "pager": pager.with_total(total),
        "rules": sorted({r.name for r in keel.media.rules()} | ({shown["rule"]} if shown["rule"] else set())),
        "modes": MODES,
        "accounts": sorted(accounts),
        "currency": currency,
        "drifted": drifted,
        "drift_total": drift_total,
        "open_drift": {(r.level.value, r.code) for r in drifted},
        "waiting": waiting,
        "notice": _notice(done, action),
        "can_decide": can(request, "POST", DECIDE),
        "can_resolve": can(request, "POST", DRIFT),
        "state_words": state_words,
        **ACTION_WORDS,
        "now": utcnow(),
    }
    return render(request, "media_actions.html", context)


def _notice(done: str | None, subject: str | None) -> str | None:
    word = params.choice(done, "done", {"approved", "rejected", "keel", "platform"})
    if word is None:
        return None
    what = params.text(subject, "action") or ""
    if word in KEEPS:
        return f"Drift on {what} resolved. {KEEPS[word]}"
    applied = " Its change is applied and on its way to the platform." if word == "approved" else ""
    return f"Action {what} {word}.{applied}"


@router.post(DECIDE)
def decide(request: Request, keel: KeelDep, action_id: str, decision: str, csrf: FormField = None) -> Response:
    """Approve or reject an action waiting for a person, then back to the log with a notice."""
    if decision not in DECISIONS:
        raise NotFound(f"There is no decision {decision!r}: approve or reject.")
    number = params.integer(action_id, "action", default=0, low=1, high=10**15)
    if not csrf_ok(request, csrf):
        return error_page(request, 403, "Refused", "Decide on an action from Keel's own media actions page.")
    identity: Identity | None = request.scope.get("state", {}).get("identity")
    done = keel.media.decide(number, DECISIONS[decision], identity.name if identity else "operator")
    query = urlencode({"done": done.mode, "action": str(done.id)})
    return RedirectResponse(f"{ACTIONS}?{query}", status_code=303)


@router.post(DRIFT)
def resolve(request: Request, keel: KeelDep, level: str, code: str, keep: str, csrf: FormField = None) -> Response:
    """End a drift by keeping Keel's state or the platform's, then back to the log with a notice."""
    if keep not in KEEPS or level not in {lv.value for lv in Level}:
        raise NotFound("Resolve a drift at /ui/media/drift/{campaign|ad_group|ad}/{code}/{keel|platform}.")
    if not csrf_ok(request, csrf):
        return error_page(request, 403, "Refused", "Resolve drift from Keel's own media actions page.")
    keel.media.resolve(Level(level), code, keep)
    query = urlencode({"done": keep, "action": f"{level.replace('_', ' ')} {code}"})
    return RedirectResponse(f"{ACTIONS}?{query}#drift", status_code=303)


# -- savings --------------------------------------------------------------------------------------------------
def _day(raw: str | None, field: str) -> date | None:
    value = params.text(raw, field)
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise params.BadQuery(field, f"a date such as 2026-05-04, got {value[:20]!r}") from None
    if not 2000 <= day.year <= 2999:  # a typo, and near the calendar's ends a day's arithmetic overflows
        raise params.BadQuery(field, "a date from 2000 to 2999")
    return day


def _window(days: str | None, start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The window asked for: ``start`` to ``end`` (UTC days, both included, up to now at most), else the last
    ``days`` days."""
    first, last = _day(start, "start"), _day(end, "end")
    if first is None and last is None:
        return window(params.integer(days, "days", default=DAYS[0], low=1, high=MAX_DAYS), now)
    hour = now.astimezone(UTC)
    last = last or hour.date()
    first = first or last - timedelta(days=DAYS[0] - 1)
    if last < first:
        raise params.BadQuery("end", f"on or after the start ({first})")
    if (last - first).days + 1 > MAX_DAYS:
        raise params.BadQuery("start", f"a window of at most {MAX_DAYS} days")
    since = datetime.combine(first, time(0), tzinfo=UTC)
    until = min(datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC), hour)
    if until <= since:
        raise params.BadQuery("start", f"a day up to today ({hour:%Y-%m-%d} UTC)")
    return since, until


def _chart(currency: str, days: list[tuple[date, Savings]]) -> dict[str, Any]:
    """One currency's daily figures as a grouped bar chart (major units: what the axis reads)."""
    empty = Figures(currency)
    x = [d.isoformat() for d, _ in days]
    data = []
    for key, name, colour in SERIES:
        ys = [float(plain(getattr(s.total.get(currency, empty), key), currency)) for _, s in days]
        data.append({"type": "bar", "name": name, "x": x, "y": ys, "marker": {"color": colour}})
    return {
        "id": f"chart-savings-{currency}",
        "data": data,
        "layout": {
            "barmode": "group",
            "height": 320,
            "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
            "yaxis": {"title": {"text": currency}, "rangemode": "tozero"},
            "xaxis": {"type": "category"},
            "legend": {"orientation": "h", "y": 1.1, "x": 1, "xanchor": "right"},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def _biggest(groups: Groups, size: int) -> tuple[list[tuple[tuple[str, str], Figures]], int]:
    """The ``size`` groups with the most money at stake (wasted, avoided and missed: one row is one
    currency, so its figures add), and how many there are."""
    ranked = sorted(groups.items(), key=lambda kv: (-(kv[1].wasted_spend + kv[1].avoided_spend + kv[1].missed_sales),
                                                     kv[0]))  # fmt: skip
    return ranked[:size], len(ranked)


@router.get(SAVINGS)
def savings_page(
    request: Request,
    keel: KeelDep,
    days: str | None = None,
    start: str | None = None,
    end: str | None = None,
    size: str | None = None,
) -> Response:
    rows = params.integer(size, "size", default=25, low=1, high=PAGE_SIZES[-1])
    now = utcnow()
    since, until = _window(days, start, end, now)
    whole = keel.media.savings(since, until)
    by_day = keel.media.savings_by_day(since, until)
    currencies = sorted(whole.total)
    picked = params.integer(days, "days", default=DAYS[0], low=1, high=MAX_DAYS) if not (start or end) else None
    context = {
        "title": "Media savings",
        "tab": "savings",
        "total": sorted(whole.total.items()),
        "groups": [
            (key, heading, *_biggest(groups, rows))
            for key, heading, groups in (
                ("rule", "By rule", whole.by_rule),
                ("campaign", "By campaign", whole.by_campaign),
                ("channel", "By channel", whole.by_channel),
                ("region", "By region", whole.by_region),
            )
        ],
        "size": rows,
        "charts": [_chart(c, by_day) for c in currencies],
        "currencies": currencies,
        "window": window_words(since, until),
        "since": since.date(),
        "last": (until - timedelta(hours=1)).date(),
        "days": picked,
        "day_choices": DAYS,
        "money": money,
        "now": now,
    }
    return render(request, "media_savings.html", context)
