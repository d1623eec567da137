"""Media pages of the control tower (issue 16: ads that follow stock): every campaign with how its ads stand
on stock (out of stock, paused by rules) and what the outbox owes its platform, under a summary and the last
seven days' savings per currency; and one campaign with its ad groups and ads (SKUs, sellable units and
cover, Keel's state against the set one, the rules holding it, the outbox row) and its newest actions.

The action log, its approvals and drift, and the savings over time are in ``keel.web.media_log``. Money shows
in each account's currency; no figure adds two currencies."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from keel.access import ROUTES, Identity
from keel.deps import KeelDep
from keel.media import AdLine, Figures, StateRow, Status
from keel.platform.clock import utcnow
from keel.web import params
from keel.web.params import Pager
from keel.web.pricing import money
from keel.web.render import UI, PageRoute, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
MEDIA = f"{UI}/media"
CAMPAIGN = MEDIA + "/campaigns/{code}"
HEADLINE_DAYS = 7
STATUSES = frozenset(s.value for s in Status)
# the figures of an action's numbers that are money (minor units of the account's currency)
MONEY_NUMBERS = frozenset(
    {
        "set_budget", "budget_before", "budget_after", "moved_today", "day_cap", "min_budget", "approval_above",
        "moved", "set_bid", "bid_before", "bid_after", "spend_7d", "spend_7d_threshold",
    }
)  # fmt: skip
SHOWN_AS_CHANGE = frozenset({"budget_before", "budget_after", "bid_before", "bid_after"})  # the change column's
NUMBER_WORDS = {
    "sellable": "sellable",
    "sellable_threshold": "threshold",
    "cover_days": "cover (days)",
    "cover_days_threshold": "cover threshold (days)",
    "cover_below": "cover below (days)",
    "cover_above": "cover above (days)",
    "roas_7d": "ROAS 7 days",
    "acos_7d": "ACoS 7 days (%)",
    "spend_7d": "spend 7 days",
    "moved": "moved",
    "share_pct": "share (%)",
    "set_budget": "set budget",
    "budget_before": "budget before",
    "budget_after": "budget after",
    "moved_today": "moved today",
    "day_cap": "day cap",
    "min_budget": "minimum budget",
    "approval_above": "approval above",
    "budget_pct": "budget (%)",
    "set_bid": "set bid",
    "bid_before": "bid before",
    "bid_after": "bid after",
    "max_bid_factor": "max bid factor",
}


# -- shared by the media pages --------------------------------------------------------------------------------
def can(request: Request, method: str, path: str) -> bool:
    """Whether the viewer may use a form: decided by the route table (a button leading to 403 helps nobody)."""
    identity: Identity | None = request.scope.get("state", {}).get("identity")
    return identity is None or identity.can(ROUTES[(method, path)].permission or "")


def where(country: str, region: str | None, store: str | None, radius_km: float | None) -> str:
    """Where a campaign shows, in words."""
    if store is not None:
        return f"{country}, {radius_km:g} km around store {store}"
    return f"{country}, {region}" if region else country


def state_words(state: dict[str, Any] | None, currency: str) -> str:
    """A state document (status, bid, budget) in words, money in the account's currency."""
    if not state:
        return "\N{EN DASH}"
    if state.get("missing"):
        return "gone from the platform"
    words = [str(state.get("status", "?"))]
    if state.get("bid") is not None:
        words.append(f"bid {money(int(state['bid']), currency)}")
    if state.get("budget") is not None:
        words.append(f"budget {money(int(state['budget']), currency)} a day")
    return ", ".join(words)


def change_words(before: dict[str, Any], after: dict[str, Any], currency: str, mode: str = "applied") -> str:
    """What an action changes, in words: only the fields that differ (status, bid, budget a day). A drift
    entry and its resolution hold Keel's state and the platform's side by side, whichever was kept."""
    if after.get("missing"):
        return "gone from the platform"
    sides = mode in ("drift", "manual")
    parts = []
    for key in ("status", "bid", "budget"):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key == "status":
            shown = [str(old), str(new)]
        else:
            shown = [money(None if v is None else int(v), currency) for v in (old, new)]
        unit = " a day" if key == "budget" else ""
        if sides:
            parts.append(f"{key}: Keel's {shown[0]}, the platform's {shown[1]}{unit}")
        else:
            parts.append(f"{key} {shown[0]} \N{RIGHTWARDS ARROW} {shown[1]}{unit}".replace("status ", "", 1))
    return "; ".join(parts) or f"no change ({state_words(after, currency)})"


def numbers_words(numbers: dict[str, Any], currency: str) -> list[tuple[str, str]]:
    """An action's numbers as (label, value) pairs in a fixed order (a JSON column need not keep the recorded
    one); money with its currency, the rest as recorded."""
    order = {key: i for i, key in enumerate(NUMBER_WORDS)}
    out = []
    for key, value in sorted(numbers.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])):
        if key in SHOWN_AS_CHANGE:
            continue
        label = NUMBER_WORDS.get(key, key.replace("_", " "))
        if value is None:
            shown = "unknown" if key in ("cover_days", "roas_7d", "acos_7d") else "\N{EN DASH}"
        elif key in MONEY_NUMBERS and isinstance(value, int | float):
            shown = money(int(value), currency)
        elif isinstance(value, float):
            shown = f"{value:g}"
        else:
            shown = f"{value:,}" if isinstance(value, int) else str(value)
        out.append((label, shown))
    return out


