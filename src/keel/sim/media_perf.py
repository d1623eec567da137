"""What the twin's ads do in an hour: impressions, clicks, cost and the orders they bring, by platform, from the
bid and whether the advertised product is in stock; and the lift a showing ad gives its SKU's demand.

The numbers are a model, not a measurement (documented here so the demo's and the bench's money can be
read): an ad of a platform gets ``IMPRESSIONS[platform]`` impressions an hour at its set bid (times the
hour-of-day curve of the twin's demand, and in proportion to bid / set bid), a click-through rate
``CTR[platform]``, and pays a second price of 60-95 % of its bid per click. A click on a product in stock
converts at ``CVR[platform]`` into an order of one unit (one in five: two) at the SKU's shelf price; **a click
on a product out of stock costs the same and converts at nothing**: that is the waste inventory-aware rules
cut. Attribution: an order is credited in the 7-day window and in the 14-day window; the 14-day window also
gets ``LATE_SHARE`` more (orders placed between day 7 and day 14).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from keel.media import Platform
from keel.sim.demand import HOURLY

IMPRESSIONS = {Platform.AMAZON: 60.0, Platform.GOOGLE: 90.0, Platform.META: 160.0}
CTR = {Platform.AMAZON: 0.012, Platform.GOOGLE: 0.009, Platform.META: 0.006}
CVR = {Platform.AMAZON: 0.11, Platform.GOOGLE: 0.035, Platform.META: 0.025}
SECOND_PRICE = (0.6, 0.95)
LATE_SHARE = 0.15
LIFT = 1.25  # a showing ad raises its SKU's online demand in its country by a quarter
MEAN_HOURLY = sum(HOURLY) / len(HOURLY)


@dataclass(frozen=True)
class AdModel:
    """One ad as the model sees it: its platform, its current and set bids (minor units) and its SKU's
    shelf price in the account's currency (minor units)."""

    platform: Platform
    bid: int
    set_bid: int
    price: int


@dataclass(frozen=True)
class Hour:
    impressions: int
    clicks: int
    cost: int  # minor units
    orders_7d: int
    units_7d: int
    sales_7d: int
    orders_14d: int
    units_14d: int
    sales_14d: int


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's for small means, a rounded normal above 30: fine for counts of clicks)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def expected_impressions(ad: AdModel, hour_of_day: int | None = None) -> float:
    """Impressions an hour (the day's mean hour when ``hour_of_day`` is None)."""
    curve = MEAN_HOURLY if hour_of_day is None else HOURLY[hour_of_day]
    return IMPRESSIONS[ad.platform] * curve / MEAN_HOURLY * ad.bid / max(1, ad.set_bid)


def hourly_spend(ad: AdModel) -> float:
    """The ad's expected spend in a mean hour while it shows (minor units): what the horizon charges."""
    return expected_impressions(ad) * CTR[ad.platform] * ad.bid * sum(SECOND_PRICE) / 2


def hour(rng: random.Random, ad: AdModel, hour_of_day: int, in_stock: bool) -> Hour:
    """One showing hour of ``ad``, drawn."""
    impressions = _poisson(rng, expected_impressions(ad, hour_of_day))
    clicks = min(impressions, _poisson(rng, impressions * CTR[ad.platform]))
    cost = sum(round(ad.bid * rng.uniform(*SECOND_PRICE)) for _ in range(clicks))
    orders = sum(1 for _ in range(clicks) if in_stock and rng.random() < CVR[ad.platform])
    units = sum(2 if rng.random() < 0.2 else 1 for _ in range(orders))
    late = _poisson(rng, orders * LATE_SHARE) if in_stock else 0
    return Hour(
        impressions, clicks, cost, orders, units, units * ad.price,
        orders + late, units + late, (units + late) * ad.price,
    )  # fmt: skip
