"""The catalog's tables and every query on them.

A product is stored as its canonical JSON document (``catalog_products``) beside one row per variant
(``catalog_variants``: a SKU belongs to one product, database-enforced). Every revision keeps the changed
values and the whole document as it stood after the change, so reading a product as of a time is one
indexed lookup rather than a replay.
"""

from keel.catalog.store.browse import brands, product_listings, search_products
from keel.catalog.store.content import (
    ProductWrite,
    StoredProduct,
    document_as_of,
    iter_products,
    lock_products,
    product,
    products_page,
    revision_document,
    revisions_page,
    sku_owners,
    sku_tags,
    skus_tagged,
    write_products,
)
from keel.catalog.store.reference import (
    all_categories,
    family_documents,
    profile_documents,
    save_category,
    save_family,
    save_profile,
    save_target,
    target_documents,
)
from keel.catalog.store.syndication import (
    SHARED,
    StoredListing,
    StoredRow,
    blocked_reason_sets,
    blocked_reasons,
    channel_listing_count,
    channel_rows,
    drop_orphan_groups,
    listings_of,
    rows_of,
    save_rows,
    state_counts,
)
from keel.catalog.store.tables import categories, families, listings, products, profiles, revisions, targets, variants

__all__ = [
    "SHARED",
    "ProductWrite",
    "StoredListing",
    "StoredProduct",
    "StoredRow",
    "all_categories",
    "blocked_reason_sets",
    "blocked_reasons",
    "brands",
    "categories",
    "channel_listing_count",
    "channel_rows",
    "document_as_of",
    "drop_orphan_groups",
    "families",
    "family_documents",
    "iter_products",
    "listings",
    "listings_of",
    "lock_products",
    "product",
    "product_listings",
    "products",
    "products_page",
    "profile_documents",
    "profiles",
    "revision_document",
    "revisions",
    "revisions_page",
    "rows_of",
    "save_category",
    "save_family",
    "save_profile",
    "save_rows",
    "save_target",
    "search_products",
    "sku_owners",
    "sku_tags",
    "skus_tagged",
    "state_counts",
    "target_documents",
    "targets",
    "variants",
    "write_products",
]
