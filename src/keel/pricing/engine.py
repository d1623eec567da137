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

Many prices share every input of the rules: the same base price, cost, tax rate, MAP, reference price and
price of the day give the same result in every channel of a country and currency under the same policy. So a
computation runs the rules, writes the explanation's JSON and its digest once per distinct set of inputs
(an outcome) and reuses them; channels are taken currency by currency, so only one currency's outcomes
are kept at a time (an outcome of one currency never serves another).
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from keel.platform.clock import utcnow
from keel.platform.db import Database, to_micros
from keel.platform.events import EventLog
from keel.pricing import store
from keel.pricing.announce import announce
from keel.pricing.gather import Signals, StockPort, Tags, gather, no_stock, no_tags
from keel.pricing.model import (
    STANDARD,
    Facts,
    Priced,
    PriceEntry,
    PriceList,
    Rule,
    Step,
    inclusive,
    parse_rules,
    pick,
    price,
    ranked,
    rate_of,
)
from keel.pricing.model.documents import SkuCost
from keel.pricing.model.sale import Tagged, on_sale, published_for

DAY_US = timedelta(days=1) // timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# as ``json.dumps(steps, separators=(",", ":"))`` writes them, built once (steps hold no cycles to check for)
_JSON = json.JSONEncoder(separators=(",", ":"), check_circular=False)
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


Move = tuple[str, str, str, str, int | None, int | None]  # channel, country, SKU, currency, before, after


@dataclass(frozen=True)
class Recomputed:
    prices: int  # (channel, country, SKU) prices computed
    changed: int  # of which new or different (written and announced)
    removed: int  # prices no longer given (no list prices the SKU there any more)
    seconds: float
    moves: tuple[Move, ...] = ()  # a dry run's changes (a what-if), nothing written


class _Outcome(NamedTuple):
    """The rules' result for one set of inputs, its explanation serialised as stored."""

    amount: int
    compare_at: int | None
    price_list: str
    floor: int
    steps: str  # JSON text
    digest: str


@dataclass
class _Batch:
    """One channel's rows: ``changed`` written and announced, ``refreshed`` (the same price over another floor
    or explanation: a cost, rate, cover or competitor price moved) written only, ``dropped`` deleted and
    announced."""

    changed: list[store.PriceWrite] = field(default_factory=list)
    refreshed: list[store.PriceWrite] = field(default_factory=list)
    dropped: list[tuple[str, str, str]] = field(default_factory=list)
    computed: int = 0


def recompute(
    db: Database,
    events: EventLog,
    markets: list[Market],
    convert: Converter,
    want: Wanted,
    stock: StockPort = no_stock,
    proposal: Mapping[str, list[Rule]] | None = None,
    tags: Tags = no_tags,
) -> Recomputed:
    """Compute the prices of ``want``'s channels, countries and SKUs (None: all), write the changed ones and
    announce them, one transaction per channel. With a ``proposal`` (scope -> rules in place of the stored
    ones), a dry run: nothing is written or announced, and the changes come back as ``moves``."""
    with _no_cycle_collection():
        return _recompute(db, events, markets, convert, want, stock, proposal, tags)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector paused for the block. A full recompute allocates hundreds of thousands of
    tuples that form no cycles (reference counting frees them); meanwhile the collector's full passes over
    the process's whole heap took a sixth of the time and freed nothing. What cycles other threads make
    meanwhile are collected once it resumes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _recompute(
    db: Database,
    events: EventLog,
    markets: list[Market],
    convert: Converter,
    want: Wanted,
    stock: StockPort,
    proposal: Mapping[str, list[Rule]] | None,
    tags: Tags,
) -> Recomputed:
    started = time.perf_counter()
    now = utcnow()
    markets = [
        m
        for m in markets
        if (want.channels is None or m.channel in want.channels)
        and (want.currencies is None or m.currency in want.currencies)
    ]
    with db.read() as conn:
        all_lists = store.lists(conn)
        policies = {s: parse_rules(r)[0] for s, (r, _) in store.policies(conn).items()} | dict(proposal or {})
        # the lists that can apply (a list prices only the channels of its currency) and the MAP rules' lists
        currencies = {m.currency for m in markets}
        maps = {r.ref for rules in policies.values() for r in rules if r.kind == "map" and r.ref is not None}
        codes = {pl.code for pl in all_lists if pl.currency in currencies} | maps
        entries = store.entries(conn, codes, want.skus)
        sku_rows = store.skus(conn, want.skus)
        rates = store.rates(conn)
        in_use = [r for m in markets for r in policies.get(m.channel, policies.get("*", []))]
        priced = {sku for code in codes for sku in entries.get(code, {})}
        signals = gather(conn, in_use, want.skus, want.countries, stock, now, priced, tags)
    run = _Run(now, lru_cache(maxsize=None)(convert), entries, sku_rows, rates, signals)
    skus = None if want.skus is None else sorted(want.skus)
    referenced = {r.ref for rules in policies.values() for r in rules if r.kind == "parity"}
    # channel -> country -> SKU -> price computed in this run, of the channels a parity rule refers to
    results: dict[str, dict[str, dict[str, int]]] = {}
    computed = written = removed = 0
    moves: list[Move] = []
    # channels whose rules refer to another channel's price go after it (one level: a parity chain is read
    # from the prices stored); then currency by currency, so each currency's outcomes are kept only while
    # its channels are computed
    markets.sort(
        key=lambda m: (any(r.kind == "parity" for r in policies.get(m.channel, policies.get("*", []))), m.currency)
    )
    for market in markets:
        scope = market.channel if market.channel in policies else "*"
        rules = policies.get(scope, [])
        run.start(market.currency)
        batch = _Batch()
        for country in market.countries:
            if want.countries is not None and country not in want.countries:
                continue
            ordered = ranked(all_lists, market.channel, country, market.currency, None, now)
            with db.read() as conn:
                existing = store.held(conn, market.channel, country, skus)
                references = _references(conn, rules, country, want.skus, results)
            fresh = (
                results.setdefault(market.channel, {}).setdefault(country, {}) if market.channel in referenced else None
            )
            seen = (len(batch.changed), len(batch.dropped))
            run.country(market, country, (scope, rules), ordered, existing, references, fresh, batch)
            if proposal is not None:
                moves += [(*r[:4], existing[r[2]][1] if r[2] in existing else None, r[4])
                          for r in batch.changed[seen[0]:]]  # fmt: skip
                moves += [(c, k, s, market.currency, existing[s][1], None) for c, k, s in batch.dropped[seen[1] :]]
        if proposal is None and (batch.changed or batch.dropped or batch.refreshed):
            with db.write() as conn:
                store.write_prices(conn, batch.changed + batch.refreshed)
                store.drop_prices(conn, batch.dropped)
                if batch.changed or batch.dropped:
                    events.append(conn, announce(market.channel, market.currency, batch.changed, batch.dropped))
        computed += batch.computed
        written += len(batch.changed)
        removed += len(batch.dropped)
    return Recomputed(computed, written, removed, round(time.perf_counter() - started, 3), tuple(moves))


