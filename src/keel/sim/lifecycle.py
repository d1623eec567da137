"""The lives of the orders the twin captures: picking, packing, shipping with a carrier and a tracking
number, delivery; most on time, some late, same-day ones mostly the same day.

Each life is drawn from the seed when the order is captured (how long it takes, whether it misses its
promise) and played step by step through ``keel.orders.fulfilment.step`` (``advance`` without the order
read back), the use case a warehouse or carrier integration calls. The twin stamps those calls with its own
scaled clock (``Stream.stamp``: ``keel.platform.clock.clock_at``), so an order's promise, its delivery and
whether it was late follow the simulated schedule, not the machine's pace.
"""

from __future__ import annotations

import heapq
import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from keel.bootstrap import Keel
from keel.orders import AdvanceShipment, OrderView
from keel.platform.clock import clock_at
from keel.platform.errors import Conflict, NotFound, ValidationFailed
from keel.platform.vocabulary import ShipmentStatus
from keel.sim.demand import HOUR
from keel.sim.supply import Key

log = logging.getLogger("keel.sim.lifecycle")

# The mix of service levels among captured orders, with the promise each makes (simulated hours) and the
# share that misses it.
FULFILMENT_MIX = (("ship_standard", 0.7), ("ship_express", 0.15), ("same_day", 0.15))
PROMISE_HOURS = {"ship_standard": 72.0, "ship_express": 24.0, "same_day": 8.0}
LATE_SHARE = {"ship_standard": 0.12, "ship_express": 0.15, "same_day": 0.1}
# Delivery after capture (simulated hours): on time within the promise, late beyond it.
ON_TIME_HOURS = {"ship_standard": (20.0, 66.0), "ship_express": (8.0, 22.0), "same_day": (2.0, 7.0)}
LATE_HOURS = {"ship_standard": (76.0, 120.0), "ship_express": (27.0, 48.0), "same_day": (9.5, 20.0)}
# When each step happens, as a share of the time to delivery.
STEP_SHARES = ((ShipmentStatus.PICKING, 0.06), (ShipmentStatus.PACKED, 0.15), (ShipmentStatus.SHIPPED, 0.3))
CARRIERS = {
    "DE": "DHL", "AT": "Austrian Post", "FR": "Colissimo", "BE": "bpost", "NL": "PostNL", "IT": "BRT",
    "ES": "SEUR", "PT": "CTT", "IE": "An Post", "GB": "Royal Mail", "CH": "Swiss Post", "PL": "InPost",
    "CZ": "PPL", "SE": "PostNord", "DK": "GLS", "NO": "Posten", "FI": "Posti", "US": "UPS", "CA": "Purolator",
    "AU": "Australia Post", "JP": "Yamato",
}  # fmt: skip
SAME_DAY_CARRIER = "Stuart"
STEP_KINDS = {
    ShipmentStatus.PICKING: "order_picking",
    ShipmentStatus.PACKED: "order_packed",
    ShipmentStatus.SHIPPED: "order_shipped",
    ShipmentStatus.DELIVERED: "order_delivered",
}


@dataclass(order=True)
class _Step:
    at: float
    seq: int
    order_id: int = field(compare=False)
    number: int = field(compare=False)
    target: ShipmentStatus = field(compare=False)
    carrier: str | None = field(compare=False, default=None)
    tracking: str | None = field(compare=False, default=None)
    pieces: tuple[tuple[Key, int], ...] = field(compare=False, default=())


class OrderLives:
    """Mixed into ``Stream``: plans and plays the fulfilment of the orders it captured."""

    keel: Keel
    rng: random.Random
    seed: int
    on_hand: dict[Key, int]
    _n: int
    _steps: list[_Step]
    stamp: Callable[[float], datetime]

    def _service_level(self) -> str:
        roll, total = self.rng.random(), 0.0
        for level, share in FULFILMENT_MIX:
            total += share
            if roll < total:
                return level
        return FULFILMENT_MIX[0][0]

    def _plan_life(self, order: OrderView, fulfilment: str, country: str, t: float) -> None:
        """Schedule every live shipment of a just-captured order, to delivery."""
        late = self.rng.random() < LATE_SHARE[fulfilment]
        low, high = (LATE_HOURS if late else ON_TIME_HOURS)[fulfilment]
        carrier = SAME_DAY_CARRIER if fulfilment == "same_day" else CARRIERS.get(country, "DHL")
        for shipment in order.live_shipments:
            took = self.rng.uniform(low, high) * HOUR
            pieces = tuple(((piece.sku, shipment.location), piece.quantity) for piece in shipment.lines)
            tracking = f"{carrier[:3].upper()}{self.seed:03d}{order.id:07d}{shipment.number}"
            for target, share in STEP_SHARES:
                ship = target is ShipmentStatus.SHIPPED
                self._step(t + took * share, order.id, shipment.number, target, carrier if ship else None,
                           tracking if ship else None, pieces if ship else ())  # fmt: skip
            self._step(t + took, order.id, shipment.number, ShipmentStatus.DELIVERED)

    def _step(
        self,
        at: float,
        order_id: int,
        number: int,
        target: ShipmentStatus,
        carrier: str | None = None,
        tracking: str | None = None,
        pieces: tuple[tuple[Key, int], ...] = (),
    ) -> None:
        self._n += 1
        heapq.heappush(self._steps, _Step(at, self._n, order_id, number, target, carrier, tracking, pieces))

    def _release_steps(self, t1: float, counts: Counter[str]) -> None:
        """Play every step due before ``t1``, each stamped at its own simulated time. A step someone else
        made impossible (the order was cancelled or re-routed in the meantime) is skipped and counted."""
        while self._steps and self._steps[0].at < t1:
            step = heapq.heappop(self._steps)
            command = AdvanceShipment(step.order_id, step.number, step.target, step.carrier, step.tracking)
            try:
                with clock_at(self.stamp(step.at)):
                    self.keel.orders.fulfilment.step(command)
            except (Conflict, NotFound, ValidationFailed) as exc:
                log.debug("twin order step skipped: %s", exc.detail)
                counts["order_step_skipped"] += 1
                continue
            for key, qty in step.pieces:  # the shipment's units left the building
                self.on_hand[key] = self.on_hand.get(key, 0) - qty
            counts[STEP_KINDS[step.target]] += 1
