"""Catalog use cases: families, the category tree, products with every change kept as a revision.

Every write, whatever its path (HTTP, CLI, a bulk file, a revert), goes through ``_save``: the products are
checked against their families in the pure model, compared with what is stored, and only those that differ
get a new revision; the rows, the revisions and the ``catalog.product_changed`` events commit in one
transaction, so there is never a change without its revision nor a revision without its event.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from keel.catalog import store
from keel.catalog.model import (
    Category,
    Change,
    Family,
    ImportReport,
    Product,
    ProductView,
    Revision,
    Saved,
    check_category,
    diff,
    family_document,
    parse_family,
    parse_product,
    product_document,
)
from keel.catalog.model.files import read_csv, read_ndjson, write_csv, write_ndjson
from keel.catalog.model.listings import (
    ChannelReadiness,
    ListingState,
    ListingView,
    Reason,
    Target,
    listing_states,
    parse_target,
    target_document,
)
from keel.catalog.model.profiles import Compliance, Profile, evaluate, parse_profile, profile_document
from keel.platform.actor import current_actor
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import FieldError, NotFound, PayloadTooLarge, ValidationFailed, single_field
from keel.platform.events import EventLog, NewEvent
from keel.platform.schemas import clean_document

PRODUCT_CHANGED = "catalog.product_changed"
FAMILY_CHANGED = "catalog.family_changed"
CATEGORY_CHANGED = "catalog.category_changed"
PROFILE_CHANGED = "catalog.profile_changed"
TARGET_CHANGED = "catalog.target_changed"
LISTING_CHANGED = "listing.changed"  # what the channel sync engine consumes
CATALOG_EVENTS = frozenset(
    {PRODUCT_CHANGED, FAMILY_CHANGED, CATEGORY_CHANGED, PROFILE_CHANGED, TARGET_CHANGED, LISTING_CHANGED}
)
WRITE_CHUNK = 1_000  # products locked, compared and written per statement group of a batch
SHOWN_PATHS = 50  # changed paths an event names; a consumer reads the revision for the rest

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Syndication:
    """The channels' targets and the profiles they name, read once per write transaction."""

    targets: list[Target]
    profiles: dict[str, Profile]


def _view(r: store.StoredListing) -> ListingView:
    reasons = tuple(Reason(rule, name, message) for rule, name, message in r.reasons)
    return ListingView(r.channel, r.sku, r.product, ListingState(r.state), reasons, r.payload, r.revision)


@cache
def shipped_profiles() -> dict[str, Profile]:
    """The compliance profiles shipped as JSON files in ``keel/catalog/profiles/``, by code."""
    found = {}
    for entry in resources.files("keel.catalog").joinpath("profiles").iterdir():
        if entry.name.endswith(".json"):
            profile, problems = parse_profile(json.loads(entry.read_text(encoding="utf-8")), shipped=True)
            if profile is None:
                raise ValueError(f"shipped profile {entry.name} is invalid: {problems}")
            found[profile.code] = profile
    return found


def _profile(doc: dict[str, Any]) -> Profile:
    profile, problems = parse_profile(doc)
    if profile is None:  # stored documents were checked on the way in
        raise ValueError(f"stored profile does not parse: {problems}")
    return profile


def _problems(what: str, errors: Sequence[FieldError]) -> str:
    return f"{what} has {len(errors)} problem" + ("s" if len(errors) != 1 else "")


