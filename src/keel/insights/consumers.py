"""What insights runs in the background: the tower projector, as a registered event-log consumer
(``bootstrap`` lists it in the consumer registry, so ``keel serve`` and ``keel worker`` both run it)."""

from __future__ import annotations

from keel.insights.projector import CONSUMER, TYPES, TowerProjector
from keel.platform.consumers import OffsetMoved


class TowerConsumer:
    """The projector's consumer; a page that caught it up in the same moment is not a failure."""

    name = CONSUMER
    types = TYPES

    def __init__(self, projector: TowerProjector) -> None:
        self.projector = projector

    def warm(self) -> None:
        return None

    def step(self, limit: int = 200) -> int:
        try:
            return self.projector.consumer.step(limit)
        except OffsetMoved:  # a page's catch-up applied this range first
            return 0