class _Run:
    """What one computation reads once, and what it reuses within a currency: outcomes by their inputs, the
    chosen base price by the lists that apply, and per country each SKU's cost and tax rate."""

    def __init__(
        self,
        now: datetime,
        convert: Converter,
        entries: Mapping[str, Mapping[str, Sequence[PriceEntry]]],
        sku_rows: Mapping[str, SkuCost],
        rates: Mapping[tuple[str, str], Decimal],
        signals: Signals,
    ) -> None:
        self.now_us = to_micros(now)  # as every stored instant is written
        self.age_us = (now - EPOCH) // timedelta(microseconds=1)  # exact: what the stored ones are measured from
        self.convert, self.entries, self.sku_rows, self.rates = convert, entries, sku_rows, rates
        self.signals = signals
        self.currency = ""
        self.outcomes: dict[tuple[Any, ...], _Outcome] = {}
        self.bases: dict[tuple[str, ...], tuple[set[str], list[tuple[str, tuple[str, PriceEntry]]]]] = {}
        self.costs: dict[str, int | None] = {}
        self.facts: dict[str, dict[str, tuple[int | None, Decimal]]] = {}

    def start(self, currency: str) -> None:
        """The next channel's currency: what was kept for another currency can no longer serve."""
        if currency != self.currency:
            self.currency = currency
            self.outcomes, self.bases, self.costs, self.facts = {}, {}, {}, {}

    def country(
        self,
        market: Market,
        country: str,
        policy: tuple[str, Sequence[Rule]],
        ordered: Sequence[PriceList],
        existing: Mapping[str, store.Held],
        references: Mapping[str, Mapping[str, int]],
        fresh: dict[str, int] | None,
        batch: _Batch,
    ) -> None:
        """Price every SKU the lists of ``ordered`` price in ``country`` and add what changed to ``batch``."""
        channel, currency = market.channel, market.currency
        scope, rules = policy
        priced, bases = self._bases(ordered)
        facts = self._sku_facts(country, currency)
        standard = (None, rate_of(country, STANDARD, self.rates))
        tax_inclusive = inclusive(country)
        map_lists = [(r.ref, r.brands) for r in rules if r.kind == "map" and r.ref is not None]
        outcomes, now_us, age_us, signals = self.outcomes, self.now_us, self.age_us, self.signals
        changed, refreshed = batch.changed, batch.refreshed
        sale = published_for(signals.published, signals.tags, (channel, country, currency))
        for sku, (code, entry) in bases:
            old = existing.get(sku)
            if old is None:
                previous = None
            else:
                _, amount, compare_at, floor, digest, day_base, day_start, changed_at = old
                new_day = age_us - day_start >= DAY_US  # a day after it started, the next day starts
                previous = amount if new_day else day_base
            cost, rate = facts.get(sku, standard)
            maps = self._maps(map_lists, sku) if map_lists else ()
            refs = tuple((ch, prices[sku]) for ch, prices in references.items() if sku in prices) if references else ()
            observed = signals.observed(sku, country, currency, self.convert) if signals.competitors else ()
            held = signals.stock.get(sku) if signals.stock else None
            # every input of ``price`` (a fact added to ``Facts`` belongs here too): the scope stands for its
            # rules; of the entry, price reads the amounts
            line, promotions = sale(sku, rate) if sale is not None else (None, ())
            key = (scope, code, entry.amount, entry.compare_at, cost, rate, tax_inclusive, maps, refs, previous,
                   observed, held, tuple(p.code for p in promotions))  # fmt: skip
            out = outcomes.get(key)
            if out is None:
                facts_here = Facts(cost, rate, tax_inclusive, dict(maps), dict(refs), previous, observed, held)
                result = price((code, entry), rules, facts_here, currency)
                if line is not None and promotions:
                    result = on_sale(result, line, promotions, (channel, country, currency), signals.now)
                out = outcomes[key] = _outcome(result)
            if fresh is not None:
                fresh[sku] = out[0]
            # (indexes, not names: this runs once per price) the day the change limit counts from: a new
            # price starts one; a day after it started, the price it ended with starts the next
            if old is None:
                changed.append((channel, country, sku, currency, *out, out[0], now_us, now_us))
            elif amount == out[0] and compare_at == out[1]:
                # the same price explained anew (a cost, rate, cover or competitor price moved under it)
                if floor != out[3] or digest != out[5]:
                    refreshed.append((channel, country, sku, currency, *out, day_base, day_start, changed_at))
            elif new_day:
                changed.append((channel, country, sku, currency, *out, amount, now_us, now_us))
            else:
                changed.append((channel, country, sku, currency, *out, day_base, day_start, now_us))
        batch.computed += len(bases)
        batch.dropped += [(channel, country, s) for s in existing if s not in priced]

    def _bases(self, ordered: Sequence[PriceList]) -> tuple[set[str], list[tuple[str, tuple[str, PriceEntry]]]]:
        """The SKUs ``ordered`` price, and (SKU, (list code, entry)) chosen among them at quantity 1 in SKU
        order: the same for every channel and country where the same lists apply."""
        key = tuple(pl.code for pl in ordered)
        if key not in self.bases:
            priced: set[str] = set().union(*(self.entries.get(code, {}) for code in key))
            chosen = []
            for sku in sorted(priced):
                if (found := pick(ordered, self.entries, sku)) is not None:
                    chosen.append((sku, (found[0].code, found[1])))
            self.bases[key] = priced, chosen
        return self.bases[key]

    def _sku_facts(self, country: str, currency: str) -> dict[str, tuple[int | None, Decimal]]:
        """SKU -> (its cost in ``currency``, its tax rate in ``country``) for the SKUs with a cost row."""
        if country not in self.facts:
            if not self.costs:  # the channel's currency: the same cost in each of its countries
                self.costs = {sku: row.cost_in(currency, self.convert) for sku, row in self.sku_rows.items()}
            rates = {c: rate_of(country, c, self.rates) for c in {row.tax_class for row in self.sku_rows.values()}}
            self.facts[country] = {sku: (self.costs[sku], rates[row.tax_class]) for sku, row in self.sku_rows.items()}
        return self.facts[country]

    def _maps(self, map_lists: Sequence[tuple[str, frozenset[str]]], sku: str) -> tuple[tuple[str, int], ...]:
        return map_prices(map_lists, self.entries, self.signals.tags, sku)


