"""What rules saved and cost, from hourly ad numbers: pure arithmetic, estimates named as estimates.

Inputs are an ad's hourly rows (spend, clicks, attributed sales) in a window of whole hours, the spans in
which its SKUs had no sellable stock, the spans in which a rule held it paused, and the budget moves rules
made. Each hour is split by how much of it was out of stock and how much paused (exact fractions; money is
rounded once, half-even, per reported figure):

- **wasted spend**: spend while out of stock and showing. An hour's spend happened in its unpaused part, so
  it counts in proportion to the share of that part that was out of stock.
- **avoided spend** (an estimate): paused hours x the ad's average hourly spend over its *clean* hours (whole
  hours in stock and not paused; an hour without a row spent nothing). **avoided waste** is the part of it
  paused while out of stock: spend that could only have been wasted.
- **missed sales** (an estimate): paused hours *with* stock x the ad's average hourly attributed sales over
  its clean hours. An ad without a clean hour in the window has no average: its paused hours are reported as
  ``unpriced_hours`` and priced at nothing.
- **budget moved**: a move's daily amount x the hours it held / 24; **moved sales**: the recipient's
  attributed sales in those hours x amount / the recipient's budget (the moved share of the budget earns its
  share of the sales: an attribution, not a measured lift).

Two rules holding one ad at the same time are not counted twice: each moment goes to the hold that started
first. Money is never added across currencies: every figure is per currency, and each grouping (rule,
campaign, account, channel, region) is keyed by (name, currency). Rounded groups need not add up to the
rounded total exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

HOUR = timedelta(hours=1)
MONEY = ("wasted_spend", "avoided_spend", "avoided_waste", "missed_sales", "budget_moved", "moved_sales")


@dataclass(frozen=True)
class AdInfo:
    """Where an ad's money belongs: its campaign, account, channel, region (``Region.key``) and currency."""

    code: str
    campaign: str
    account: str
    channel: str
    region: str
    currency: str


@dataclass(frozen=True)
class HourRow:
    ad: str
    hour: datetime  # the hour's start
    spend: int  # minor units
    clicks: int
    sales: int  # attributed sales, minor units


@dataclass(frozen=True)
class Span:
    """A half-open stretch of time ``[start, end)``."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class PauseSpan:
    ad: str
    rule: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class BudgetMove:
    """Budget a rule added to a recipient campaign: ``amount`` per day on top of its budget, the recipient's
    daily ``budget`` with it, for ``[start, end)``."""

    rule: str
    campaign: str
    account: str
    channel: str
    region: str
    currency: str
    amount: int
    budget: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Figures:
    """One group's totals in one currency (money in minor units, time in hours)."""

    currency: str
    wasted_spend: int = 0
    avoided_spend: int = 0
    avoided_waste: int = 0
    missed_sales: int = 0
    budget_moved: int = 0
    moved_sales: int = 0
    out_of_stock_hours: float = 0.0
    paused_hours: float = 0.0
    unpriced_hours: float = 0.0

    @property
    def return_on_moved(self) -> float | None:
        """Attributed sales per unit of moved budget (None when nothing moved)."""
        return self.moved_sales / self.budget_moved if self.budget_moved else None


Groups = Mapping[tuple[str, str], Figures]  # (name, currency) -> figures


@dataclass(frozen=True)
class Savings:
    total: Mapping[str, Figures]  # currency -> figures
    by_rule: Groups
    by_campaign: Groups
    by_account: Groups
    by_channel: Groups
    by_region: Groups


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for s in sorted((s for s in spans if s.end > s.start), key=lambda s: s.start):
        if merged and s.start <= merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, s.end))
        else:
            merged.append(s)
    return merged


