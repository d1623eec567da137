"""Channel availability (ATP): reads that explain the numbers, and the projector that keeps them current."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from keel.channels import ChannelService
from keel.inventory import store
from keel.inventory.model import AtpExplanation, ListedQuantity, explain_atp
from keel.inventory.service.locations import LocationService
from keel.inventory.service.projector import AVAILABILITY_CHANGED, CONSUMED, CONSUMER, Projector, StepResult
from keel.inventory.service.stock import STOCK_MOVED
from keel.inventory.service.topology import Topology, build_topology
from keel.platform.db import Database, from_micros
from keel.platform.errors import NotFound
from keel.platform.events import Event, EventLog
from keel.platform.scope import Scope
from keel.platform.sources import EventSource

__all__ = ["AVAILABILITY_CHANGED", "CONSUMER", "AvailabilityService", "StepResult", "caused_latencies"]


class AvailabilityService:
    def __init__(
        self,
        db: Database,
        events: EventLog,
        channels: ChannelService,
        locations: LocationService,
        source: EventSource | None = None,
    ) -> None:
        self.db = db
        self.events = events
        self.channels = channels
        self.locations = locations
        self.projector = Projector(db, events, self.topology, source)
        # Channel codes never change and ids are never reused, so this only grows (reloaded on a miss).
        self._channel_codes: dict[int, str] = {}

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

    def oldest_pending_at(self, conn: Connection) -> datetime | None:
        """When the oldest event the projector has not consumed yet happened (None: it is caught up)."""
        pending = self.events.read(conn, self.events.offset(conn, CONSUMER), set(CONSUMED), limit=1)
        return pending[0].occurred_at if pending else None

    def listings_fed_by(self, conn: Connection) -> dict[str, list[tuple[str, str]]]:
        """Location code -> the (channel, country) listings its stock counts towards, as of ``conn``'s
        transaction (active channels and locations only)."""
        topo = self.topology(conn)
        codes = self.locations.codes_by_id(conn)
        return {
            codes[location_id]: [(topo.targets[i].channel, topo.targets[i].country) for i in indexes]
            for location_id, indexes in topo.by_location.items()
        }

    def topology(self, conn: Connection) -> Topology:
        """Which locations feed which (channel, country) listing, as of ``conn``'s transaction."""
        return build_topology(conn, self.channels, self.locations)

    # -- reads --------------------------------------------------------------------------------------------
    def _reload_channel_codes(self) -> dict[int, str]:
        with self.db.read() as conn:
            self._channel_codes = self.channels.codes_by_id(conn)
        return self._channel_codes

    def _channel_id(self, code: str) -> int:
        """The id of the channel ``code``; ``NotFound`` when there is none."""
        ids = {known: i for i, known in self._channel_codes.items()}
        if code not in ids:
            ids = {known: i for i, known in self._reload_channel_codes().items()}
        if code not in ids:
            raise NotFound(f"channel {code!r} does not exist")
        return ids[code]

    def projected(
        self, skus: list[str], channel: str | None = None, country: str | None = None, scope: Scope = Scope.ALL
    ) -> dict[str, list[ListedQuantity]]:
        """The listed quantities channels were last told, per SKU (by channel code, then country); only
        ``scope``'s channels and countries (a channel outside it is ``NotFound``, as if it did not exist).

        This is the hottest read in Keel: one bare-cursor query per 500 SKUs (``store.listed_for_skus``),
        channel ids mapped to codes from a cache instead of a join.
        """
        if channel is not None and not scope.sees_channel(channel):
            raise NotFound(f"channel {channel!r} does not exist")
        channel_id = None if channel is None else self._channel_id(channel)
        channel_ids = None
        if scope.channels is not None:
            ids = {known: i for i, known in self._reload_channel_codes().items()}
            channel_ids = sorted(ids[c] for c in scope.channels if c in ids)
        countries = None if scope.countries is None else sorted(scope.countries)
        with self.db.raw_cursor() as cur:
            rows = store.listed_for_skus(
                cur, skus, channel_id, country.upper() if country else None, channel_ids, countries
            )
        codes = self._channel_codes
        if any(row[0] not in codes for row in rows):
            codes = self._reload_channel_codes()
        # SKU, then channel code, then country: the order the join used to give.
        rows.sort(key=lambda row: (row[2], codes[row[0]], row[1]))
        out: dict[str, list[ListedQuantity]] = {s: [] for s in skus}
        for ch, ctry, sku, qty, backorder, updated in rows:
            out[sku].append(ListedQuantity(codes[ch], ctry, qty, bool(backorder), from_micros(updated)))
        return out

    def listed_of(self, conn: Connection, channel: str) -> list[tuple[str, str, int]]:
        """(country, sku, quantity) of every listing the channel was last told, as of ``conn``'s
        transaction: the channel sync engine's starting state for a channel."""
        return store.listed_of_channel(conn, self._channel_id(channel))

    def explain(
        self, sku: str, channel: str | None = None, country: str | None = None, scope: Scope = Scope.ALL
    ) -> list[AtpExplanation]:
        """Live ATP per (channel, country) with contributions by location and what each rule removed; only
        ``scope``'s channels and countries."""
        if channel is not None and not scope.sees_channel(channel):
            raise NotFound(f"channel {channel!r} does not exist, is inactive or lists nothing")
        with self.db.read() as conn:
            topo = self.topology(conn)
            codes = self.locations.codes_by_id(conn)
            stock = store.available_of_sku(conn, sku)
        # outside the block: one pooled connection per caller at a time, however many callers there are
        projected = {(r.channel, r.country): r.quantity for r in self.projected([sku])[sku]}
        if channel and all(t.channel != channel for t in topo.targets):
            raise NotFound(f"channel {channel!r} does not exist, is inactive or lists nothing")
        out = []
        for t in topo.targets:
            if (channel and t.channel != channel) or (country and t.country != country.upper()):
                continue
            if not (scope.sees_channel(t.channel) and scope.sees_country(t.country)):
                continue
            atp = explain_atp(sorted((codes[i], stock[i]) for i in t.location_ids if i in stock), t.rules)
            out.append(
                AtpExplanation(
                    t.channel,
                    t.country,
                    atp.quantity,
                    atp.backorder,
                    projected.get((t.channel, t.country)),
                    atp.contributions,
                    atp.steps,
                )
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
