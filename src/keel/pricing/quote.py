"""A price for one customer group at one quantity: what a cart's line costs when the published price (for
everyone, at quantity 1) is not the one that applies.

The published prices are computed for everyone at quantity 1 (``engine``). A cart of a customer group with
a list of its own, or with a quantity that reaches a list's tier, is priced here the same way for its SKUs
only: the lists that apply to the group, the tier at the quantity, the channel's policy with the facts it
reads (cost, tax rate, MAP, the reference channel's published price, competitor prices, stock), the
published promotions. One difference: ``max_change_per_day`` limits published prices only (a group's or a
tier's price has no day of its own to start from), so it does nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from keel.platform.db import Database
from keel.pricing import store
from keel.pricing.engine import Converter, Market, map_prices
from keel.pricing.gather import StockPort, Tags, gather
from keel.pricing.model import STANDARD, Facts, Priced, inclusive, parse_rules, pick, price, ranked, rate_of
from keel.pricing.model.sale import on_sale, published_for


def needs_quote(db: Database, market: Market, group: str | None, lines: Mapping[str, int]) -> set[str]:
    """The SKUs of ``lines`` whose price is not the published one: every SKU when a list of ``group`` exists in
    the market's currency, else those with a tier at or below their quantity (one indexed read)."""
    with db.read() as conn:
        lists = store.lists(conn)
        if group is not None and any(pl.customer_group == group and pl.currency == market.currency for pl in lists):
            return set(lines)
        many = {s: q for s, q in lines.items() if q > 1}
        return store.tiered(conn, many) if many else set()


def quote(
    db: Database,
    market: Market,
    country: str,
    group: str | None,
    lines: Mapping[str, int],
    convert: Converter,
    stock: StockPort,
    tags: Tags,
    now: datetime,
) -> dict[str, Priced]:
    """SKU -> its price for ``group`` at its quantity in ``lines`` (SKUs no list prices there are left out)."""
    skus = set(lines)
    with db.read() as conn:
        all_lists = store.lists(conn)
        policies = {s: parse_rules(r)[0] for s, (r, _) in store.policies(conn).items()}
        rules = policies.get(market.channel, policies.get("*", []))
        codes = {pl.code for pl in all_lists if pl.currency == market.currency}
        codes |= {r.ref for r in rules if r.kind == "map" and r.ref is not None}
        entries = store.entries(conn, codes, skus)
        sku_rows = store.skus(conn, skus)
        rates = store.rates(conn)
        signals = gather(conn, rules, skus, {country}, stock, now, skus, tags)
        refs = {
            r.ref: store.amounts(conn, r.ref, country, skus) for r in rules if r.kind == "parity" and r.ref is not None
        }
    map_lists = [(r.ref, r.brands) for r in rules if r.kind == "map" and r.ref is not None]
    ordered = ranked(all_lists, market.channel, country, market.currency, group, now)
    sale = published_for(signals.published, signals.tags, (market.channel, country, market.currency))
    out: dict[str, Priced] = {}
    for sku, quantity in lines.items():
        base = pick(ordered, entries, sku, quantity)
        if base is None:
            continue
        row = sku_rows.get(sku)
        cost = row.cost_in(market.currency, convert) if row is not None else None
        rate = rate_of(country, row.tax_class if row is not None else STANDARD, rates)
        maps = dict(map_prices(map_lists, entries, signals.tags, sku))
        reference = {ch: found[sku] for ch, found in refs.items() if sku in found}
        observed = signals.observed(sku, country, market.currency, convert)
        facts = Facts(cost, rate, inclusive(country), maps, reference, None, observed, signals.stock.get(sku))
        result = price((base[0].code, base[1]), rules, facts, market.currency)
        if sale is not None:
            line, promotions = sale(sku, rate)
            result = on_sale(result, line, promotions, (market.channel, country, market.currency), now)
        out[sku] = result
    return out
