"""Pricing use cases: price lists, SKU costs and tax classes, tax rates and policies kept as data, and every
(channel, country, SKU) price computed from them, stored with its explanation and announced.

A change recomputes only what it can affect (``recompute`` with the channels, countries and SKUs
concerned): a price list its SKUs on the channels it applies to, a policy its scope's channels, a cost or a
tax class its SKUs, a tax rate its country. Prices that changed are written in one transaction with one
``price.changed`` event per channel (``{"currency", "changes": [{"country", "sku", "amount", "compare_at"}]}``,
amounts as decimal strings; ``amount`` null: no longer priced), for the channel sync engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import FieldError, NotFound, ValidationFailed
from keel.platform.events import EventLog, NewEvent
from keel.platform.money import plain, to_minor
from keel.pricing import store
from keel.pricing.model import (
    STANDARD,
    Facts,
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
from keel.pricing.model.documents import SkuCost, parse_list, parse_skus

PRICE_CHANGED = "price.changed"
SOURCE = "pricing"
DAY = timedelta(days=1)
EVENT_CHUNK = 1000  # changes per event


@dataclass(frozen=True)
class Market:
    """An active channel as pricing sees it: where it sells and in which currency."""

    channel: str
    countries: tuple[str, ...]
    currency: str


@dataclass(frozen=True)
class PriceListView:
    price_list: PriceList
    prices: int
    updated_at: datetime | None


@dataclass(frozen=True)
class PolicyView:
    scope: str
    rules: list[dict[str, Any]]
    updated_at: datetime


@dataclass(frozen=True)
class PriceView:
    channel: str
    country: str
    sku: str
    currency: str
    amount: int
    compare_at: int | None
    price_list: str
    floor: int
    tax_inclusive: bool
    steps: tuple[Step, ...]
    changed_at: datetime

    @property
    def amount_text(self) -> str:
        return plain(self.amount, self.currency)


@dataclass(frozen=True)
class Recomputed:
    prices: int  # (channel, country, SKU) prices computed
    changed: int  # of which new or different (written and announced)
    removed: int  # prices no longer given (no list prices the SKU there any more)
    seconds: float


@dataclass
class _Scope:
    channels: set[str] | None = None
    countries: set[str] | None = None
    skus: set[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Converter = Callable[[str, str], Decimal | None]  # (source, target) -> units of target per unit of source


def no_conversion(source: str, target: str) -> Decimal | None:
    return Decimal(1) if source == target else None


class PricingService:
    def __init__(
        self,
        db: Database,
        events: EventLog,
        markets: Callable[[], list[Market]] = list,
        conversion: Callable[[], Converter] = lambda: no_conversion,
    ) -> None:
        self.db, self.events = db, events
        self.markets, self.conversion = markets, conversion

    # -- price lists ------------------------------------------------------------------------------------------
    def save_list(self, code: str, document: object) -> tuple[PriceListView, Recomputed]:
        """Create or replace price list ``code`` with its prices; recompute the prices it can affect."""
        parsed, entries = parse_list(code, document)
        with self.db.read() as conn:
            before = store.skus_of_lists(conn, [code])
            old = next((pl for pl in store.lists(conn) if pl.code == code), None)
        with self.db.write() as conn:
            store.save_list(conn, parsed, entries, utcnow())
        affected = before | {e.sku for e in entries}
        done = self.recompute(channels=_channels_of(parsed, old), skus=affected)
        return self.get_list(code), done

    def delete_list(self, code: str) -> Recomputed:
        with self.db.read() as conn:
            old = next((pl for pl in store.lists(conn) if pl.code == code), None)
            skus = store.skus_of_lists(conn, [code])
        if old is None:
            raise NotFound(f"price list {code!r} does not exist")
        with self.db.write() as conn:
            store.delete_list(conn, code)
        return self.recompute(channels=_channels_of(old, None), skus=skus)

    def lists(self) -> list[PriceListView]:
        with self.db.read() as conn:
            counts = store.entry_counts(conn)
            return [
                PriceListView(pl, counts.get(pl.code, 0), store.list_updated(conn, pl.code)) for pl in store.lists(conn)
            ]

    def get_list(self, code: str) -> PriceListView:
        found = next((v for v in self.lists() if v.price_list.code == code), None)
        if found is None:
            raise NotFound(f"price list {code!r} does not exist")
        return found

    def list_prices(self, code: str, limit: int = 100, offset: int = 0) -> tuple[list[PriceEntry], int]:
        self.get_list(code)
        with self.db.read() as conn:
            return store.entry_page(conn, code, limit, offset)

    # -- SKUs, tax rates, policies ----------------------------------------------------------------------------
    def set_skus(self, document: object) -> Recomputed:
        """Costs (net, in a currency of their own) and tax classes per SKU: ``[{"sku", "cost", "currency",
        "tax_class"}]``, each row checked, all or nothing; recompute those SKUs."""
        rows = parse_skus(document)
        with self.db.write() as conn:
            store.save_skus(conn, rows, utcnow())
        return self.recompute(skus={r.sku for r in rows})

    def set_tax_rate(self, country: str, tax_class: str, rate: str) -> Recomputed:
        errors: list[FieldError] = []
        if len(country) != 2 or not country.isascii() or not country.isupper():
            errors.append(FieldError(None, "country", "an ISO 3166 code, e.g. DE"))
        if not tax_class or len(tax_class) > 32 or not tax_class.replace("_", "").isalnum() or not tax_class.isascii():
            errors.append(FieldError(None, "tax_class", "letters, digits and _, at most 32"))
        try:
            value = Decimal(rate) if len(rate) <= 12 else Decimal("NaN")
        except ArithmeticError:
            value = Decimal("NaN")
        if not value.is_finite() or not 0 <= value < 1:
            errors.append(FieldError(None, "rate", 'a fraction from 0 to below 1 as a decimal string, e.g. "0.19"'))
        if errors:
            raise ValidationFailed("invalid tax rate", errors)
        with self.db.write() as conn:
            store.save_rate(conn, country, tax_class, value, utcnow())
        return self.recompute(countries={country})

    def tax_rates(self) -> dict[tuple[str, str], Decimal]:
        with self.db.read() as conn:
            return store.rates(conn)

    def set_policy(self, scope: str, document: object) -> tuple[PolicyView, Recomputed]:
        """The ordered rules of ``scope`` (``*`` or an active channel's code): ``{"rules": [...]}``."""
        raw = document.get("rules") if isinstance(document, dict) else None
        extra = sorted(set(document) - {"rules"}) if isinstance(document, dict) else []
        _, errors = parse_rules(raw)
        errors += [FieldError(None, str(k)[:64], "unknown field") for k in extra]
        if scope != "*" and scope not in {m.channel for m in self.markets()}:
            errors.append(FieldError(None, "scope", "* or the code of an active channel"))
        if errors:
            raise ValidationFailed("invalid pricing policy", errors)
        with self.db.write() as conn:
            store.save_policy(conn, scope, list(raw) if isinstance(raw, list) else [], utcnow())
        done = self.recompute(channels=None if scope == "*" else {scope})
        return self.policy(scope), done

    def delete_policy(self, scope: str) -> Recomputed:
        with self.db.write() as conn:
            if not store.delete_policy(conn, scope):
                raise NotFound(f"no pricing policy for {scope!r}")
        return self.recompute(channels=None if scope == "*" else {scope})

    def policies(self) -> list[PolicyView]:
        with self.db.read() as conn:
            return [PolicyView(s, r, at) for s, (r, at) in sorted(store.policies(conn).items())]

    def policy(self, scope: str) -> PolicyView:
        found = next((p for p in self.policies() if p.scope == scope), None)
        if found is None:
            raise NotFound(f"no pricing policy for {scope!r}")
        return found

    # -- prices ---------------------------------------------------------------------------------------------
    def prices(
        self,
        channel: str | None = None,
        country: str | None = None,
        sku: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[PriceView], int]:
        with self.db.read() as conn:
            rows, total = store.price_page(conn, channel, country, sku, limit, offset)
        return [_view(r) for r in rows], total

    def price(self, channel: str, country: str, sku: str) -> PriceView:
        rows, _ = self.prices(channel, country, sku, 1, 0)
        if not rows:
            raise NotFound(f"{sku} has no price on {channel} in {country}")
        return rows[0]

    def recompute(
        self,
        channels: Iterable[str] | None = None,
        countries: Iterable[str] | None = None,
        skus: Iterable[str] | None = None,
    ) -> Recomputed:
        """Compute the prices of the given channels, countries and SKUs (None: all), write the changed ones
        and announce them."""
        started = time.perf_counter()
        now = utcnow()
        want = _Scope(
            None if channels is None else set(channels),
            None if countries is None else set(countries),
            None if skus is None else set(skus),
        )
        markets = [m for m in self.markets() if want.channels is None or m.channel in want.channels]
        convert = self.conversion()
        with self.db.read() as conn:
            all_lists = store.lists(conn)
            policies = {s: parse_rules(r)[0] for s, (r, _) in store.policies(conn).items()}
            codes = {pl.code for pl in all_lists}
            entries = store.entries(conn, codes, want.skus)
            sku_rows = store.skus(conn, want.skus)
            rates = store.rates(conn)
        computed = written = removed = 0
        results: dict[tuple[str, str, str], int] = {}
        # channels whose rules refer to another channel's price go after it (one level: a parity chain is
        # read from the prices stored)
        markets.sort(key=lambda m: any(r.kind == "parity" for r in policies.get(m.channel, policies.get("*", []))))
        for market in markets:
            rules = policies.get(market.channel, policies.get("*", []))
            changed: list[store.PriceRow] = []
            dropped: list[tuple[str, str, str]] = []
            for country in market.countries:
                if want.countries is not None and country not in want.countries:
                    continue
                ordered = ranked(all_lists, market.channel, country, market.currency, None, now)
                priced = set().union(*(entries.get(pl.code, {}) for pl in ordered)) if ordered else set()
                with self.db.read() as conn:
                    existing = store.prices_of(conn, market.channel, country, want.skus)
                    references = _references(conn, rules, country, want.skus, results)
                for sku in sorted(priced):
                    base = pick(ordered, entries, sku)
                    if base is None:
                        continue
                    computed += 1
                    facts = _facts(sku, market.currency, country, rules, sku_rows, rates, entries, references, convert)
                    old = existing.get(sku)
                    previous = None if old is None else (old.amount if now - old.day_start >= DAY else old.day_base)
                    if previous is not None:
                        facts = replace(facts, previous=previous)
                    result = price((base[0].code, base[1]), rules, facts, market.currency)
                    results[(market.channel, country, sku)] = result.amount
                    steps = [s.__dict__ for s in result.steps]
                    now_is = (result.amount, result.compare_at, steps)
                    if old is not None and (old.amount, old.compare_at, old.steps) == now_is:
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
                            result.price_list, result.floor, steps, day_base, day_start, now,
                        )
                    )  # fmt: skip
                dropped += [(market.channel, country, s) for s in existing if s not in priced]
            if changed or dropped:
                with self.db.write() as conn:
                    store.write_prices(conn, changed)
                    store.drop_prices(conn, dropped)
                    self.events.append(conn, _announce(market, changed, dropped))
            written += len(changed)
            removed += len(dropped)
        return Recomputed(computed, written, removed, round(time.perf_counter() - started, 3))


def _channels_of(new: PriceList, old: PriceList | None) -> set[str] | None:
    """The channels a list (before and after a change) can price: its channel, or all (None)."""
    if new.channel is None or (old is not None and old.channel is None):
        return None
    return {new.channel} | ({old.channel} if old is not None and old.channel else set())


def _references(
    conn: Any, rules: Sequence[Rule], country: str, skus: set[str] | None, results: Mapping[tuple[str, str, str], int]
) -> dict[str, dict[str, int]]:
    """parity channel -> SKU -> its price in ``country``: computed in this run, else stored."""
    out: dict[str, dict[str, int]] = {}
    for rule in rules:
        if rule.kind == "parity" and rule.ref is not None and rule.ref not in out:
            stored = {s: r.amount for s, r in store.prices_of(conn, rule.ref, country, skus).items()}
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
    return Facts(cost, rate, inclusive(country), maps, refs)


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


def _view(r: store.PriceRow) -> PriceView:
    steps = tuple(Step(**s) for s in r.steps)
    return PriceView(
        r.channel, r.country, r.sku, r.currency, r.amount, r.compare_at, r.price_list, r.floor,
        inclusive(r.country), steps, r.changed_at,
    )  # fmt: skip
