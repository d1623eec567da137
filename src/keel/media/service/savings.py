"""Savings and cost over a window: the ledger of what the rules did (intervals, budget actions) and the
performance rows, fed to the pure arithmetic of ``keel.media.model.savings``.

A performance row of a whole day (hour -1) is spread evenly over its 24 hours: the arithmetic is hourly.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from keel.media.model import Account, Campaign
from keel.media.model.savings import AdInfo, BudgetMove, HourRow, PauseSpan, Savings, Span, savings
from keel.media.store import log, objects, performance
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import single_field

MAX_WINDOW = timedelta(days=93)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # outside these, a date is a typo (and hours overflow near year 1)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)


def hour_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_ceiling(at: datetime) -> datetime:
    """The end of the hour ``at`` falls in (``at`` itself when it is a whole hour)."""
    floor = hour_floor(at)
    return floor if floor == at else floor + timedelta(hours=1)


def window(since: datetime, until: datetime) -> tuple[datetime, datetime, datetime]:
    """The whole hours a window covers and where it really ends: (first hour, end of the last hour, the end
    or now, if sooner); ``ValidationFailed`` for a window that is empty, too long or out of any calendar."""
    if not EARLIEST <= since <= LATEST:
        raise single_field("since", f"a moment from {EARLIEST.year} to {LATEST.year}")
    if not EARLIEST <= until <= LATEST:
        raise single_field("until", f"a moment from {EARLIEST.year} to {LATEST.year}")
    if until <= since:
        raise single_field("until", "after since")
    now = utcnow()
    if since >= now:
        raise single_field("since", "before now")
    until = min(until, now)  # nothing has happened after now: open stock-outs and pauses end here
    start, end = hour_floor(since), hour_ceiling(until)
    if end - start > MAX_WINDOW:
        raise single_field("since", f"a window of at most {MAX_WINDOW.days} days")
    return start, end, until


def compute(db: Database, since: datetime, until: datetime) -> Savings:
    """What rules saved and cost from ``since`` to ``until``: the hours from ``since``'s to the one ``until``
    falls in, whole (the current hour's rows count as the platform reported them so far), with stock-outs and
    pauses still open counted up to ``until`` (or now, if sooner), not to the end of its hour."""
    start, end, until = window(since, until)
    with db.read() as conn:
        accounts = {a.code: a for a in objects.accounts(conn)}
        campaigns = {c.code: c for c in objects.campaigns(conn)}
        ads = objects.ads(conn)
        rows = performance.hourly(conn, start.date().isoformat(), end.date().isoformat())
        spans = log.intervals(conn, start, end)
        budget_actions = log.budget_actions(conn, start - timedelta(days=7), end)
    info = []
    for ad, campaign in ads:
        c = campaigns[campaign]
        a = accounts[c.account]
        info.append(AdInfo(ad.code, c.code, a.code, a.channel, c.region.key, a.currency))
    hours: list[HourRow] = []
    for code, day, hour, _currency, cost, clicks, sales in rows:
        base = datetime.fromisoformat(day).replace(tzinfo=UTC)
        if hour >= 0:
            hours.append(HourRow(code, base + timedelta(hours=hour), cost, clicks, sales))
            continue
        for h in range(24):  # a day's row, spread evenly (the remainder on the first hours)
            hours.append(HourRow(code, base + timedelta(hours=h), _part(cost, h), _part(clicks, h), _part(sales, h)))
    out_of_stock: dict[str, list[Span]] = defaultdict(list)
    paused: list[PauseSpan] = []
    for held, kind, rule, begin, finish in spans:
        span_end = min(finish or until, end)
        if kind == log.OUT_OF_STOCK:
            out_of_stock[held].append(Span(max(begin, start), span_end))
        elif kind == log.PAUSED:
            paused.append(PauseSpan(held, rule or "", max(begin, start), span_end))
    moves = _moves(budget_actions, campaigns, accounts, start, min(until, end), end)
    return savings(info, hours, out_of_stock, paused, moves, Span(start, end))


def _moves(
    actions: list[log.ActionRow],
    campaigns: dict[str, Campaign],
    accounts: dict[str, Account],
    start: datetime,
    until: datetime,
    end: datetime,
) -> list[BudgetMove]:
    """Budget rules added to campaigns: from each budget action to the next one on the same campaign, the
    amount above the set budget is a move of that action's rule."""
    by_campaign: dict[str, list[log.ActionRow]] = defaultdict(list)
    for a in actions:
        if a.level == "campaign" and a.rule and a.after.get("budget") is not None and a.code in campaigns:
            by_campaign[a.code].append(a)
    moves = []
    for code, items in by_campaign.items():
        c = campaigns[code]
        acc = accounts[c.account]
        items.sort(key=lambda a: a.at)
        for i, a in enumerate(items):
            amount = int(a.after["budget"]) - c.daily_budget
            span_start = max(a.at, start)
            span_end = min(items[i + 1].at if i + 1 < len(items) else until, end)
            if amount > 0 and span_end > span_start:
                moves.append(
                    BudgetMove(
                        a.rule or "", code, acc.code, acc.channel, c.region.key, acc.currency, amount,
                        int(a.after["budget"]), span_start, span_end,
                    )
                )  # fmt: skip
    return moves


def _part(total: int, hour: int) -> int:
    """Hour ``hour``'s share of a day's ``total``: equal shares, the remainder on the first hours."""
    return total // 24 + (1 if hour < total % 24 else 0)
