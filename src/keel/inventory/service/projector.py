"""The availability projector: an event-log consumer that keeps channel availability (ATP) current.

``stock.moved`` events name a ledger range. The projector reads those movements, marks dirty only the
(channel, country, SKU) targets fed by the touched locations, recomputes them and emits one
``availability.changed`` event per channel holding the numbers that actually changed.

It keeps an in-memory view (available per SKU x location, and what each channel was last told) that is
exact by construction: it is loaded from one database snapshot together with the sequence number of the
last stock event that snapshot includes, and afterwards advanced only by the ``available`` deltas of later
ledger movements (every change to ``available`` is a movement, and each kind's delta is linear). The view
is dropped and reloaded on topology events, on ``positions.rebuilt`` and whenever a write fails or another
projector instance moved the shared offset first (compare-and-set), so two instances can never both apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from keel.channels import CHANNEL_EVENTS
from keel.inventory import store
from keel.inventory.model import AVAILABLE_DELTA, CHANGES_AVAILABLE, KIND_CODES, atp_quantity
from keel.inventory.service.ledger import AVAILABILITY_CONSUMER
from keel.inventory.service.stock import POSITIONS_REBUILT, STOCK_MOVED
from keel.inventory.service.topology import TOPOLOGY_EVENTS, Topology
from keel.platform.clock import utcnow
from keel.platform.db import Database, to_micros
from keel.platform.events import EventLog, NewEvent
from keel.platform.sources import DatabaseSource, EventSource

CONSUMER = AVAILABILITY_CONSUMER
AVAILABILITY_CHANGED = "availability.changed"
RELOAD_EVENTS = TOPOLOGY_EVENTS | {POSITIONS_REBUILT}
CONSUMED = frozenset({STOCK_MOVED} | RELOAD_EVENTS)
_AVAILABLE_KIND_CODES = sorted(KIND_CODES[k] for k in CHANGES_AVAILABLE)
# (channel_id, channel, country, sku, previous, quantity, backorder)
Change = tuple[int, str, str, str, int, int, bool]
NOT_LISTED = (0, False)
EVENT_CHANGES = 1000


@dataclass
class StepResult:
    events: int = 0
    recomputed: int = 0
    changed: int = 0
    channels: set[str] = field(default_factory=set)


@dataclass
class View:
    topology: Topology
    stock: dict[str, dict[int, int]]  # sku -> location_id -> available
    listed: dict[str, dict[tuple[int, str], tuple[int, bool]]]  # sku -> (channel_id, country) -> listed
    as_of: int  # the last stock event whose effects ``stock`` already contains


class Projector:
    def __init__(
        self,
        db: Database,
        events: EventLog,
        topology: Callable[[Connection], Topology],
        source: EventSource | None = None,
    ) -> None:
        self.db = db
        self.events = events
        # Where the events come from (the database log, or JetStream); the view and offset stay in the database.
        self.source = source or DatabaseSource(events)
        self.build_topology = topology
        self.view: View | None = None

    def load(self, conn: Connection) -> View:
        """Read the whole view from one snapshot (``conn`` must be a snapshot transaction)."""
        as_of = self.events.last_seq(conn, STOCK_MOVED)
        stock = store.available_snapshot(conn)
        listed = store.listed_snapshot(conn)
        return View(self.build_topology(conn), stock, listed, as_of)

    def warm(self) -> None:
        with self.db.snapshot() as conn:
            self.view = self.load(conn)

    def step(self, limit: int = 200) -> StepResult:
        """Consume up to ``limit`` events: recompute in a snapshot, then write changes and offset together."""
        result = StepResult()
        try:
            return self._step(limit, result)
        except Exception:
            # The view may hold deltas of a step that did not commit: rebuild it rather than apply them twice.
            self.view = None
            raise

    def _step(self, limit: int, result: StepResult) -> StepResult:
        with self.db.snapshot() as conn:
            after = self.events.offset(conn, CONSUMER)
            batch = self.source.read(conn, CONSUMER, after, CONSUMED, limit)
            if not batch:
                return result
            full: set[str] = {e.subject for e in batch if e.type in CHANNEL_EVENTS}
            if self.view is None or any(e.type in RELOAD_EVENTS for e in batch):
                # Listings were committed together with the offset, so a fresh view needs no recompute;
                # only a location, group or rebuild event can change every channel's numbers.
                self.view = view = self.load(conn)
                if any(e.type in RELOAD_EVENTS - CHANNEL_EVENTS for e in batch):
                    full = {t.channel for t in view.topology.targets}
            view = self.view
            dirty: dict[str, set[int]] = {}
            by_location = view.topology.by_location
            for e in batch:
                if e.type != STOCK_MOVED or not e.data.get("changes_available", True):
                    continue
                rows = store.movement_deltas(conn, e.data["first_seq"], e.data["last_seq"], _AVAILABLE_KIND_CODES)
                apply = e.seq > view.as_of
                for sku, location_id, kind, quantity in rows:
                    if apply:
                        at = view.stock.setdefault(sku, {})
                        at[location_id] = at.get(location_id, 0) + AVAILABLE_DELTA[kind] * quantity
                    for index in by_location.get(location_id, ()):
                        dirty.setdefault(sku, set()).add(index)
            changes = self._full(view, full, dirty)
            changes.extend(self._recompute(view, dirty))
        with self.db.write() as conn:
            if not self.events.advance_offset(conn, CONSUMER, after, batch[-1].seq):
                self.view = None  # another instance consumed these events; our view is behind
                return result
            self._write(conn, changes, [e.seq for e in batch])
        self.source.consumed(CONSUMER, batch[-1].seq)
        for channel_id, _, country, sku, _, quantity, backorder in changes:
            view.listed.setdefault(sku, {})[(channel_id, country)] = (quantity, backorder)
        result.events = len(batch)
        result.recomputed = sum(len(v) for v in dirty.values())
        result.changed = len(changes)
        result.channels = {c[1] for c in changes}
        return result

    def _full(self, view: View, channels: set[str], dirty: dict[str, set[int]]) -> list[Change]:
        """Recompute every listing of the changed channels; zero listings the channel no longer has.

        Marked dirty: SKUs stocked at any of the channel's current sources, and SKUs the channel lists
        today (a source that left the policy must take its stock out of those numbers too).
        """
        if not channels:
            return []
        targets = view.topology.targets
        indexes = [i for i, t in enumerate(targets) if t.channel in channels]
        for sku, at in view.stock.items():
            for index in indexes:
                if not targets[index].location_ids.isdisjoint(at):
                    dirty.setdefault(sku, set()).add(index)
        live = {(targets[i].channel_id, targets[i].country): i for i in indexes}
        ids = {t.channel_id: t.channel for t in targets if t.channel in channels}
        ids.update(view.topology.retired)
        stale: list[Change] = []
        for sku, listed in view.listed.items():
            for (channel_id, country), (qty, backorder) in listed.items():
                name = ids.get(channel_id)
                if name not in channels or (qty, backorder) == NOT_LISTED:
                    continue
                target = live.get((channel_id, country))
                if target is None:
                    stale.append((channel_id, name, country, sku, qty, 0, False))
                else:
                    dirty.setdefault(sku, set()).add(target)
        return stale

    def _recompute(self, view: View, dirty: dict[str, set[int]]) -> list[Change]:
        changes: list[Change] = []
        targets = view.topology.targets
        for sku, indexes in dirty.items():
            at = view.stock.get(sku, {})
            listed = view.listed.get(sku, {})
            for index in indexes:
                t = targets[index]
                pooled = sum(a for loc, a in at.items() if a > 0 and loc in t.location_ids)
                quantity = atp_quantity(pooled, t.rules)
                # Never listed counts as 0 without backorder, so a first 0 is not announced as a change.
                previous = listed.get((t.channel_id, t.country), NOT_LISTED)
                if previous != (quantity, t.rules.backorder):
                    changes.append((t.channel_id, t.channel, t.country, sku, previous[0], quantity, t.rules.backorder))
        return changes

    def _write(self, conn: Connection, changes: list[Change], causes: list[int]) -> None:
        if not changes:
            return
        store.save_listed(conn, [(c[0], c[2], c[3], c[5], c[6]) for c in changes], to_micros(utcnow()))
        per_channel: dict[str, list[dict[str, object]]] = {}
        for _, channel, country, sku, before, quantity, backorder in changes:
            per_channel.setdefault(channel, []).append(
                {"sku": sku, "country": country, "previous": before, "quantity": quantity, "backorder": backorder}
            )
        # At most EVENT_CHANGES changes per event, so a full recompute of a big channel stays consumable.
        self.events.append(
            conn,
            [
                NewEvent(
                    AVAILABILITY_CHANGED,
                    channel,
                    {"changes": items[i : i + EVENT_CHANGES], "caused_by": causes},
                    source="availability",
                )
                for channel, items in sorted(per_channel.items())
                for i in range(0, len(items), EVENT_CHANGES)
            ],
        )
