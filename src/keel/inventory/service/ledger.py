"""The ledger write: validate a batch, append it, update positions and announce it, all in one transaction."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from keel.inventory import store
from keel.inventory.model import (
    CHANGES_AVAILABLE,
    KIND_CODES,
    Movement,
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
    PayloadTooLarge,
    ValidationFailed,
    single_field,
)
from keel.platform.events import EventLog, NewEvent
from keel.platform.observability import MOVEMENTS
from keel.platform.scope import OutOfScope, Scope

logger = logging.getLogger("keel.inventory")
STOCK_MOVED = "stock.moved"
POSITIONS_REBUILT = "positions.rebuilt"
# The availability projector's consumer name: it reads the ledger rows its events name (retention asks).
AVAILABILITY_CONSUMER = "availability"
# Reservation and count ids become ledger ids such as ``rsv:<id>:committed``: keep those within 128.
CLIENT_ID_MAX = 100
# Reservation and count ids appear in URL paths, so no "/" either.
CLIENT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")


@dataclass(frozen=True)
class BatchResult:
    accepted: int
    duplicates: int
    first_seq: int | None = None
    last_seq: int | None = None


@dataclass
class RebuildReport:
    movements: int = 0  # replayed after the checkpoint
    checkpoint_seq: int = 0  # the ledger seq the checkpoint covers (0: none, the whole ledger is replayed)
    positions: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False


def _named_locations(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every location code the rows name, as sent and stripped (validation strips the value it looks up)."""
    # Each distinct value stripped once: a 10,000-row batch names a few hundred locations.
    values = [row.get("location") for row in rows if type(row) is dict or isinstance(row, Mapping)]
    sent = {v for v in values if type(v) is str}
    named = sent | {code.strip() for code in sent}
    named.update(str(v).strip() for v in values if v is not None and type(v) is not str)
    return sorted(named)


