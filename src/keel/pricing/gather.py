"""The market signals a computation reads for the competitor and stock rules, gathered once per computation
and only when a policy it covers has such a rule: competitors' observed prices (pricing's own table) and each
SKU's stock and run rate (inventory's, through the ``StockPort`` that bootstrap passes in: pricing does not
read inventory's tables). Also the published promotions live now (``model.sale``), with the brands and
categories of the SKUs when one of them selects SKUs by those (the catalog's, through the ``Tags`` port).

A competitor price in another currency than the channel's is converted at the day's rate (the engine's ``Converter``);
one without a rate is left out, as a cost without one is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from keel.platform.money import plain, to_minor
from keel.pricing import promo_store, store
from keel.pricing.model import Observed, Rule, Stock
from keel.pricing.model.documents import CompetitorPrice
from keel.pricing.model.promotions import Promotion, parse_promotion
from keel.pricing.model.rules import STOCK_KINDS
from keel.pricing.model.sale import Tagged

# SKUs (None: every SKU) -> the stock and run rate of those inventory knows
StockPort = Callable[[set[str] | None], Mapping[str, Stock]]


Tags = Callable[[Iterable[str]], Mapping[str, Tagged]]


def no_tags(skus: Iterable[str]) -> Mapping[str, Tagged]:
    return {}


def no_stock(skus: set[str] | None) -> Mapping[str, Stock]:
    return {}


@dataclass(frozen=True)
class Signals:
    competitors: Mapping[tuple[str, str], Sequence[CompetitorPrice]]  # (country, SKU) -> observations
    stock: Mapping[str, Stock]
    now: datetime
    published: tuple[Promotion, ...] = ()  # the published promotions live now
    tags: Mapping[str, Tagged] = field(default_factory=dict)

    def observed(
        self, sku: str, country: str, currency: str, convert: Callable[[str, str], Decimal | None]
    ) -> tuple[Observed, ...]:
        """The competitor prices of ``sku`` in ``country``, in ``currency``."""
        out = []
        for o in self.competitors.get((country, sku), ()):
            factor = convert(o.currency, currency)
            if factor is None:
                continue
            amount = (
                o.amount
                if o.currency == currency
                else to_minor(Decimal(plain(o.amount, o.currency)) * factor, currency)
            )
            out.append(Observed(o.competitor, amount, o.observed_at, self.now - o.observed_at))
        return tuple(out)


def gather(
    conn: Any,
    rules: Iterable[Rule],
    skus: set[str] | None,
    countries: set[str] | None,
    stock: StockPort,
    now: datetime,
    priced: Iterable[str] = (),
    tags: Tags = no_tags,
) -> Signals:
    """What ``rules`` (those of the policies a computation covers) need beyond lists, costs and rates, and the
    published promotions; ``priced``: the SKUs the computation prices (whose tags a promotion may need)."""
    rules = list(rules)
    kinds = {r.kind for r in rules}
    competitors = store.competitor_prices(conn, skus, countries) if "competitor" in kinds else {}
    published = tuple(p for p in published_promotions(conn) if p.live(now))
    # brands and categories only when something selects SKUs by them: a published promotion, a brand's MAP
    needed = any(p.scope.brands or p.scope.categories for p in published) or any(r.brands for r in rules)
    tagged = tags(priced) if needed else {}
    return Signals(competitors, stock(skus) if kinds & set(STOCK_KINDS) else {}, now, published, tagged)


def published_promotions(conn: Any) -> list[Promotion]:
    """Every stored promotion saved with ``publish`` (a sale price for everyone), live or not."""
    return [p for p in (parse_promotion(s.code, s.document) for s in promo_store.promotions(conn)) if p.publish]
