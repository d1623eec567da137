"""Channel availability (ATP): reads that explain the numbers, and the projector that keeps them current."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.channels.service import ChannelService
from keel.inventory import store
from keel.inventory.model import explain_atp
from keel.inventory.service.locations import LocationService
from keel.inventory.service.projector import AVAILABILITY_CHANGED, CONSUMED, CONSUMER, Projector, StepResult
from keel.inventory.service.stock import STOCK_MOVED
from keel.inventory.service.topology import Topology, build_topology
from keel.platform.db import Database, from_micros
from keel.platform.errors import NotFound
from keel.platform.events import Event, EventLog

__all__ = ["AVAILABILITY_CHANGED", "CONSUMER", "AvailabilityService", "StepResult", "caused_latencies"]


class AvailabilityService:
    def __init__(self, db: Database, events: EventLog, channels: ChannelService, locations: LocationService) -> None:
        self.db = db
        self.events = events
        self.channels = channels
        self.locations = locations
        self.projector = Projector(db, events, self.topology)

    # -- projector ----------------------------------------------------------------------------------------
    def step(self, limit: int = 200) -> StepResult:
        """Consume up to ``limit`` new events (see ``keel.inventory.service.projector``)."""
        return self.projector.step(limit)

    def warm(self) -> None:
        """Load the projector's view up front, so the first steps after a start are not slow."""
        self.projector.warm()

    def catch_up(self) -> StepResult:
        """Run steps until the log is drained (used after seeding, imports and by tests)."""
        total = StepResult()
        while True:
            r = self.step()
            if not r.events:
                return total
            total.events += r.events
            total.recomputed += r.recomputed
            total.changed += r.changed
            total.channels |= r.channels

    def backlog(self, conn: Connection) -> int:
        """How many events the projector has yet to consume (its lag in events)."""
        return self.events.pending(conn, CONSUMER, set(CONSUMED))

    def topology(self, conn: Connection) -> Topology:
        return build_topology(conn, self.channels, self.locations)

    # -- reads --------------------------------------------------------------------------------------------
    def projected(
        self, skus: list[str], channel: str | None = None, country: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """The listed quantities channels were last told, per SKU.

        This is the hottest read in Keel, so it is one hand-written indexed query per 500 SKUs: building the
        equivalent SQLAlchemy statement cost more than running it.
        """
        out: dict[str, list[dict[str, Any]]] = {s: [] for s in skus}
        if channel is not None:
            with self.db.read() as conn:
                if channel not in self.channels.codes_by_id(conn).values():
                    raise NotFound(f"channel {channel!r} does not exist")
        ph = "?" if self.db.is_sqlite else "%s"
        extra, params = "", []
        if channel is not None:
            extra += f" AND c.code = {ph}"
            params.append(channel)
        if country:
            extra += f" AND a.country = {ph}"
            params.append(country.upper())
        with self.db.raw_cursor() as cur:
            for chunk in store.chunks(skus):
                cur.execute(
                    "SELECT a.sku, c.code, a.country, a.quantity, a.backorder, a.updated_at "
                    "FROM channel_availability a JOIN channels c ON c.id = a.channel_id "
                    f"WHERE a.sku IN ({', '.join([ph] * len(chunk))}){extra} ORDER BY a.sku, c.code, a.country",
                    (*chunk, *params),
                )
                for sku, code, ctry, qty, backorder, updated in cur.fetchall():
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
        # outside the block: one pooled connection per caller at a time, however many callers there are
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

    def sources_for(self, channel: str, country: str) -> list[str]:
        """Location codes that feed one (channel, country) listing: where its orders may be sourced."""
        with self.db.read() as conn:
            topo = self.topology(conn)
            codes = self.locations.codes_by_id(conn)
        ids = {i for t in topo.targets if t.channel == channel and t.country == country for i in t.location_ids}
        return sorted(codes[i] for i in ids)

    def source_locations(self, channel: str) -> list[str]:
        """Location codes that feed a channel in any country (for position filters)."""
        with self.db.read() as conn:
            topo = self.topology(conn)
            codes = self.locations.codes_by_id(conn)
        ids = {i for t in topo.targets if t.channel == channel for i in t.location_ids}
        if not any(t.channel == channel for t in topo.targets):
            raise NotFound(f"channel {channel!r} does not exist, is inactive or lists nothing")
        return sorted(codes[i] for i in ids)


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