class Ledger:
    """The core every stock use case builds on (reservations and counts extend it)."""

    def __init__(self, db: Database, events: EventLog, locations: LocationService, settings: Settings) -> None:
        self.db = db
        self.events = events
        self.locations = locations
        self.settings = settings

    # -- the ledger write ---------------------------------------------------------------------------------
    def apply_batch(
        self, rows: Sequence[Mapping[str, Any]], source: str = "api", scope: Scope = Scope.ALL
    ) -> BatchResult:
        """Validate and apply a batch all-or-nothing; movement ids already in the ledger are acknowledged.

        Raises ``ValidationFailed`` with row-level errors (nothing written) or ``PayloadTooLarge``; a row at a
        location in a country outside ``scope`` refuses the whole batch with ``OutOfScope`` (403, row-level).
        """
        if len(rows) > self.settings.max_batch:
            raise PayloadTooLarge(f"{len(rows)} movements in one batch; the limit is {self.settings.max_batch}")
        with self._transaction() as conn:
            self._check_rows_in_scope(conn, rows, scope)
            return self._apply(conn, rows, source)

    def _check_rows_in_scope(self, conn: Connection, rows: Sequence[Mapping[str, Any]], scope: Scope) -> None:
        if scope.countries is None:
            return
        named = [row.get("location") if isinstance(row, Mapping) else None for row in rows]
        countries = store.countries_of(conn, sorted({c for c in named if isinstance(c, str)}))
        errors = [
            FieldError(number, "location", f"location {code!r} is in {countries[code]}, outside your restrictions")
            for number, code in enumerate(named, start=1)
            if isinstance(code, str) and code in countries and not scope.sees_country(countries[code])
        ]
        if errors:
            raise OutOfScope(
                f"{len(errors)} of {len(rows)} rows name locations outside your restrictions; nothing was applied",
                country=sorted({countries[str(named[e.row - 1])] for e in errors if e.row}),
                errors=[e.as_dict() for e in errors],
            )

    def apply_many(
        self,
        rows: Sequence[Mapping[str, Any]],
        source: str = "import",
        progress: Callable[[int], None] | None = None,
        scope: Scope = Scope.ALL,
    ) -> BatchResult:
        """Apply any number of rows in ``max_batch`` chunks inside ONE transaction (file imports).

        A refusal anywhere (a bad field, an oversell in a late chunk) rolls back every chunk; error rows are
        numbered from the start of ``rows``. A row at a location in a country outside ``scope`` refuses the
        whole file with ``OutOfScope``, as ``apply_batch`` does.
        """
        size = self.settings.max_batch
        accepted = duplicates = 0
        first: int | None = None
        last: int | None = None
        with self._transaction() as conn:
            self._check_rows_in_scope(conn, rows, scope)
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

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A write transaction that holds the ledger lock from its first statement (see ``store.lock_ledger``)."""
        with self.db.write() as conn:
            store.lock_ledger(conn)
            yield conn

    def apply_in(
        self,
        conn: Connection,
        rows: Sequence[Mapping[str, Any]],
        source: str,
        announce_with: Sequence[NewEvent] = (),
    ) -> BatchResult:
        """``apply_batch`` inside the caller's write transaction (``keel.db.write()``), for use cases that
        must change stock and their own records atomically (an order commit). Same validation and errors.
        ``announce_with``: the caller's own events, appended right after the batch's ``stock.moved`` in the
        same append (one statement for all of them), or alone when the batch records nothing."""
        return self._apply(conn, rows, source, announce_with)

    def _apply(
        self, conn: Connection, rows: Sequence[Mapping[str, Any]], source: str, also: Sequence[NewEvent] = ()
    ) -> BatchResult:
        store.lock_ledger(conn)  # no-op when the transaction already holds it
        # Only the locations the rows name: a small batch (an order's commit) must not read every location.
        ids = self.locations.active_ids_of(conn, _named_locations(rows))
        movements, errors = validate_batch(rows, ids)
        if errors:
            raise ValidationFailed(f"{len({e.row for e in errors})} of {len(rows)} rows refused", errors)
        if not movements:
            self._append_also(conn, also)
            return BatchResult(0, 0)
        now_us = to_micros(utcnow())
        # The ledger lock taken above makes this read-check-write atomic against every other stock writer.
        # Key order, once: the read, the plan and the upsert then walk the positions B-tree forwards.
        pairs = sorted({(m.sku, m.location_id) for m in movements})
        positions = store.load_positions(conn, pairs)
        # The unique id index answers "already recorded?" during the insert itself, and the transaction
        # rolls everything back if a later check refuses the batch.
        first, last, fresh = self._append(conn, movements, now_us)
        if not fresh:
            self._append_also(conn, also)
            return BatchResult(0, len(movements))
        if len(fresh) < len(movements):
            pairs = sorted({(m.sku, m.location_id) for _, m in fresh})
        errors = plan_batch(fresh, positions, {i: code for code, i in ids.items()})
        if errors:
            raise ValidationFailed(f"{len(errors)} of {len(rows)} rows would drive stock negative", errors)
        store.save_positions(conn, {p: positions[p] for p in pairs}, now_us)
        self._announce(conn, [m for _, m in fresh], first, last, source, also)
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
        if not fresh:
            return first, first - 1, fresh
        # The range covers new rows only: trailing duplicates' numbers stay unused and the next batch
        # starts after the last row written, so two events never name the same ledger rows.
        return first + fresh[0][0] - 1, first + fresh[-1][0] - 1, fresh

    def _record(self, conn: Connection, movements: list[Movement], source: str, now_us: int) -> None:
        """Append movements whose positions the caller already changed, and announce them."""
        first, last, fresh = self._append(conn, movements, now_us)
        if len(fresh) != len(movements):
            raise Conflict("movement already recorded")  # internal ids are unique per reservation/count
        self._announce(conn, movements, first, last, source)

    def _append_also(self, conn: Connection, also: Sequence[NewEvent]) -> None:
        if also:
            self.events.append(conn, list(also))

    def _announce(
        self,
        conn: Connection,
        movements: list[Movement],
        first: int,
        last: int,
        source: str,
        also: Sequence[NewEvent] = (),
    ) -> None:
        """One ``stock.moved`` event per batch names the ledger range the consumers should read."""
        data = {
            "first_seq": first,
            "last_seq": last,
            "count": len(movements),
            "kinds": dict(Counter(m.kind.value for m in movements)),
            "changes_available": any(m.kind in CHANGES_AVAILABLE for m in movements),
        }
        self.events.append(conn, [NewEvent(STOCK_MOVED, f"movements/{first}-{last}", data, source=source), *also])
        MOVEMENTS.labels(source=source).inc(len(movements))
        logger.debug("movements recorded", extra={"fields": {"source": source, "first_seq": first, "last_seq": last}})

    def _location_id(self, conn: Connection, code: str) -> int:
        location_id = self.locations.active_ids(conn).get(code)
        if location_id is None:
            raise single_field("location", f"unknown or inactive location {code!r}")
        return location_id
