"""Channel availability (ATP): the projector that keeps it current and the reads that explain it.

The projector is an event-log consumer. ``stock.moved`` events name a ledger range; only the (channel,
country, SKU) triples fed by the touched locations are recomputed, and ``availability.changed`` is emitted
per channel only for numbers that actually changed. Channel and location events re-derive the topology
and recompute the affected channels in full. Effects and the consumer offset commit in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.channels.service import CHANNEL_EVENTS, ChannelService
from keel.inventory import store
from keel.inventory.model import CHANGES_AVAILABLE, KIND_CODES, AtpRules, atp_quantity, explain_atp
from keel.inventory.service.locations import LocationService
from keel.inventory.service.stock import STOCK_MOVED
from keel.platform.clock import utcnow
from keel.platform.db import Database, from_micros, to_micros
from keel.platform.errors import NotFound
from keel.platform.events import Event, NewEvent, SqlEventLog, events_table

CONSUMER = "availability"
AVAILABILITY_CHANGED = "availability.changed"
TOPOLOGY_EVENTS = CHANNEL_EVENTS | {
    "location.created",
    "location.updated",
    "location_group.created",
    "location_group.updated",
}
LISTED_CACHE_SKUS = 200_000
CONSUMED = {STOCK_MOVED} | TOPOLOGY_EVENTS
_AVAILABLE_KIND_CODES = sorted(KIND_CODES[k] for k in CHANGES_AVAILABLE)


@dataclass(frozen=True)
class Target:
    """One (channel, country) listing and the locations that feed it."""

    channel_id: int
    channel: str
    country: str
    rules: AtpRules
    location_ids: frozenset[int]


@dataclass
class Topology:
    targets: list[Target]
    by_location: dict[int, list[int]]  # location_id -> indexes of targets it feeds
    by_channel: dict[int, list[int]]


@dataclass
class StepResult:
    events: int = 0
    recomputed: int = 0
    changed: int = 0
    channels: set[str] = field(default_factory=set)


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class AvailabilityService:
    def __init__(self, db: Database, events: SqlEventLog, channels: ChannelService, locations: LocationService) -> None:
        self.db = db
        self.events = events
        self.channels = channels
        self.locations = locations
        self._topology: Topology | None = None
        # What channels were last told, per SKU: this projector is the table's only writer (the offset
        # compare-and-set proves it), so the cache stays exact and spares re-reading hot SKUs.
        self._listed: dict[str, dict[tuple[int, str], tuple[int, bool]]] = {}

    # -- projector ----------------------------------------------------------------------------------------
    def step(self, limit: int = 200) -> StepResult:
        """Consume up to ``limit`` new events; returns what was recomputed and emitted.

        The recompute runs in a read transaction so producers keep the write lock; the short write
        transaction then stores the changes, the events and the offset together, and only if no other
        projector instance moved the offset meanwhile (compare-and-set), so the step is retried instead.
        """
        result = StepResult()
        with self.db.read() as conn:
            after = self.events.offset(conn, CONSUMER)
            batch = self.events.read(conn, after, CONSUMED, limit)
            if not batch:
                return result
            if self._topology is None or any(e.type in TOPOLOGY_EVENTS for e in batch):
                self._topology = self.topology(conn)
            topo = self._topology
            dirty: dict[str, set[int]] = {}
            full = {e.subject for e in batch if e.type in CHANNEL_EVENTS}
            if any(e.type in TOPOLOGY_EVENTS - CHANNEL_EVENTS for e in batch):
                full = {t.channel for t in topo.targets}
            for e in batch:
                if e.type == STOCK_MOVED and e.data.get("changes_available", True):
                    pairs = store.movement_pairs(conn, e.data["first_seq"], e.data["last_seq"], _AVAILABLE_KIND_CODES)
                    for sku, location_id in pairs:
                        for index in topo.by_location.get(location_id, ()):
                            dirty.setdefault(sku, set()).add(index)
            changes = self._mark_full(conn, topo, full, dirty)
            changes.extend(self._recompute(conn, topo, dirty))
        try:
            with self.db.write() as conn:
                if not self.events.advance_offset(conn, CONSUMER, after, batch[-1].seq):
                    self._listed.clear()
                    return result  # another projector consumed these events first
                self._write(conn, changes, [e.seq for e in batch])
        except Exception:
            self._listed.clear()
            raise
        for channel_id, _, country, sku, _, quantity, backorder in changes:
            if sku in self._listed:
                self._listed[sku][(channel_id, country)] = (quantity, backorder)
        result.events = len(batch)
        result.recomputed = sum(len(v) for v in dirty.values())
        result.changed = len(changes)
        result.channels = {c[1] for c in changes}
        return result

    def backlog(self, conn: Connection) -> int:
        """How many events the projector has yet to consume (its lag in events)."""
        e = events_table
        query = sa.select(sa.func.count()).where(
            e.c.seq > self.events.offset(conn, CONSUMER), e.c.type.in_(sorted(CONSUMED))
        )
        return int(conn.execute(query).scalar_one())

    def catch_up(self) -> StepResult:
        """Run steps until the log is drained (used after seeding and by tests)."""
        total = StepResult()
        while True:
            r = self.step()
            if not r.events:
                return total
            total.events += r.events
            total.recomputed += r.recomputed
            total.changed += r.changed
            total.channels |= r.channels

    def topology(self, conn: Connection) -> Topology:
        active = set(self.locations.active_ids(conn).values())
        code_to_id = {code: i for i, code in self.locations.codes_by_id(conn).items()}
        groups = self.locations.group_members(conn)
        targets: list[Target] = []
        for ch in self.channels.policies(conn):
            p = ch.policy
            rules = AtpRules(p.safety_buffer, p.allocation_pct, p.max_listed, p.zero_below, p.backorder)
            for country in ch.countries:
                src = p.sources.get(country)
                if src is None:
                    continue
                codes = set(src.locations).union(*(groups.get(g, []) for g in src.groups))
                ids = frozenset(code_to_id[c] for c in codes if c in code_to_id and code_to_id[c] in active)
                targets.append(Target(ch.id, ch.code, country, rules, ids))
        by_location: dict[int, list[int]] = {}
        by_channel: dict[int, list[int]] = {}
        for index, t in enumerate(targets):
            by_channel.setdefault(t.channel_id, []).append(index)
            for location_id in t.location_ids:
                by_location.setdefault(location_id, []).append(index)
        return Topology(targets, by_location, by_channel)

    def _mark_full(
        self, conn: Connection, topo: Topology, channels: set[str], dirty: dict[str, set[int]]
    ) -> list[tuple[int, str, str, str, int, int, bool]]:
        """Mark every SKU stocked at a changed channel's sources; zero out listings it no longer has."""
        if not channels:
            return []
        ca = store.channel_availability
        indexes = [i for i, t in enumerate(topo.targets) if t.channel in channels]
        for index in indexes:
            ids = sorted(topo.targets[index].location_ids)
            if ids:
                query = sa.select(store.positions.c.sku).where(store.positions.c.location_id.in_(ids)).distinct()
                for sku in conn.execute(query).scalars():
                    dirty.setdefault(sku, set()).add(index)
        live = {(topo.targets[i].channel_id, topo.targets[i].country) for i in indexes}
        codes = self.channels.codes_by_id(conn)
        ids_by_code = {v: k for k, v in codes.items()}
        stale = []
        for channel_id in (ids_by_code[c] for c in channels if c in ids_by_code):
            for country, sku, qty, backorder in conn.execute(
                sa.select(ca.c.country, ca.c.sku, ca.c.quantity, ca.c.backorder).where(ca.c.channel_id == channel_id)
            ):
                if (channel_id, country) not in live and (qty or backorder):
                    stale.append((channel_id, codes[channel_id], country, sku, qty, 0, False))
        return stale

    def _recompute(
        self, conn: Connection, topo: Topology, dirty: dict[str, set[int]]
    ) -> list[tuple[int, str, str, str, int, int, bool]]:
        """(channel_id, channel, country, sku, previous, quantity, backorder) for every number that changed."""
        changes = []
        ph = "?" if conn.dialect.name == "sqlite" else "%s"
        cur = store.cursor(conn)
        if len(self._listed) > LISTED_CACHE_SKUS:
            self._listed.clear()
        for skus in _chunks(sorted(dirty)):
            marks = ", ".join([ph] * len(skus))
            stock: dict[str, dict[int, int]] = {}
            cur.execute(f"SELECT sku, location_id, available FROM positions WHERE sku IN ({marks})", tuple(skus))
            for sku, location_id, available in cur.fetchall():
                stock.setdefault(sku, {})[location_id] = available
            missing = [sku for sku in skus if sku not in self._listed]
            if missing:
                for sku in missing:
                    self._listed[sku] = {}
                cur.execute(
                    "SELECT channel_id, country, sku, quantity, backorder FROM channel_availability "
                    f"WHERE sku IN ({', '.join([ph] * len(missing))})",
                    tuple(missing),
                )
                for ch, country, sku, qty, bo in cur.fetchall():
                    self._listed[sku][(ch, country)] = (qty, bool(bo))
            for sku in skus:
                at = stock.get(sku, {})
                listed = self._listed[sku]
                for index in dirty[sku]:
                    t = topo.targets[index]
                    pooled = sum(a for loc, a in at.items() if a > 0 and loc in t.location_ids)
                    quantity = atp_quantity(pooled, t.rules)
                    # Never listed counts as 0 without backorder, so a first 0 is not announced as a change.
                    previous = listed.get((t.channel_id, t.country), (0, False))
                    if previous != (quantity, t.rules.backorder):
                        before = previous[0]
                        changes.append((t.channel_id, t.channel, t.country, sku, before, quantity, t.rules.backorder))
        return changes

    def _write(
        self, conn: Connection, changes: list[tuple[int, str, str, str, int, int, bool]], causes: list[int]
    ) -> None:
        if not changes:
            return
        now_us = to_micros(utcnow())
        ph = "?" if conn.dialect.name == "sqlite" else "%s"
        conn.exec_driver_sql(
            "INSERT INTO channel_availability (channel_id, country, sku, quantity, backorder, updated_at) "
            f"VALUES ({ph}, {ph}, {ph}, {ph}, {ph}, {ph}) ON CONFLICT (channel_id, country, sku) DO UPDATE SET "
            "quantity = excluded.quantity, backorder = excluded.backorder, updated_at = excluded.updated_at",
            [(c[0], c[2], c[3], c[5], c[6], now_us) for c in changes],
        )
        per_channel: dict[str, list[dict[str, Any]]] = {}
        for _, channel, country, sku, before, quantity, backorder in changes:
            per_channel.setdefault(channel, []).append(
                {
                    "sku": sku,
                    "country": country,
                    "previous": before,
                    "quantity": quantity,
                    "backorder": backorder,
                }
            )
        self.events.append(
            conn,
            [
                NewEvent(
                    AVAILABILITY_CHANGED,
                    channel,
                    {"changes": items, "caused_by": causes},
                    source="availability",
                )
                for channel, items in sorted(per_channel.items())
            ],
        )

    # -- reads --------------------------------------------------------------------------------------------
    def projected(
        self, skus: list[str], channel: str | None = None, country: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """The listed quantities channels were last told, per SKU.

        This is the hottest read in Keel, so it is one hand-written indexed query per 500 SKUs: building the
        equivalent SQLAlchemy statement cost more than running it.
        """
        out: dict[str, list[dict[str, Any]]] = {s: [] for s in skus}
        with self.db.read() as conn:
            ph = "?" if conn.dialect.name == "sqlite" else "%s"
            extra, params = "", []
            if channel is not None:
                if channel not in self.channels.codes_by_id(conn).values():
                    raise NotFound(f"channel {channel!r} does not exist")
                extra += f" AND c.code = {ph}"
                params.append(channel)
            if country:
                extra += f" AND a.country = {ph}"
                params.append(country.upper())
            for chunk in _chunks(skus):
                sql = (
                    "SELECT a.sku, c.code, a.country, a.quantity, a.backorder, a.updated_at "
                    "FROM channel_availability a JOIN channels c ON c.id = a.channel_id "
                    f"WHERE a.sku IN ({', '.join([ph] * len(chunk))}){extra} ORDER BY a.sku, c.code, a.country"
                )
                for sku, code, ctry, qty, backorder, updated in conn.exec_driver_sql(sql, (*chunk, *params)):
                    out[sku].append(
                        {
                            "channel": code,
                            "country": ctry,
                            "quantity": qty,
                            "backorder": bool(backorder),
                            "updated_at": from_micros(updated),
                        }
                    )
        return out

    def explain(self, sku: str, channel: str | None = None, country: str | None = None) -> list[dict[str, Any]]:
        """Live ATP per (channel, country) with contributions by location and what each rule removed."""
        with self.db.read() as conn:
            topo = self.topology(conn)
            codes = self.locations.codes_by_id(conn)
            p = store.positions
            stock = dict(conn.execute(sa.select(p.c.location_id, p.c.available).where(p.c.sku == sku)).tuples().all())
            projected = {(r["channel"], r["country"]): r["quantity"] for r in self.projected([sku])[sku]}
        if channel and all(t.channel != channel for t in topo.targets):
            raise NotFound(f"channel {channel!r} does not exist, is inactive or lists nothing")
        out = []
        for t in topo.targets:
            if (channel and t.channel != channel) or (country and t.country != country.upper()):
                continue
            atp = explain_atp(sorted((codes[i], stock[i]) for i in t.location_ids if i in stock), t.rules)
            out.append(
                {
                    "channel": t.channel,
                    "country": t.country,
                    "quantity": atp.quantity,
                    "backorder": atp.backorder,
                    "projected": projected.get((t.channel, t.country)),
                    "contributions": [
                        {"location": loc, "available": a, "counted": c} for loc, a, c in atp.contributions
                    ],
                    "steps": [{"rule": s.rule, "removed": s.removed, "result": s.result} for s in atp.steps],
                }
            )
        return out

    def source_locations(self, channel: str) -> list[str]:
        """Location codes that feed a channel in any country (for position filters)."""
        with self.db.read() as conn:
            topo = self.topology(conn)
            codes = self.locations.codes_by_id(conn)
        ids = {i for t in topo.targets if t.channel == channel for i in t.location_ids}
        if not any(t.channel == channel for t in topo.targets):
            raise NotFound(f"channel {channel!r} does not exist, is inactive or lists nothing")
        return sorted(codes[i] for i in ids)

    @staticmethod
    def _channel_id(codes: dict[int, str], channel: str | None) -> int | None:
        if channel is None:
            return None
        for channel_id, code in codes.items():
            if code == channel:
                return channel_id
        raise NotFound(f"channel {channel!r} does not exist")


def caused_latencies(events: list[Event]) -> dict[int, float]:
    """Seconds from each stock event to the last ``availability.changed`` it caused (for benchmarks)."""
    stock_at = {e.seq: e.recorded_at for e in events if e.type == STOCK_MOVED}
    done: dict[int, float] = {}
    for e in events:
        if e.type == AVAILABILITY_CHANGED:
            for seq in e.data["caused_by"]:
                if seq in stock_at:
                    lag = (e.recorded_at - stock_at[seq]).total_seconds()
                    done[seq] = max(done.get(seq, 0.0), lag)
    return done
