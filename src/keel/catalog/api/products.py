"""HTTP API of the catalog's products: documents, compliance checks, revisions, bulk files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from keel.access import ScopeDep
from keel.catalog.schemas import (
    ChangePublic,
    CompliancePublic,
    DiffPublic,
    ImportPublic,
    ProductDocument,
    ProductPublic,
    ProductsPage,
    RevertRequest,
    RevisionDetail,
    RevisionPublic,
    RevisionsPage,
    SavedPublic,
)
from keel.deps import KeelDep
from keel.platform.api import Limit, Offset
from keel.platform.errors import FieldError, ValidationFailed, single_field
from keel.platform.schemas import Document, SeqNumber

router = APIRouter(tags=["catalog"])
CodePath = Annotated[str, Path(max_length=64, description="the product's code")]
FILE_TYPES = {"text/csv": "csv", "application/x-ndjson": "ndjson"}
PRODUCT_EXAMPLE = {
    "code": "TSHIRT-1",
    "family": "apparel",
    "brand": "Acme",
    "categories": ["tops"],
    "values": [
        {"attribute": "title", "locale": "de", "value": "T-Shirt aus Baumwolle"},
        {"attribute": "title", "locale": "de", "channel": "google", "value": "Baumwoll-T-Shirt"},
        {"attribute": "price", "value": {"amount": "19.99", "currency": "EUR"}},
    ],
    "variants": [{"sku": "TSHIRT-1-M", "gtin": "4006381333931", "values": [{"attribute": "size", "value": "M"}]}],
    "media": [{"url": "https://example.com/tshirt.jpg", "kind": "image"}],
}


@router.get("/catalog/products", response_model=ProductsPage, operation_id="list_products", summary="List products")
def list_products(
    keel: KeelDep,
    family: Annotated[str | None, Query(max_length=64, description="only this family's products")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ProductsPage:
    """Products by code, a page at a time, each with its current document and revision.

    Refuses a page out of range (422). Idempotent: a read, it changes nothing.
    """
    items, total = keel.catalog.products(family, limit=limit, offset=offset)
    return ProductsPage(items=[ProductPublic.of(p) for p in items], total=total, limit=limit, offset=offset)


@router.get(
    "/catalog/products/{code}", response_model=ProductPublic, operation_id="get_product", summary="Get a product"
)
def get_product(
    code: CodePath,
    keel: KeelDep,
    as_of: Annotated[
        datetime | None, Query(description="read the product as it was at this instant (ISO 8601, with offset)")
    ] = None,
) -> ProductPublic:
    """A product's document, as it is now or, with ``as_of``, as it was at that instant (its newest revision
    made by then).

    Refuses an unknown product, or one that did not exist yet at ``as_of`` (404), and an instant without a
    time-zone offset (422). Idempotent: a read, it changes nothing.
    """
    if as_of is not None and as_of.utcoffset() is None:
        raise single_field("as_of", "an instant with its offset, e.g. 2026-12-01T10:00:00Z")
    return ProductPublic.of(keel.catalog.product(code, as_of))


@router.get(
    "/catalog/products/{code}/compliance",
    response_model=CompliancePublic,
    operation_id="check_product_compliance",
    summary="Check a product against a compliance profile",
)
def check_compliance(
    code: CodePath,
    keel: KeelDep,
    profile: Annotated[str, Query(max_length=64, description="the compliance profile, e.g. google-merchant")],
    channel: Annotated[str | None, Query(max_length=64, description="read this channel's overrides")] = None,
    locale: Annotated[str | None, Query(max_length=5, description="read localised values in this locale")] = None,
) -> CompliancePublic:
    """Every rule of a compliance profile, and the product family's requirements for the channel, on each
    variant as the channel shows it in the locale: pass or fail with the field and a message, and the
    completeness score.

    Refuses an unknown product or profile (404) and a missing profile (422). Idempotent: a read, it changes
    nothing.
    """
    return CompliancePublic.of(keel.catalog.compliance(code, profile, channel=channel, locale=locale))


@router.put(
    "/catalog/products/{code}",
    response_model=SavedPublic,
    operation_id="put_product",
    summary="Create or replace a product",
)
def put_product(
    code: CodePath, keel: KeelDep, scope: ScopeDep, body: Annotated[Document, Body(examples=[PRODUCT_EXAMPLE])]
) -> SavedPublic:
    """Create or replace a product: family, brand, categories, values (attribute, optional locale and channel
    override, value in the attribute's type), variants (one SKU each, with GTIN and MPN) and media links. A
    change makes a revision (author, time, source, changed values) and a ``catalog.product_changed`` event in
    the same transaction.

    Refuses (422, every field's problem) an unknown family or category, a value of the wrong type, an invalid
    GTIN, a SKU given twice or belonging to another product, a body whose code differs from the path's; and
    (403, each path in ``errors``) from a caller restricted to some channels, a new product or a change to
    anything but the values overridden for those channels. Idempotent: the same document again makes no
    revision (``changed`` false).
    """
    if body.setdefault("code", code) != code:
        raise single_field("code", "differs from the code in the path")
    return SavedPublic.of(keel.catalog.put_product(body, source="api", scope=scope))


@router.get(
    "/catalog/products/{code}/revisions",
    response_model=RevisionsPage,
    operation_id="list_product_revisions",
    summary="List a product's revisions",
)
def list_revisions(code: CodePath, keel: KeelDep, limit: Limit = 100, offset: Offset = 0) -> RevisionsPage:
    """A product's history, newest first: each revision's author, path (via), source, time and changed values.

    Refuses an unknown product (404). Idempotent: a read, it changes nothing.
    """
    items, total = keel.catalog.history(code, limit=limit, offset=offset)
    return RevisionsPage(items=[RevisionPublic.of(r) for r in items], total=total, limit=limit, offset=offset)


@router.get(
    "/catalog/products/{code}/revisions/{number}",
    response_model=RevisionDetail,
    operation_id="get_product_revision",
    summary="Get one revision of a product",
)
def get_revision(code: CodePath, number: SeqNumber, keel: KeelDep) -> RevisionDetail:
    """One revision and the product's whole document as it stood after it.

    Refuses an unknown product or revision (404). Idempotent: a read, it changes nothing.
    """
    found = keel.catalog.revision(code, number)
    return RevisionDetail(
        revision=RevisionPublic.of(found.revision), document=ProductDocument.model_validate(found.document)
    )


@router.get(
    "/catalog/products/{code}/diff",
    response_model=DiffPublic,
    operation_id="diff_product_revisions",
    summary="Compare two revisions of a product",
)
def diff_revisions(
    code: CodePath,
    keel: KeelDep,
    from_revision: Annotated[int, Query(alias="from", ge=1, le=2**31 - 1, description="compared from")],
    to_revision: Annotated[int, Query(alias="to", ge=1, le=2**31 - 1, description="compared to")],
) -> DiffPublic:
    """Every value that differs between two revisions of a product, path by path, before and after.

    Refuses an unknown product or revision (404) and a missing ``from`` or ``to`` (422). Idempotent: a read,
    it changes nothing.
    """
    changes = keel.catalog.diff(code, from_revision, to_revision)
    return DiffPublic(
        product=code,
        from_revision=from_revision,
        to_revision=to_revision,
        changes=[ChangePublic.of(c) for c in changes],
    )


@router.post(
    "/catalog/products/{code}/revert",
    response_model=SavedPublic,
    operation_id="revert_product",
    summary="Revert a product to a revision",
)
def revert_product(code: CodePath, body: RevertRequest, keel: KeelDep, scope: ScopeDep) -> SavedPublic:
    """Make the product what it was after an earlier revision, as a new revision (source ``revert:N``):
    history is never rewritten.

    Refuses an unknown product or revision (404), and a document no longer valid (its family changed since,
    or a SKU of it now belongs to another product: 422), and from a caller restricted to some channels a revert
    that changes more than the values overridden for those channels (403). Idempotent: reverting again to the
    same revision makes no revision.
    """
    return SavedPublic.of(keel.catalog.revert(code, body.revision, scope=scope))


@router.post(
    "/catalog/imports",
    response_model=ImportPublic,
    operation_id="import_products",
    summary="Import a product file",
    openapi_extra={
        "requestBody": {
            "content": {t: {"schema": {"type": "string"}} for t in FILE_TYPES},
            "required": True,
        }
    },
)
async def import_products(request: Request, keel: KeelDep, scope: ScopeDep) -> ImportPublic:
    """Import products from a CSV (``text/csv``: one row per variant, a column per value key such as
    ``title@de``) or NDJSON (``application/x-ndjson``: one product document per line), all or nothing. Each
    changed product gets a revision with source ``import``.

    Refuses another content type (415), a body over the size limit or more products than the batch limit
    (413), and any bad row (422, every row's problems: unknown family, wrong attribute type, invalid GTIN,
    a SKU twice in the file, broken CSV quoting, an oversized value), and from a caller restricted to some
    channels a file that creates a product or changes more than the values overridden for those channels (403,
    the rows and paths in ``errors``); nothing is written then. Idempotent: importing the same file again makes
    no revision.
    """
    raw = await request.body()  # at most max_body_bytes: the HTTP guard refused more
    fmt = FILE_TYPES.get(request.headers.get("content-type", "").split(";")[0].strip().lower())
    if fmt is None:  # the HTTP guard only checks the type of a body that is there
        raise single_field("", "an empty body: send a CSV or NDJSON file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValidationFailed("the body is not UTF-8 text", [FieldError(line, "", "not UTF-8")]) from exc
    return ImportPublic.of(await run_in_threadpool(keel.catalog.import_file, text, fmt, "import", None, scope))
