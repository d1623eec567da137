"""Imports every context's table module so the shared metadata is complete (migrations, tests)."""

from keel.access import store as access_store
from keel.audit import store as audit_store
from keel.catalog import store as catalog_store
from keel.channels import store as channels_store  # its package registers the sync engine's tables too
from keel.fx import store as fx_store
from keel.geo import store as geo_store
from keel.insights import store as insights_store
from keel.inventory import store as inventory_store
from keel.media.store import tables as media_store
from keel.orders.store import tables as orders_store
from keel.planning import store as planning_store
from keel.platform import events
from keel.pricing import promo_store as pricing_promo_store
from keel.pricing import store as pricing_store

__all__ = [
    "access_store",
    "audit_store",
    "catalog_store",
    "channels_store",
    "events",
    "fx_store",
    "geo_store",
    "insights_store",
    "inventory_store",
    "media_store",
    "orders_store",
    "planning_store",
    "pricing_promo_store",
    "pricing_store",
]
