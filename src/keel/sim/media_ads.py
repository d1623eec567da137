"""The twin's ads in the demo: a local ad platforms simulator (``keel.sim.adplatform``) holding the twin's ad
setup as Keel mirrors it, every account pointed at it (so the worker's sender really sends the rules' pauses
there), and the ads' effects played from what the simulator shows:

- **demand**: while an ad shows on its platform, its SKUs' online demand in its country is lifted by
  ``keel.sim.media_perf.LIFT`` (the stream's ``lifted``);
- **spend**: every simulated hour, each showing ad's impressions, clicks, cost and attributed orders are drawn
  (``keel.sim.media_perf.hour``; a click on a product out of stock at the country's fulfilment nodes costs
  and sells nothing) and added to its row of the current wall-clock hour, which is imported through
  ``keel.media.performance.save`` every ``every_s`` real seconds (importing a row again replaces it). The
  twin's time runs faster than the wall clock, so a wall-clock hour's row holds the spend of every
  simulated hour played in it, as its orders do.
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from keel.bootstrap import Keel
from keel.media import AdState, Level, Platform
from keel.platform.money import plain, to_minor
from keel.sim.adplatform import AdPlatforms
from keel.sim.demand import HOUR
from keel.sim.fx import START, local_price, twin_rate_table
from keel.sim.media import MediaSetup, media_setup, seed_platforms, showing, token
from keel.sim.media_perf import LIFT, AdModel, hour
from keel.sim.stream import Stream
from keel.sim.world import World

log = logging.getLogger("keel.sim.media")
MAX_HOURS_PER_TICK = 24  # simulated hours played per tick at most (a stream far ahead is not caught up)
Row = tuple[str, int, str, str]  # (day, hour, ad, SKU)
States = dict[str, dict[tuple[Level, str], AdState]]  # account -> what the simulator holds


class TwinAds:
    def __init__(self, keel: Keel, world: World, seed: int, *, fault_rate: float = 0.02, every_s: float = 5.0) -> None:
        self.keel, self.world, self.seed, self.every_s = keel, world, seed, every_s
        self.setup: MediaSetup = media_setup(world)
        self.sim = AdPlatforms(self.setup.tokens, fault_rate=fault_rate, seed=seed)
        self.stream: Stream | None = None
        self.stop = threading.Event()
        self.rng = random.Random(seed * 7 + 5)
        self.rows: dict[Row, list[int]] = {}
        self.saved_rows = 0
        self._hour: int | None = None
        self._dirty: set[Row] = set()
        campaigns = {c["code"]: c for c in self.setup.batch["campaigns"]}
        groups = {g["code"]: g for g in self.setup.batch["ad_groups"]}
        self.account_of: dict[str, str] = {}
        self.parents: dict[str, dict[str, tuple[str, str]]] = {}
        self.set_bid: dict[str, int] = {}
        for ad in self.setup.batch["ads"]:
            group = groups[ad["ad_group"]]
            account = campaigns[group["campaign"]]["account"]
            self.account_of[ad["code"]] = account
            self.parents.setdefault(account, {})[ad["code"]] = (group["code"], group["campaign"])
            self.set_bid[ad["code"]] = ad.get("bid", group["default_bid"])
        self.currency = {a["code"]: a["currency"] for a in self.setup.batch["accounts"]}
        self.platform = self.setup.platform_of()
        self._rates = twin_rate_table()
        self._prices: dict[tuple[str, str], int] = {}

    def start(self, stream: Stream) -> int:
        """Start the simulator, point every account at it, seed it with Keel's mirror and play the ads beside
        ``stream``; returns the accounts pointed."""
        self.sim.start()
        self.stream = stream
        accounts = [
            a | {"url": self.sim.url(Platform(a["platform"])), "token": token(self.seed, a["code"])}
            for a in self.setup.batch["accounts"]
        ]
        self.keel.media.setup.save({"accounts": accounts})
        seed_platforms(self.keel, self.sim)
        threading.Thread(target=self._loop, name="twin-ads", daemon=True).start()
        return len(accounts)

    def _loop(self) -> None:
        while not self.stop.wait(self.every_s):
            try:
                self.tick()
            except Exception:  # keep the demo alive; the log says what went wrong
                log.exception("twin ads tick failed")

    def showing(self) -> set[str]:
        """The ads the simulator shows now."""
        out: set[str] = set()
        for account, parents in self.parents.items():
            out |= showing(self.sim.state(self.platform[account], account), parents)
        return out

    def tick(self, now: datetime | None = None) -> int:
        """Lift the showing ads' demand, play the simulated hours since the last tick and import their rows;
        returns the rows imported."""
        stream = self.stream
        assert stream is not None, "start() first"
        shown = self.showing()
        stream.lifted = {
            (self.setup.ad_country[ad], sku): LIFT for ad in sorted(shown) for sku in self.setup.ad_skus[ad]
        }
        until = int(stream.now // HOUR)
        since = until if self._hour is None else self._hour
        wall = (now or datetime.now(UTC)).astimezone(UTC)
        if until > since:
            states = {a: self.sim.state(self.platform[a], a) for a in self.parents}
            for h in range(max(since, until - MAX_HOURS_PER_TICK), until):
                self.play_hour(stream, shown, states, h, wall)
        self._hour = until
        return self.flush()

    def play_hour(self, stream: Stream, shown: set[str], states: States, h: int, wall: datetime) -> None:
        """Simulated hour ``h`` of every showing ad, added to its rows of the wall-clock hour ``wall``."""
        hour_of_day = stream.clock(h * HOUR).hour
        day = wall.date().isoformat()
        for ad in sorted(shown):
            account = self.account_of[ad]
            country, skus = self.setup.ad_country[ad], self.setup.ad_skus[ad]
            sku = skus[0] if len(skus) == 1 else skus[self.rng.randrange(len(skus))]
            state = states[account].get((Level.AD, ad))
            bid = self.set_bid[ad] if state is None or state.bid is None else state.bid
            model = AdModel(self.platform[account], bid, self.set_bid[ad], self._price(sku, account))
            drawn = hour(self.rng, model, hour_of_day, self._in_stock(stream, country, sku))
            key = (day, wall.hour, ad, sku)
            row = self.rows.setdefault(key, [0] * 9)
            for i, value in enumerate(
                (drawn.impressions, drawn.clicks, drawn.cost, drawn.orders_7d, drawn.units_7d, drawn.sales_7d,
                 drawn.orders_14d, drawn.units_14d, drawn.sales_14d)
            ):  # fmt: skip
                row[i] += value
            self._dirty.add(key)

    def flush(self) -> int:
        """Import the rows changed since the last flush (and forget the older hours' rows)."""
        if not self._dirty:
            return 0
        docs = [self.document(key, self.rows[key]) for key in sorted(self._dirty)]
        self.keel.media.performance.save(docs)
        latest = max(key[:2] for key in self._dirty)
        self.rows = {k: v for k, v in self.rows.items() if k[:2] >= latest}
        self._dirty.clear()
        self.saved_rows += len(docs)
        return len(docs)

    def document(self, key: Row, row: list[int]) -> dict[str, Any]:
        day, hour_of_day, ad, sku = key
        currency = self.currency[self.account_of[ad]]
        counts = dict(zip(("impressions", "clicks"), row[:2], strict=True))
        money = {"cost": plain(row[2], currency), "sales_7d": plain(row[5], currency)}
        money["sales_14d"] = plain(row[8], currency)
        more = {"orders_7d": row[3], "units_7d": row[4], "orders_14d": row[6], "units_14d": row[7]}
        return {"date": day, "hour": hour_of_day, "ad": ad, "sku": sku, **counts, **more, **money}

    def _in_stock(self, stream: Stream, country: str, sku: str) -> bool:
        return any(stream.available.get((sku, loc), 0) > 0 for loc in stream.fulfil_by_country.get(country, ()))

    def _price(self, sku: str, account: str) -> int:
        currency = self.currency[account]
        found = self._prices.get((sku, currency))
        if found is None:
            assert self.stream is not None
            base = self.stream.prices.get(sku, Decimal("19.99"))
            found = to_minor(local_price(base, currency, self._rates, START.date()), currency)
            self._prices[(sku, currency)] = found
        return found

    def close(self) -> None:
        self.stop.set()
        self.sim.stop()
