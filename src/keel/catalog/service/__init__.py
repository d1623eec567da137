"""Catalog use cases: families, the category tree, products with every change kept as a revision,
compliance profiles, and each channel's listings.

Every product write, whatever its path (HTTP, CLI, a bulk file, a revert), goes through
``ProductUseCases.save_batch``: the products are checked against their families in the pure model, compared
with what is stored, and only those that differ get a new revision; the rows, the revisions, the rebuilt
listings and their events commit in one transaction, so there is never a change without its revision nor a
revision without its event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from keel.catalog import store
from keel.catalog.model import (
    Category,
    Family,
    SkuTags,
    check_category,
    family_document,
    parse_family,
    parse_product,
)
from keel.catalog.model.listings import parse_target, target_document
from keel.catalog.model.profiles import Compliance, Profile, evaluate, parse_profile, profile_document
from keel.catalog.service.common import (
    CATALOG_EVENTS,
    CATEGORY_CHANGED,
    FAMILY_CHANGED,
    LISTING_CHANGED,
    PRODUCT_CHANGED,
    PROFILE_CHANGED,
    TARGET_CHANGED,
    Syndication,
    problem_count,
    shipped_profiles,
    stored_profile,
)
from keel.catalog.service.feeds import Availability, Feed, FeedUseCases
from keel.platform.clock import utcnow
from keel.platform.errors import FieldError, NotFound, ValidationFailed, single_field
from keel.platform.events import NewEvent

__all__ = [
    "CATALOG_EVENTS",
    "CATEGORY_CHANGED",
    "FAMILY_CHANGED",
    "LISTING_CHANGED",
    "PRODUCT_CHANGED",
    "PROFILE_CHANGED",
    "TARGET_CHANGED",
    "Availability",
    "CatalogService",
    "Feed",
    "shipped_profiles",
]


class CatalogService(FeedUseCases):
    """Products, their families and categories, every change of a product kept as a revision, compliance
    profiles and each channel's listings. The use cases live in ``products`` (with revisions and files) and
    ``listings`` (targets and listing states), ``overview`` (what the catalog pages read), ``feeds``; families,
    categories and profiles here."""

    # -- families --------------------------------------------------------------------------------------------
    def put_family(self, doc: Any, source: str = "api") -> Family:
        """Create or replace a family from its document. Refused (422) when the document is invalid or when a
        stored product of the family would no longer be valid under it. Every listing of the family's products
        is rebuilt in the same transaction (its requirements may have changed). Idempotent: the same document
        again changes nothing and announces nothing."""
        family, problems = parse_family(doc)
        if family is None:
            errors = [FieldError(None, f, r) for f, r in problems]
            raise ValidationFailed(problem_count("the family", errors), errors)
        document = family_document(family)
        with self.db.write() as conn:
            broken = []
            for stored in store.iter_products(conn, family.code):
                _, issues = parse_product(stored.document, {family.code: family})
                broken += [FieldError(None, f"{stored.code}.{f}", r) for f, r in issues[:3]]
                if len(broken) >= 50:
                    break
            if broken:
                raise ValidationFailed("stored products of the family would no longer be valid", broken)
            now = utcnow()
            if store.save_family(conn, family.code, document, now):
                event = NewEvent(FAMILY_CHANGED, f"catalog/families/{family.code}", {"family": family.code}, source)
                relisted = self._relist_every(conn, self._syndication(conn), now, source, family=family.code)
                self.events.append(conn, [event, *relisted])
        return family

    def families(self) -> list[Family]:
        """Every family, by code."""
        with self.db.read() as conn:
            return [self._family(doc) for doc in store.family_documents(conn).values()]

    def family(self, code: str) -> Family:
        """One family; ``NotFound`` (404) when there is none of that code."""
        with self.db.read() as conn:
            docs = store.family_documents(conn, [code])
        if code not in docs:
            raise NotFound(f"no family {code!r}")
        return self._family(docs[code])

    # -- categories ------------------------------------------------------------------------------------------
    def put_category(self, category: Category, source: str = "api") -> Category:
        """Create or replace a node of the category tree. Refused (422) for a bad code or label, a parent
        that does not exist or a parent below the category itself (a cycle). Idempotent."""
        problems = check_category(category.code, category.label, category.parent)
        if problems:
            errors = [FieldError(None, f, r) for f, r in problems]
            raise ValidationFailed(problem_count("the category", errors), errors)
        with self.db.write() as conn:
            tree = {c.code: c for c in store.all_categories(conn)}
            parent = category.parent
            if parent is not None and parent not in tree:
                raise ValidationFailed(
                    f"unknown parent {parent!r}", [FieldError(None, "parent", f"no category {parent!r}")]
                )
            while parent is not None:
                if parent == category.code:
                    reason = f"{category.parent!r} is below {category.code!r}: the tree would have a cycle"
                    raise ValidationFailed(reason, [FieldError(None, "parent", reason)])
                parent = tree[parent].parent
            if store.save_category(conn, category):
                data = {"category": category.code, "parent": category.parent}
                self.events.append(
                    conn, [NewEvent(CATEGORY_CHANGED, f"catalog/categories/{category.code}", data, source)]
                )
        return category

    def categories(self) -> list[Category]:
        """The category tree as a list of nodes, by code."""
        with self.db.read() as conn:
            return store.all_categories(conn)

    def tags(self, skus: Iterable[str]) -> dict[str, SkuTags]:
        """The brand and categories (each with its ancestors) of the products of ``skus``, for those stored:
        what promotions scoped by brand or category select lines by."""
        with self.db.read() as conn:
            found = store.sku_tags(conn, list(skus))
            tree = {c.code: c.parent for c in store.all_categories(conn)} if found else {}
        out = {}
        for sku, (brand, codes) in found.items():
            every = set()
            for code in codes:
                seen: str | None = code
                while seen is not None and seen not in every:
                    every.add(seen)
                    seen = tree.get(seen)
            out[sku] = SkuTags(brand, frozenset(every))
        return out

    def skus_tagged(
        self, *, category: str | None = None, brand: str | None = None, label: str | None = None
    ) -> list[str]:
        """The SKUs of the products in ``category`` (or any category below it), of ``brand`` and carrying
        ``label``, each given criterion holding: what an ad's product group advertises."""
        with self.db.read() as conn:
            below = None
            if category is not None:
                children: dict[str | None, list[str]] = {}
                for c in store.all_categories(conn):
                    children.setdefault(c.parent, []).append(c.code)
                below, todo = set(), [category]
                while todo:
                    code = todo.pop()
                    if code not in below:
                        below.add(code)
                        todo += children.get(code, [])
            return store.skus_tagged(conn, None if below is None else frozenset(below), brand, label)

    # -- compliance ------------------------------------------------------------------------------------------
    def profiles(self) -> list[Profile]:
        """The shipped compliance profiles and the user-defined ones, by code."""
        with self.db.read() as conn:
            stored = store.profile_documents(conn)
        found = dict(shipped_profiles()) | {c: stored_profile(d) for c, d in stored.items()}
        return [found[c] for c in sorted(found)]

    def profile(self, code: str) -> Profile:
        """One compliance profile; ``NotFound`` (404) when there is none of that code."""
        found = next((p for p in self.profiles() if p.code == code), None)
        if found is None:
            raise NotFound(f"no compliance profile {code!r}")
        return found

    def put_profile(self, doc: Any, source: str = "api") -> Profile:
        """Create or replace a user-defined compliance profile. Refused (422) when the document is invalid or
        names a shipped profile (those change with Keel's releases), and when a channel target naming it would
        no longer be valid under it. The listings of the channels whose targets name it are rebuilt in the same
        transaction. Idempotent."""
        profile, problems = parse_profile(doc)
        if profile is None:
            errors = [FieldError(None, f, r) for f, r in problems]
            raise ValidationFailed(problem_count("the profile", errors), errors)
        if profile.code in shipped_profiles():
            raise single_field("code", f"{profile.code} is a shipped profile; choose another code")
        with self.db.write() as conn:
            now = utcnow()
            syndication = self._syndication(conn)
            with_it = syndication.profiles | {profile.code: profile}
            broken = [
                FieldError(None, f"targets.{t.channel}.{f}", r)
                for t in syndication.targets
                if t.profile == profile.code
                for f, r in parse_target(t.channel, target_document(t), with_it)[1]
            ]
            if broken:  # a mapping truncates a field the new profile no longer lets be cut
                raise ValidationFailed("channel targets name this profile and would no longer be valid", broken)
            if store.save_profile(conn, profile.code, profile_document(profile), now):
                data = {"profile": profile.code}
                events = [NewEvent(PROFILE_CHANGED, f"catalog/profiles/{profile.code}", data, source)]
                using = [t for t in syndication.targets if t.profile == profile.code]
                if using:  # rebuilt under the new rules
                    events += self._relist_every(conn, Syndication(using, with_it), now, source)
                self.events.append(conn, events)
        return profile

    def compliance(
        self, code: str, profile: str, *, channel: str | None = None, locale: str | None = None
    ) -> Compliance:
        """Every rule of ``profile`` (and the family's requirements for ``channel``) on each variant of a
        product as ``channel`` shows it in ``locale``: pass or fail with the field and a message, and the
        completeness score."""
        checked = self.profile(profile)
        view = self.product(code)
        family = self.family(view.family)
        product, problems = parse_product(view.document, {family.code: family})
        if product is None:  # stored documents are valid under their family (put_family keeps them so)
            raise ValueError(f"stored product does not parse: {problems}")
        return evaluate(checked, product, family, channel, locale)
