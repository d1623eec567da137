"""Read side of inventory: positions, the ledger and inventory accuracy, with filters and pagination."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Connection

from keel.channels import Channel
from keel.inventory import store
from keel.inventory.model import (
    AccuracyFigures,
    AccuracyReport,
    DemandSeries,
    Kind,
    LedgerEntry,
    Location,
    LocationAccuracy,
    MovedPosition,
    Position,
    SkuDemand,
    SourcingStock,
    accuracy,
    count_variance,
    demand_series,
)
from keel.platform.clock import utcnow
from keel.platform.config import Settings
from keel.platform.db import Database, pipelined
from keel.platform.scope import Scope


class InventoryQueries:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def positions(
        self,
        *,
        sku: str | None = None,
        location: str | None = None,
        country: str | None = None,
        locations: list[str] | None = None,
        min_available: int | None = None,
        limit: int = 100,
        offset: int = 0,
        scope: Scope = Scope.ALL,
    ) -> tuple[list[Position], int]:
        """A page of positions with their location, and the total matching the filters (at locations in
        ``scope``'s countries)."""
        with self.db.read() as conn:
            return store.positions_page(
                conn,
                sku=sku,
                location=location,
                country=country.upper() if country else None,
                locations_in=locations,
                min_available=min_available,
                limit=limit,
                offset=offset,
                countries=scope.countries,
            )

    def positions_moved(self, first_seq: int, last_seq: int) -> list[MovedPosition]:
        """The positions the ledger movements ``first_seq``..``last_seq`` moved (a ``stock.moved`` event's
        range), as they are now: what a projection keyed by position re-reads to follow the ledger."""
        with self.db.read() as conn:
            return store.positions_moved(conn, first_seq, last_seq)

    def available_by_location(self, skus: list[str]) -> dict[str, dict[str, int]]:
        """sku -> location code -> available, for active locations (the stock a router may allocate)."""
        with self.db.read() as conn:
            return store.available_by_location(conn, skus)

    def skus_moved(self, first_seq: int, last_seq: int | None = None) -> set[str]:
        """The SKUs the ledger movements ``first_seq``..``last_seq`` (None: the newest) moved: a ``stock.moved``
        event's range, or everything since the first of several such events."""
        with self.db.read() as conn:
            return store.skus_moved(conn, first_seq, last_seq)

    def demand(self, skus: Collection[str] | None = None, days: int = 28) -> dict[str, SkuDemand]:
        """Per SKU (of ``skus``; None: every SKU, which scans the ledger's window): units available at active
        locations now, and units sold or committed, less commitments given back, over the last ``days`` at
        any location: a run rate for days of cover. A SKU with neither a position at an active location nor
        demand in the window is absent. Movements folded away by retention no longer count."""
        wanted = None if skus is None else sorted(skus)
        with self.db.read() as conn:
            sellable = store.sellable(conn, wanted)
            sold = store.demand_since(conn, wanted, utcnow() - timedelta(days=days))
        return {
            sku: SkuDemand(sku, sellable.get(sku, 0), max(sold.get(sku, 0), 0), days)
            for sku in sorted(set(sellable) | set(sold))
        }

    def demand_history(
        self, locations: Sequence[str], first_day: date, last_day: date, skus: Sequence[str] | None = None
    ) -> list[DemandSeries]:
        """Daily demand per SKU x location at ``locations`` (codes; unknown ones are ignored) from ``first_day``
        to ``last_day`` (UTC days), for every position there (of ``skus`` when given), with each day's stockout
        flag (``keel.inventory.model.demand``). Movements folded away by retention no longer count."""
        with self.db.read() as conn:
            by_code = store.ids_by_code(conn)
            known = [by_code[c] for c in locations if c in by_code]
            flows = store.daily_flows(conn, first_day, known, skus)
            now = {(p.sku, p.location): p.available for p in store.positions_at(conn, known, skus)}
        return demand_series(flows, now, first_day, last_day)

    def moved_since(self, after_seq: int, locations: Sequence[str]) -> tuple[set[str], int]:
        """The SKUs whose stock or history moved at ``locations`` (codes) after ledger sequence ``after_seq``, and
        the ledger's last sequence now: what an incremental re-plan looks at, and where the next one starts."""
        with self.db.read() as conn:
            by_code = store.ids_by_code(conn)
            return store.moved_since(conn, after_seq, [by_code[c] for c in locations if c in by_code])

    def positions_at(self, locations: Sequence[str], skus: Sequence[str] | None = None) -> list[Position]:
        """Every position at ``locations`` (codes; unknown ones are ignored), of ``skus`` when given."""
        with self.db.read() as conn:
            by_code = store.ids_by_code(conn)
            return store.positions_at(conn, [by_code[c] for c in locations if c in by_code], skus)

    def sourcing_stock(
        self,
        conn: Connection,
        skus: Sequence[str],
        channel: Channel | None,
        country: str | None,
        pickup: str | None = None,
        *,
        hold: bool = False,
    ) -> SourcingStock:
        """What an order of ``skus`` may draw on when ``channel`` sells in ``country`` (None: the country of the
        pick-up location ``pickup``): which SKUs some location holds, their stock at the locations feeding the
        channel there and at ``pickup``, those locations, and the channel's ATP rules. Read in the caller's
        transaction in two statements (three with a pick-up location), instead of rebuilding the topology.

        With ``hold`` the ledger is locked first, until the caller's transaction ends: no other stock write
        lands in between, so a plan made on these numbers commits as it is (``StockService.apply_in`` in the
        same write transaction still checks every position).
        """
        locations: dict[str, Location] = {}
        if pickup is not None:
            found = store.get_location(conn, pickup)
            if found is not None:
                locations[pickup] = found
                country = country or found.country
        sources = None
        if channel is not None and channel.active and country is not None:
            sources = channel.policy.sources.get(country)
        with pipelined(conn):  # the lock and both reads travel together: one round trip on PostgreSQL
            if hold:
                store.lock_ledger(conn)
            held = store.available_of_skus(conn, skus)
            fed = None if sources is None else store.feeding(conn, skus, sources.locations, sources.groups)
        rows = held()
        feeding = {} if fed is None else {loc.id: loc for loc in fed()}
        wanted = {location_id: loc.code for location_id, loc in feeding.items()}
        if pickup in locations:
            wanted[locations[pickup].id] = pickup
        available: dict[str, dict[str, int]] = {}
        for sku, location_id, quantity in rows:
            if location_id in wanted:
                available.setdefault(sku, {})[wanted[location_id]] = quantity
        locations.update((loc.code, loc) for loc in feeding.values())
        rules = None if sources is None or channel is None else channel.policy.rules
        known = frozenset(sku for sku, _, _ in rows)
        sources_held = frozenset(loc.code for loc in feeding.values())
        return SourcingStock(country, rules, locations, available, sources_held, known)

    def ledger(
        self,
        *,
        sku: str | None = None,
        location: str | None = None,
        kind: Kind | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
        limit: int = 100,
        scope: Scope = Scope.ALL,
    ) -> list[LedgerEntry]:
        """Movements in ledger order; page with ``after_seq`` = the last ``seq`` of the previous page (at
        locations in ``scope``'s countries)."""
        with self.db.read() as conn:
            return store.ledger_page(
                conn,
                sku=sku,
                location=location,
                kind=kind,
                since=since,
                until=until,
                after_seq=after_seq,
                limit=limit,
                countries=scope.countries,
            )

    def accuracy(
        self, tolerance_pct: float | None = None, location: str | None = None, scope: Scope = Scope.ALL
    ) -> AccuracyReport:
        """Share of counted positions (latest count each) whose variance is within tolerance (at locations in
        ``scope``'s countries)."""
        tol = self.settings.count_tolerance_pct if tolerance_pct is None else tolerance_pct
        per: dict[str, list[int]] = {}
        with self.db.read() as conn:
            counts = store.latest_counts(conn, location, scope.countries)
        for code, book, counted in counts:
            stats = per.setdefault(code, [0, 0])
            stats[0] += count_variance(book, counted, tol).within_tolerance
            stats[1] += 1
        within = sum(s[0] for s in per.values())
        total = sum(s[1] for s in per.values())
        return AccuracyReport(
            tol,
            AccuracyFigures(total, within, accuracy(within, total)),
            tuple(LocationAccuracy(code, s[1], s[0], accuracy(s[0], s[1])) for code, s in sorted(per.items())),
        )
