"""``keel catalog ...`` commands, one module per resource family; each registers its commands on ``app``."""

from keel.catalog.cli import listings, products, reference
from keel.catalog.cli.common import app

__all__ = ["app", "listings", "products", "reference"]