def _hours(spans: Sequence[Span], start: datetime, end: datetime) -> Fraction:
    """How many hours of ``[start, end)`` the (merged) spans cover, exactly."""
    micro = sum(max(timedelta(0), min(s.end, end) - max(s.start, start)) // timedelta(microseconds=1) for s in spans)
    return Fraction(micro, 3_600_000_000)


def _both(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """Where two merged span lists overlap."""
    return [
        Span(max(x.start, y.start), min(x.end, y.end))
        for x in a
        for y in b
        if min(x.end, y.end) > max(x.start, y.start)
    ]


def _first_hold(paused: Sequence[PauseSpan]) -> dict[str, list[Span]]:
    """Each rule's spans with the moments an earlier-starting hold already covers taken out."""
    taken: list[Span] = []
    out: dict[str, list[Span]] = defaultdict(list)
    for p in sorted(paused, key=lambda p: (p.start, p.rule)):
        cursor = p.start
        for t in _merge(taken):
            if t.end <= cursor or t.start >= p.end:
                continue
            if t.start > cursor:
                out[p.rule].append(Span(cursor, min(t.start, p.end)))
            cursor = max(cursor, t.end)
        if cursor < p.end:
            out[p.rule].append(Span(cursor, p.end))
        taken.append(Span(p.start, p.end))
    return {rule: _merge(spans) for rule, spans in out.items()}


class _Book:
    """Exact sums per (dimension, name, currency), rounded once when read."""

    def __init__(self) -> None:
        self.sums: dict[tuple[str, str, str], dict[str, Fraction]] = defaultdict(lambda: defaultdict(Fraction))

    def add(self, keys: Mapping[str, str], currency: str, **values: Fraction) -> None:
        for dimension, name in keys.items():
            for key, value in values.items():
                self.sums[(dimension, name, currency)][key] += value

    def figures(self, dimension: str) -> dict[tuple[str, str], Figures]:
        found: dict[tuple[str, str], Figures] = {}
        for (dim, name, currency), sums in sorted(self.sums.items()):
            if dim != dimension:
                continue
            money = [round(sums[key]) for key in MONEY]  # round() of a Fraction is half-even
            time = [float(sums[key]) for key in ("out_of_stock_hours", "paused_hours", "unpriced_hours")]
            found[(name, currency)] = Figures(currency, *money, *time)
        return found


def savings(
    ads: Sequence[AdInfo],
    rows: Sequence[HourRow],
    out_of_stock: Mapping[str, Sequence[Span]],
    paused: Sequence[PauseSpan],
    moves: Sequence[BudgetMove],
    window: Span,
) -> Savings:
    """The window's savings and costs per currency, by rule, campaign, account, channel and region.
    ``window`` must start and end on whole hours; rows outside it are ignored, rows of unknown ads refused."""
    if window.start.minute or window.start.second or window.end.minute or window.end.second:
        raise ValueError("the window starts and ends on whole hours")
    info = {a.code: a for a in ads}
    unknown = sorted({r.ad for r in rows} - info.keys())
    if unknown:
        raise ValueError(f"rows for unknown ads: {', '.join(unknown[:5])}")
    hours = [window.start + i * HOUR for i in range((window.end - window.start) // HOUR)]
    by_hour: dict[tuple[str, datetime], HourRow] = {
        (r.ad, r.hour): r for r in rows if window.start <= r.hour < window.end
    }
    book = _Book()
    for a in ads:
        keys = {"total": "", "campaign": a.campaign, "account": a.account, "channel": a.channel, "region": a.region}
        out = _merge(out_of_stock.get(a.code, ()))
        holds = _first_hold([p for p in paused if p.ad == a.code])
        every_hold = _merge(s for spans in holds.values() for s in spans)
        clean, clean_spend, clean_sales = 0, 0, 0
        wasted, out_hours = Fraction(0), Fraction(0)
        for h in hours:
            row = by_hour.get((a.code, h))
            spend, sales = (row.spend, row.sales) if row else (0, 0)
            out_h, held_h = _hours(out, h, h + HOUR), _hours(every_hold, h, h + HOUR)
            out_hours += out_h
            if out_h == 0 and held_h == 0:
                clean, clean_spend, clean_sales = clean + 1, clean_spend + spend, clean_sales + sales
            elif held_h < 1:
                showing_out = out_h - _hours(_both(out, every_hold), h, h + HOUR)
                wasted += spend * showing_out / (1 - held_h)
        book.add(keys, a.currency, wasted_spend=wasted, out_of_stock_hours=out_hours)
        avg_spend = Fraction(clean_spend, clean) if clean else Fraction(0)
        avg_sales = Fraction(clean_sales, clean) if clean else Fraction(0)
        for rule, spans in holds.items():
            held = _hours(spans, window.start, window.end)
            held_out = _hours(_both(spans, out), window.start, window.end)
            book.add(
                {**keys, "rule": rule},
                a.currency,
                paused_hours=held,
                avoided_spend=held * avg_spend,
                avoided_waste=held_out * avg_spend,
                missed_sales=(held - held_out) * avg_sales,
                unpriced_hours=Fraction(0) if clean else held,
            )
    for m in moves:
        keys = {"total": "", "rule": m.rule, "campaign": m.campaign, "account": m.account}
        keys |= {"channel": m.channel, "region": m.region}
        span = [Span(m.start, m.end)]
        moved = _hours(span, window.start, window.end) * m.amount / 24
        recipients = [a.code for a in ads if a.campaign == m.campaign]
        earned = sum(
            (
                by_hour[(code, h)].sales * _hours(span, h, h + HOUR)
                for code in recipients
                for h in hours
                if (code, h) in by_hour
            ),
            Fraction(0),
        )
        share = Fraction(m.amount, m.budget) if m.budget > 0 else Fraction(0)
        book.add(keys, m.currency, budget_moved=moved, moved_sales=earned * share)
    total = {currency: f for (_, currency), f in book.figures("total").items()}
    return Savings(
        total,
        book.figures("rule"),
        book.figures("campaign"),
        book.figures("account"),
        book.figures("channel"),
        book.figures("region"),
    )
