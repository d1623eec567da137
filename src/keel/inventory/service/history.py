"""Ledger retention: fold old movements into the checkpoint, then delete the named ones.

The positions are a projection of the ledger (``rebuild``). Deleting ledger rows would break that, so a
fold first computes, from the ledger itself, the positions as of a sequence number (the previous checkpoint
plus the movements after it) and stores them as the new checkpoint; ``rebuild`` then replays only what
follows it. Only movements the availability projector has consumed are folded (it reads the rows its
``stock.moved`` events name), and the newest movement always stays (its number keeps the ledger numbering).
Which rows may go is the caller's choice (``id_prefixes``, e.g. the retail twin's own ids): the rest of the
folded range stays in the ledger as history, and the checkpoint already counts it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from keel.inventory import store
from keel.inventory.model import KINDS_BY_CODE, apply, empty_position
from keel.inventory.service.ledger import AVAILABILITY_CONSUMER, STOCK_MOVED, Ledger
from keel.platform.clock import utcnow

logger = logging.getLogger("keel.inventory")


@dataclass(frozen=True)
class FoldReport:
    """What a fold did: the checkpoint now covers the ledger through ``through_seq``; ``movements`` rows were
    folded into it, ``deleted`` of them removed. ``error`` says why nothing was done (a ledger the
    checkpoint cannot be computed from); None when all went well or there was nothing to fold."""

    through_seq: int
    movements: int = 0
    deleted: int = 0
    positions: int = 0
    error: str | None = None


class History(Ledger):
    def fold_history(self, through_seq: int, id_prefixes: Sequence[str]) -> FoldReport:
        """Move the ledger checkpoint up to ``through_seq`` (at most to what the availability projector has
        consumed, and short of the newest movement), then delete the folded movements whose id starts with
        one of ``id_prefixes``. Safe to call at any time and from anywhere: a concurrent fold makes this one
        a no-op."""
        with self.db.snapshot() as conn:
            head, _ = store.checkpoint_head(conn)
            upto = min(through_seq, self._consumed_through(conn), store.last_movement_seq(conn) - 1)
            if upto <= head:
                return FoldReport(head)
            folding = list(store.replay(conn, head, upto))
            # only the positions the folded movements touch are read and written (a fold is frequent, the
            # checkpoint as large as the positions table)
            state = store.checkpoint_rows(conn, {(sku, loc) for _, sku, loc, _ in folding})
            for kind_code, sku, location_id, quantity in folding:
                position = state.setdefault((sku, location_id), empty_position())
                refusal = apply(position, KINDS_BY_CODE[kind_code], quantity)
                if refusal is not None:  # the ledger contradicts itself: keep every row for a rebuild to show
                    logger.error("ledger fold stopped", extra={"fields": {"sku": sku, "refusal": refusal}})
                    return FoldReport(head, error=f"{sku} at location {location_id}: {refusal}")
        with self._transaction() as conn:  # holds the ledger lock: folds are serial
            now_head, _ = store.checkpoint_head(conn)
            if now_head != head:  # another fold got there first; its checkpoint stands
                return FoldReport(now_head)
            deleted = store.delete_folded(conn, head, upto, id_prefixes)
            saved = store.save_checkpoint(conn, state, head, upto, deleted, utcnow())
            assert saved, "the ledger lock keeps the head where it was read"
        return FoldReport(upto, len(folding), deleted, len(state))

    def _consumed_through(self, conn: Connection) -> int:
        """The last movement the availability projector has read: just before the first ``stock.moved``
        event it has not consumed (events follow the ledger's order), else the whole ledger."""
        pending = self.events.read(conn, self.events.offset(conn, AVAILABILITY_CONSUMER), {STOCK_MOVED}, limit=1)
        if pending:
            return int(pending[0].data["first_seq"]) - 1
        return store.last_movement_seq(conn)
