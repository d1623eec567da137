"""Pricing use cases: price lists, SKU costs and tax classes, tax rates and policies kept as data, and every
(channel, country, SKU) price computed from them, stored with its explanation and announced.

A change recomputes only what it can affect (``recompute`` with the channels, countries and SKUs
concerned): a price list its SKUs on the channels it applies to, a policy its scope's channels, a cost or a
tax class its SKUs, a tax rate its country. Prices that changed are written in one transaction with one
``price.changed`` event per channel (``{"currency", "changes": [{"country", "sku", "amount", "compare_at"}]}``,
amounts as decimal strings; ``amount`` null: no longer priced), for the channel sync engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import FieldError, NotFound, ValidationFailed
from keel.platform.events import EventLog
from keel.platform.money import plain
from keel.platform.scope import Scope
from keel.pricing import engine, store
from keel.pricing.competitors import CompetitorPrices
from keel.pricing.engine import Converter, Market, Recomputed, Wanted
from keel.pricing.gather import StockPort, Tags, no_stock, no_tags, published_promotions
from keel.pricing.model import (
    STANDARD,
    STANDARD_RATES,
    Priced,
    PriceEntry,
    PriceList,
    Rule,
    Step,
    inclusive,
    parse_entries,
    parse_rules,
    rate_of,
    stock_thresholds,
    tax,
)
from keel.pricing.model.documents import parse_list, parse_skus
from keel.pricing.model.promotions import Promotion
from keel.pricing.quote import needs_quote, quote
from keel.pricing.views import Explained, PolicyView, PriceListView, PriceView, TaxRateView
from keel.pricing.whatif import PolicyPreview, policy_preview


def no_conversion(source: str, target: str) -> Decimal | None:
    return Decimal(1) if source == target else None


class PricingService:
    def __init__(
        self,
        db: Database,
        events: EventLog,
        markets: Callable[[], list[Market]] = list,
        conversion: Callable[[], Converter] = lambda: no_conversion,
        stock: StockPort = no_stock,
        volumes: Callable[[datetime], Mapping[tuple[str, str, str], int]] = lambda since: {},
        tags: Tags = no_tags,
    ) -> None:
        self.db, self.events = db, events
        self.markets, self.conversion, self.stock, self.volumes = markets, conversion, stock, volumes
        self.tags = tags
        self.competitors = CompetitorPrices(db, self.recompute, self._rules_in_use)

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
        currencies = {parsed.currency} | ({old.currency} if old is not None else set())
        done = self.recompute(channels=_channels_of(parsed, old), skus=affected, currencies=currencies)
        return self.get_list(code), done

    def set_list_prices(self, code: str, prices: object) -> Recomputed:
        """Set some prices of list ``code`` (the ``prices`` of a list document: each (SKU, tier) given is
        replaced, the others kept); recompute those SKUs where the list applies."""
        pl = self.get_list(code).price_list
        entries, errors = parse_entries(prices, pl.currency)
        if errors or not entries:
            raise ValidationFailed("invalid prices", errors or [FieldError(None, "prices", "at least one price")])
        with self.db.write() as conn:
            store.upsert_entries(conn, code, entries)
        return self.recompute(channels=_channels_of(pl, None), skus={e.sku for e in entries}, currencies={pl.currency})

    def delete_list(self, code: str) -> Recomputed:
        with self.db.read() as conn:
            old = next((pl for pl in store.lists(conn) if pl.code == code), None)
            skus = store.skus_of_lists(conn, [code])
        if old is None:
            raise NotFound(f"price list {code!r} does not exist")
        with self.db.write() as conn:
            store.delete_list(conn, code)
        return self.recompute(channels=_channels_of(old, None), skus=skus, currencies={old.currency})

    def lists(self, within: Scope = Scope.ALL) -> list[PriceListView]:
        """Every price list ``within`` sees (one for every channel or country is seen by all), by code."""
        with self.db.read() as conn:
            counts = store.entry_counts(conn)
            return [
                PriceListView(pl, counts.get(pl.code, 0), store.list_updated(conn, pl.code))
                for pl in store.lists(conn)
                if _sees(within, pl.channel, pl.country)
            ]

    def get_list(self, code: str, within: Scope = Scope.ALL) -> PriceListView:
        found = next((v for v in self.lists(within) if v.price_list.code == code), None)
        if found is None:
            raise NotFound(f"price list {code!r} does not exist")
        return found

    def list_entries(self, code: str, skus: Iterable[str]) -> dict[str, list[PriceEntry]]:
        """The prices of ``skus`` in list ``code``: SKU -> its tiers, ascending."""
        with self.db.read() as conn:
            return store.entries(conn, [code], skus).get(code, {})

    def list_prices(
        self, code: str, limit: int = 100, offset: int = 0, within: Scope = Scope.ALL
    ) -> tuple[list[PriceEntry], int]:
        self.get_list(code, within)
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

    def tax_table(self, within: Scope = Scope.ALL) -> list[TaxRateView]:
        """The stored rates and the default standard rates no stored rate replaces, by country and class."""
        stored = self.tax_rates()
        rows = [TaxRateView(k, c, r, True) for (k, c), r in stored.items()]
        rows += [TaxRateView(k, STANDARD, r, False) for k, r in STANDARD_RATES.items() if (k, STANDARD) not in stored]
        return sorted((r for r in rows if within.sees_country(r.country)), key=lambda r: (r.country, r.tax_class))

    def set_policy(self, scope: str, document: object) -> tuple[PolicyView, Recomputed]:
        """The ordered rules of ``scope`` (``*`` or an active channel's code): ``{"rules": [...]}``."""
        raw, _ = self._checked_policy(scope, document)
        with self.db.write() as conn:
            store.save_policy(conn, scope, raw, utcnow())
        done = self.recompute(channels=None if scope == "*" else {scope})
        return self.policy(scope), done

    def preview_policy(self, scope: str, document: object, days: int = 28) -> PolicyPreview:
        """What saving ``document`` as the policy of ``scope`` would change, before it is saved: every price
        it moves (a dry run of the recompute) and, at the units sold in the last ``days``, the net revenue
        (and so margin) it moves per day, per currency (``keel.pricing.whatif``). Nothing is written."""
        if not 1 <= days <= 366:
            raise ValidationFailed("invalid preview", [FieldError(None, "days", "1 to 366")])
        _, rules = self._checked_policy(scope, document)
        want = Wanted(None if scope == "*" else {scope})
        done = engine.recompute(
            self.db, self.events, self.markets(), self.conversion(), want, self.stock, {scope: rules}, self.tags
        )
        with self.db.read() as conn:
            stored = store.rates(conn)
            classes = {s: r.tax_class for s, r in store.skus(conn, {m[2] for m in done.moves}).items()}
        sold = self.volumes(utcnow() - timedelta(days=days)) if done.moves else {}
        return policy_preview(scope, done, days, sold, lambda k, s: rate_of(k, classes.get(s, STANDARD), stored))

    def _checked_policy(self, scope: str, document: object) -> tuple[list[Any], list[Rule]]:
        """The document's raw rules and the rules parsed; ``ValidationFailed`` with every problem."""
        raw = document.get("rules") if isinstance(document, dict) else None
        extra = sorted(set(document) - {"rules"}) if isinstance(document, dict) else []
        rules, errors = parse_rules(raw)
        errors += [FieldError(None, str(k)[:64], "unknown field") for k in extra]
        if scope != "*" and scope not in {m.channel for m in self.markets()}:
            errors.append(FieldError(None, "scope", "* or the code of an active channel"))
        if errors:
            raise ValidationFailed("invalid pricing policy", errors)
        return list(raw) if isinstance(raw, list) else [], rules

    def delete_policy(self, scope: str) -> Recomputed:
        with self.db.write() as conn:
            if not store.delete_policy(conn, scope):
                raise NotFound(f"no pricing policy for {scope!r}")
        return self.recompute(channels=None if scope == "*" else {scope})

    def policies(self, within: Scope = Scope.ALL) -> list[PolicyView]:
        """The stored policies ``within`` sees: ``*`` and those of its channels."""
        with self.db.read() as conn:
            found = sorted(store.policies(conn).items())
        return [PolicyView(s, r, at) for s, (r, at) in found if s == "*" or within.sees_channel(s)]

    def policy(self, scope: str, within: Scope = Scope.ALL) -> PolicyView:
        found = next((p for p in self.policies(within) if p.scope == scope), None)
        if found is None:
            raise NotFound(f"no pricing policy for {scope!r}")
        return found

    def stock_thresholds(self) -> tuple[tuple[str, int], ...]:
        """The cover thresholds of every stored policy's stock rules (empty: no policy reads stock)."""
        return stock_thresholds(self._rules_in_use())

    def _rules_in_use(self) -> list[Rule]:
        with self.db.read() as conn:
            return [r for rules, _ in store.policies(conn).values() for r in parse_rules(rules)[0]]

    # -- prices ---------------------------------------------------------------------------------------------
    def prices(
        self,
        channel: str | None = None,
        country: str | None = None,
        sku: str | None = None,
        limit: int = 100,
        offset: int = 0,
        within: Scope = Scope.ALL,
    ) -> tuple[list[PriceView], int]:
        """A page of computed prices, by channel, country and SKU. Under a restriction the page must stay
        inside it: a channel (country) outside it matches nothing, and one must be named when the
        restriction allows several (a single one is implied)."""
        channel = _implied(within.channels, channel, "channel")
        country = _implied(within.countries, country, "country")
        if not within.sees_channel(channel) or not within.sees_country(country):
            return [], 0
        with self.db.read() as conn:
            rows, total = store.price_page(conn, channel, country, sku, limit, offset)
        return [_view(r) for r in rows], total

    def price(self, channel: str, country: str, sku: str, within: Scope = Scope.ALL) -> PriceView:
        rows, _ = self.prices(channel, country, sku, 1, 0, within)
        if not rows:
            raise NotFound(f"{sku} has no price on {channel} in {country}")
        return rows[0]

    def quote(
        self,
        market: Market,
        country: str,
        group: str | None,
        lines: Mapping[str, int],
        at: datetime,
        every: bool = False,
    ) -> dict[str, Priced]:
        """The prices at ``at`` of the lines (SKU -> quantity) that a list of ``group`` or a quantity tier prices
        otherwise than the published price (``keel.pricing.quote``), or of every line (``every``: a cart at
        another moment than now); the others are left out."""
        wanted = set(lines) if every else needs_quote(self.db, market, group, lines)
        if not wanted:
            return {}
        chosen = {s: lines[s] for s in wanted}
        return quote(self.db, market, country, group, chosen, self.conversion(), self.stock, self.tags, at)

    def priced_of(self, conn: Connection, channel: str) -> list[tuple[str, str, str]]:
        """Every price of ``channel`` as (country, sku, amount as a decimal string), read in the caller's
        transaction: the sync engine's full resync takes the prices with the quantities."""
        return [(k, s, plain(a, c)) for k, s, a, c in store.channel_prices(conn, channel)]

    def explain(self, channel: str, country: str, sku: str, within: Scope = Scope.ALL) -> Explained:
        """The price with its steps and its tax split (net, tax, gross) at the SKU's tax class's rate."""
        view = self.price(channel, country, sku, within)
        with self.db.read() as conn:
            row = store.skus(conn, [sku]).get(sku)
            rates = store.rates(conn)
        tax_class = row.tax_class if row is not None else STANDARD
        rate = rate_of(country, tax_class, rates)
        return Explained(view, tax_class, tax(view.amount, rate, view.tax_inclusive))

    def cross_windows(self, since: datetime, until: datetime) -> Recomputed:
        """Recompute what the price lists and published promotions whose validity window opened or closed in
        (``since``, ``until``] price (their SKUs on the channels they reach): a season's list or sale takes
        over, or hands back, when its window says, not when someone next saves something."""

        def crossed(start: datetime | None, end: datetime | None) -> bool:
            return any(t is not None and since < t <= until for t in (start, end))

        with self.db.read() as conn:
            crossing = [pl for pl in store.lists(conn) if crossed(pl.valid_from, pl.valid_to)]
            skus = store.skus_of_lists(conn, [pl.code for pl in crossing]) if crossing else set()
            sales = [p for p in published_promotions(conn) if crossed(p.valid_from, p.valid_to)]
        done = [self.reprice_promotion(p) for p in sales]
        if skus:
            reach = [_channels_of(pl, None) for pl in crossing]
            channels = None if any(r is None for r in reach) else set().union(*(r for r in reach if r is not None))
            done.append(self.recompute(channels=channels, skus=skus, currencies={pl.currency for pl in crossing}))
        return Recomputed(*(sum(getattr(d, k) for d in done) for k in ("prices", "changed", "removed", "seconds")))

    def reprice_promotion(self, promotion: Promotion) -> Recomputed:
        """Recompute the prices a published promotion reaches: its channels, countries and SKUs (every SKU of
        its markets when it selects by brand or category), in its currency."""
        s = promotion.scope
        return self.recompute(
            channels=s.channels or None,
            countries=s.countries or None,
            skus=None if s.brands or s.categories or not s.skus else s.skus,
            currencies={promotion.currency} if promotion.currency else None,
        )

    def recompute(
        self,
        channels: Iterable[str] | None = None,
        countries: Iterable[str] | None = None,
        skus: Iterable[str] | None = None,
        currencies: Iterable[str] | None = None,
    ) -> Recomputed:
        """Compute the prices of the given channels, countries, SKUs and currencies (None: all), write the
        changed ones and announce them (``keel.pricing.engine``)."""
        want = Wanted(
            None if channels is None else set(channels),
            None if countries is None else set(countries),
            None if skus is None else set(skus),
            None if currencies is None else set(currencies),
        )
        return engine.recompute(
            self.db, self.events, self.markets(), self.conversion(), want, self.stock, tags=self.tags
        )


def _channels_of(new: PriceList, old: PriceList | None) -> set[str] | None:
    """The channels a list (before and after a change) can price: its channel, or all (None)."""
    if new.channel is None or (old is not None and old.channel is None):
        return None
    return {new.channel} | ({old.channel} if old is not None and old.channel else set())


def _sees(within: Scope, channel: str | None, country: str | None) -> bool:
    """Whether a record for ``channel`` and ``country`` (None: every one) is visible ``within``."""
    return (channel is None or within.sees_channel(channel)) and (country is None or within.sees_country(country))


def _implied(allowed: frozenset[str] | None, named: str | None, field: str) -> str | None:
    if allowed is None or named is not None:
        return named
    if len(allowed) == 1:
        return next(iter(allowed))
    reason = f"name a {field}: your restrictions allow only some"
    raise ValidationFailed(f"{field} required", [FieldError(None, field, reason)])


def _view(r: store.PriceRow) -> PriceView:
    steps = tuple(Step(**s) for s in r.steps)
    return PriceView(
        r.channel, r.country, r.sku, r.currency, r.amount, r.compare_at, r.price_list, r.floor,
        inclusive(r.country), steps, r.changed_at,
    )  # fmt: skip
