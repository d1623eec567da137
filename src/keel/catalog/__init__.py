"""The product catalog (PIM): products and variants, typed attributes in families, a category tree, and every
change kept as a revision.

The public face: the service bootstrap builds, the records it takes and returns, its events and the GTIN check.
"""

from keel.catalog.model import (
    AttributeDef,
    AttributeType,
    Category,
    Change,
    Family,
    GtinCheck,
    GtinFlag,
    ImportReport,
    Product,
    ProductView,
    Revision,
    RevisionView,
    Saved,
    check_gtin,
)
from keel.catalog.model.listings import ChannelReadiness, ListingState, ListingView, Reason, Target
from keel.catalog.model.overview import ChannelScore, ProductDetail, ProductQuery, ProductRow, ValueRow, show
from keel.catalog.model.profiles import Compliance, Profile, RuleResult
from keel.catalog.service import (
    CATALOG_EVENTS,
    CATEGORY_CHANGED,
    FAMILY_CHANGED,
    LISTING_CHANGED,
    PRODUCT_CHANGED,
    PROFILE_CHANGED,
    TARGET_CHANGED,
    CatalogService,
)

__all__ = [
    "CATALOG_EVENTS",
    "CATEGORY_CHANGED",
    "FAMILY_CHANGED",
    "LISTING_CHANGED",
    "PRODUCT_CHANGED",
    "PROFILE_CHANGED",
    "TARGET_CHANGED",
    "AttributeDef",
    "AttributeType",
    "CatalogService",
    "Category",
    "Change",
    "ChannelReadiness",
    "ChannelScore",
    "Compliance",
    "Family",
    "GtinCheck",
    "GtinFlag",
    "ImportReport",
    "ListingState",
    "ListingView",
    "Product",
    "ProductDetail",
    "ProductQuery",
    "ProductRow",
    "ProductView",
    "Profile",
    "Reason",
    "Revision",
    "RevisionView",
    "RuleResult",
    "Saved",
    "Target",
    "ValueRow",
    "check_gtin",
    "show",
]
