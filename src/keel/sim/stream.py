"""The live stream of the retail twin: a deterministic, scaled-time flow of retail traffic through the services.

Demand (POS sales at stores, online orders of the web, marketplace, social and B2B channels) follows an
hour-of-day curve, a weekday pattern, a season curve, a promotion calendar (one channel a day at x2) and
random regional shocks (a country at x1.5-3 for 6-24 h), times any planted ``DemandSpike``. Supply reacts to
it: a fulfilment position running low orders a receipt (24-72 h lead time); a store running low gets a
transfer from a warehouse of its country (out now, in 12-36 h later) or a direct receipt. Online orders
ship 2-24 h after they are committed and 8 % come back 3-10 days later (15 % of those damaged). Cycle counts
record realistic shrink (stores lose more than warehouses) through ``record_count``.

Web-store and marketplace orders go through ``keel.orders.capture.place`` (the full path: validation,
routing, commit) and then live their lives, as many as the capture budget allows; the rest are shed to
``committed`` (then ``shipped``) ledger movements and counted (``keel.sim.online``). Social and B2B orders
are always ledger movements. Movements go in batches through ``StockService.apply_batch``; a shadow of every
position keeps each row acceptable, so batches are valid by construction.

Now and then a merchandiser edits a product's content through ``CatalogService.put_product`` (``keel.sim.edits``):
a gap fixed, a gap opened, a new title or price, so the catalog shows revisions and listings changing state.

Everything random comes from ``random.Random(seed)`` and the simulated clock, never the wall clock, so the
same seed, world and steps give the same events.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from keel.bootstrap import Keel
from keel.platform.actor import Actor, acting_as
from keel.platform.clock import utcnow
from keel.sim.catalog import generate_catalog
from keel.sim.demand import HOUR, DemandCalendar
from keel.sim.edits import EDIT_KINDS, ContentEdits
from keel.sim.fx import START, load_rates, twin_rate_table
from keel.sim.geography import WEIGHT
from keel.sim.lifecycle import STEP_KINDS, OrderLives, _Step
from keel.sim.online import Offer, OnlineOrders
from keel.sim.promotions import CartPricing
from keel.sim.retention import Mark, Retention
from keel.sim.scenario import Scenario
from keel.sim.supply import Key, SupplyChain, _Due
from keel.sim.world import World
from keel.sim.writes import Writes

log = logging.getLogger("keel.sim.stream")

STORE_HOURS = range(8, 21)
CHANNEL_WEIGHT = {"web_store": 1.2, "marketplace": 1.0, "social": 0.2, "b2b": 0.1}
EVENTS_PER_POSITION_HOUR = 0.025  # ~3,000 events per simulated hour at reference scale
POS_SHARE, ONLINE_SHARE, COUNT_SHARE = 0.45, 0.4, 0.01
# Event kinds step() counts; the rest of its counters (order_offered, stockout, capture_refused, stuck,
# refused, cart_redeemed) are not events. A shed order that found no stock is a stockout, not an event.
EVENT_KINDS = (
    "pos_sale",
    "order",
    "order_captured",
    "order_shed",
    "shipped",
    "received",
    "transfer_out",
    "transfer_in",
    "returned",
    "count",
    *STEP_KINDS.values(),
    *EDIT_KINDS.values(),
)
# The twin acts as itself: its events name it, apart from people and integrations (retention prunes them).
TWIN = Actor("twin", "retail twin", "automation")


FLAT_OUT_EVENTS = 500  # events a step offers, about, when the stream runs flat out (``run(speed=None)``)


class Stream(DemandCalendar, SupplyChain, OnlineOrders, OrderLives, Writes, Retention, ContentEdits):
    """Drives the twin's traffic; ``step(sim_seconds)`` for tests, ``run(stop_event)`` for a live demo.

    ``capture_every``: one web or marketplace order in so many is offered to order capture (the others are
    ledger movements; tests raise it to stay small). ``capture_share``: in ``run``, the share of the
    stream's wall-clock time captures and the orders' fulfilment steps may take; the orders beyond it are
    shed (``keel.sim.online``).

    ``anchor`` and ``pace`` map simulated time onto the timestamps of the orders it drives (``stamp``):
    ``pace`` simulated hours per second from ``anchor`` (default: now, 1 h/s; ``run`` follows the wall
    clock at its speed). ``keep_hours`` is how much of its own history it keeps (None: all of it)."""

    def __init__(
        self,
        keel: Keel,
        world: World,
        *,
        seed: int = 1,
        scenario: Scenario | None = None,
        rate: float | None = None,
        capture_every: int = 1,
        capture_share: float = 0.5,
        prefix: str | None = None,
        start: datetime = START,
        anchor: datetime | None = None,
        pace: float = 1.0,
        keep_hours: float | None = 48.0,
        retain_every: float = 6.0,
        marketplace: Callable[[dict[str, Any]], int | None] | None = None,
    ) -> None:
        self.keel, self.world, self.seed = keel, world, seed
        self.scenario = scenario or Scenario()
        self.rng = random.Random(seed)
        self.rate = rate if rate is not None else EVENTS_PER_POSITION_HOUR * max(1, len(world.opening_stock))
        self.capture_every = max(1, capture_every)
        self.capture_share = capture_share
        # the marketplaces' orders reach Keel as real ones do, by their channel's order webhook (None: captured
        # directly, as in tests and benches); it answers the id of the order Keel captured, or None
        self.marketplace = marketplace
        self._capture_left: float | None = None
        self._capture_spent = 0.0  # in the last step
        self.channel_kind = {ch["code"]: ch["kind"] for ch in world.channels}
        self.checkout = CartPricing(keel, seed)  # web orders priced as carts when the twin has promotions
        self.places: dict[tuple[str, str], list[str]] = {}
        for p in world.postal_codes:
            self.places.setdefault((p["country"], p["place"]), []).append(p["postal_code"])
        self.prefix = prefix or f"twin{seed}"
        self.start = start
        self.now = 0.0  # simulated seconds since start
        self.totals: Counter[str] = Counter()
        self._n = 0
        self._due: list[_Due] = []
        self._pending: set[Key] = set()  # positions with a replenishment on the way
        self._inactive: set[str] = set()
        twin = generate_catalog(world.skus, world.seed)
        self.prices = {p.sku: p.price for p in twin}
        self._init_edits(twin)  # keel.sim.edits: the merchandisers' content edits
        # Each channel sells in its own currency at local price points (keel.sim.fx)
        self.rates = twin_rate_table()
        self.currency = {ch["code"]: ch["currency"] for ch in world.channels}
        self._local: dict[tuple[str, str], str] = {}
        self._anchor = (0.0, anchor or utcnow())
        self.pace = pace
        self._steps: list[_Step] = []
        self.keep_hours, self.retain_every = keep_hours, retain_every
        self._ledger_seq = 0
        self._marks: list[Mark] = []
        self._next_mark = 0.0
        self.info = {loc["code"]: loc for loc in world.locations}
        self.available: dict[Key, int] = {}
        self.on_hand: dict[Key, int] = {}
        for row in world.opening_stock:
            key = (row["sku"], row["location"])
            self.available[key] = self.available.get(key, 0) + row["quantity"]
            self.on_hand[key] = self.on_hand.get(key, 0) + row["quantity"]
        countries = sorted({loc["country"] for loc in world.locations})
        self.store_keys: dict[str, list[Key]] = {c: [] for c in countries}
        self.fulfil_keys: dict[str, list[Key]] = {c: [] for c in countries}
        for key in sorted(self.available):
            loc = self.info[key[1]]
            (self.store_keys if loc["kind"] == "store" else self.fulfil_keys)[loc["country"]].append(key)
        self.fulfil_by_country: dict[str, list[str]] = {c: [] for c in countries}
        for loc in world.locations:
            if loc["kind"] != "store":
                self.fulfil_by_country[loc["country"]].append(loc["code"])
        weight_sum = sum(WEIGHT[c] for c in countries)
        self.share = {c: WEIGHT[c] / weight_sum for c in countries}
        # online demand per country is split over the channels selling there
        self.online: dict[str, list[tuple[str, float]]] = {c: [] for c in countries}
        for ch in world.channels:
            weight = CHANNEL_WEIGHT.get(ch["kind"])
            if weight is None:
                continue
            for c in ch["countries"]:
                if c in self.online:
                    self.online[c].append((ch["code"], weight / len(ch["countries"])))
        self.countries = countries
        self.regions: dict[str, set[str]] = {c: set() for c in countries}
        for loc in world.locations:
            self.regions[loc["country"]].add(loc["region"])
        self.all_keys = sorted(self.available)
        self.lifted = {}  # no ads: no lift
        self._boundaries = sorted({b * HOUR for s in self.scenario.situations for b in (s.start, s.end)})

    def resume(self, page: int = 10_000) -> int:
        """Start the shadow from the database's positions instead of the opening stock: a demo restarted on
        a database an earlier stream already moved would otherwise plan rows that no longer fit. Returns the
        positions read. (Shipments and returns the earlier run had scheduled are not carried over.) A
        database loaded before the twin had exchange rates gets them now (loading them again changes nothing)."""
        load_rates(self.keel)
        # A location the earlier run took down for an outage must come back up when its window is over.
        down, _ = self.keel.locations.list(active=False, limit=len(self.info) + 1)
        self._inactive = {loc.code for loc in down if loc.code in self.info}
        read = 0
        while True:
            items, total = self.keel.queries.positions(limit=page, offset=read)
            for p in items:
                key = (p.sku, p.location)
                if key in self.available:
                    self.available[key], self.on_hand[key] = p.available, p.on_hand
            read += len(items)
            if not items or read >= total:
                return read

    # -- driving ------------------------------------------------------------------------------------------
    def stamp(self, at: float) -> datetime:
        """The timestamp of simulated second ``at`` for what the twin writes through the orders service."""
        sim0, wall0 = self._anchor
        return wall0 + timedelta(seconds=(at - sim0) / (HOUR * self.pace)) if self.pace > 0 else wall0

    def step(self, sim_seconds: float, capture_budget: float | None = None) -> Counter[str]:
        """Advance the simulated clock by ``sim_seconds``, applying its traffic; returns counts per kind.
        ``capture_budget``: wall-clock seconds the step's captures and order steps may take (None: no limit,
        every offered order is captured; the same seed then gives the same events)."""
        counts: Counter[str] = Counter()
        end = self.now + max(0.0, sim_seconds)
        self._capture_left, self._capture_spent = capture_budget, 0.0
        with acting_as(TWIN):
            while self.now < end - 1e-9:
                nxt = min(end, (self.now // HOUR + 1) * HOUR)
                nxt = min([nxt, *(b for b in self._boundaries if self.now < b < nxt)])
                self._slice(self.now, nxt, counts)
                self.now = nxt
                self._retain(counts)
        self.totals.update(counts)
        return counts

    def run(
        self,
        stop: threading.Event,
        speed: float | None = 1.0,
        *,
        tick: float = 0.2,
        max_hours_per_tick: float = 1.0,
        on_step: Callable[[Counter[str]], None] | None = None,
    ) -> None:
        """Run until ``stop`` is set at ``speed`` simulated hours per real second. When the machine cannot
        keep up, each tick advances at most ``max_hours_per_tick`` and the simulated clock falls behind.
        ``speed=None`` runs flat out: steps of about ``FLAT_OUT_EVENTS`` back to back (whatever the world's
        size, so a step's fixed costs weigh the same), the orders' stamps following the pace reached.
        Captures (with the steps of their orders' lives) get ``capture_share`` of each tick's real time while
        the stream keeps up; flat out or behind, they get that share of its busy time: ``share / (1 - share)``
        times what the last step spent on everything else (a budget proportional to the last step's whole
        time would grow with the order steps it must play, and starve the rest of the traffic). Order steps
        are never put off: what they overspend is taken from the next tick's budget."""
        last = time.perf_counter()
        took = tick
        flat = min(max_hours_per_tick, FLAT_OUT_EVENTS / self.rate) * HOUR
        if speed is not None:
            self.pace = speed
        while not stop.is_set():
            now = time.perf_counter()
            share = min(self.capture_share, 0.99)
            fair = share / (1 - share) * max(0.0, took - self._capture_spent)
            if speed is None:
                sim, budget = flat, fair
            else:
                real = min(now - last, max_hours_per_tick / speed)
                sim, budget = real * speed * HOUR, share * real if took < tick else fair
            budget += min(0.0, self._capture_left or 0.0)  # the last step's overspending
            last = now
            # The orders' stamps follow the wall clock: each tick starts from now (never before a stamp
            # already given: a tick advances at most the real time it took).
            self._anchor = (self.now, utcnow())
            try:
                counts = self.step(sim, budget)
            except Exception:  # keep the demo alive; the log says what went wrong
                log.exception("twin stream step failed")
                counts = Counter()
            took = time.perf_counter() - now
            if speed is None:
                self.pace = flat / HOUR / max(took, 1e-6)
            if on_step:
                on_step(counts)
            if speed is not None:
                stop.wait(max(0.0, tick - took))

    @staticmethod
    def events(counts: Counter[str]) -> int:
        return sum(counts[k] for k in EVENT_KINDS)

    # -- one slice of simulated time (never crosses an hour or a scenario boundary) -------------------------
    def _slice(self, t0: float, t1: float, counts: Counter[str]) -> None:
        self._toggle_outages(t0)
        hours = (t1 - t0) / HOUR
        out = self.outaged(t0)
        stuck = self.stuck(t0)
        rows: list[dict[str, Any]] = []
        offers: list[Offer] = []
        self._release_due(t1, out, rows, counts)
        hour = self.clock(t0).hour
        promo = self.promotion(t0)
        for country in self.countries:
            m = self.multiplier(t0, country)
            # Region spikes raise the country's draw by the largest regional factor, then thin each pick
            # to its own region's factor, so only the spiked region sells more.
            factors = self._region_factors(t0, country)
            peak = max([1.0, *factors.values()])
            m *= peak
            if hour in STORE_HOURS:
                n = self._draw(self.rate * POS_SHARE * self.share[country] * m * hours)
                self._pos_sales(country, n, out, rows, counts, t0, factors, peak)
            total = sum(w for _, w in self.online[country])
            for channel, weight in self.online[country]:
                boost = 2.0 if channel == promo else 1.0
                n = self._draw(self.rate * ONLINE_SHARE * self.share[country] * m * boost * hours * weight / total)
                if channel in stuck:
                    counts["stuck"] += n
                    continue
                self._orders(country, channel, n, out, rows, offers, counts, t0, factors, peak)
        n_counts = self._draw(self.rate * COUNT_SHARE * hours)
        self._apply(rows, counts)
        self._apply(self._take_offers(offers, t0, out, counts), counts)
        began = time.perf_counter()
        self._release_steps(t1, counts)  # the captured orders' lives are part of what captures cost
        self._spend(time.perf_counter() - began)
        self._counts(n_counts, out, counts)
        self._content_edits(hours, counts)

    def _draw(self, expected: float) -> int:
        whole = int(expected)
        return whole + (1 if self.rng.random() < expected - whole else 0)

    def _pick(self, keys: list[Key]) -> Key:
        # squared uniform: low SKU numbers sell far more (a long tail, like a real assortment)
        return keys[int(len(keys) * self.rng.random() ** 2)]

    def _region_factors(self, t0: float, country: str) -> dict[str, float]:
        factors: dict[str, float] = {}
        for spike in self.scenario.spikes():
            if spike.region and spike.start <= t0 / HOUR < spike.end and spike.region in self.regions[country]:
                factors[spike.region] = factors.get(spike.region, 1.0) * spike.multiplier
        return factors

    def _region_ok(self, key: Key, factors: dict[str, float], peak: float) -> bool:
        if not factors:
            return True
        keep = factors.get(self.info[key[1]]["region"], 1.0) / peak
        return keep >= 1.0 or self.rng.random() < keep

    def _take(self, key: Key, qty: int) -> bool:
        if self.available.get(key, 0) < qty:
            return False
        self.available[key] -= qty
        return True

    def _pos_sales(
        self,
        country: str,
        n: int,
        out: set[str],
        rows: list[dict[str, Any]],
        counts: Counter[str],
        t0: float,
        factors: dict[str, float],
        peak: float,
    ) -> None:
        keys = self.store_keys[country]
        if not keys:
            return
        for _ in range(n):
            key = self._pick(keys)
            qty = 1 if self.rng.random() < 0.8 else 2
            if key[1] in out or not self._region_ok(key, factors, peak):
                continue
            if not self._take(key, qty):
                counts["stockout"] += 1
                self._replenish(key, t0, out, rows, counts)
                continue
            self.on_hand[key] -= qty
            rows.append(self._row("sold", key, qty, "pos"))
            counts["pos_sale"] += 1
            self._replenish(key, t0, out, rows, counts)
