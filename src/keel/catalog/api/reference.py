"""HTTP API of the catalog's reference data: GTIN checks, families, categories, compliance profiles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path

from keel.catalog.model import Category, check_gtin
from keel.catalog.schemas import (
    CategoryPublic,
    CategoryPut,
    FamilyPublic,
    GtinPublic,
    ProfilePublic,
)
from keel.deps import KeelDep
from keel.platform.errors import single_field
from keel.platform.schemas import Document

router = APIRouter(tags=["catalog"])


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
