"""Retention of the twin's own history, so a long demo's database stays bounded (docs/twin.md, "How big it gets").

Every ``retain_every`` simulated hours the stream notes where the ledger and the event log stand. Once a note
is ``keep_hours`` old:

- the ledger is folded up to it (``StockService.fold_history``): the positions as of that point become the
  checkpoint ``rebuild`` starts from, and the twin's own movements (ids under its prefix) are deleted. Other
  movements (opening stock, orders, people's and integrations' moves) stay as history;
- the event log is pruned up to it, within what every registered consumer has consumed: the events the twin
  appended and those the background worker appended in response (``availability.changed`` above all).
  People's and integrations' events stay, and audit entries are never touched (the log is append-only).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from keel.bootstrap import Keel
from keel.sim.demand import HOUR

PRUNED_ACTORS = ("twin", "worker")  # the twin, and the automations reacting to its traffic


@dataclass(frozen=True)
class Mark:
    at: float  # simulated seconds
    ledger_seq: int
    event_seq: int


class Retention:
    """Mixed into ``Stream``: notes marks as time passes and folds/prunes what is older than ``keep_hours``."""

    keel: Keel
    now: float
    prefix: str
    keep_hours: float | None
    retain_every: float
    _ledger_seq: int
    _marks: list[Mark]
    _next_mark: float

    @property
    def own_id_prefixes(self) -> tuple[str, ...]:
        """The ids of the movements this stream writes: its batches and its cycle counts."""
        return (f"{self.prefix}-", f"count:{self.prefix}-")

    def _retain(self, counts: Counter[str]) -> None:
        if self.keep_hours is None or self.now < self._next_mark:
            return
        self._next_mark = self.now + self.retain_every * HOUR
        with self.keel.db.read() as conn:
            event_seq = self.keel.events.last_seq(conn)
        self._marks.append(Mark(self.now, self._ledger_seq, event_seq))
        due = [m for m in self._marks if m.at <= self.now - self.keep_hours * HOUR]
        if not due:
            return
        mark = due[-1]
        folded = self.keel.stock.fold_history(mark.ledger_seq, self.own_id_prefixes)
        counts["movements_folded"] += folded.deleted
        consumers = [c.name for c in self.keel.consumers]
        with self.keel.db.write() as conn:
            bound = min(mark.event_seq, self.keel.events.consumed_by_all(conn, consumers))
            counts["events_pruned"] += self.keel.events.prune(conn, bound, PRUNED_ACTORS)
        # a mark the fold could not reach yet (the projector lags) is tried again at the next one
        self._marks = [m for m in self._marks if m.at > mark.at or folded.through_seq < m.ledger_seq]
