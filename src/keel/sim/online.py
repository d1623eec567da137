"""The twin's online orders: web-store and marketplace orders go through order capture (validation, routing,
atomic commit) as far as the machine sustains; the rest are shed and counted, never silently dropped.

A stream step may be given a capture budget: the wall-clock seconds its captures, and the fulfilment steps
of the orders it captured earlier, may take. Once the budget is spent, the step's remaining web and
marketplace orders are *shed*: written as a ``committed`` ledger movement at the node the twin drew (then
``shipped``, sometimes ``returned``), like the social and B2B channels' orders, and counted as
``order_shed``. So the stock and the demand stay the same whatever the machine's pace; only how many of the
orders are real orders (with lines, shipments, a timeline and a life) depends on it. Without a budget
(``step()`` in tests) every offered order is captured, which keeps a seeded run deterministic.

``order_offered`` = ``order_captured`` + ``order_shed`` + ``capture_refused`` (refused by the service: no
stock the channel may sell, a validation error).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from keel.orders import OrderView
from keel.sim.demand import HOUR
from keel.sim.fx import local_price
from keel.sim.geography import COUNTRIES
from keel.sim.lifecycle import PROMISE_HOURS
from keel.sim.supply import Key

CAPTURED_KINDS = ("web_store", "marketplace")  # the channels whose orders go through capture
RETURN_SHARE, DAMAGED_SHARE = 0.08, 0.15


@dataclass(frozen=True)
class Offer:
    """A web or marketplace order drawn in a slice: its capture document and where the twin drew it, the
    node a shed order is written at."""

    doc: dict[str, Any]
    key: Key
    quantity: int


class OnlineOrders:
    """Mixed into ``Stream``: draws online orders and either captures them or writes them to the ledger."""

    rng: random.Random
    prefix: str
    start: datetime
    capture_every: int
    channel_kind: dict[str, str]
    fulfil_keys: dict[str, list[Key]]
    info: dict[str, dict[str, Any]]
    on_hand: dict[Key, int]
    prices: dict[str, Decimal]
    currency: dict[str, str]
    rates: Any
    places: dict[tuple[str, str], list[str]]
    _local: dict[tuple[str, str], str]
    _n: int
    _capture_left: float | None
    _capture_spent: float
    stamp: Callable[[float], datetime]
    _pick: Callable[[list[Key]], Key]
    _region_ok: Callable[[Key, dict[str, float], float], bool]
    _take: Callable[[Key, int], bool]
    _row: Callable[[str, Key, int, str | None], dict[str, Any]]
    _schedule: Callable[[float, str, Key, int, str | None], None]
    _replenish: Callable[[Key, float, set[str], list[dict[str, Any]], Counter[str]], None]
    _service_level: Callable[[], str]
    _capture: Callable[[dict[str, Any], float, Counter[str]], OrderView | None]
    ad_orders: Callable[[str, str], int]

    def _orders(
        self,
        country: str,
        channel: str,
        n: int,
        out: set[str],
        rows: list[dict[str, Any]],
        offers: list[Offer],
        counts: Counter[str],
        t0: float,
        factors: dict[str, float],
        peak: float,
    ) -> None:
        keys = self.fulfil_keys[country]
        if not keys:
            return
        captured = self.channel_kind.get(channel) in CAPTURED_KINDS
        picks = (self._pick(keys) for _ in range(n))
        for key in (k for k in picks for _ in range(self.ad_orders(country, k[0]))):
            qty = 1 if self.rng.random() < 0.85 else self.rng.randint(2, 3)
            if key[1] in out or not self._region_ok(key, factors, peak):
                continue
            self._n += 1
            if captured and self._n % self.capture_every == 0:
                offers.append(Offer(self._order_doc(channel, country, key, qty, t0), key, qty))
                counts["order_offered"] += 1
                continue
            if self._ledger_order(key, qty, f"{channel}:{self.prefix}-o{self._n}", t0, rows, counts):
                counts["order"] += 1
            self._replenish(key, t0, out, rows, counts)

    def _ledger_order(
        self, key: Key, qty: int, ref: str, t0: float, rows: list[dict[str, Any]], counts: Counter[str]
    ) -> bool:
        """An order as ledger movements only: committed now, shipped 2-24 h later, sometimes returned."""
        if not self._take(key, qty):
            counts["stockout"] += 1
            return False
        rows.append(self._row("committed", key, qty, ref))
        ship_at = t0 + self.rng.uniform(2, 24) * HOUR
        self._schedule(ship_at, "shipped", key, qty, ref)
        if self.rng.random() < RETURN_SHARE:
            kind = "returned_damaged" if self.rng.random() < DAMAGED_SHARE else "returned"
            self._schedule(ship_at + self.rng.uniform(72, 240) * HOUR, kind, key, qty, ref)
        return True

    def _take_offers(self, offers: list[Offer], t0: float, out: set[str], counts: Counter[str]) -> list[dict[str, Any]]:
        """Capture the slice's offers while the budget lasts and shed the rest; returns the ledger rows still
        to apply (shed orders, replenishments of the nodes the captures drew on)."""
        rows: list[dict[str, Any]] = []
        for offer in offers:
            if self._capture_left is not None and self._capture_left <= 0:
                counts["order_shed"] += 1
                ref = f"{offer.doc['channel']}:{offer.doc['external_id']}"
                self._ledger_order(offer.key, offer.quantity, ref, t0, rows, counts)
                self._replenish(offer.key, t0, out, rows, counts)
                continue
            began = time.perf_counter()
            order = self._capture(offer.doc, t0, counts)
            self._spend(time.perf_counter() - began)
            for shipment in order.shipments if order else ():
                for piece in shipment.lines:
                    self._replenish((piece.sku, shipment.location), t0, out, rows, counts)
        return rows

    def _spend(self, seconds: float) -> None:
        self._capture_spent += seconds
        if self._capture_left is not None:
            self._capture_left -= seconds

    def _order_doc(self, channel: str, country: str, key: Key, qty: int, t0: float) -> dict[str, Any]:
        fulfilment = self._service_level()
        if fulfilment == "same_day":  # a courier ride: the customer lives in the city of a node holding it
            city = self.info[key[1]]["city"]
        else:
            city = COUNTRIES[country][1][self.rng.randrange(len(COUNTRIES[country][1]))][0]
        codes = self.places.get((country, city))
        postal_code = self.rng.choice(codes) if codes else f"{self.rng.randint(10000, 99999)}"
        return {
            "channel": channel,
            "external_id": f"{self.prefix}-o{self._n}",
            "lines": [{"sku": key[0], "quantity": qty, "unit_price": self._price(key[0], channel)}],
            "customer": {"name": f"Twin customer {self._n}", "email": f"c{self._n}@example.com"},
            "ship_to": {"country": country, "city": city, "postal_code": postal_code},
            "fulfilment": fulfilment,
            "promise_at": self.stamp(t0 + PROMISE_HOURS[fulfilment] * HOUR).isoformat(),
        }

    def _price(self, sku: str, channel: str) -> str:
        """The SKU's shelf price in the channel's currency (its EUR base price converted and rounded locally)."""
        currency = self.currency.get(channel, "EUR")
        found = self._local.get((sku, currency))
        if found is None:
            base = self.prices.get(sku, Decimal("19.99"))
            found = self._local[(sku, currency)] = str(local_price(base, currency, self.rates, self.start.date()))
        return found
