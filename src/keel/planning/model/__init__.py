"""Pure planning domain (standard library and platform value types only).

``automation``: when the worker re-plans and what it may accept on its own; ``policy``:
replenishment policies as data and their resolution; ``replenish``: order-up-to levels and the
purchase and transfer suggestions that follow from them; ``records``: what the services answer.
"""

from keel.planning.model.automation import *  # noqa: F403
from keel.planning.model.policy import *  # noqa: F403
from keel.planning.model.records import *  # noqa: F403
from keel.planning.model.replenish import *  # noqa: F403
