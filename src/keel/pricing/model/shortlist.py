"""Which promotions a cart has to consider: with a thousand live promotions, most are for other SKUs, brands
or categories, and a cart of twenty lines must not test each of them against each line.

The promotions are indexed once (per version of the stored set) by the line filters of their scope: a
promotion naming SKUs is found through those SKUs, one naming brands through the brands, one naming only
categories through the categories; a promotion with no line filter (for every line of the carts it is for)
is always a candidate. A cart's shortlist is the union for its lines, in the order of the stored list, so
evaluation and explanation see the same promotions whatever the index holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from keel.pricing.model.cart import CartLine
from keel.pricing.model.promotions import Promotion


@dataclass(frozen=True)
class Shortlist:
    promotions: Sequence[Promotion]
    always: tuple[int, ...] = ()
    by_sku: dict[str, list[int]] = field(default_factory=dict)
    by_brand: dict[str, list[int]] = field(default_factory=dict)
    by_category: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, promotions: Sequence[Promotion]) -> Shortlist:
        always: list[int] = []
        by_sku: dict[str, list[int]] = {}
        by_brand: dict[str, list[int]] = {}
        by_category: dict[str, list[int]] = {}
        for i, p in enumerate(promotions):
            # a bundle names its items: they are its line filter whatever the scope says
            skus = {s for s, _ in p.items} if p.kind == "bundle" else p.scope.skus
            index, keys = (
                (by_sku, skus) if skus
                else (by_brand, p.scope.brands) if p.scope.brands
                else (by_category, p.scope.categories) if p.scope.categories
                else (None, frozenset())
            )  # fmt: skip
            if index is None:
                always.append(i)
            for key in keys:
                index.setdefault(key, []).append(i)  # type: ignore[union-attr]
        return cls(promotions, tuple(always), by_sku, by_brand, by_category)

    def candidates(self, lines: Iterable[CartLine]) -> list[Promotion]:
        found = set(self.always)
        for line in lines:
            found.update(self.by_sku.get(line.sku, ()))
            if line.brand is not None:
                found.update(self.by_brand.get(line.brand, ()))
            for category in line.categories:
                found.update(self.by_category.get(category, ()))
        return [self.promotions[i] for i in sorted(found)]
