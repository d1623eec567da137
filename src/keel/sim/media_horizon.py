"""A simulated month of stock-outs and ad spend, to price a pause delay: how much of the ads' spend goes to
products out of stock with no rules, with rules run every few hours, and with pauses that land after given
delays (``keel bench media`` feeds it the delays it measured).

The stock process of each advertised (country, SKU), seeded and deterministic, mirrors the twin's supply
(``keel.sim.supply``): units sell one at a time at a daily rate drawn per pair (lognormal, median
``MEDIAN_DAILY`` units), times ``keel.sim.media_perf.LIFT`` while its ads show; at ``REORDER_AT`` units or
fewer a purchase order is placed, received 24-72 h later, of ``lognormal(3.4, 0.5) + 10`` units, and one in
``LATE_SHARE`` deliveries is late by another 2-10 days (a supplier's delay). Demand while out of stock is
lost. That gives each pair stock-outs and restocks within the month.

Each ad spends its expected hourly spend (``media_perf.hourly_spend``) in every hour it shows, in stock or
not. Three policies over the same stock spans:

- ``none``: ads always show;
- ``every_h``: a rules pass every ``every_h`` hours pauses an ad out of stock at that tick and resumes it in
  stock at the next (an ad shows in a tick's window iff its product was in stock at the tick);
- ``measured``: a stock-out's pause lands a delay drawn from ``pause_s`` after it starts, the resume a delay
  drawn from ``resume_s`` after the restock.

``wasted_share`` = spend while out of stock and showing / all spend, each ad weighted by its spend rate. The
lost demand's own effect (a paused ad's product sells less) is kept out: the policies share one stock path.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from keel.sim.media_perf import LIFT
from keel.sim.supply import REORDER_AT

MEDIAN_DAILY = 1.5
LATE_SHARE = 0.25
Span = tuple[float, float]  # [start, end) in hours


@dataclass(frozen=True)
class Shares:
    none: float
    every_h: float
    measured: float
    stock_outs: int
    out_of_stock_share: float  # of the pairs' hours
    every_h_pause_p50_s: float  # the periodic policy's median pause delay


def stock_spans(rng: random.Random, opening: int, hours: float) -> list[Span]:
    """The out-of-stock spans of one (country, SKU) over ``hours``, from ``opening`` units."""
    daily = MEDIAN_DAILY * rng.lognormvariate(0, 0.8)
    rate = daily * LIFT / 24  # units an hour: the ads show most of the time
    t, stock, arrival, spans = 0.0, opening, math.inf, []
    out_since: float | None = None
    while t < hours:
        sale = t + rng.expovariate(rate)
        if arrival <= sale:
            t = arrival
            stock += int(rng.lognormvariate(3.4, 0.5)) + 10
            arrival = math.inf
            if out_since is not None:
                spans.append((out_since, min(t, hours)))
                out_since = None
            continue
        t = sale
        if stock <= 0:
            continue  # lost demand
        stock -= 1
        if stock <= REORDER_AT and math.isinf(arrival):
            delay = rng.uniform(24, 72) + (rng.uniform(48, 240) if rng.random() < LATE_SHARE else 0.0)
            arrival = t + delay
        if stock == 0:
            out_since = t
    if out_since is not None and out_since < hours:
        spans.append((out_since, hours))
    return spans


def _periodic(spans: Sequence[Span], hours: float, every: float) -> tuple[float, float]:
    """(hours showing, hours showing while out of stock) when a pass every ``every`` hours decides."""
    showing = wasted = 0.0
    ticks = math.ceil(hours / every)
    for k in range(ticks):
        start, end = k * every, min((k + 1) * every, hours)
        if any(a <= start < b for a, b in spans):
            continue  # out of stock at the tick: paused for the window
        showing += end - start
        wasted += sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans)
    return showing, wasted


def _delayed(
    rng: random.Random, spans: Sequence[Span], hours: float, pause_h: Sequence[float], resume_h: Sequence[float]
) -> tuple[float, float]:
    """(hours showing, hours showing while out of stock) when each pause and resume lands after a delay."""
    paused = wasted = 0.0
    for a, b in spans:
        lp = pause_h[rng.randrange(len(pause_h))]
        lr = resume_h[rng.randrange(len(resume_h))]
        begin, end = a + lp, min(b + lr, hours)
        wasted += min(lp, b - a)
        if begin < end:
            paused += end - begin
            wasted += max(0.0, b - end)  # resumed while still out (never, with restock-driven resumes)
    return hours - paused, wasted


def wasted_shares(
    pairs: Mapping[tuple[str, str], int],
    ads: Sequence[tuple[tuple[str, str], float]],
    pause_s: Sequence[float],
    resume_s: Sequence[float],
    *,
    days: float = 30.0,
    every_h: float = 6.0,
    seed: int = 0,
) -> Shares:
    """The three policies' wasted shares. ``pairs``: (country, SKU) -> opening units; ``ads``: each ad's
    (country, SKU) and hourly spend rate; ``pause_s``/``resume_s``: the delays to draw from, in seconds."""
    if not pause_s or not resume_s:
        raise ValueError("the measured policy needs at least one pause and one resume delay")
    hours = days * 24
    rng = random.Random(seed)
    spans = {pair: stock_spans(rng, opening, hours) for pair, opening in sorted(pairs.items())}
    pause_h, resume_h = [s / 3600 for s in pause_s], [s / 3600 for s in resume_s]
    lag_rng = random.Random(seed + 1)
    total = {"none": 0.0, "every": 0.0, "measured": 0.0}
    waste = dict.fromkeys(total, 0.0)
    for pair, rate in ads:
        s = spans[pair]
        out = sum(b - a for a, b in s)
        total["none"] += rate * hours
        waste["none"] += rate * out
        showing, wasted = _periodic(s, hours, every_h)
        total["every"] += rate * showing
        waste["every"] += rate * wasted
        showing, wasted = _delayed(lag_rng, s, hours, pause_h, resume_h)
        total["measured"] += rate * showing
        waste["measured"] += rate * wasted
    lags = sorted((math.ceil(a / every_h) * every_h - a) * 3600 for s in spans.values() for a, _ in s)
    out_hours = sum(b - a for s in spans.values() for a, b in s)
    return Shares(
        waste["none"] / total["none"] if total["none"] else 0.0,
        waste["every"] / total["every"] if total["every"] else 0.0,
        waste["measured"] / total["measured"] if total["measured"] else 0.0,
        sum(len(s) for s in spans.values()),
        out_hours / (hours * len(spans)) if spans else 0.0,
        lags[len(lags) // 2] if lags else 0.0,
    )