def outbox_words(row: StateRow | None) -> tuple[str, str, str]:
    """(badge tone, word, detail) of an outbox row: drift, dead letter, owed or sent."""
    if row is None:
        return "off", "not mirrored", "Keel holds no state for it yet"
    if row.drift is not None:
        return "warn", "drift", "changed on the platform; waits for an operator to keep one state"
    if row.dead:
        return "bad", "dead letter", (row.error or "refused")[:200]
    if row.owed:
        tries = f", {row.attempts} attempt{'s' if row.attempts != 1 else ''}" if row.attempts else ""
        return "warn", "owed", f"version {row.version} not yet accepted (platform has {row.sent_version}{tries})"
    sent = f" on {row.sent_at:%Y-%m-%d %H:%M} UTC" if row.sent_at else ""
    return "ok", "sent", f"version {row.version} accepted{sent}"


def actor(rule: str | None, mode: str) -> str:
    """Who decided an action: its rule, else Keel's drift check or an operator."""
    return rule or ("Keel's drift check" if mode == "drift" else "an operator")


MODE_WORDS = {"approval": "waiting for approval", "dry_run": "dry run"}
MODE_TONES = {
    "applied": "ok",
    "approved": "ok",
    "approval": "warn",
    "rejected": "off",
    "dry_run": "kind",
    "drift": "warn",
}


ACTION_WORDS: dict[str, Any] = {
    "change_words": change_words,
    "numbers_words": numbers_words,
    "actor": actor,
    "mode_words": MODE_WORDS,
    "mode_tones": MODE_TONES,
}  # what the templates' action rows use


def _trouble(line: AdLine) -> bool:
    return (line.sellable is not None and line.sellable <= 0) or bool(line.state and line.state.held_by)


def window(days: int, now: datetime) -> tuple[datetime, datetime]:
    """``days`` UTC calendar days up to now: today (so far) and the ``days - 1`` before it."""
    until = now.astimezone(UTC)
    since = datetime.combine(until.date() - timedelta(days=days - 1), time(0), tzinfo=UTC)
    return since, max(until, since + timedelta(minutes=1))


def window_words(since: datetime, until: datetime) -> str:
    return f"{since.date()} 00:00 to {until:%Y-%m-%d %H:%M} UTC"


def figures_rows(total: dict[str, Figures]) -> list[tuple[str, Figures]]:
    return sorted(total.items())


# -- the pages ------------------------------------------------------------------------------------------------
@router.get(MEDIA)
def media_page(
    request: Request,
    keel: KeelDep,
    account: str | None = None,
    country: str | None = None,
    status: str | None = None,
    stock_outs: str | None = None,
    page: str | None = None,
    size: str | None = None,
) -> Response:
    accounts = keel.media.setup.accounts()
    chosen = params.choice(account, "account", {a.code for a in accounts})
    market, state = params.country(country), params.choice(status, "status", STATUSES)
    outs = bool(params.boolean(stock_outs, "stock_outs"))
    shown: dict[str, Any] = {"account": chosen, "country": market, "status": state, "stock_outs": outs}
    pager = Pager.parse(page, size)
    rows, total = keel.media.campaign_views(chosen, market, state, outs, pager.size, pager.offset)
    now = utcnow()
    since, until = window(HEADLINE_DAYS, now)
    saved = keel.media.savings(since, until)
    context = {
        "title": "Media campaigns",
        "tab": "campaigns",
        "rows": rows,
        "summary": keel.media.summary(),
        "accounts": accounts,
        "countries": keel.media.countries(),
        "statuses": sorted(STATUSES),
        "shown": shown,
        "filtered": any(shown.values()),
        "pager": pager.with_total(total),
        "savings": figures_rows(dict(saved.total)),
        "window": window_words(since, until),
        "days": HEADLINE_DAYS,
        "where": where,
        "money": money,
        "now": now,
    }
    return render(request, "media.html", context)


@router.get(CAMPAIGN)
def campaign_page(
    request: Request, keel: KeelDep, code: str, page: str | None = None, size: str | None = None
) -> Response:
    pager = Pager.parse(page, size)
    detail = keel.media.campaign_detail(code)  # NotFound: the 404 page
    view = detail.view
    # what needs a look first: ads out of stock or held paused by a rule
    ads = sorted(detail.ads, key=lambda a: (not _trouble(a), a.ad.code))
    context = {
        "ads": ads[pager.offset : pager.offset + pager.size],
        "pager": pager.with_total(len(ads)),
        "title": f"Campaign {view.code}",
        "tab": "campaigns",
        "d": detail,
        "v": view,
        "where": where,
        "money": money,
        "outbox_words": outbox_words,
        **ACTION_WORDS,
        "currency": view.currency,
        "now": utcnow(),
    }
    return render(request, "media_campaign.html", context)
