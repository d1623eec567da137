"""Planning on a schedule, with guardrails: the worker re-plans each country whose rule is due, only the SKUs
whose stock moved since the last automatic run, and accepts suggestions within the rule's limits.

Every automatic step is recorded with its reason in ``planning_actions``: a run made (``planned``), a run not
needed (``skipped``), each suggestion ``accepted`` or ``held`` and which limit held it, an acceptance the
ledger refused (``failed``). An accepted suggestion and its record are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.engine import Connection

from keel.inventory import InventoryQueries, Location, LocationService
from keel.planning import store, store_automation
from keel.planning.model import (
    ACCEPTED,
    Action,
    Automation,
    Candidate,
    PlanReport,
    Status,
    SuggestionFilter,
    country_code,
    guard,
    parse_automation,
    resolve_policy,
)
from keel.planning.service import PlanningService
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, FieldError, KeelError, ValidationFailed
from keel.platform.events import EventLog, NewEvent
from keel.platform.scope import Scope
from keel.platform.vocabulary import LocationKind

AUTOMATION_CHANGED = "planning.automation_changed"
ACTOR = "automation"


@dataclass(frozen=True, slots=True)
class AutomationReport:
    """What one automatic pass over a country did."""

    country: str
    skipped: bool  # nothing moved since the last run: no new run
    moved_skus: int | None  # SKUs whose stock moved since the last run (None: the first run, every SKU)
    runs: list[PlanReport] = field(default_factory=list)
    accepted: int = 0
    held: int = 0
    failed: int = 0
    accepted_value: float = 0.0


@dataclass(frozen=True, slots=True)
class AutomationState:
    """A stored rule and where its country stands today."""

    rule: Automation
    last_run_at: datetime | None
    accepted_today: float  # goods value accepted automatically since UTC midnight, in the country's currency


class PlanningAutomation:
    """Rules per country, the scheduled pass the worker makes, and the log of what it did."""

    def __init__(
        self,
        db: Database,
        events: EventLog,
        planning: PlanningService,
        locations: LocationService,
        queries: InventoryQueries,
    ) -> None:
        self.db = db
        self.events = events
        self.planning = planning
        self.locations = locations
        self.queries = queries

    # -- rules ----------------------------------------------------------------------------------------------

    def rules(self, scope: Scope = Scope.ALL) -> list[Automation]:
        with self.db.read() as conn:
            return store_automation.rules(conn, scope.countries)

    def states(self, scope: Scope = Scope.ALL) -> list[AutomationState]:
        """Every stored rule (of ``scope``'s countries) with its last run and today's accepted value."""
        midnight = _midnight()
        with self.db.read() as conn:
            return [
                AutomationState(
                    r, store_automation.last_run(conn, r.country)[0],
                    store_automation.accepted_value_since(conn, r.country, midnight),
                )
                for r in store_automation.rules(conn, scope.countries)
            ]  # fmt: skip

    def rule(self, country: str, scope: Scope = Scope.ALL) -> Automation:
        """The rule of ``country``: the stored one, or the disabled default."""
        country = country_code(country)
        scope.check_country(country)
        found = [r for r in self.rules() if r.country == country]
        return found[0] if found else Automation(country)

    def set_rule(self, country: str, doc: dict[str, object], scope: Scope = Scope.ALL) -> tuple[Automation, bool]:
        """Validate and store the rule of ``country`` (every field not given takes its default); returns it and
        whether it changed. The same rule again changes nothing."""
        country = country_code(country)
        scope.check_country(country)
        known = frozenset(self._sites(country))
        rule, errors = parse_automation(country, doc, known)
        if errors:
            raise ValidationFailed(f"the automation rule of {country} is refused", errors)
        with self.db.write() as conn:
            changed = store_automation.upsert_rule(conn, rule, utcnow())
            if changed:
                self.events.append(conn, [NewEvent(AUTOMATION_CHANGED, f"planning/automation/{country}", {})])
        return rule, changed

    def actions(
        self,
        *,
        country: str | None = None,
        action: str | None = None,
        limit: int = 100,
        offset: int = 0,
        scope: Scope = Scope.ALL,
    ) -> tuple[list[Action], int]:
        """A page of what the automation did, newest first (in ``scope``'s countries)."""
        countries = scope.countries
        if country is not None:
            country = country_code(country)
            countries = frozenset({country}) & countries if countries is not None else frozenset({country})
        with self.db.read() as conn:
            return store_automation.actions_page(conn, countries, action, limit, offset)

    # -- the scheduled pass ---------------------------------------------------------------------------------

    def run_due(self, now: datetime | None = None) -> int:
        """Run every enabled rule whose last automatic run is at least its interval old (the worker's job);
        returns how many suggestions were accepted."""
        now = now or utcnow()
        accepted = 0
        for rule in self.rules():
            if not rule.enabled:
                continue
            with self.db.read() as conn:
                last_at, _ = store_automation.last_run(conn, rule.country)
            if last_at is None or now - last_at >= timedelta(minutes=rule.every_minutes):
                try:
                    accepted += self.run(rule.country, trigger="schedule").accepted
                except KeelError:  # recorded as a failed action; the other countries still run
                    continue
        return accepted

    def run(self, country: str, *, trigger: str = "manual", scope: Scope = Scope.ALL) -> AutomationReport:
        """Re-plan ``country`` by its rule now: only the SKUs whose stock moved since the last automatic run
        (every SKU the first time), then accept what the guardrails allow. A disabled rule runs too when asked
        (a person pressed the button); only the schedule waits for ``enabled``."""
        rule = self.rule(country, scope)
        if not (rule.replenish or rule.rebalance):
            raise ValidationFailed("nothing to run", [FieldError(None, "replenish", "the rule re-plans no mode")])
        started = utcnow()
        sites = sorted(self._sites(rule.country))
        with self.db.write() as conn:  # a rule is stored on its first run, so its run state has a row
            if not store_automation.rules(conn, frozenset({rule.country})):
                store_automation.upsert_rule(conn, rule, started)
            last_at, last_seq = store_automation.last_run(conn, rule.country)
            if not store_automation.claim(conn, rule.country, last_at, started):
                return AutomationReport(rule.country, True, None)  # another worker started it meanwhile
        moved, seq = self.queries.moved_since(last_seq, sites)
        if last_at is not None and not moved:
            reason = f"no stock moved in {rule.country} since {last_at:%Y-%m-%d %H:%M} UTC"
            self._log([Action(0, started, rule.country, "skipped", None, None, 0.0, reason)], seq)
            return AutomationReport(rule.country, True, 0)
        skus = None if last_at is None else sorted(moved)
        modes = [m for m in ("replenish", "rebalance") if getattr(rule, m)]
        try:
            reports = self.planning.run_modes(modes, country=rule.country, skus=skus, top=rule.top, trigger=trigger)
        except KeelError as exc:  # too many series, say: said where the operator looks, then raised as usual
            self._log([Action(0, utcnow(), rule.country, "failed", None, None, 0.0, f"the run failed: {exc}"[:500])])
            raise
        best = f"the {rule.top:,} best sellers of " if rule.top else ""
        since = f"{best}the first automatic run" if last_at is None else (
            f"{best}{len(moved):,} SKUs whose stock moved since {last_at:%Y-%m-%d %H:%M} UTC"
        )  # fmt: skip
        planned = [
            Action(0, utcnow(), rule.country, "planned", r.run_id, None, 0.0,
                   f"{r.mode} run {r.run_id}: {r.series} series ({since}); suggestions made: {r.suggestions}")
            for r in reports
        ]  # fmt: skip
        self._log(planned, seq)
        return self._accept(rule, reports, None if last_at is None else len(moved))

    def _accept(self, rule: Automation, reports: list[PlanReport], moved: int | None) -> AutomationReport:
        """Apply the guardrails to the runs' proposed suggestions; accept (with its record) or hold each."""
        where = SuggestionFilter(status=Status.PROPOSED, runs=frozenset(r.run_id for r in reports))
        found, _ = self.planning.suggestions(where, limit=100_000)
        if not found:
            return AutomationReport(rule.country, False, moved, reports)
        kinds = {code: loc.kind for code, loc in self._sites(rule.country).items()}
        with self.db.read() as conn:
            rows = store.policy_rows(conn)
            spent = store_automation.accepted_value_since(conn, rule.country, _midnight())
        candidates = [
            Candidate(
                s.id, s.kind, s.location, s.source, s.quantity,
                round(s.quantity * resolve_policy(kinds.get(s.location, ""), s.location, s.sku, rows).unit_cost, 2),
                s.explanation.position / max(s.explanation.order_up_to, 1),
            )
            for s in found
        ]  # fmt: skip
        run_of = {s.id: s.run_id for s in found}
        accepted = held = failed = 0
        value = 0.0
        for d in guard(rule, candidates, spent):
            action = Action(0, utcnow(), rule.country, d.action, run_of[d.suggestion], d.suggestion, d.value, d.reason)
            if d.action != ACCEPTED:
                self._log([action])
                held += 1
                continue
            try:
                done = self.planning.accept(d.suggestion, actor=ACTOR, also=partial(_record, actions=[action]))
            except Conflict as exc:  # a DC no longer holds the units, or a person decided first
                self._log([replace(action, action="failed", value=0.0, reason=str(exc)[:500])])
                failed += 1
                continue
            if done.decided_by != ACTOR:  # a person accepted it a moment before: theirs, not counted here
                continue
            accepted += 1
            value += d.value
        return AutomationReport(rule.country, False, moved, reports, accepted, held, failed, round(value, 2))

    def _log(self, actions: Sequence[Action], seq: int | None = None) -> None:
        """Record ``actions``; with ``seq``, also the ledger sequence the country's run looked up to (where the
        next incremental run starts). A run that crashed before this re-plans the same SKUs next time."""
        with self.db.write() as conn:
            _record(conn, actions=actions)
            if seq is not None:
                store_automation.mark_seen(conn, actions[0].country, seq)

    def _sites(self, country: str) -> dict[str, Location]:
        found, _ = self.locations.list(limit=1_000_000)
        return {
            loc.code: loc
            for loc in found
            if loc.country == country and loc.active and loc.kind != LocationKind.SUPPLIER
        }


def _record(conn: Connection, *, actions: Sequence[Action]) -> None:
    store_automation.record(conn, actions)


def _midnight() -> datetime:
    """The start of today, UTC: the daily value limit's day."""
    return datetime.combine(utcnow().date(), datetime.min.time(), UTC)
