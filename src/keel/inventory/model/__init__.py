"""Pure inventory domain (standard library and platform value types only).

``movements``: movement kinds, their effects, batch validation and planning, counts; ``atp``: the
available-to-promise arithmetic; ``locations``: location field validation;
``demand``: daily demand history with stockout days; ``records``: the records and commands the services answer and take.
"""

from keel.inventory.model.atp import *  # noqa: F403
from keel.inventory.model.demand import *  # noqa: F403
from keel.inventory.model.locations import *  # noqa: F403
from keel.inventory.model.movements import *  # noqa: F403
from keel.inventory.model.movements import _parse_slow as _parse_slow
from keel.inventory.model.records import *  # noqa: F403
