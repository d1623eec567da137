"""Published promotions: a promotion saved with ``publish`` is a sale price for everyone, so it belongs in the
published price itself (what the channels show), not only in carts.

After a price's rules, floors and ending, the published promotions live for its channel, country and SKU
are applied to one unit exactly as a cart applies promotions (``model.cart``: stacking by priority,
exclusivity, groups, and never below the hard floor), and the discount becomes a ``promotion`` step. The
regular price becomes the compare-at ("was") price unless a higher one is set. The price ending is not
applied again: "20 % off" stays exactly that. Carts leave published promotions out (they are in the unit
price already) and explain them through the price's steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from keel.pricing.model.cart import Cart, CartLine, Limits, evaluate
from keel.pricing.model.promotions import Promotion
from keel.pricing.model.rules import Priced, Step
from keel.pricing.model.shortlist import Shortlist


class Tagged(Protocol):
    @property
    def brand(self) -> str | None: ...
    @property
    def categories(self) -> frozenset[str]: ...


def published_for(
    published: Sequence[Promotion], tags: Mapping[str, Tagged], market: tuple[str, str, str]
) -> Callable[[str, Decimal], tuple[CartLine, list[Promotion]]] | None:
    """For a market (channel, country, currency) with published promotions: SKU, tax rate -> (its unit line,
    the promotions that may apply to it); None without any (the common case: nothing to do per SKU)."""
    channel, country, currency = market
    here = [
        p
        for p in published
        if (not p.scope.channels or channel in p.scope.channels)
        and (not p.scope.countries or country in p.scope.countries)
        and p.currency in (None, currency)
    ]
    if not here:
        return None
    shortlist = Shortlist.of(here)

    def of(sku: str, rate: Decimal) -> tuple[CartLine, list[Promotion]]:
        tagged = tags.get(sku)
        categories, brand = (tagged.categories, tagged.brand) if tagged else (frozenset[str](), None)
        line = CartLine(sku, 1, 0, 0, rate, categories, brand)
        # the shortlist indexes a promotion by one of its line filters: keep those whose every filter covers
        # the SKU (the engine keys its outcomes by them)
        return line, [p for p in shortlist.candidates([line]) if p.scope.covers(sku, categories, brand)]

    return of


def on_sale(
    priced: Priced,
    line: CartLine,
    promotions: Sequence[Promotion],
    market: tuple[str, str, str],  # channel, country, currency
    at: datetime,
) -> Priced:
    """``priced`` with the published ``promotions`` that apply to one unit of ``line``'s SKU."""
    if not promotions:
        return priced
    channel, country, currency = market
    unit = CartLine(line.sku, 1, priced.amount, priced.floor, line.rate, line.categories, line.brand)
    result = evaluate(Cart(channel, country, currency, True, (unit,), at), promotions, Limits())
    if result.discount <= 0:
        return priced
    amount = priced.amount - result.discount
    note = "; ".join(f"promotion {o.promotion}: {o.reason}" for o in result.outcomes if o.applied)
    if amount == priced.floor:  # the promotion asked for more: say why it stopped there
        note += "; stopped at the hard floor (margin floor or MAP)"
    compare = max(priced.compare_at or 0, priced.amount)
    return Priced(amount, compare, priced.price_list, (*priced.steps, Step("promotion", priced.amount, amount, note)),
                  priced.floor)  # fmt: skip
