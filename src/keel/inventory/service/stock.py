"""Stock movements: the batch ledger write, reservations, cycle counts and the rebuild."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.inventory import store
from keel.inventory.model import (
    CHANGES_AVAILABLE,
    EFFECTS,
    FIELDS,
    ID_RE,
    KIND_CODES,
    KINDS_BY_CODE,
    ON_HAND,
    SKU_RE,
    Kind,
    Movement,
    apply,
    count_variance,
    empty_position,
    plan_batch,
    validate_batch,
)
from keel.inventory.service.locations import LocationService
from keel.platform.clock import utcnow
from keel.platform.config import Settings
from keel.platform.db import Database, to_micros
from keel.platform.errors import (
    Conflict,
    FieldError,
    InsufficientStock,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    single_field,
)
from keel.platform.events import NewEvent, SqlEventLog

STOCK_MOVED = "stock.moved"
POSITIONS_REBUILT = "positions.rebuilt"


@dataclass(frozen=True)
class BatchResult:
    accepted: int
    duplicates: int
    first_seq: int | None = None
    last_seq: int | None = None


@dataclass
class RebuildReport:
    movements: int = 0
    positions: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False


class StockService:
    def __init__(self, db: Database, events: SqlEventLog, locations: LocationService, settings: Settings) -> None:
        self.db = db
        self.events = events
        self.locations = locations
        self.settings = settings

    # -- the ledger write ---------------------------------------------------------------------------------
    def apply_batch(self, rows: Sequence[Mapping[str, Any]], source: str = "api") -> BatchResult:
        """Validate and apply a batch all-or-nothing; movement ids already in the ledger are acknowledged.

        Raises ``ValidationFailed`` with row-level errors (nothing written) or ``PayloadTooLarge``.
        """
        if len(rows) > self.settings.max_batch:
            raise PayloadTooLarge(f"{len(rows)} movements in one batch; the limit is {self.settings.max_batch}")
        with self.db.write() as conn:
            return self._apply(conn, rows, source)

    def apply_many(
        self,
        rows: Sequence[Mapping[str, Any]],
        source: str = "import",
        progress: Callable[[int], None] | None = None,
    ) -> BatchResult:
        """Apply any number of rows in ``max_batch`` chunks inside ONE transaction (file imports).

        A refusal anywhere (a bad field, an oversell in a late chunk) rolls back every chunk; error rows are
        numbered from the start of ``rows``.
        """
        size = self.settings.max_batch
        accepted = duplicates = 0
        first: int | None = None
        last: int | None = None
        with self.db.write() as conn:
            for start in range(0, len(rows), size):
                try:
                    result = self._apply(conn, rows[start : start + size], source)
                except ValidationFailed as exc:
                    shifted = [FieldError((e.row or 0) + start, e.field, e.reason) for e in exc.errors]
                    raise ValidationFailed(exc.detail, shifted) from exc
                accepted += result.accepted
                duplicates += result.duplicates
                first = first if first is not None else result.first_seq
                last = result.last_seq if result.last_seq is not None else last
                if progress:
                    progress(len(rows[start : start + size]))
        return BatchResult(accepted, duplicates, first, last)

    def _apply(self, conn: Connection, rows: Sequence[Mapping[str, Any]], source: str) -> BatchResult:
        movements, errors = validate_batch(rows, self.locations.active_ids(conn))
        if errors:
            raise ValidationFailed(f"{len({e.row for e in errors})} of {len(rows)} rows refused", errors)
        if not movements:
            return BatchResult(0, 0)
        now_us = to_micros(utcnow())
        # Ledger first: the unique id index answers "already recorded?" during the insert itself, and the
        # transaction rolls everything back if a later check refuses the batch.
        first, last, fresh = self._append(conn, movements, now_us)
        if not fresh:
            return BatchResult(0, len(movements))
        pairs = list({(m.sku, m.location_id) for _, m in fresh})
        positions = self._lock_positions(conn, pairs)
        errors = plan_batch(fresh, positions)
        if errors:
            raise ValidationFailed(f"{len(errors)} of {len(rows)} rows would drive stock negative", errors)
        store.save_positions(conn, {p: positions[p] for p in pairs}, now_us)
        self._announce(conn, [m for _, m in fresh], first, last, source)
        return BatchResult(len(fresh), len(movements) - len(fresh), first, last)

    def _append(
        self, conn: Connection, movements: list[Movement], now_us: int
    ) -> tuple[int, int, list[tuple[int, Movement]]]:
        """Insert movements into the ledger; returns the seq range and the (row, movement) pairs that were new.

        A repeated id with the same content is acknowledged; with other content the batch is refused.
        """
        first = store.next_movement_seqs(conn, len(movements))
        last = first + len(movements) - 1
        inserted = store.insert_movements(
            conn,
            [
                (
                    first + i,
                    m.id,
                    KIND_CODES[m.kind],
                    m.sku,
                    m.location_id,
                    m.quantity,
                    to_micros(m.occurred_at) if m.occurred_at else now_us,
                    now_us,
                    m.reason,
                    m.reference,
                )
                for i, m in enumerate(movements)
            ],
        )
        if inserted == len(movements):
            return first, last, list(enumerate(movements, start=1))
        new_ids = store.movement_ids_in(conn, first, last)
        known = store.existing_movements(conn, [m.id for m in movements if m.id not in new_ids])
        fresh: list[tuple[int, Movement]] = []
        errors: list[FieldError] = []
        for row, m in enumerate(movements, start=1):
            if m.id in new_ids:
                fresh.append((row, m))
            elif known.get(m.id) != (KIND_CODES[m.kind], m.sku, m.location_id, m.quantity):
                errors.append(FieldError(row, "id", f"movement {m.id!r} was already recorded with other content"))
        if errors:
            raise ValidationFailed(f"{len(errors)} rows reuse a movement id", errors)
        return first, last, fresh

    def _lock_positions(self, conn: Connection, pairs: list[tuple[str, int]]) -> dict[tuple[str, int], list[int]]:
        lock = not self.db.is_sqlite  # SQLite already holds the database write lock (BEGIN IMMEDIATE)
        positions = store.load_positions(conn, pairs, lock=lock)
        missing = [p for p in pairs if p not in positions]
        if missing and lock:
            store.ensure_positions(conn, missing, to_micros(utcnow()))
            positions.update(store.load_positions(conn, missing, lock=True))
        return positions

    def _record(self, conn: Connection, movements: list[Movement], source: str, now_us: int) -> None:
        """Append movements whose positions the caller already changed, and announce them."""
        first, last, fresh = self._append(conn, movements, now_us)
        if len(fresh) != len(movements):
            raise Conflict("movement already recorded")  # internal ids are unique per reservation/count
        self._announce(conn, movements, first, last, source)

    def _announce(self, conn: Connection, movements: list[Movement], first: int, last: int, source: str) -> None:
        """One ``stock.moved`` event per batch names the ledger range the consumers should read."""
        data = {
            "first_seq": first,
            "last_seq": last,
            "count": len(movements),
            "kinds": dict(Counter(m.kind.value for m in movements)),
            "changes_available": any(m.kind in CHANGES_AVAILABLE for m in movements),
        }
        self.events.append(conn, [NewEvent(STOCK_MOVED, f"movements/{first}-{last}", data, source=source)])

    # -- reservations -------------------------------------------------------------------------------------
    def reserve(
        self,
        sku: str,
        location: str,
        quantity: int,
        ttl_seconds: float,
        reservation_id: str | None = None,
        reference: str | None = None,
    ) -> dict[str, Any]:
        """Hold ``quantity`` units for ``ttl_seconds``; atomic, so it never takes more than is available."""
        if not SKU_RE.fullmatch(sku):
            raise single_field("sku", "1-64 letters, digits or ._/- starting alphanumeric")
        if quantity <= 0:
            raise single_field("quantity", f"must be > 0, got {quantity}")
        if not 0 < ttl_seconds <= 7 * 86400:
            raise single_field("ttl_seconds", "must be > 0 and at most 7 days")
        rid = reservation_id or uuid.uuid4().hex
        if not ID_RE.fullmatch(rid):
            raise single_field("id", "1-128 letters, digits or ._:/- starting alphanumeric")
        now = utcnow()
        with self.db.write() as conn:
            location_id = self._location_id(conn, location)
            self._one_at_a_time(conn, "reservation", rid)
            prior = self._reservation(conn, rid, missing_ok=True)
            if prior is not None:
                if (prior["sku"], prior["location"], prior["quantity"]) != (sku, location, quantity):
                    raise Conflict(f"reservation {rid!r} exists with other content")
                return prior
            now_us = to_micros(now)
            if not store.conditional_move(conn, sku, location_id, EFFECTS[Kind.RESERVED], quantity, now_us):
                have = store.load_positions(conn, [(sku, location_id)]).get((sku, location_id), empty_position())
                raise InsufficientStock(
                    f"cannot reserve {quantity} of {sku} at {location}: {max(0, have[1])} available",
                    available=max(0, have[1]),
                )
            conn.execute(
                store.reservations.insert().values(
                    id=rid,
                    sku=sku,
                    location_id=location_id,
                    quantity=quantity,
                    status="active",
                    reference=reference,
                    expires_at=now + timedelta(seconds=ttl_seconds),
                    created_at=now,
                )
            )
            self._record(
                conn,
                [Movement(f"rsv:{rid}", Kind.RESERVED, sku, location_id, quantity, now)],
                "reservations",
                now_us,
            )
            return self._reservation(conn, rid)  # type: ignore[return-value]

    def release(self, reservation_id: str) -> dict[str, Any]:
        """Give a held quantity back to available (a cart abandoned or an order cancelled)."""
        return self._close(reservation_id, Kind.RELEASED, "released")

    def commit_reservation(self, reservation_id: str) -> dict[str, Any]:
        """Turn a hold into committed stock (checkout completed)."""
        return self._close(reservation_id, Kind.RESERVATION_COMMITTED, "committed")

    def expire_due(self, now: datetime | None = None, limit: int = 1000) -> int:
        """Release every active reservation whose expiry has passed; returns how many were released."""
        now = now or utcnow()
        r = store.reservations
        with self.db.write() as conn:
            due = (
                conn.execute(
                    sa.select(r.c.id)
                    .where(r.c.status == "active", r.c.expires_at <= now)
                    .order_by(r.c.expires_at)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
            for rid in due:
                self._close_in(conn, rid, Kind.RELEASED, "expired")
            return len(due)

    def _close(self, rid: str, kind: Kind, status: str) -> dict[str, Any]:
        with self.db.write() as conn:
            return self._close_in(conn, rid, kind, status)

    def _close_in(self, conn: Connection, rid: str, kind: Kind, status: str) -> dict[str, Any]:
        res = self._reservation(conn, rid, lock=True)
        assert res is not None
        if res["status"] != "active":
            if res["status"] == status:
                return res  # repeated release/commit: idempotent
            raise Conflict(f"reservation {rid!r} is {res['status']}, not active")
        now = utcnow()
        now_us = to_micros(now)
        location_id = res["location_id"]
        if not store.conditional_move(conn, res["sku"], location_id, EFFECTS[kind], res["quantity"], now_us):
            raise Conflict(f"reservation {rid!r} no longer matches the position")  # ledger corruption guard
        r = store.reservations
        conn.execute(r.update().where(r.c.id == rid).values(status=status, closed_at=now))
        movement = Movement(f"rsv:{rid}:{status}", kind, res["sku"], location_id, res["quantity"], now)
        self._record(conn, [movement], "reservations", now_us)
        return self._reservation(conn, rid)  # type: ignore[return-value]

    def reservation(self, rid: str) -> dict[str, Any]:
        with self.db.read() as conn:
            return self._reservation(conn, rid)  # type: ignore[return-value]

    def _reservation(
        self, conn: Connection, rid: str, *, missing_ok: bool = False, lock: bool = False
    ) -> dict[str, Any] | None:
        r, loc = store.reservations, store.locations
        query = sa.select(r, loc.c.code.label("location")).join(loc, loc.c.id == r.c.location_id).where(r.c.id == rid)
        if lock and not self.db.is_sqlite:
            query = query.with_for_update(of=r)
        row = conn.execute(query).first()
        if row is None:
            if missing_ok:
                return None
            raise NotFound(f"reservation {rid!r} does not exist")
        return dict(row._mapping)

    def _one_at_a_time(self, conn: Connection, kind: str, client_id: str) -> None:
        """Serialise requests reusing one client id, so a concurrent retry sees the first one's row.

        Without it, two PostgreSQL transactions both find no prior row and the second insert fails with
        a unique violation (a 500) instead of being answered idempotently. SQLite writers are serial.
        """
        if not self.db.is_sqlite:
            sql = "SELECT pg_advisory_xact_lock(hashtext(:kind), hashtext(:id))"  # two-key space: no clash
            conn.execute(sa.text(sql), {"kind": kind, "id": client_id})

    def _location_id(self, conn: Connection, code: str) -> int:
        location_id = self.locations.active_ids(conn).get(code)
        if location_id is None:
            raise single_field("location", f"unknown or inactive location {code!r}")
        return location_id

    # -- cycle counts -------------------------------------------------------------------------------------
    def record_count(self, sku: str, location: str, counted: int, count_id: str | None = None) -> dict[str, Any]:
        """Record a counted quantity; the variance against the book becomes a count_gain/count_loss movement."""
        if not SKU_RE.fullmatch(sku):
            raise single_field("sku", "1-64 letters, digits or ._/- starting alphanumeric")
        if counted < 0:
            raise single_field("counted", f"must be >= 0, got {counted}")
        cid = count_id or uuid.uuid4().hex
        c = store.cycle_counts
        with self.db.write() as conn:
            location_id = self._location_id(conn, location)
            self._one_at_a_time(conn, "count", cid)
            prior = conn.execute(sa.select(c).where(c.c.id == cid)).first()
            if prior is not None:
                if (prior.sku, prior.location_id, prior.counted) != (sku, location_id, counted):
                    raise Conflict(f"count {cid!r} exists with other content")
                return self._count_public(dict(prior._mapping), location)
            key = (sku, location_id)
            position = self._lock_positions(conn, [key]).get(key, empty_position())
            result = count_variance(position[ON_HAND], counted, self.settings.count_tolerance_pct)
            now = utcnow()
            row = {
                "id": cid,
                "sku": sku,
                "location_id": location_id,
                "book": result.book,
                "counted": counted,
                "variance": result.variance,
                "counted_at": now,
            }
            conn.execute(c.insert().values(**row))
            if result.variance:
                kind = Kind.COUNT_GAIN if result.variance > 0 else Kind.COUNT_LOSS
                refusal = apply(position, kind, abs(result.variance))
                assert refusal is None, refusal  # count movements may drive available negative by design
                now_us = to_micros(now)
                store.save_positions(conn, {key: position}, now_us)
                movement = Movement(f"count:{cid}", kind, sku, location_id, abs(result.variance), now, "cycle count")
                self._record(conn, [movement], "counts", now_us)
            return self._count_public(row, location)

    def _count_public(self, row: Mapping[str, Any], location: str) -> dict[str, Any]:
        result = count_variance(row["book"], row["counted"], self.settings.count_tolerance_pct)
        return {
            "id": row["id"],
            "sku": row["sku"],
            "location": location,
            "book": row["book"],
            "counted": row["counted"],
            "variance": row["variance"],
            "within_tolerance": result.within_tolerance,
            "tolerance_pct": self.settings.count_tolerance_pct,
            "counted_at": row["counted_at"],
        }

    # -- rebuild ------------------------------------------------------------------------------------------
    def rebuild(self, *, write: bool = True, progress: Callable[[int], None] | None = None) -> RebuildReport:
        """Replay the whole ledger in sequence order and compare with (and optionally replace) the positions."""
        report = RebuildReport()
        rebuilt: dict[tuple[str, int], list[int]] = {}
        m = store.movements
        with self.db.write() as conn:
            # yield_per on the statement, not the connection: Connection.execution_options() changes the
            # connection in place, and a server-side cursor then breaks the DELETE below on PostgreSQL.
            query = (
                sa.select(m.c.kind, m.c.sku, m.c.location_id, m.c.quantity)
                .order_by(m.c.seq)
                .execution_options(yield_per=20_000)
            )
            for kind_code, sku, location_id, quantity in conn.execute(query):
                position = rebuilt.setdefault((sku, location_id), empty_position())
                refusal = apply(position, KINDS_BY_CODE[kind_code], quantity)
                if refusal is not None:
                    report.differences.append({"sku": sku, "location_id": location_id, "ledger_error": refusal})
                report.movements += 1
                if progress and report.movements % 20_000 == 0:
                    progress(20_000)
            cols = store.QTY_COLUMNS
            live = {
                (row[0], row[1]): list(row[2:])
                for row in conn.execute(
                    sa.select(
                        store.positions.c.sku,
                        store.positions.c.location_id,
                        *(store.positions.c[c] for c in cols),
                    )
                )
            }
            zero = empty_position()
            for key in sorted(set(live) | set(rebuilt)):
                have, want = live.get(key, zero), rebuilt.get(key, zero)
                if have != want:
                    report.differences.append(
                        {
                            "sku": key[0],
                            "location_id": key[1],
                            "live": dict(zip(FIELDS, have, strict=True)),
                            "ledger": dict(zip(FIELDS, want, strict=True)),
                        }
                    )
            report.positions = len(rebuilt)
            if write and report.differences:
                conn.execute(store.positions.delete())
                store.save_positions(conn, rebuilt, to_micros(utcnow()))
                report.applied = True
                data = {"positions": report.positions, "differences": len(report.differences)}
                self.events.append(conn, [NewEvent(POSITIONS_REBUILT, "positions", data, source="rebuild")])
        return report
