"""``keel catalog ...`` commands, one module per resource family; each registers its commands on ``app``."""

from keel.catalog.cli import feeds, listings, products, reference
from keel.catalog.cli.common import app

__all__ = ["app", "feeds", "listings", "products", "reference"]
