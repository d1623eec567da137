"""The twin's demand calendar: hour-of-day, weekday and season curves, a promotion a day, random regional
shocks and the scenario's planted situations, all derived from the seed and the simulated clock."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from keel.sim.scenario import Scenario

HOURLY = (0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 1.0, 1.15, 1.25, 1.35, 1.45, 1.35, 1.25, 1.25,
          1.35, 1.55, 1.75, 1.7, 1.45, 1.1, 0.7, 0.35)  # fmt: skip
WEEKDAY = (0.9, 0.9, 0.95, 1.0, 1.15, 1.35, 0.75)  # Monday first
SEASON = (0.8, 0.75, 0.9, 0.95, 1.0, 0.95, 0.9, 0.9, 1.0, 1.05, 1.3, 1.6)  # January first
HOUR = 3600.0


class DemandCalendar:
    """Mixed into ``Stream``: answers "how strong is demand here, now?" and "what is planted now?"."""

    seed: int
    start: datetime
    now: float
    scenario: Scenario
    countries: list[str]
    online: dict[str, list[tuple[str, float]]]
    rng: random.Random
    # (country, SKU) -> demand factor of its online orders while its ads show (keel.sim.media_ads sets it)
    lifted: dict[tuple[str, str], float]

    def clock(self, at: float | None = None) -> datetime:
        """The simulated wall time at ``at`` simulated seconds (default: now)."""
        return self.start + timedelta(seconds=self.now if at is None else at)

    def _day_rng(self, day: int, salt: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + day * 7 + salt)

    def promotion(self, at: float) -> str | None:
        """The channel on promotion (x2 online demand) on the simulated day of ``at``, if any."""
        day = int(at // 86_400)
        rng = self._day_rng(day, 1)
        if rng.random() < 0.6:
            return None
        codes = sorted({code for pairs in self.online.values() for code, _ in pairs})
        return codes[rng.randrange(len(codes))] if codes else None

    def shock(self, at: float) -> tuple[str, float] | None:
        """A random regional demand shock active at ``at``: (country, multiplier)."""
        day = int(at // 86_400)
        rng = self._day_rng(day, 2)
        if rng.random() < 0.7:
            return None
        country = self.countries[rng.randrange(len(self.countries))]
        begin = day * 86_400 + rng.uniform(0, 18) * HOUR
        length = rng.uniform(6, 24) * HOUR
        return (country, round(rng.uniform(1.5, 3.0), 2)) if begin <= at < begin + length else None

    def multiplier(self, at: float, country: str, region: str | None = None) -> float:
        """Demand multiplier for a country (and region) at simulated time ``at`` (hour x weekday x season x
        shock x planted spikes)."""
        when = self.clock(at)
        m = HOURLY[when.hour] * WEEKDAY[when.weekday()] * SEASON[when.month - 1]
        shock = self.shock(at)
        if shock and shock[0] == country:
            m *= shock[1]
        hours = at / HOUR
        for spike in self.scenario.spikes():
            if spike.start <= hours < spike.end and spike.applies(country, region):
                m *= spike.multiplier
        return m

    def ad_orders(self, country: str, sku: str) -> int:
        """How many orders one online order of ``sku`` in ``country`` becomes: 1, or with its ads showing at
        a lift ``f``, 2 with probability ``f - 1`` (no draw without a lift: the stream's draws stay as they were)."""
        lift = self.lifted.get((country, sku), 1.0) if self.lifted else 1.0
        return 1 if lift <= 1.0 else 1 + int(self.rng.random() < lift - 1.0)

    def outaged(self, at: float) -> set[str]:
        hours = at / HOUR
        return {o.location for o in self.scenario.outages() if o.start <= hours < o.end}

    def stuck(self, at: float) -> set[str]:
        hours = at / HOUR
        return {s.channel for s in self.scenario.stuck() if s.start <= hours < s.end}
