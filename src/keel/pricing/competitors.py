"""Competitors' observed prices: the facts the ``competitor`` rule reads, kept by pricing until a digital-shelf
context brings its own. One row per (competitor, country, SKU): the latest observation, in the currency it
was seen in.

A batch is checked whole and written in one transaction, or refused with every row's problems and nothing
written. An observation replaces the stored one only when it was observed at the same moment or later, so
batches may arrive in any order and the same batch twice changes nothing. A batch recomputes its SKUs in its
countries, and only when a stored policy has a ``competitor`` rule (otherwise nothing reads them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.scope import Scope
from keel.pricing import store
from keel.pricing.engine import Recomputed
from keel.pricing.model import Rule
from keel.pricing.model.documents import CompetitorPrice, parse_competitor_prices


@dataclass(frozen=True)
class CompetitorPricesSaved:
    saved: int  # observations in the batch (an older one than the stored is kept out, not refused)
    recomputed: Recomputed


class CompetitorPrices:
    def __init__(self, db: Database, recompute: Callable[..., Recomputed], rules: Callable[[], list[Rule]]) -> None:
        self.db, self.recompute, self.rules = db, recompute, rules

    def save(self, document: object) -> CompetitorPricesSaved:
        """Store ``[{"competitor", "country", "sku", "currency", "amount", "observed_at"}]``, all or nothing;
        recompute those SKUs in those countries when a policy has a competitor rule."""
        rows = parse_competitor_prices(document, utcnow())
        with self.db.write() as conn:
            store.save_competitor_prices(conn, rows)
        if not any(r.kind == "competitor" for r in self.rules()):
            return CompetitorPricesSaved(len(rows), Recomputed(0, 0, 0, 0.0))
        done = self.recompute(countries={r.country for r in rows}, skus={r.sku for r in rows})
        return CompetitorPricesSaved(len(rows), done)

    def page(
        self,
        competitor: str | None = None,
        country: str | None = None,
        sku: str | None = None,
        limit: int = 100,
        offset: int = 0,
        within: Scope = Scope.ALL,
    ) -> tuple[list[CompetitorPrice], int]:
        """A page of the stored observations by SKU, country and competitor, in the countries ``within`` sees."""
        if country is not None and not within.sees_country(country):
            return [], 0
        with self.db.read() as conn:
            return store.competitor_page(conn, competitor, country, sku, limit, offset, within.countries)
