"""The twin's writes through Keel's services: movement batches, order captures, cycle counts, outages.

The twin plans its movements on a shadow of every position, so its batches fit by construction. Others may
move the same stock meanwhile (a person in the control tower, an integration, the backorder filler): the
ledger then refuses the rows the shadow got wrong. That is normal traffic, not a fault: the refused rows are
dropped (debug log, counted as ``refused``), the rest of the batch goes in, and the shadow of the positions
concerned is read back from the database. A cycle count always counts the database's book, so it never
undoes what someone else recorded.
"""

from __future__ import annotations

import heapq
import logging
import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from keel.audit import NewAuditEntry
from keel.bootstrap import Keel
from keel.orders import OrderView, capture_command
from keel.platform.actor import Actor, acting_as
from keel.platform.clock import clock_at
from keel.platform.errors import Conflict, InsufficientStock, ValidationFailed
from keel.sim.promotions import CartPricing
from keel.sim.supply import Key, _Due

log = logging.getLogger("keel.sim.stream")
RETRIES = 3  # a batch whose retry is refused again drops those rows too, at most this often


class Writes:
    """Mixed into ``Stream``: every write the twin makes, and keeping its shadow true to the database."""

    keel: Keel
    rng: random.Random
    info: dict[str, dict[str, Any]]
    available: dict[Key, int]
    on_hand: dict[Key, int]
    all_keys: list[Key]
    _inactive: set[str]
    _ledger_seq: int
    _due: list[_Due]
    stamp: Callable[[float], datetime]
    outaged: Callable[[float], set[str]]
    _id: Callable[[str], str]
    _plan_life: Callable[..., None]
    channel_kind: dict[str, str]
    marketplace: Callable[[dict[str, Any]], int | None] | None
    checkout: CartPricing

    def _toggle_outages(self, t0: float) -> None:
        want = self.outaged(t0)
        for code in sorted(want - self._inactive):
            self.keel.locations.update(code, {"active": False})
        for code in sorted(self._inactive - want):
            self.keel.locations.update(code, {"active": True})
        self._inactive = want

    def _apply(self, rows: list[dict[str, Any]], counts: Counter[str]) -> None:
        size = self.keel.settings.max_batch
        stale: set[Key] = set()
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            for _ in range(RETRIES):
                try:
                    result = self.keel.stock.apply_batch(batch, source="sim")
                except ValidationFailed as exc:
                    bad = {e.row for e in exc.errors if e.row is not None} or set(range(1, len(batch) + 1))
                    log.debug("twin rows refused (stock moved by others): %s", exc.errors[:3])
                    counts["refused"] += len(bad)
                    dropped = [r for i, r in enumerate(batch, start=1) if i in bad]
                    stale.update((r["sku"], r["location"]) for r in dropped)
                    self._forget_orders({r["reference"] for r in dropped if r["kind"] == "committed"})
                    batch = [r for i, r in enumerate(batch, start=1) if i not in bad]
                    if not batch:
                        break
                    continue
                self._ledger_seq = max(self._ledger_seq, result.last_seq or 0)
                break
            else:
                counts["refused"] += len(batch)
                stale.update((r["sku"], r["location"]) for r in batch)
        if stale:
            self._resync(stale)

    def _forget_orders(self, references: set[str]) -> None:
        """An order whose commit was refused never happened: its scheduled shipment and return go too."""
        if references:
            self._due = [d for d in self._due if d.reference not in references]
            heapq.heapify(self._due)

    def _resync(self, keys: set[Key]) -> None:
        """Read the shadow of ``keys`` back from the database (the truth after others moved stock)."""
        for sku, location in sorted(keys):
            items, _ = self.keel.queries.positions(sku=sku, location=location, limit=1)
            found = items[0] if items else None
            self.available[(sku, location)] = found.available if found else 0
            self.on_hand[(sku, location)] = found.on_hand if found else 0

    def _capture(self, doc: dict[str, Any], t0: float, counts: Counter[str]) -> OrderView | None:
        """Capture one order as its channel's connector would; the order, or None when the service refused it."""
        if self.marketplace is not None and self.channel_kind.get(doc["channel"]) == "marketplace":
            # sold on the marketplace, which sends it to Keel's order webhook (keel.sim.markets)
            order_id = self.marketplace(doc)
            if order_id is None:
                counts["capture_refused"] += 1
                return None
            return self._captured(self.keel.orders.reads.get(order_id), doc, t0, counts)
        # The channel's connector sends the order: its capture is audited like an integration's request, with
        # the order's events linked, so the demo's audit log shows live traffic. The twin's clock stamps it.
        # a web store prices its checkout as a cart first (its promotions), and charges the cart's prices
        cart = self.checkout.price(doc) if self.channel_kind.get(doc["channel"]) == "web_store" else None
        request_id = uuid.uuid4().hex
        connector = f"{doc['channel']} connector (twin)"
        status = 201
        with clock_at(self.stamp(t0)):
            try:
                with acting_as(Actor("twin", connector, "automation", None, request_id)):
                    order = self.keel.orders.capture.place(capture_command(doc)).order
            except (InsufficientStock, ValidationFailed, Conflict) as exc:
                counts["capture_refused"] += 1
                status = exc.status
                return None
            finally:
                target = f"order {doc['external_id']} of {doc['channel']}"
                entry = NewAuditEntry(
                    "twin", connector, "automation", None, "capture_order", "RUN", target, status, request_id
                )
                self.keel.audit.record(entry)
        if cart is not None and self.checkout.redeem(f"{doc['channel']}:{doc['external_id']}", cart):
            counts["cart_redeemed"] += 1
        return self._captured(order, doc, t0, counts)

    def _captured(self, order: OrderView, doc: dict[str, Any], t0: float, counts: Counter[str]) -> OrderView:
        """The twin's side of an order Keel captured: its shadow of the stock, and the order's life to come."""
        counts["order_captured"] += 1
        for shipment in order.shipments:
            for piece in shipment.lines:
                key = (piece.sku, shipment.location)
                self.available[key] = self.available.get(key, 0) - piece.quantity
        self._plan_life(order, doc["fulfilment"], doc["ship_to"]["country"], t0)
        return order

    def _counts(self, n: int, out: set[str], counts: Counter[str]) -> None:
        keys = self.all_keys
        for _ in range(n):
            key = keys[self.rng.randrange(len(keys))]
            if key[1] in out:
                continue
            store = self.info[key[1]]["kind"] == "store"
            roll = self.rng.random()
            loss_p, gain_p = (0.25, 0.03) if store else (0.08, 0.02)
            self._resync({key})  # count against the database's book, whoever moved the stock last
            book = self.on_hand.get(key, 0)
            if roll < loss_p:
                delta = -min(self.rng.randint(1, 3), max(0, self.available.get(key, 0)))
            elif roll < loss_p + gain_p:
                delta = 1
            else:
                delta = 0
            result = self.keel.stock.record_count(key[0], key[1], max(0, book + delta), self._id("c"))
            self.available[key] = self.available.get(key, 0) + result.variance
            self.on_hand[key] = result.counted
            counts["count"] += 1
