"""The catalog's pure domain: GTINs, typed attributes and families, products and variants, revisions' diffs."""

from keel.catalog.model.attributes import (
    ANY_CHANNEL,
    MAX_TEXT,
    AttributeDef,
    AttributeType,
    Family,
    canonical,
    family_document,
    parse_family,
)
from keel.catalog.model.gtin import GtinCheck, GtinFlag, check_digit, check_gtin
from keel.catalog.model.product import (
    Change,
    MediaKind,
    MediaLink,
    Product,
    Value,
    Variant,
    diff,
    flatten,
    parse_product,
    product_document,
    resolve,
)
from keel.catalog.model.records import Category, ImportReport, ProductView, Revision, Saved, check_category

__all__ = [
    "ANY_CHANNEL",
    "MAX_TEXT",
    "AttributeDef",
    "AttributeType",
    "Category",
    "Change",
    "Family",
    "GtinCheck",
    "GtinFlag",
    "ImportReport",
    "MediaKind",
    "MediaLink",
    "Product",
    "ProductView",
    "Revision",
    "Saved",
    "Value",
    "Variant",
    "canonical",
    "check_category",
    "check_digit",
    "check_gtin",
    "diff",
    "family_document",
    "flatten",
    "parse_family",
    "parse_product",
    "product_document",
    "resolve",
]
