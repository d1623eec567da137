"""The price computation: for each channel and country, the price lists that apply, the policy's rules and
the facts they need (costs in the channel's currency, tax rates, MAP lists, reference channels' prices, the
price the day started with) give each SKU its price; what changed is written and announced in one
transaction per channel (``price.changed``, one event per 1,000 changes).

Costs come in the channel's currency through ``Converter`` (the exchange rates of the day, read once per
computation); a cost without a rate to the channel's currency is not used, so ``cost_plus`` does nothing
for it (its explanation shows no margin step). Competitor prices and stock come the same way, only when a
policy has a rule reading them (``gather``).

A price whose amount and compare-at price stay the same is not announced, even when its explanation changed
(a floor, a cover or a competitor's price moved under it): it is written with its new explanation only.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.events import EventLog, NewEvent
from keel.platform.money import plain, to_minor
from keel.pricing import store
from keel.pricing.gather import Signals, StockPort, gather, no_stock
from keel.pricing.model import STANDARD, Facts, PriceEntry, Rule, inclusive, parse_rules, pick, price, ranked, rate_of
from keel.pricing.model.documents import SkuCost

PRICE_CHANGED = "price.changed"
SOURCE = "pricing"
DAY = timedelta(days=1)
EVENT_CHUNK = 1000  # changes per event
Converter = Callable[[str, str], Decimal | None]  # (source, target) -> units of target per unit of source


@dataclass(frozen=True)
class Market:
    """An active channel as pricing sees it: where it sells and in which currency."""

    channel: str
    countries: tuple[str, ...]
    currency: str


@dataclass(frozen=True)
class Wanted:
    """What a computation covers (None: everything)."""

    channels: set[str] | None = None
    countries: set[str] | None = None
    skus: set[str] | None = None
    currencies: set[str] | None = None  # a price list prices only the channels of its currency


@dataclass(frozen=True)
class Recomputed:
    prices: int  # (channel, country, SKU) prices computed
    changed: int  # of which new or different (written and announced)
    removed: int  # prices no longer given (no list prices the SKU there any more)
    seconds: float


def recompute(
    db: Database, events: EventLog, markets: list[Market], convert: Converter, want: Wanted, stock: StockPort = no_stock
) -> Recomputed:
    """Compute the prices of ``want``'s channels, countries and SKUs (None: all), write the changed ones and
    announce them, one transaction per channel."""
    started = time.perf_counter()
    now = utcnow()
    convert = lru_cache(maxsize=None)(convert)  # one factor per currency pair and computation
    markets = [
        m
        for m in markets
        if (want.channels is None or m.channel in want.channels)
        and (want.currencies is None or m.currency in want.currencies)
    ]
    with db.read() as conn:
        all_lists = store.lists(conn)
        policies = {s: parse_rules(r)[0] for s, (r, _) in store.policies(conn).items()}
        codes = {pl.code for pl in all_lists}
        entries = store.entries(conn, codes, want.skus)
        sku_rows = store.skus(conn, want.skus)
        rates = store.rates(conn)
        in_use = [r for m in markets for r in policies.get(m.channel, policies.get("*", []))]
        signals = gather(conn, in_use, want.skus, want.countries, stock, now)
    computed = written = removed = 0
    results: dict[tuple[str, str, str], int] = {}
    # channels whose rules refer to another channel's price go after it (one level: a parity chain is
    # read from the prices stored)
    markets.sort(key=lambda m: any(r.kind == "parity" for r in policies.get(m.channel, policies.get("*", []))))
    for market in markets:
        rules = policies.get(market.channel, policies.get("*", []))
        changed: list[store.PriceRow] = []
        dropped: list[tuple[str, str, str]] = []
        refreshed: list[store.PriceRow] = []  # the explanation's floor only: written, not announced
        for country in market.countries:
            if want.countries is not None and country not in want.countries:
                continue
            ordered = ranked(all_lists, market.channel, country, market.currency, None, now)
            priced = set().union(*(entries.get(pl.code, {}) for pl in ordered)) if ordered else set()
            with db.read() as conn:
                existing = store.held(conn, market.channel, country, want.skus)
                references = _references(conn, rules, country, want.skus, results)
            for sku in sorted(priced):
                base = pick(ordered, entries, sku)
                if base is None:
                    continue
                computed += 1
                old = existing.get(sku)
                previous = None if old is None else (old.amount if now - old.day_start >= DAY else old.day_base)
                facts = _facts(
                    sku, market.currency, country, rules, sku_rows, rates, entries, references, convert, previous,
                    signals,
                )  # fmt: skip
                result = price((base[0].code, base[1]), rules, facts, market.currency)
                results[(market.channel, country, sku)] = result.amount
                steps = [s.__dict__ for s in result.steps]
                digest = _digest(steps)
                if old is not None and (old.amount, old.compare_at) == (result.amount, result.compare_at):
                    # the same price explained anew (a cost, rate, cover or competitor price moved under it)
                    if (old.floor, old.digest) != (result.floor, digest):
                        refreshed.append(
                            store.PriceRow(
                                market.channel, country, sku, market.currency, result.amount, result.compare_at,
                                result.price_list, result.floor, steps, digest, old.day_base, old.day_start,
                                old.changed_at,
                            )
                        )  # fmt: skip
                    continue
                # the day the change limit counts from: a new price starts one; a day after it started, the
                # price it ended with starts the next
                if old is None:
                    day_base, day_start = result.amount, now
                elif now - old.day_start >= DAY:
                    day_base, day_start = old.amount, now
                else:
                    day_base, day_start = old.day_base, old.day_start
                changed.append(
                    store.PriceRow(
                        market.channel, country, sku, market.currency, result.amount, result.compare_at,
                        result.price_list, result.floor, steps, digest, day_base, day_start, now,
                    )
                )  # fmt: skip
            dropped += [(market.channel, country, s) for s in existing if s not in priced]
        if changed or dropped or refreshed:
            with db.write() as conn:
                store.write_prices(conn, changed + refreshed)
                store.drop_prices(conn, dropped)
                if changed or dropped:
                    events.append(conn, _announce(market, changed, dropped))
        written += len(changed)
        removed += len(dropped)
    return Recomputed(computed, written, removed, round(time.perf_counter() - started, 3))


def _digest(steps: list[dict[str, Any]]) -> str:
    """A short fingerprint of an explanation: equal steps, equal digest (16 hex digits of SHA-256)."""
    text = "|".join(f"{s['rule']}:{s['before']}:{s['after']}:{s['note']}" for s in steps)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _references(
    conn: Any, rules: Sequence[Rule], country: str, skus: set[str] | None, results: Mapping[tuple[str, str, str], int]
) -> dict[str, dict[str, int]]:
    """parity channel -> SKU -> its price in ``country``: computed in this run, else stored."""
    out: dict[str, dict[str, int]] = {}
    for rule in rules:
        if rule.kind == "parity" and rule.ref is not None and rule.ref not in out:
            stored = store.amounts(conn, rule.ref, country, skus)
            fresh = {s: a for (c, k, s), a in results.items() if c == rule.ref and k == country}
            out[rule.ref] = stored | fresh
    return out


def _facts(
    sku: str,
    currency: str,
    country: str,
    rules: Sequence[Rule],
    sku_rows: Mapping[str, SkuCost],
    rates: Mapping[tuple[str, str], Decimal],
    entries: Mapping[str, Mapping[str, Sequence[PriceEntry]]],
    references: Mapping[str, Mapping[str, int]],
    convert: Converter,
    previous: int | None,
    signals: Signals,
) -> Facts:
    row = sku_rows.get(sku)
    cost = None
    if row is not None and row.cost is not None and row.cost_currency is not None:
        factor = convert(row.cost_currency, currency)
        if factor is not None:
            cost = to_minor(Decimal(plain(row.cost, row.cost_currency)) * factor, currency, "ceiling")
    maps = {}
    for rule in rules:
        if rule.kind == "map" and rule.ref is not None and (tiers := entries.get(rule.ref, {}).get(sku)):
            maps[rule.ref] = tiers[0].amount
    refs = {ch: prices[sku] for ch, prices in references.items() if sku in prices}
    rate = rate_of(country, row.tax_class if row is not None else STANDARD, rates)
    observed = signals.observed(sku, country, currency, convert)
    return Facts(cost, rate, inclusive(country), maps, refs, previous, observed, signals.stock.get(sku))


def _announce(
    market: Market, changed: Sequence[store.PriceRow], dropped: Sequence[tuple[str, str, str]]
) -> list[NewEvent]:
    c = market.currency
    changes: list[dict[str, Any]] = [
        {
            "country": r.country,
            "sku": r.sku,
            "amount": plain(r.amount, c),
            "compare_at": None if r.compare_at is None else plain(r.compare_at, c),
        }
        for r in changed
    ]
    changes += [{"country": k, "sku": s, "amount": None, "compare_at": None} for _, k, s in dropped]
    return [
        NewEvent(PRICE_CHANGED, market.channel, {"currency": c, "changes": changes[i : i + EVENT_CHUNK]}, SOURCE)
        for i in range(0, len(changes), EVENT_CHUNK)
    ]
