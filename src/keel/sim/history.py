"""The twin's past: eight weeks of daily sales before the demo starts, so planning learns from a history.

The live stream stamps what it writes with wall-clock time (a simulated day passes in seconds), so after
an hour of demo the ledger holds one or two calendar days. The backfill writes, for the best-stocked SKUs
of one country, one ``sold`` movement per store and day (and one ``committed`` + ``shipped`` pair per DC
and day for online orders) dated in the past: Poisson draws around a per-SKU rate with the twin's weekday
curve, and a few planted stockout streaks where nothing sells. Each series first receives, before the
window what it will sell plus a week's cover, which it still holds today, beside the stock the twin loaded.

So that rebalancing has something to do, every fourth SKU is uneven between two of its stores: at one it
is a local hit (it sells faster than the stock the twin loaded there lasts, and that store sold its last
backfilled unit yesterday), at the other it sells slowly and four weeks of cover are left on the shelf.

Before that window, the eight weeks an ERP would hold come as a history file (``import_erp``), imported the
way an operator brings theirs: planning reads them for the days before the ledger knew each series.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from keel.bootstrap import Keel
from keel.planning import HistoryImport
from keel.platform.actor import Actor, acting_as
from keel.sim.demand import WEEKDAY
from keel.sim.world import World

DAYS = 56
PLANNED_COUNTRY = "DE"  # the demo's planned country: the twin's largest market
TOP_SKUS = 200
MAX_RATE = 40.0  # units a day: Knuth's Poisson draw multiplies uniforms, fine at this size


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: rates here are a few units a day
    limit, k, p = 2.718281828459045**-lam, 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass(frozen=True, slots=True)
class PastSeries:
    """One SKU x location the backfill writes, and the demand it is drawn from."""

    sku: str
    location: str
    till: bool  # sells at the till (a store or dark store); otherwise online orders a DC commits and ships
    rate: float  # expected units a day before the weekday curve: the twin's true demand for this series
    cover: int  # units left on the shelf after the window
    streak: int  # days ago the planted stockout streak ends (0: none)


def past_series(world: World, country: str, *, skus: int = TOP_SKUS, days: int = DAYS) -> list[PastSeries]:
    """The series of the ``skus`` SKUs of ``country`` stocked at most of its locations, with their true daily
    rates (seeded by the world: the closed-loop benchmark draws the days after from the same rates)."""
    rng = random.Random(world.seed * 7919 + days)
    kinds = {loc["code"]: loc["kind"] for loc in world.locations if loc["country"] == country}
    stocked: dict[str, list[str]] = {}
    opening: dict[tuple[str, str], int] = {}
    for row in world.opening_stock:
        if row["location"] in kinds:
            stocked.setdefault(row["sku"], []).append(row["location"])
            opening[(row["sku"], row["location"])] = int(row["quantity"])
    chosen = sorted(stocked, key=lambda s: (-len(stocked[s]), s))[:skus]
    out: list[PastSeries] = []
    for n, sku in enumerate(chosen):
        rate = rng.lognormvariate(0.3, 0.7)  # units a day at a store; a DC sells online, three times that
        stores = [code for code in stocked[sku] if kinds[code] in ("store", "dark_store")]
        hit, slow = rng.sample(stores, 2) if len(stores) >= 2 and n % 4 == 0 else (None, None)
        for location in stocked[sku]:
            till = kinds[location] in ("store", "dark_store")
            base = rate if till else rate * 3
            cover = round(base * 7)
            if location == hit:  # the twin's stock there lasts two days at this pace; none of ours is left
                base, cover = min(max(rate, (opening[(sku, location)] + 1) / 2), MAX_RATE), 0
            elif location == slow:
                base = rate / 3
                cover = round(base * 28)
            streak = rng.randrange(4, days - 4) if rng.random() < 0.15 else 0  # a planted stockout, days ago
            out.append(PastSeries(sku, location, till, base, cover, streak))
    return out


def backfill(
    keel: Keel, world: World, country: str, *, skus: int = TOP_SKUS, days: int = DAYS, today: date | None = None
) -> int:
    """Write ``days`` of past daily sales for the ``skus`` SKUs of ``country`` stocked at most of its
    locations; returns the movements written. Idempotent: movement ids derive from the series and day."""
    today = today or datetime.now(UTC).date()
    rng = random.Random(world.seed * 7919 + days + 1)
    rows: list[dict[str, Any]] = []
    for series in past_series(world, country, skus=skus, days=days):
        sku, location, streak = series.sku, series.location, series.streak
        sold: list[tuple[int, int]] = []
        for ago in range(days, 0, -1):
            day = today - timedelta(days=ago)
            if streak and streak - 4 < ago <= streak:
                continue  # out of stock: nothing sells, whatever the demand
            units = _poisson(rng, series.rate * WEEKDAY[day.weekday()])
            if streak and ago == streak + 1:
                units = max(units, 1)  # the last unit sells the day before: the shelf is empty from then on
            if units:
                sold.append((ago, units))
        if not sold:
            continue
        key = f"hist-{country}-{sku}-{location}"
        # Stock arrives as it will sell: what sells before the streak first, the rest late on its last day,
        # so the shelf really is empty during it and planning sees censored days, not zero demand.
        # A week's cover stays on the shelf after the window, as a shop does not sell its last unit the
        # day before the demo starts.
        total = sum(u for _, u in sold)
        before = sum(u for ago, u in sold if ago > streak) if streak else total + series.cover
        receipts = [(days + 1, 6, before, "in"), (streak - 3, 23, total + series.cover - before, "in2")]
        for ago, hour, quantity, tag in receipts:
            if quantity > 0:
                rows.append({"id": f"{key}-{tag}", "kind": "received", "sku": sku, "location": location,
                             "quantity": quantity, "occurred_at": _at(today, ago, hour)})  # fmt: skip
        for ago, units in sold:
            rows += sale_rows(sku, location, units, series.till, f"{key}-{ago}", _at(today, ago, 14))
    size = keel.settings.max_batch
    for start in range(0, len(rows), size):
        keel.stock.apply_batch(rows[start : start + size], source="sim")
    return len(rows)


def sale_rows(sku: str, location: str, units: int, till: bool, key: str, at: str) -> list[dict[str, Any]]:
    """The ledger rows of one day's sales: ``sold`` at a till, or an online order a DC commits and ships."""
    one = {"sku": sku, "location": location, "quantity": units, "occurred_at": at}
    if till:
        return [{**one, "id": key, "kind": "sold"}]
    return [{**one, "id": f"{key}c", "kind": "committed"}, {**one, "id": f"{key}s", "kind": "shipped"}]


