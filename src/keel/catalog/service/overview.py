"""Reads behind the catalog pages: the product list with completeness per channel, one product laid out
for a person (values per locale, listing per channel, history), filtered by what a caller's channels allow."""

from __future__ import annotations

from collections import Counter
from typing import Any

from keel.catalog import store
from keel.catalog.model import Family, parse_product
from keel.catalog.model.listings import ListingState, Target
from keel.catalog.model.overview import (
    ChannelScore,
    ProductDetail,
    ProductQuery,
    ProductRow,
    title_of,
    value_rows,
)
from keel.catalog.model.profiles import Profile
from keel.catalog.model.syndicate import completeness
from keel.catalog.service.common import listing_view
from keel.catalog.service.products import ProductUseCases
from keel.platform.errors import NotFound
from keel.platform.scope import Scope

HISTORY_SHOWN = 50


class OverviewUseCases(ProductUseCases):
    """The product list and one product's page."""

    def _scores(
        self,
        stored: store.StoredProduct,
        families: dict[str, Family],
        targets: list[Target],
        profiles: dict[str, Profile],
        states: list[tuple[str, str]],
    ) -> tuple[ChannelScore, ...]:
        product, problems = parse_product(stored.document, families)
        if product is None:  # stored documents are valid under their family (put_family keeps them so)
            raise ValueError(f"stored product {stored.code} does not parse: {problems}")
        family = families[product.family]
        tally = Counter(states)
        out = []
        for t in targets:
            score = completeness(product, family, t, profiles[t.profile])
            ready, blocked = (
                tally[(t.channel, ListingState.READY.value)],
                tally[(t.channel, ListingState.BLOCKED.value)],
            )
            out.append(ChannelScore(t.channel, score, ready, blocked))
        return tuple(out)

    def _context(self, conn: Any, scope: Scope) -> tuple[dict[str, Family], list[Target], dict[str, Profile]]:
        syndication = self._syndication(conn)
        families = {c: self._family(d) for c, d in store.family_documents(conn).items()}
        targets = [t for t in syndication.targets if scope.sees_channel(t.channel)]
        return families, targets, syndication.profiles

    def browse(
        self,
        query: ProductQuery,
        *,
        limit: int = 50,
        offset: int = 0,
        locale: str | None = None,
        scope: Scope = Scope.ALL,
    ) -> tuple[list[ProductRow], int]:
        """A page of products by code matching ``query``, each with its completeness and listing states on
        every channel with a target that ``scope`` sees, and how many match. ``blocked_on`` a channel outside
        ``scope`` matches nothing."""
        if query.blocked_on and not scope.sees_channel(query.blocked_on):
            return [], 0
        with self.db.read() as conn:
            found, total = store.search_products(
                conn,
                family=query.family,
                brand=query.brand,
                text=query.text,
                blocked_on=query.blocked_on,
                missing=query.missing,
                rule=query.rule,
                channels=scope.channels,
                limit=limit,
                offset=offset,
            )
            families, targets, profiles = self._context(conn, scope)
            states = store.product_listings(conn, [s.code for s in found])
        rows = []
        for s in found:
            scores = self._scores(s, families, targets, profiles, states.get(s.code, []))
            title = title_of(s.document, locale or (targets[0].locale if targets else None))
            count = len(s.document.get("variants", []))
            rows.append(
                ProductRow(s.code, s.family, s.document.get("brand"), title, count, s.revision, s.updated_at, scores)
            )
        return rows, total

    def brands(self) -> list[str]:
        """The brands products name, for a filter's choices."""
        with self.db.read() as conn:
            return store.brands(conn)

    def detail(self, code: str, scope: Scope = Scope.ALL) -> ProductDetail:
        """One product for a person: its values per locale, its completeness and each listing (with reasons)
        on the channels ``scope`` sees, and its newest revisions. ``NotFound`` (404) for an unknown product."""
        with self.db.read() as conn:
            stored = store.product(conn, code)
            if stored is None:
                raise NotFound(f"no product {code!r}")
            families, targets, profiles = self._context(conn, scope)
            listed = [
                listing_view(v)
                for (channel, _), v in sorted(store.listings_of(conn, [code]).items())
                if scope.sees_channel(channel)
            ]
            history, count = store.revisions_page(conn, code, HISTORY_SHOWN, 0)
        states = [(v.channel, v.state.value) for v in listed]
        doc = stored.document
        locales, values = value_rows(doc)
        return ProductDetail(
            code=stored.code,
            family=stored.family,
            brand=doc.get("brand"),
            revision=stored.revision,
            updated_at=stored.updated_at,
            categories=tuple(doc.get("categories", [])),
            locales=locales,
            values=values,
            variants=tuple(doc.get("variants", [])),
            media=tuple(doc.get("media", [])),
            channels=self._scores(stored, families, targets, profiles, states),
            listings=tuple(listed),
            history=tuple(history),
            revisions=count,
        )
