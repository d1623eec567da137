"""HTTP API of the catalog: families, categories, products, their revisions, and bulk product files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from keel.catalog.model import Category, check_gtin
from keel.catalog.model.listings import ListingState
from keel.catalog.schemas import (
    CategoryPublic,
    CategoryPut,
    ChangePublic,
    CompliancePublic,
    DiffPublic,
    FamilyPublic,
    GtinPublic,
    ImportPublic,
    ListingPublic,
    ListingsPage,
    ProductDocument,
    ProductPublic,
    ProductsPage,
    ProfilePublic,
    ReadinessPublic,
    RevertRequest,
    RevisionDetail,
    RevisionPublic,
    RevisionsPage,
    SavedPublic,
    TargetPublic,
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


@router.get("/catalog/gtins/{gtin}", response_model=GtinPublic, operation_id="check_gtin", summary="Check a GTIN")
def get_gtin(gtin: Annotated[str, Path(max_length=32)]) -> GtinPublic:
    """Whether a GTIN-8, -12, -13 or -14 is well formed (digits, length, GS1 mod-10 check digit), and whether it
    is a restricted-circulation number (prefixes 02, 04, 20-29) or a coupon (05, 98, 99), valid but no
    open-trade item.

    Refuses nothing but a path over 32 characters (422): an invalid GTIN is an answer, not an error.
    Idempotent: a read, it changes nothing.
    """
    return GtinPublic.of(check_gtin(gtin))


@router.get(
    "/catalog/families",
    response_model=list[FamilyPublic],
    operation_id="list_catalog_families",
    summary="List product families",
)
def list_families(keel: KeelDep) -> list[FamilyPublic]:
    """Every product family: its typed attributes and the attributes each channel requires.

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [FamilyPublic.of(f) for f in keel.catalog.families()]


@router.get(
    "/catalog/families/{code}",
    response_model=FamilyPublic,
    operation_id="get_catalog_family",
    summary="Get a product family",
)
def get_family(code: Annotated[str, Path(max_length=64)], keel: KeelDep) -> FamilyPublic:
    """One product family.

    Refuses an unknown family (404). Idempotent: a read, it changes nothing.
    """
    return FamilyPublic.of(keel.catalog.family(code))


@router.put(
    "/catalog/families/{code}",
    response_model=FamilyPublic,
    operation_id="put_catalog_family",
    summary="Create or replace a product family",
)
def put_family(
    code: Annotated[str, Path(max_length=64)],
    keel: KeelDep,
    body: Annotated[
        Document,
        Body(
            examples=[
                {
                    "label": "Apparel",
                    "attributes": [
                        {"code": "title", "type": "text", "localised": True, "max_length": 150},
                        {"code": "price", "type": "money"},
                        {"code": "size", "type": "enum", "variant": True, "options": ["S", "M", "L"]},
                    ],
                    "required": {"*": ["title"], "google": ["price"]},
                }
            ]
        ),
    ],
) -> FamilyPublic:
    """Create or replace a family: its attributes (code, type: text, number, boolean, enum, list, money, url or
    image; localised; set per variant; units; options) and ``required``, the attributes each channel (``*``:
    every channel) requires.

    Refuses an invalid document (422, every field's problem), a body whose code differs from the path's, and a
    change that would leave a stored product of the family invalid (422). Idempotent: the same document again
    changes nothing.
    """
    if body.setdefault("code", code) != code:
        raise single_field("code", "differs from the code in the path")
    return FamilyPublic.of(keel.catalog.put_family(body, source="api"))


@router.get(
    "/catalog/categories",
    response_model=list[CategoryPublic],
    operation_id="list_catalog_categories",
    summary="List categories",
)
def list_categories(keel: KeelDep) -> list[CategoryPublic]:
    """The category tree, one node per row with its parent (null at a root).

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [CategoryPublic.of(c) for c in keel.catalog.categories()]


@router.put(
    "/catalog/categories/{code}",
    response_model=CategoryPublic,
    operation_id="put_catalog_category",
    summary="Create or replace a category",
)
def put_category(code: Annotated[str, Path(max_length=64)], body: CategoryPut, keel: KeelDep) -> CategoryPublic:
    """Create a node of the category tree, or rename or move one.

    Refuses a bad code or label, an unknown parent and a parent below the category itself (422). Idempotent:
    the same body again changes nothing.
    """
    return CategoryPublic.of(keel.catalog.put_category(Category(code, body.label, body.parent), source="api"))


@router.get(
    "/catalog/profiles",
    response_model=list[ProfilePublic],
    operation_id="list_compliance_profiles",
    summary="List compliance profiles",
)
def list_profiles(keel: KeelDep) -> list[ProfilePublic]:
    """The compliance profiles: those shipped with Keel (Google Merchant Center, marketplace JSON listings, EU
    product law, a generic web store) and the user-defined ones, each with its rules.

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [ProfilePublic.of(p) for p in keel.catalog.profiles()]


@router.get(
    "/catalog/profiles/{code}",
    response_model=ProfilePublic,
    operation_id="get_compliance_profile",
    summary="Get a compliance profile",
)
def get_profile(code: Annotated[str, Path(max_length=64)], keel: KeelDep) -> ProfilePublic:
    """One compliance profile and its rules.

    Refuses an unknown profile (404). Idempotent: a read, it changes nothing.
    """
    return ProfilePublic.of(keel.catalog.profile(code))