def _at(today: date, days_ago: int, hour: int) -> str:
    return datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), UTC).replace(hour=hour).isoformat()


def automate(keel: Keel, country: str, top: int = TOP_SKUS) -> None:
    """The twin's planning automation for ``country``: every 10 minutes (the first time at once) the worker
    re-plans, replenishment and rebalancing, those of the ``top`` best sellers whose stock moved, and accepts
    transfers of up to 24 units and 5,000 of goods value a day on its own; the country's last store stays
    with a person."""
    stores = sorted(
        loc.code for loc in keel.locations.list(limit=1_000_000)[0] if loc.country == country and loc.kind == "store"
    )
    rule = {
        "enabled": True, "every_minutes": 10, "replenish": True, "rebalance": True, "top": top,
        "accept_kinds": ["transfer", "rebalance"], "max_units": 24, "max_value_per_day": 5000,
        "excluded_locations": stores[-1:],
    }  # fmt: skip
    with acting_as(Actor("twin", "retail twin", "automation")):
        keel.automation.set_rule(country, rule)


def import_erp(keel: Keel, world: World, country: str, *, skus: int = TOP_SKUS, days: int = DAYS,
               today: date | None = None) -> HistoryImport:  # fmt: skip
    """The twin's ERP export: the ``days`` of daily sales before the backfilled window, drawn from the same
    true rates, imported as a history file as an operator would (``keel planning import-history``), so the
    demo's forecasts can look back twice as far as the ledger."""
    today = today or datetime.now(UTC).date()
    rng = random.Random(world.seed * 7919 + days + 2)
    lines = ["date,sku,location,units"]
    for series in past_series(world, country, skus=skus, days=days):
        for ago in range(2 * days, days, -1):
            day = today - timedelta(days=ago)
            lines.append(f"{day},{series.sku},{series.location},{_poisson(rng, series.rate * WEEKDAY[day.weekday()])}")
    with tempfile.TemporaryDirectory() as folder, acting_as(Actor("twin", "retail twin", "system")):
        path = Path(folder) / "erp-sales.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return keel.planning.import_history(path)
