"""Cycle counts (variance movements, accuracy input) and the rebuild of positions from the ledger."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from keel.inventory import store
from keel.inventory.model import (
    FIELDS,
    KINDS_BY_CODE,
    ON_HAND,
    CountRecord,
    Kind,
    Movement,
    StoredCount,
    apply,
    count_variance,
    empty_position,
)
from keel.inventory.service.ledger import CLIENT_ID_MAX, CLIENT_ID_RE, POSITIONS_REBUILT, Ledger, RebuildReport
from keel.platform.clock import utcnow
from keel.platform.db import to_micros
from keel.platform.errors import Conflict, single_field
from keel.platform.events import NewEvent
from keel.platform.scope import Scope
from keel.platform.vocabulary import MAX_QUANTITY, SKU_RE, SKU_RULE


class Counts(Ledger):
    # -- cycle counts -------------------------------------------------------------------------------------
    def record_count(self, sku: str, location: str, counted: int, count_id: str | None = None) -> CountRecord:
        """Record a counted quantity; the variance against the book becomes a count_gain/count_loss movement."""
        return self.record_count_once(sku, location, counted, count_id)[0]

    def record_count_once(
        self, sku: str, location: str, counted: int, count_id: str | None = None, scope: Scope = Scope.ALL
    ) -> tuple[CountRecord, bool]:
        """``record_count``, also saying whether the count was recorded now (False: an identical repeat of
        ``count_id``, answered with the original; other content under it raises ``Conflict``)."""
        if not SKU_RE.fullmatch(sku):
            raise single_field("sku", SKU_RULE)
        if not 0 <= counted <= MAX_QUANTITY:
            raise single_field("counted", f"must be from 0 to {MAX_QUANTITY}, got {counted}")
        cid = count_id or uuid.uuid4().hex
        if not CLIENT_ID_RE.fullmatch(cid):
            raise single_field("id", f"1-{CLIENT_ID_MAX} letters, digits or ._:- starting alphanumeric")
        with self._transaction() as conn:
            location_id = self._location_id(conn, location)
            self.locations.check_in_scope(conn, [location], scope)
            store.lock_client_id(conn, "count", cid)
            prior = store.get_count(conn, cid)
            if prior is not None:
                if (prior.sku, prior.location_id, prior.counted) != (sku, location_id, counted):
                    raise Conflict(f"count {cid!r} exists with other content")
                return self._count_public(prior, location), False
            key = (sku, location_id)
            position = store.load_positions(conn, [key]).get(key, empty_position())
            result = count_variance(position[ON_HAND], counted, self.settings.count_tolerance_pct)
            now = utcnow()
            row = StoredCount(cid, sku, location_id, result.book, counted, result.variance, now)
            store.insert_count(conn, row)
            if result.variance:
                kind = Kind.COUNT_GAIN if result.variance > 0 else Kind.COUNT_LOSS
                refusal = apply(position, kind, abs(result.variance))
                assert refusal is None, refusal  # count movements may drive available negative by design
                now_us = to_micros(now)
                store.save_positions(conn, {key: position}, now_us)
                movement = Movement(f"count:{cid}", kind, sku, location_id, abs(result.variance), now, "cycle count")
                self._record(conn, [movement], "counts", now_us)
            return self._count_public(row, location), True

    def _count_public(self, row: StoredCount, location: str) -> CountRecord:
        tolerance = self.settings.count_tolerance_pct
        result = count_variance(row.book, row.counted, tolerance)
        return CountRecord(
            row.id,
            row.sku,
            location,
            row.book,
            row.counted,
            row.variance,
            result.within_tolerance,
            tolerance,
            row.counted_at,
        )

    # -- rebuild ------------------------------------------------------------------------------------------
    def rebuild(self, *, write: bool = True, progress: Callable[[int], None] | None = None) -> RebuildReport:
        """Replay the ledger in sequence order from its checkpoint (``fold_history``; none: from the start)
        and compare with (and optionally replace) the positions."""
        report = RebuildReport()
        with self._transaction() as conn:
            report.checkpoint_seq, _ = store.checkpoint_head(conn)
            rebuilt = store.checkpoint_rows(conn)
            for kind_code, sku, location_id, quantity in store.replay(conn, report.checkpoint_seq):
                position = rebuilt.setdefault((sku, location_id), empty_position())
                refusal = apply(position, KINDS_BY_CODE[kind_code], quantity)
                if refusal is not None:
                    report.differences.append({"sku": sku, "location_id": location_id, "ledger_error": refusal})
                report.movements += 1
                if progress and report.movements % 20_000 == 0:
                    progress(20_000)
            live = store.all_positions(conn)
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
                store.replace_positions(conn, rebuilt, to_micros(utcnow()))
                report.applied = True
                data = {"positions": report.positions, "differences": len(report.differences)}
                self.events.append(conn, [NewEvent(POSITIONS_REBUILT, "positions", data, source="rebuild")])
        return report
