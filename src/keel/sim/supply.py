"""The twin's supply side: replenishment of positions running low (receipts, transfers from a warehouse of
the same country) and the queue of future movements (shipments, arrivals, returns) released as time passes."""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from keel.sim.demand import HOUR
from keel.sim.scenario import Scenario

Key = tuple[str, str]  # (sku, location)
REORDER_AT, STORE_REORDER_AT = 5, 2


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    kind: str  # shipped, transfer_in, received, returned, returned_damaged
    sku: str
    location: str
    quantity: int
    reference: str | None = None


class SupplyChain:
    """Mixed into ``Stream``: keeps the shadow stock moving forward with replenishments and due movements."""

    rng: random.Random
    scenario: Scenario
    info: dict[str, dict[str, Any]]
    available: dict[Key, int]
    on_hand: dict[Key, int]
    fulfil_by_country: dict[str, list[str]]
    prefix: str
    _n: int
    _due: list[_Due]
    _pending: set[Key]

    def _id(self, tag: str) -> str:
        self._n += 1
        return f"{self.prefix}-{tag}{self._n}"

    def _row(self, kind: str, key: Key, qty: int, reference: str | None) -> dict[str, Any]:
        row: dict[str, Any] = {"id": self._id("m"), "kind": kind, "sku": key[0], "location": key[1], "quantity": qty}
        if reference:
            row["reference"] = reference
        return row

    def _replenish(self, key: Key, t0: float, out: set[str], rows: list[dict[str, Any]], counts: Counter[str]) -> None:
        loc = self.info[key[1]]
        store = loc["kind"] == "store"
        if key in self._pending or self.available.get(key, 0) > (STORE_REORDER_AT if store else REORDER_AT):
            return
        self._pending.add(key)
        if store:
            for source in self.fulfil_by_country[loc["country"]]:
                skey = (key[0], source)
                qty = self.rng.randint(3, 8)
                if source not in out and self.available.get(skey, 0) >= qty + REORDER_AT:
                    self.available[skey] -= qty
                    self.on_hand[skey] -= qty
                    rows.append(self._row("transfer_out", skey, qty, f"to {key[1]}"))
                    counts["transfer_out"] += 1
                    self._schedule(t0 + self.rng.uniform(12, 36) * HOUR, "transfer_in", key, qty, f"from {source}")
                    return
            self._schedule(t0 + self.rng.uniform(24, 96) * HOUR, "received", key, self.rng.randint(4, 10), "vendor")
            return
        qty = int(self.rng.lognormvariate(3.4, 0.5)) + 10
        self._schedule(t0 + self.rng.uniform(24, 72) * HOUR, "received", key, qty, "purchase order")

    def _schedule(self, at: float, kind: str, key: Key, qty: int, ref: str | None) -> None:
        self._n += 1
        heapq.heappush(self._due, _Due(at, self._n, kind, key[0], key[1], qty, ref))

    def _release_due(self, t1: float, out: set[str], rows: list[dict[str, Any]], counts: Counter[str]) -> None:
        later: list[_Due] = []
        while self._due and self._due[0].at < t1:
            due = heapq.heappop(self._due)
            if due.location in out:  # nothing moves at a location that is down: retry after the outage
                due.at = max(o.end for o in self.scenario.outages() if o.location == due.location) * HOUR
                later.append(due)
                continue
            key = (due.sku, due.location)
            if due.kind == "shipped":
                self.on_hand[key] -= due.quantity
                counts["shipped"] += 1
            else:
                self.on_hand[key] = self.on_hand.get(key, 0) + due.quantity
                if due.kind != "returned_damaged":
                    self.available[key] = self.available.get(key, 0) + due.quantity
                if due.kind in ("received", "transfer_in"):
                    self._pending.discard(key)
                counts["returned" if due.kind.startswith("returned") else due.kind] += 1
            rows.append(self._row(due.kind, key, due.quantity, due.reference))
        for due in later:
            heapq.heappush(self._due, due)