class CatalogService:
    """Products, their families and categories; every change of a product kept as a revision."""

    def __init__(self, db: Database, events: EventLog, *, max_batch: int = 10_000) -> None:
        self.db = db
        self.events = events
        self.max_batch = max_batch

    # -- families --------------------------------------------------------------------------------------------
    def put_family(self, doc: Any, source: str = "api") -> Family:
        """Create or replace a family from its document. Refused (422) when the document is invalid or when a
        stored product of the family would no longer be valid under it. Idempotent: the same document again
        changes nothing and announces nothing."""
        family, problems = parse_family(doc)
        if family is None:
            errors = [FieldError(None, f, r) for f, r in problems]
            raise ValidationFailed(_problems("the family", errors), errors)
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
            if store.save_family(conn, family.code, document, utcnow()):
                event = NewEvent(FAMILY_CHANGED, f"catalog/families/{family.code}", {"family": family.code}, source)
                self.events.append(conn, [event])
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

    @staticmethod
    def _family(doc: dict[str, Any]) -> Family:
        family, problems = parse_family(doc)
        if family is None:  # stored documents were checked on the way in
            raise ValueError(f"stored family does not parse: {problems}")
        return family

    # -- categories ------------------------------------------------------------------------------------------
    def put_category(self, category: Category, source: str = "api") -> Category:
        """Create or replace a node of the category tree. Refused (422) for a bad code or label, a parent
        that does not exist or a parent below the category itself (a cycle). Idempotent."""
        problems = check_category(category.code, category.label, category.parent)
        if problems:
            errors = [FieldError(None, f, r) for f, r in problems]
            raise ValidationFailed(_problems("the category", errors), errors)
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

    # -- products --------------------------------------------------------------------------------------------
    def put_product(self, doc: Any, source: str = "api") -> Saved:
        """Create or replace one product from its document (every value it should have; what it leaves out
        is removed). Refused (422) with every field's problem: an unknown family or category, a value of
        the wrong type, an invalid GTIN, a SKU given twice or belonging to another product. Idempotent: the
        same document again makes no revision."""
        return self.save_batch([doc], source)[1][0]

    def save_batch(
        self,
        docs: Sequence[Any],
        source: str = "import",
        rows: Sequence[int] | None = None,
        progress: Progress | None = None,
    ) -> tuple[ImportReport, list[Saved]]:
        """Create or replace many products at once, all or nothing: any refused document refuses the batch
        with each row's problems (``row`` is ``rows[i]`` when given, a file's row or line, else the 1-based
        position). Unchanged products make no revision. ``progress(done, total)`` hears how many products are
        written as the transaction goes."""
        if len(docs) > self.max_batch:
            raise PayloadTooLarge(f"{len(docs)} products in one batch; the limit is {self.max_batch}")
        with self.db.write() as conn:
            families = {c: self._family(d) for c, d in store.family_documents(conn).items()}
            known_categories = frozenset(c.code for c in store.all_categories(conn))
            parsed, errors = self._parse(docs, families, known_categories, rows)
            if not errors:
                errors = self._owners(conn, parsed, rows)
            syndication = self._syndication(conn)
            if errors:
                what = "the product" if len(docs) == 1 else "the batch"
                raise ValidationFailed(f"{_problems(what, errors)}; nothing was saved", errors)
            items = [(p, product_document(p)) for p in parsed]
            saved = []
            for start in range(0, len(items), WRITE_CHUNK):
                saved += self._write(conn, items[start : start + WRITE_CHUNK], source, families, syndication)
                if progress is not None:
                    progress(min(start + WRITE_CHUNK, len(items)), len(items))
        changed = [s for s in saved if s.changed]
        created = sum(1 for s in changed if s.revision == 1)
        report = ImportReport(len(docs), len(parsed), created, len(changed) - created, len(saved) - len(changed))
        return report, saved

    @staticmethod
    def _parse(
        docs: Sequence[Any], families: dict[str, Family], categories: frozenset[str], rows: Sequence[int] | None
    ) -> tuple[list[Product], list[FieldError]]:
        single = len(docs) == 1 and rows is None
        errors: list[FieldError] = []
        parsed: list[Product] = []
        codes: dict[str, int] = {}
        skus: dict[str, int] = {}
        for index, doc in enumerate(docs):
            row = rows[index] if rows is not None else index + 1
            at = None if single else row
            try:
                clean_document(doc)
            except ValueError as exc:
                errors.append(FieldError(at, "", str(exc)))
                continue
            product, problems = parse_product(doc, families, categories)
            errors += [FieldError(at, f, r) for f, r in problems]
            if product is None:
                continue
            if product.code in codes:
                errors.append(FieldError(at, "code", f"{product.code} is also in row {codes[product.code]}"))
            codes.setdefault(product.code, row)
            for sku in product.skus:
                if sku in skus and skus[sku] != row:
                    errors.append(FieldError(at, "variants", f"SKU {sku} is also in row {skus[sku]}"))
                skus.setdefault(sku, row)
            parsed.append(product)
        return parsed, errors

    @staticmethod
    def _owners(conn: Any, parsed: list[Product], rows: Sequence[int] | None) -> list[FieldError]:
        owners = store.sku_owners(conn, [s for p in parsed for s in p.skus])
        single = len(parsed) == 1 and rows is None
        errors = []
        for index, p in enumerate(parsed):
            row = rows[index] if rows is not None else index + 1
            for sku in p.skus:
                if owners.get(sku, p.code) != p.code:
                    errors.append(
                        FieldError(None if single else row, "variants", f"SKU {sku} belongs to {owners[sku]}")
                    )
        return errors

    def _write(
        self,
        conn: Any,
        items: list[tuple[Product, dict[str, Any]]],
        source: str,
        families: dict[str, Family],
        syndication: Syndication,
    ) -> list[Saved]:
        stored = store.lock_products(conn, [p.code for p, _ in items])
        writes: list[store.ProductWrite] = []
        saved: list[Saved] = []
        for p, document in items:
            have = stored.get(p.code)
            changes = diff(have.document if have else None, document)
            if have is not None and not changes:
                saved.append(Saved(p.code, have.revision, False, ()))
                continue
            number = have.revision + 1 if have else 1
            gtins = tuple((v.sku, v.gtin) for v in p.variants)
            writes.append(store.ProductWrite(p.code, p.family, document, number, changes, gtins))
            saved.append(Saved(p.code, number, True, changes))
        actor = current_actor.get()
        now = utcnow()
        store.write_products(conn, writes, now=now, author=actor.identity_id, via=actor.via, source=source)
        events = [self._event(w, source) for w in writes]
        changed = {w.code: w.revision for w in writes}
        products = [p for p, _ in items if p.code in changed]
        events += self._relist(conn, products, changed, families, syndication, now, source)
        self.events.append(conn, events)
        return saved

    # -- syndication -----------------------------------------------------------------------------------------
    def _syndication(self, conn: Any) -> Syndication:
        profiles = dict(shipped_profiles()) | {c: _profile(d) for c, d in store.profile_documents(conn).items()}
        targets = []
        for channel, doc in store.target_documents(conn).items():
            target, problems = parse_target(channel, doc, profiles)
            if target is None:  # stored targets were checked on the way in (and profiles keep their codes)
                raise ValueError(f"stored target {channel} does not parse: {problems}")
            targets.append(target)
        return Syndication(targets, profiles)

    def _relist(
        self,
        conn: Any,
        products: list[Product],
        revisions: dict[str, int],
        families: dict[str, Family],
        syndication: Syndication,
        now: datetime,
        source: str,
        channel: str | None = None,
    ) -> list[NewEvent]:
        """Rebuild the listings of ``products`` on every target (or one channel's), store those that changed,
        and return one ``listing.changed`` event per product whose listings changed."""
        if not syndication.targets or not products:
            return []
        stored = store.listings_of(conn, [p.code for p in products], channel)
        rows: list[store.StoredListing] = []
        gone: list[tuple[str, str]] = []
        events: list[NewEvent] = []
        for product in products:
            views = listing_states(product, families[product.family], syndication.targets, syndication.profiles)
            fresh = {(v.channel, v.sku): v for v in views}
            changed = []
            for key, v in fresh.items():
                reasons = [[r.rule, r.field, r.message] for r in v.reasons]
                have = stored.get(key)
                if have is not None and (have.state, have.reasons, have.payload) == (v.state.value, reasons, v.payload):
                    continue
                revision = revisions[product.code]
                rows.append(store.StoredListing(*key, product.code, v.state.value, reasons, v.payload, revision, now))
                changed.append({"channel": v.channel, "sku": v.sku, "state": v.state.value})
            for key, have in stored.items():
                if have.product == product.code and key not in fresh:
                    gone.append(key)
                    changed.append({"channel": key[0], "sku": key[1], "state": "removed"})
            if changed:
                data = {"product": product.code, "revision": revisions[product.code], "listings": changed}
                events.append(NewEvent(LISTING_CHANGED, f"catalog/listings/{product.code}", data, source=source))
        store.save_listings(conn, rows, gone)
        return events

    def put_target(self, channel: str, doc: Any, source: str = "api") -> Target:
        """Set how a channel lists products: its compliance profile, locale and mapping (field <- attribute,
        with unit conversion and truncation where the profile allows it); every product's listing on the
        channel is rebuilt in the same transaction. Refused (422) for an unknown profile, a bad mapping or a
        truncation the profile does not allow. Idempotent: the same document again changes nothing."""
        with self.db.write() as conn:
            syndication = self._syndication(conn)
            target, problems = parse_target(channel, doc, syndication.profiles)
            if target is None:
                errors = [FieldError(None, f, r) for f, r in problems]
                raise ValidationFailed(_problems("the target", errors), errors)
            now = utcnow()
            if not store.save_target(conn, channel, target_document(target), now):
                return target
            families = {c: self._family(d) for c, d in store.family_documents(conn).items()}
            one = Syndication([target], syndication.profiles)
            events = [NewEvent(TARGET_CHANGED, f"catalog/targets/{channel}", {"channel": channel}, source=source)]
            batch: list[store.StoredProduct] = []
            for stored in store.iter_products(conn):
                batch.append(stored)
                if len(batch) == WRITE_CHUNK:
                    events += self._relist_stored(conn, batch, families, one, now, source, channel)
                    batch = []
            events += self._relist_stored(conn, batch, families, one, now, source, channel)
            self.events.append(conn, events)
        return target

    def _relist_stored(
        self,
        conn: Any,
        batch: list[store.StoredProduct],
        families: dict[str, Family],
        syndication: Syndication,
        now: datetime,
        source: str,
        channel: str,
    ) -> list[NewEvent]:
        products = []
        for stored in batch:
            product, problems = parse_product(stored.document, families)
            if product is None:
                raise ValueError(f"stored product {stored.code} does not parse: {problems}")
            products.append(product)
        revisions = {s.code: s.revision for s in batch}
        return self._relist(conn, products, revisions, families, syndication, now, source, channel)

    def targets(self) -> list[Target]:
        """Every channel's target, by channel."""
        with self.db.read() as conn:
            return self._syndication(conn).targets

    def listings(
        self, channel: str | None = None, state: ListingState | None = None, *, limit: int = 100, offset: int = 0
    ) -> tuple[list[ListingView], int]:
        """A page of listings (by channel, then SKU), filtered by channel and state, and how many match."""
        with self.db.read() as conn:
            rows, total = store.listings_page(conn, channel, state.value if state else None, limit, offset)
        return [_view(r) for r in rows], total

    def readiness(self, top: int = 5) -> list[ChannelReadiness]:
        """Per channel with a target: listings ready and blocked, and the ``top`` reasons that block most."""
        with self.db.read() as conn:
            counts = store.state_counts(conn)
            out = []
            for target in self._syndication(conn).targets:
                tally: Counter[str] = Counter()
                for reasons in store.blocked_reasons(conn, target.channel):
                    tally.update(f"{rule}: {message}" for rule, _, message in reasons)
                have = counts.get(target.channel, {})
                out.append(
                    ChannelReadiness(
                        target.channel,
                        have.get(ListingState.READY.value, 0),
                        have.get(ListingState.BLOCKED.value, 0),
                        tuple(tally.most_common(top)),
                    )
                )
        return out

    @staticmethod
    def _event(w: store.ProductWrite, source: str) -> NewEvent:
        paths = [c.path for c in w.changes]
        data = {
            "product": w.code,
            "revision": w.revision,
            "skus": [sku for sku, _ in w.variants],
            "changed": paths[:SHOWN_PATHS],
            "changed_count": len(paths),
        }
        return NewEvent(PRODUCT_CHANGED, f"catalog/products/{w.code}", data, source=source)

    def import_file(
        self, text: str, fmt: str, source: str = "import", progress: Progress | None = None
    ) -> ImportReport:
        """Import a product file, ``csv`` (one row per variant) or ``ndjson`` (one product document per line),
        all or nothing: every row is checked and any problem refuses the whole file with each row's reasons
        (``row`` is the file's row or line). Idempotent: a product the file does not change gets no revision."""
        with self.db.read() as conn:
            families = {c: self._family(d) for c, d in store.family_documents(conn).items()}
        if fmt == "csv":
            found, problems = read_csv(text, families)
        elif fmt == "ndjson":
            found, problems = read_ndjson(text)
        else:
            raise ValidationFailed(f"unknown format {fmt!r}", [FieldError(None, "format", "csv or ndjson")])
        if problems:
            errors = [FieldError(row, f, r) for row, f, r in problems]
            raise ValidationFailed(f"{_problems('the file', errors)}; nothing was saved", errors)
        if not found:
            raise ValidationFailed("the file holds no product", [FieldError(None, "", "no product rows")])
        report, _ = self.save_batch([doc for _, doc in found], source, [row for row, _ in found], progress)
        return ImportReport(
            sum(len(d.get("variants", [])) for _, d in found) if fmt == "csv" else len(found),
            report.products,
            report.created,
            report.updated,
            report.unchanged,
        )

    def export_file(self, fmt: str, family: str | None = None) -> Iterator[str]:
        """Every product (of ``family``) as a ``csv`` or ``ndjson`` file, in chunks of text; what
        ``import_file`` reads back to the same products (CSV media keep their URLs only)."""
        if fmt == "csv":
            return write_csv(self.export(family))
        if fmt == "ndjson":
            return write_ndjson(self.export(family))
        raise ValidationFailed(f"unknown format {fmt!r}", [FieldError(None, "format", "csv or ndjson")])

    def product(self, code: str, as_of: datetime | None = None) -> ProductView:
        """A product as it is now, or as it was at ``as_of`` (its newest revision made by then); ``NotFound``
        (404) when there is no such product, or it did not exist yet at ``as_of``."""
        with self.db.read() as conn:
            current = store.product(conn, code)
            if current is None:
                raise NotFound(f"no product {code!r}")
            if as_of is None:
                return ProductView(code, current.family, current.revision, current.updated_at, current.document)
            found = store.document_as_of(conn, code, as_of)
        if found is None:
            raise NotFound(f"product {code!r} did not exist at {as_of.isoformat()}")
        revision, document = found
        return ProductView(code, document["family"], revision.number, revision.at, document)

    def products(
        self, family: str | None = None, *, limit: int = 100, offset: int = 0
    ) -> tuple[list[ProductView], int]:
        """A page of products by code (of one family when given) and how many match."""
        with self.db.read() as conn:
            rows, total = store.products_page(conn, family, limit, offset)
        return [ProductView(r.code, r.family, r.revision, r.updated_at, r.document) for r in rows], total

    def export(self, family: str | None = None) -> Iterator[dict[str, Any]]:
        """Every product's document by code, read a batch at a time (a consistent snapshot)."""
        with self.db.snapshot() as conn:
            for row in store.iter_products(conn, family):
                yield row.document

    # -- compliance ------------------------------------------------------------------------------------------
    def profiles(self) -> list[Profile]:
        """The shipped compliance profiles and the user-defined ones, by code."""
        with self.db.read() as conn:
            stored = store.profile_documents(conn)
        found = dict(shipped_profiles()) | {c: _profile(d) for c, d in stored.items()}
        return [found[c] for c in sorted(found)]

    def profile(self, code: str) -> Profile:
        """One compliance profile; ``NotFound`` (404) when there is none of that code."""
        found = next((p for p in self.profiles() if p.code == code), None)
        if found is None:
            raise NotFound(f"no compliance profile {code!r}")
        return found

    def put_profile(self, doc: Any, source: str = "api") -> Profile:
        """Create or replace a user-defined compliance profile. Refused (422) when the document is invalid or
        names a shipped profile (those change with Keel's releases). Idempotent."""
        profile, problems = parse_profile(doc)
        if profile is None:
            errors = [FieldError(None, f, r) for f, r in problems]
            raise ValidationFailed(_problems("the profile", errors), errors)
        if profile.code in shipped_profiles():
            raise single_field("code", f"{profile.code} is a shipped profile; choose another code")
        with self.db.write() as conn:
            if store.save_profile(conn, profile.code, profile_document(profile), utcnow()):
                data = {"profile": profile.code}
                self.events.append(conn, [NewEvent(PROFILE_CHANGED, f"catalog/profiles/{profile.code}", data, source)])
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

    # -- revisions -------------------------------------------------------------------------------------------
    def history(self, code: str, *, limit: int = 100, offset: int = 0) -> tuple[list[Revision], int]:
        """A product's revisions, newest first, and how many it has; ``NotFound`` for an unknown product."""
        with self.db.read() as conn:
            items, total = store.revisions_page(conn, code, limit, offset)
        if total == 0:
            raise NotFound(f"no product {code!r}")
        return items, total

    def revision(self, code: str, number: int) -> tuple[Revision, dict[str, Any]]:
        """One revision of a product and the document as it stood after it."""
        with self.db.read() as conn:
            found = store.revision_document(conn, code, number)
        if found is None:
            raise NotFound(f"product {code!r} has no revision {number}")
        return found

    def diff(self, code: str, before: int, after: int) -> tuple[Change, ...]:
        """What changed between two revisions of a product (either order: ``before`` is the one compared from)."""
        _, old = self.revision(code, before)
        _, new = self.revision(code, after)
        return diff(old, new)

    def revert(self, code: str, number: int, source: str = "api") -> Saved:
        """Make the product what it was after revision ``number``, as a new revision (history is never
        rewritten). Refused (422) when that document is no longer valid (its family changed since, or one
        of its SKUs moved to another product). Reverting to the current state makes no revision."""
        _, document = self.revision(code, number)
        return self.save_batch([document], f"revert:{number}" if source == "api" else f"{source}:revert:{number}")[1][0]