@router.put(
    "/catalog/profiles/{code}",
    response_model=ProfilePublic,
    operation_id="put_compliance_profile",
    summary="Create or replace a user-defined compliance profile",
)
def put_profile(
    code: Annotated[str, Path(max_length=64)],
    keel: KeelDep,
    body: Annotated[
        Document,
        Body(
            examples=[
                {
                    "label": "Our marketplace",
                    "fields": {"id": "@sku"},
                    "rules": [
                        {"id": "title-required", "field": "title", "check": "required", "message": "Add a title."},
                        {"id": "title-length", "field": "title", "check": "length", "max": 80, "message": "Shorten."},
                    ],
                }
            ]
        ),
    ],
) -> ProfilePublic:
    """Create or replace a user-defined compliance profile: its field mapping and its rules (required, length,
    one_of, pattern, url, gtin, gtin_tradable, any_of, positive, equals, percent_total; each optionally
    ``when`` another field holds given values), each with the message a person reads when it fails.

    Refuses an invalid document (422, every field's problem), a body whose code differs from the path's, and
    the code of a shipped profile (422). Idempotent: the same document again changes nothing.
    """
    if body.setdefault("code", code) != code:
        raise single_field("code", "differs from the code in the path")
    return ProfilePublic.of(keel.catalog.put_profile(body, source="api"))


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
    code: CodePath, keel: KeelDep, body: Annotated[Document, Body(examples=[PRODUCT_EXAMPLE])]
) -> SavedPublic:
    """Create or replace a product: family, brand, categories, values (attribute, optional locale and channel
    override, value in the attribute's type), variants (one SKU each, with GTIN and MPN) and media links. A
    change makes a revision (author, time, source, changed values) and a ``catalog.product_changed`` event in
    the same transaction.

    Refuses (422, every field's problem) an unknown family or category, a value of the wrong type, an invalid
    GTIN, a SKU given twice or belonging to another product, a body whose code differs from the path's.
    Idempotent: the same document again makes no revision (``changed`` false).
    """
    if body.setdefault("code", code) != code:
        raise single_field("code", "differs from the code in the path")
    return SavedPublic.of(keel.catalog.put_product(body, source="api"))


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
    revision, document = keel.catalog.revision(code, number)
    return RevisionDetail(revision=RevisionPublic.of(revision), document=ProductDocument.model_validate(document))


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
def revert_product(code: CodePath, body: RevertRequest, keel: KeelDep) -> SavedPublic:
    """Make the product what it was after an earlier revision, as a new revision (source ``revert:N``):
    history is never rewritten.

    Refuses an unknown product or revision (404), and a document no longer valid (its family changed since,
    or a SKU of it now belongs to another product: 422). Idempotent: reverting again to the same revision makes
    no revision.
    """
    return SavedPublic.of(keel.catalog.revert(code, body.revision))


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
async def import_products(request: Request, keel: KeelDep) -> ImportPublic:
    """Import products from a CSV (``text/csv``: one row per variant, a column per value key such as
    ``title@de``) or NDJSON (``application/x-ndjson``: one product document per line), all or nothing. Each
    changed product gets a revision with source ``import``.

    Refuses another content type (415), a body over the size limit or more products than the batch limit
    (413), and any bad row (422, every row's problems: unknown family, wrong attribute type, invalid GTIN,
    a SKU twice in the file, broken CSV quoting, an oversized value); nothing is written then. Idempotent:
    importing the same file again makes no revision.
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
    return ImportPublic.of(await run_in_threadpool(keel.catalog.import_file, text, fmt, "import"))


@router.get(
    "/catalog/targets",
    response_model=list[TargetPublic],
    operation_id="list_catalog_targets",
    summary="List channel targets",
)
def list_targets(keel: KeelDep) -> list[TargetPublic]:
    """How each channel lists products: its compliance profile, locale and field mapping.

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [TargetPublic.of(t) for t in keel.catalog.targets()]


@router.put(
    "/catalog/targets/{channel}",
    response_model=TargetPublic,
    operation_id="put_catalog_target",
    summary="Set how a channel lists products",
)
def put_target(
    channel: Annotated[str, Path(max_length=64)],
    keel: KeelDep,
    body: Annotated[
        Document,
        Body(
            examples=[
                {
                    "profile": "google-merchant",
                    "locale": "de",
                    "mapping": {
                        "description": {"source": "description", "truncate": 5000},
                        "shipping_weight": {"source": "weight", "unit": "kg"},
                    },
                }
            ]
        ),
    ],
) -> TargetPublic:
    """Set a channel's compliance profile, locale and mapping (channel field from an attribute or a built-in
    source, with unit conversion, and truncation where the profile allows it). Every product's listing on the
    channel is rebuilt in the same transaction, announced with ``listing.changed`` events.

    Refuses an unknown profile, a bad mapping, an unknown unit and a truncation the profile does not allow
    (422). Idempotent: the same document again changes nothing.
    """
    return TargetPublic.of(keel.catalog.put_target(channel, body, source="api"))


@router.get("/catalog/listings", response_model=ListingsPage, operation_id="list_listings", summary="List listings")
def list_listings(
    keel: KeelDep,
    channel: Annotated[str | None, Query(max_length=64, description="only this channel's listings")] = None,
    state: Annotated[ListingState | None, Query(description="ready or blocked")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ListingsPage:
    """Each variant's listing per channel: ready or blocked with its reasons, and the payload the channel is
    sent; by channel, then SKU.

    Refuses an unknown state or a page out of range (422). Idempotent: a read, it changes nothing.
    """
    items, total = keel.catalog.listings(channel, state, limit=limit, offset=offset)
    return ListingsPage(items=[ListingPublic.of(v) for v in items], total=total, limit=limit, offset=offset)


@router.get(
    "/catalog/readiness",
    response_model=list[ReadinessPublic],
    operation_id="catalog_readiness",
    summary="Listings ready and blocked per channel",
)
def readiness(keel: KeelDep) -> list[ReadinessPublic]:
    """Per channel with a target: how many listings are ready and blocked, and the reasons that block most.

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [ReadinessPublic.of(r) for r in keel.catalog.readiness()]
