"""``keel bench pricing``: every (channel, country, SKU) price computed, recomputed after a policy change, and a
change touching one brand propagated to ``price.changed`` events.

In one process on one fresh database (SQLite by default): ``channels`` channels are registered over the
twin's 21 countries and their currencies (one to three countries each, so ``prices`` is about twice
``skus`` x ``channels``); a base list per currency prices ``skus`` SKUs (with costs in euros and exchange
rates), a default policy keeps a margin floor. Then:

- ``first_seconds``: the first computation of every price (all written and announced);
- ``recompute_seconds``: every price again after the default policy's margin floor changes (most change);
- ``propagation_p50_s``/``propagation_p99_s``: a brand (``brand_share`` of the SKUs, one in a hundred) gets new
  base prices in one currency's list: from the call to the commit of the ``price.changed`` event carrying
  each affected price (the event's recorded time), over ``changes`` such changes;
- ``raw_insert_per_s``: the baseline, a plain executemany of the same number of price rows into a bare table
  in the same database, one transaction;
- ``cart_p50_ms``/``cart_p99_ms``: carts of ``cart_lines`` lines evaluated through the service with
  ``promotions_active`` live promotions (``keel.bench.carts``), beside ``cart_p50_ms_no_promotions``/
  ``cart_p99_ms_no_promotions``: the same carts evaluated before any promotion was stored.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from decimal import Decimal
from typing import Any

from rich.console import Console

from keel.bench.carts import cart_figures
from keel.bench.inventory import bench_database
from keel.bench.store import raw_insert_prices
from keel.bootstrap import bootstrap
from keel.channels import CreateChannel
from keel.platform import migrate
from keel.platform.clock import utcnow
from keel.platform.money import plain
from keel.pricing import PRICE_CHANGED
from keel.sim.fx import START, load_rates, local_price, twin_rate_table
from keel.sim.geography import CURRENCY

console = Console(stderr=True)


def run(
    database_url: str | None,
    *,
    json_out: bool,
    skus: int,
    channels: int,
    changes: int,
    seed: int,
    promotions: int = 1000,
    lines: int = 20,
    carts: int = 1000,
) -> dict[str, Any]:
    rng = random.Random(seed)
    codes = [f"SKU-{i:06d}" for i in range(skus)]
    euro = {s: Decimal(rng.randrange(500, 20_000)) / 100 for s in codes}
    countries = sorted(CURRENCY)
    with bench_database(database_url) as url:
        keel = bootstrap(database_url=url)
        migrate.upgrade(keel.db)
        try:
            load_rates(keel)
            markets = _channels(keel, rng, channels, countries)
            cost_rows = [{"sku": s, "cost": f"{euro[s] * Decimal('0.55'):.2f}", "currency": "EUR"} for s in codes]
            for first in range(0, skus, 20_000):
                keel.pricing.set_skus(cost_rows[first : first + 20_000])
            keel.pricing.set_policy("*", {"rules": [{"rule": "cost_plus", "margin_floor": "0.15"}]})
            rates = twin_rate_table()
            currencies = sorted({c for _, c in markets})
            with console.status(f"pricing {skus} SKUs on {channels} channels"):
                start = time.perf_counter()
                for currency in currencies:
                    rows = [
                        {"sku": s, "amount": f"{local_price(euro[s], currency, rates, START.date()):f}"} for s in codes
                    ]
                    document = {"name": f"Base {currency}", "currency": currency, "prices": rows}
                    keel.pricing.save_list(f"base-{currency.lower()}", document)
                first_seconds = time.perf_counter() - start
            prices = keel.pricing.prices(limit=1)[1]
            with console.status("recomputing after a policy change"):
                # a policy of every channel recomputes every price when it is saved: the call is the figure
                start = time.perf_counter()
                _, done = keel.pricing.set_policy("*", {"rules": [{"rule": "cost_plus", "margin_floor": "0.40"}]})
                recompute_seconds = time.perf_counter() - start
            lags = _propagation(keel, rng, codes, currencies, changes)
            baseline = raw_insert_prices(keel.db, prices)
            with console.status(f"{carts} carts of {lines} lines, then {promotions} promotions and the carts again"):
                cart = cart_figures(keel, rng, markets, codes, promotions, min(lines, skus), carts)
        finally:
            keel.close()
    figures: dict[str, Any] = {
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "skus": skus,
        "channels": channels,
        "prices": prices,
        "first_seconds": round(first_seconds, 2),
        "recompute_seconds": round(recompute_seconds, 2),
        "recomputed_changed": done.changed,
        "prices_per_s": round(prices / recompute_seconds),
        "raw_insert_per_s": round(baseline),
        "propagation_p50_s": round(statistics.median(lags), 3) if lags else None,
        "propagation_p99_s": round(_p99(lags), 3) if lags else None,
        **cart,
    }
    if json_out:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            console.print(f"{key}: {value}")
    return figures


def _channels(keel: Any, rng: random.Random, n: int, countries: list[str]) -> list[tuple[str, str]]:
    """``n`` channels, each selling in 1-3 countries of one currency; (channel, currency) pairs."""
    by_currency: dict[str, list[str]] = {}
    for country in countries:
        by_currency.setdefault(CURRENCY[country], []).append(country)
    out = []
    for i in range(n):
        currency = rng.choice(sorted(by_currency))
        pool = by_currency[currency]
        chosen = tuple(sorted(rng.sample(pool, min(len(pool), rng.randint(1, 3)))))
        code = f"ch{i:03d}"
        keel.channels.create(CreateChannel(code, f"Bench channel {i}", "web_store", chosen, currency))
        out.append((code, currency))
    return out


def _propagation(keel: Any, rng: random.Random, codes: list[str], currencies: list[str], changes: int) -> list[float]:
    """Seconds from a brand's price change to the commit of each of its prices' ``price.changed`` event."""
    lags: list[float] = []
    brand = max(1, len(codes) // 100)
    for n in range(changes):
        currency = currencies[n % len(currencies)]
        first = rng.randrange(0, len(codes) - brand + 1)
        entries = keel.pricing.list_entries(f"base-{currency.lower()}", codes[first : first + brand])
        rows = [{"sku": s, "amount": plain(int(t[0].amount * 0.9) + 1, currency)} for s, t in entries.items()]
        with keel.db.read() as conn:
            seq = keel.events.last_seq(conn)
        began = utcnow()
        keel.pricing.set_list_prices(f"base-{currency.lower()}", rows)
        with keel.db.read() as conn:
            announced = keel.events.read(conn, seq, {PRICE_CHANGED}, limit=100_000)
        for event in announced:
            lags += [(event.recorded_at - began).total_seconds()] * len(event.data["changes"])
    return lags


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
