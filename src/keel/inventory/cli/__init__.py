"""``keel inventory ...`` (stock: movements, positions, ATP, counts) and ``keel locations ...`` commands."""

from keel.inventory.cli.locations import app as locations_app
from keel.inventory.cli.stock import app

__all__ = ["app", "locations_app"]