def map_prices(
    map_lists: Sequence[tuple[str, frozenset[str]]],
    entries: Mapping[str, Mapping[str, Sequence[PriceEntry]]],
    tags: Mapping[str, Tagged],
    sku: str,
) -> tuple[tuple[str, int], ...]:
    """(map list, the SKU's minimum) of each MAP rule's list (with the brands it holds) that prices the SKU."""
    found = {}
    for ref, brands in map_lists:
        if brands and ((tagged := tags.get(sku)) is None or tagged.brand not in brands):
            continue
        if tiers := entries.get(ref, {}).get(sku):
            found[ref] = tiers[0].amount
    return tuple(found.items())


def _outcome(result: Priced) -> _Outcome:
    text = _JSON.encode([s.__dict__ for s in result.steps])
    return _Outcome(result.amount, result.compare_at, result.price_list, result.floor, text, _digest(result.steps))


def _digest(steps: Sequence[Step]) -> str:
    """A short fingerprint of an explanation: equal steps, equal digest (16 hex digits of SHA-256)."""
    text = "|".join([f"{s.rule}:{s.before}:{s.after}:{s.note}" for s in steps])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _references(
    conn: Any,
    rules: Sequence[Rule],
    country: str,
    skus: set[str] | None,
    results: Mapping[str, Mapping[str, dict[str, int]]],
) -> dict[str, dict[str, int]]:
    """parity channel -> SKU -> its price in ``country``: computed in this run, else stored."""
    out: dict[str, dict[str, int]] = {}
    for rule in rules:
        if rule.kind == "parity" and rule.ref is not None and rule.ref not in out:
            stored = store.amounts(conn, rule.ref, country, skus)
            out[rule.ref] = stored | results.get(rule.ref, {}).get(country, {})
    return out
