"""Product use cases: create and replace products one by one or in batches (all or nothing), bulk files, reads
now and as of a time, and the revisions every change leaves: history, diff, revert.

A caller restricted to some channels (``Scope.channels``) may change only the values overridden for those
channels: every other path of a product (its common values, brand, media, categories, family, variants) shows
on every channel, so a write that changes one, or creates a product, is refused whole (``OutOfScope``, 403)
with each product's paths, in the transaction that would have written it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from keel.catalog import store
from keel.catalog.model import (
    Change,
    Family,
    ImportReport,
    Product,
    ProductView,
    Revision,
    RevisionView,
    Saved,
    diff,
    outside_channels,
    parse_product,
    product_document,
)
from keel.catalog.model.files import read_csv, read_ndjson, write_csv, write_ndjson
from keel.catalog.service.common import (
    PRODUCT_CHANGED,
    SHOWN_PATHS,
    WRITE_CHUNK,
    Progress,
    Syndication,
    problem_count,
    surely_clean,
)
from keel.catalog.service.listings import ListingUseCases
from keel.platform.actor import current_actor
from keel.platform.clock import utcnow
from keel.platform.errors import FieldError, NotFound, PayloadTooLarge, ValidationFailed
from keel.platform.events import NewEvent
from keel.platform.schemas import clean_document
from keel.platform.scope import OutOfScope, Scope


class ProductUseCases(ListingUseCases):
    """Products, their bulk files and their revisions."""

    def put_product(self, doc: Any, source: str = "api", scope: Scope = Scope.ALL) -> Saved:
        """Create or replace one product from its document (every value it should have; what it leaves out
        is removed). Refused (422) with every field's problem: an unknown family or category, a value of
        the wrong type, an invalid GTIN, a SKU given twice or belonging to another product; and (403) under a
        channel restriction, a change to anything but ``scope``'s channels' overrides. Idempotent: the same
        document again makes no revision."""
        return self.save_batch([doc], source, scope=scope)[1][0]

    def save_batch(
        self,
        docs: Sequence[Any],
        source: str = "import",
        rows: Sequence[int] | None = None,
        progress: Progress | None = None,
        scope: Scope = Scope.ALL,
    ) -> tuple[ImportReport, list[Saved]]:
        """Create or replace many products at once, all or nothing: any refused document refuses the batch
        with each row's problems (``row`` is ``rows[i]`` when given, a file's row or line, else the 1-based
        position). Under a channel restriction (``scope.channels``), a product created or changed beyond the
        values overridden for those channels refuses the batch (403) with its rows and paths. Unchanged
        products make no revision. ``progress(done, total)`` hears how many products are written as the
        transaction goes."""
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
                raise ValidationFailed(f"{problem_count(what, errors)}; nothing was saved", errors)
            items = [(p, product_document(p)) for p in parsed]
            single = len(docs) == 1 and rows is None
            labels = [None if single else (rows[i] if rows is not None else i + 1) for i in range(len(items))]
            saved = []
            for start in range(0, len(items), WRITE_CHUNK):
                chunk = slice(start, start + WRITE_CHUNK)
                saved += self._write(conn, items[chunk], source, families, syndication, scope, labels[chunk])
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
                if not surely_clean(doc):
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
        scope: Scope,
        rows: list[int | None],
    ) -> list[Saved]:
        stored = store.lock_products(conn, [p.code for p, _ in items])
        writes: list[store.ProductWrite] = []
        saved: list[Saved] = []
        refused: list[FieldError] = []
        for (p, document), row in zip(items, rows, strict=True):
            have = stored.get(p.code)
            changes = diff(have.document if have else None, document)
            if have is not None and not changes:
                saved.append(Saved(p.code, have.revision, False, ()))
                continue
            if scope.channels is not None:
                refused += self._outside(p.code, have is None, changes, scope.channels, row)
                if refused:  # the batch is refused: the rest of it is only checked
                    continue
            number = have.revision + 1 if have else 1
            gtins = tuple((v.sku, v.gtin) for v in p.variants)
            writes.append(store.ProductWrite(p.code, p.family, document, number, changes, gtins))
            saved.append(Saved(p.code, number, True, changes))
        if refused:
            self._refuse(refused, scope)
        actor = current_actor.get()
        now = utcnow()
        store.write_products(conn, writes, now=now, author=actor.identity_id, via=actor.via, source=source)
        events = [self._event(w, source) for w in writes]
        changed = {w.code: w.revision for w in writes}
        products = [p for p, _ in items if p.code in changed]
        events += self._relist(conn, products, changed, families, syndication, now, source)
        self.events.append(conn, events)
        return saved

    @staticmethod
    def _outside(
        code: str, new: bool, changes: tuple[Change, ...], channels: frozenset[str], row: int | None
    ) -> list[FieldError]:
        if new:
            return [FieldError(row, "code", f"{code} is a new product, which shows on every channel")]
        return [FieldError(row, path, f"{code}: {reason}") for path, reason in outside_channels(changes, channels)]

    @staticmethod
    def _refuse(refused: list[FieldError], scope: Scope) -> None:
        channels = ", ".join(sorted(scope.channels or ()))
        first = refused[0]
        what = f"{first.field} ({first.reason})" + (f" and {len(refused) - 1} more" if len(refused) > 1 else "")
        raise OutOfScope(
            f"your restrictions (channels {channels}) let you change only values overridden for those channels, "
            f"not {what}; nothing was saved",
            errors=[e.as_dict() for e in refused[:SHOWN_PATHS]],
        )

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
        self,
        text: str,
        fmt: str,
        source: str = "import",
        progress: Progress | None = None,
        scope: Scope = Scope.ALL,
    ) -> ImportReport:
        """Import a product file, ``csv`` (one row per variant) or ``ndjson`` (one product document per line),
        all or nothing: every row is checked and any problem refuses the whole file with each row's reasons
        (``row`` is the file's row or line), as does (403) a change beyond ``scope``'s channels' overrides (see
        ``save_batch``). Idempotent: a product the file does not change gets no revision."""
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
            raise ValidationFailed(f"{problem_count('the file', errors)}; nothing was saved", errors)
        if not found:
            raise ValidationFailed("the file holds no product", [FieldError(None, "", "no product rows")])
        report, _ = self.save_batch([doc for _, doc in found], source, [row for row, _ in found], progress, scope)
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

    # -- revisions -------------------------------------------------------------------------------------------
    def history(self, code: str, *, limit: int = 100, offset: int = 0) -> tuple[list[Revision], int]:
        """A product's revisions, newest first, and how many it has; ``NotFound`` for an unknown product."""
        with self.db.read() as conn:
            items, total = store.revisions_page(conn, code, limit, offset)
        if total == 0:
            raise NotFound(f"no product {code!r}")
        return items, total

    def revision(self, code: str, number: int) -> RevisionView:
        """One revision of a product and the document as it stood after it."""
        with self.db.read() as conn:
            found = store.revision_document(conn, code, number)
        if found is None:
            raise NotFound(f"product {code!r} has no revision {number}")
        return RevisionView(*found)

    def diff(self, code: str, before: int, after: int) -> tuple[Change, ...]:
        """What changed between two revisions of a product (either order: ``before`` is the one compared from)."""
        old = self.revision(code, before).document
        new = self.revision(code, after).document
        return diff(old, new)

    def revert(self, code: str, number: int, source: str = "api", scope: Scope = Scope.ALL) -> Saved:
        """Make the product what it was after revision ``number``, as a new revision (history is never
        rewritten). Refused (422) when that document is no longer valid (its family changed since, or one
        of its SKUs moved to another product), and (403) under a channel restriction when it would change
        more than ``scope``'s channels' overrides. Reverting to the current state makes no revision."""
        document = self.revision(code, number).document
        label = f"revert:{number}" if source == "api" else f"{source}:revert:{number}"
        return self.save_batch([document], label, scope=scope)[1][0]
