"""What the inventory context runs in the background: the availability projector (an event-log consumer)
and the reservation sweeper (a periodic job). ``bootstrap`` lists them in the consumer registry."""

from __future__ import annotations

import logging

from keel.inventory.service import AvailabilityService, StockService
from keel.inventory.service.projector import CONSUMED, CONSUMER
from keel.platform.consumers import PeriodicJob
from keel.platform.observability import ATP_CHANGES, RESERVATIONS_EXPIRED, log

logger = logging.getLogger("keel.inventory")


class AvailabilityProjector:
    """The projector as a registered consumer; it keeps its own view and stores its offset by
    compare-and-set together with the listings it writes (``keel.inventory.service.projector``)."""

    name = CONSUMER
    types = CONSUMED

    def __init__(self, availability: AvailabilityService) -> None:
        self.availability = availability

    def warm(self) -> None:
        self.availability.warm()

    def step(self, limit: int = 200) -> int:
        result = self.availability.step(limit)
        ATP_CHANGES.inc(result.changed)
        if result.changed:
            fields = {"events": result.events, "changed": result.changed, "channels": len(result.channels)}
            logger.debug("availability changed", extra={"fields": fields})
        return result.events


def reservation_sweeper(stock: StockService, interval_s: float) -> PeriodicJob:
    """Releases reservation holds whose time is up."""

    def run() -> int:
        expired = stock.expire_due()
        if expired:
            RESERVATIONS_EXPIRED.inc(expired)
            log(logger, "reservations expired", count=expired)
        return expired

    return PeriodicJob("reservation-sweeper", interval_s, run, audited=True)
