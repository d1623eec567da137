"""Inventory storage: the tables and every query on them, one module per port (SQLAlchemy Core; the hot
paths use driver-level executemany, COPY and bare cursors). Services call these with the connection of
the transaction they hold; only this package knows which database it talks to.

``tables``: the tables; ``ledger``: movements; ``positions``: positions; ``locations``: locations and
groups; ``holds``: reservations and cycle counts; ``availability``: what the channels were told; ``checkpoint``:
the ledger checkpoint retention folds movements into; ``demand``: the ledger by day, for demand history. Bulk
statements (executemany / COPY) come from ``keel.platform.bulk``.
"""

from keel.inventory.store.availability import *  # noqa: F403
from keel.inventory.store.checkpoint import *  # noqa: F403
from keel.inventory.store.demand import *  # noqa: F403
from keel.inventory.store.holds import *  # noqa: F403
from keel.inventory.store.ledger import *  # noqa: F403
from keel.inventory.store.locations import *  # noqa: F403
from keel.inventory.store.positions import *  # noqa: F403
from keel.inventory.store.tables import *  # noqa: F403
