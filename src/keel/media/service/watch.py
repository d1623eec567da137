"""The watcher: rules applied to the ads whose stock just changed, and to every ad on a schedule.

``step`` is an event-log consumer of ``availability.changed`` (a channel's listed quantity moved: the ads of
country-wide campaigns) and ``stock.moved`` (a location's stock moved: the ads of campaigns around a store or
in a region). It reads the affected ads' facts, runs the stock-triggered rules over them and writes the
decisions, the new desired states (the outbox), the stock and the intervals in the transaction that moves its
offset: a crash repeats the step whole or not at all. The sender is woken after the commit, so a pause leaves
for the platform at once rather than at the next pump interval.

``run_all`` (the ``media-rules`` job) runs every rule over every ad and campaign: the schedule-triggered rules
(ROAS, budget shifts, boosts), cover that drifted without a movement, and the holds of rules that were deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as day_time

from sqlalchemy.engine import Connection

from keel.media.model import AdState, Level, Status
from keel.media.model.documents import parse_guardrails
from keel.media.model.rules import decide
from keel.media.model.rules_budget import GuardrailSet
from keel.media.model.rules_doc import Rule, Trigger, parse_rule
from keel.media.model.rules_facts import Act, AdFacts, CampaignFacts, Decision
from keel.media.service.index import Index, build
from keel.media.service.ports import Directory, StockReader
from keel.media.service.sender import state_doc
from keel.media.store import log, objects, outbox, performance
from keel.platform.clock import utcnow
from keel.platform.consumers import OffsetMoved
from keel.platform.db import Database
from keel.platform.events import Event, EventLog
from keel.platform.sources import DatabaseSource, EventSource

CONSUMER = "media-stock"
RULES_LEASE = "*rules"  # the lease row of the rules pass (no account code starts with "*")
RUN_RATE_DAYS = 28
RECENT = timedelta(days=7)


@dataclass
class Pass:
    ads: int = 0
    decisions: int = 0
    applied: int = 0
    seconds: float = 0.0


class Watcher:
    name = CONSUMER

    def __init__(
        self,
        db: Database,
        events: EventLog,
        directory: Directory,
        stock: StockReader,
        wake: Callable[[], object],
        types: tuple[str, str],
        *,
        run_rate_ttl_s: float = 600.0,
        source: EventSource | None = None,
        owner: str = "watcher",
    ) -> None:
        self.owner = owner
        self.db, self.events, self.directory, self.reader, self.wake = db, events, directory, stock, wake
        self.availability_changed, self.stock_moved = types
        self.types = frozenset(types)
        self.source = source or DatabaseSource(events)
        self.run_rate_ttl_s = run_rate_ttl_s
        self.index = Index()
        self.listed: dict[tuple[str, str, str], int] = {}
        self.rates: dict[tuple[str, str, str], float] = {}
        self._rates_at = -1e18
        self._built_at = -1e18
        self._rules: tuple[int, list[Rule]] = (-1, [])
        self._evaluated: tuple[int, int] | None = None  # (setup, rules) revisions last run over all

    # -- caches -----------------------------------------------------------------------------------------------
    def warm(self) -> None:
        self._fresh()

    def _fresh(self) -> Index:
        """The index, rebuilt (with the listings its ads sell from) when the setup changed."""
        with self.db.read() as conn:
            revision = objects.revision(conn)
        stale = time.monotonic() - self._built_at > self.run_rate_ttl_s  # locations and catalog tags move too
        if revision != self.index.revision or stale:
            self.index = build(self.db, self.directory)
            self._built_at = time.monotonic()
            skus = self.index.skus()
            self.listed = self.reader.listed(skus) if skus else {}
        if time.monotonic() - self._rates_at > self.run_rate_ttl_s:
            sold = self.reader.units_sold(utcnow() - timedelta(days=RUN_RATE_DAYS))
            self.rates = {k: n / RUN_RATE_DAYS for k, n in sold.items() if n > 0}
            self._rates_at = time.monotonic()
        return self.index

    def rules(self, conn: Connection) -> list[Rule]:
        revision = log.rules_revision(conn)
        if revision != self._rules[0]:
            parsed = [parse_rule(doc)[0] for _, doc, _, _ in log.rules(conn)]
            self._rules = (revision, [r for r in parsed if r is not None])
        return self._rules[1]

    def guardrails(self, conn: Connection) -> GuardrailSet:
        doc = log.guardrails(conn)
        everywhere = None if doc is None else parse_guardrails(doc, "guardrails", None, [])
        return GuardrailSet({a.code: a.guardrails for a in self.index.accounts.values()}, everywhere)

    # -- the consumer -----------------------------------------------------------------------------------------
    def step(self, limit: int = 500) -> int:
        """Answer up to ``limit`` stock events: the stock-triggered rules over the ads they touch. A setup or a
        rule saved since the last step first gets a pass over every ad: a new rule or ad takes effect at once,
        not at the next stock change or scheduled pass."""
        index = self._fresh()
        with self.db.read() as conn:
            revisions = (index.revision, log.rules_revision(conn))
        if index.ads and revisions != self._evaluated:
            self.run_all()
            self._evaluated = revisions
        if not index.ads:  # no ads: nothing to decide, the offset only follows the log
            with self.db.read() as conn:
                start = self.events.offset(conn, self.name)
                pending, upto = self.source.backlog(conn, self.name, start, self.types)
            if pending:
                with self.db.write() as conn:
                    self.events.advance_offset(conn, self.name, start, upto)
                self.source.consumed(self.name, upto)
            return pending
        with self.db.write() as conn:
            start = self.events.offset(conn, self.name)
            batch = self.source.read(conn, self.name, start, self.types, limit)
            if not batch:
                return 0
            touched = self._touched(index, batch)
            applied = 0
            if touched:
                applied = self._evaluate(conn, touched, Trigger.STOCK, caused_by=batch[-1].seq).applied
            if not self.events.advance_offset(conn, self.name, start, batch[-1].seq):
                raise OffsetMoved(self.name)
        self.source.consumed(self.name, batch[-1].seq)
        if applied:
            self.wake()
        return len(batch)

    def _touched(self, index: Index, batch: Sequence[Event]) -> set[str]:
        touched: set[str] = set()
        for e in batch:
            if e.type == self.availability_changed:
                keys = []
                for c in e.data.get("changes", ()):
                    key = (e.subject, c["country"], c["sku"])
                    self.listed[key] = int(c["quantity"])
                    keys.append(key)
                touched |= index.affected(keys)
            elif e.type == self.stock_moved and index.local_by_sku and e.data.get("changes_available", True):
                skus = self.reader.skus_moved(int(e.data["first_seq"]), int(e.data["last_seq"]))
                touched |= {ad for s in skus for ad in index.local_by_sku.get(s, ())}
        return touched

    def run_all(self) -> Pass:
        """Every rule over every ad and campaign (the ``media-rules`` job). One pass at a time across
        processes (a lease): two passes would both apply the same decisions."""
        index = self._fresh()
        now = utcnow()
        with self.db.write() as conn:
            if not outbox.lease(conn, RULES_LEASE, self.owner, now, now + timedelta(minutes=5)):
                return Pass()
            done = self._evaluate(conn, set(index.ads), None, caused_by=None)
            outbox.release(conn, RULES_LEASE, self.owner)
        if done.applied:
            self.wake()
        return done

    # -- facts, decisions, effects ----------------------------------------------------------------------------
    def _sellable(self, codes: Iterable[str]) -> dict[str, int]:
        index = self.index
        local = [index.ads[c] for c in codes if index.ads[c].places is not None]
        at = self.reader.available_at(sorted({s for a in local for s in a.skus})) if local else {}
        out = {}
        for code in codes:
            ad = index.ads[code]
            if ad.places is None:
                out[code] = sum(max(self.listed.get((ad.channel, ad.country, s), 0), 0) for s in ad.skus)
            else:
                out[code] = sum(max(n, 0) for s in ad.skus for loc, n in at.get(s, {}).items() if loc in ad.places)
        return out

    def _evaluate(self, conn: Connection, codes: set[str], trigger: Trigger | None, caused_by: int | None) -> Pass:
        began = time.perf_counter()
        now = utcnow()
        index = self.index
        rules = self.rules(conn)
        campaigns = {index.ads[c].campaign for c in codes}
        siblings = sorted({a.code for a in index.ads.values() if a.campaign in campaigns})
        states = outbox.get(conn, Level.AD, siblings)
        stored = log.stock(conn, siblings)
        sellable = self._sellable(codes)
        acted = log.last_acted(conn, sorted(codes | campaigns), now - RECENT)
        recent = performance.recent(conn, (now - RECENT).date().isoformat(), sorted(codes))
        facts = []
        for code in sorted(codes):
            ad, row = index.ads[code], states.get(code)
            if row is None or row.drift is not None:
                continue  # not mirrored yet, or a person changed it on the platform: left alone
            units = sellable[code]
            rate = sum(self.rates.get((ad.channel, ad.country, s), 0.0) for s in ad.skus)
            cost, sales, _ = recent.get(code, (0, 0, 0))
            facts.append(
                AdFacts(
                    code, ad.ad_group, ad.campaign, ad.account, ad.platform, ad.country, ad.region, ad.set_bid,
                    row.state, units, None if rate <= 0 else round(units / rate, 2), ad.skus,
                    min(ad.categories) if ad.categories else None, ad.brand, ad.operator_status,
                    frozenset(row.held_by), {r: at for (c, r), at in acted.items() if c == code},
                    None if cost <= 0 else round(sales / cost, 4), None if sales <= 0 else round(100 * cost / sales, 2),
                    cost if code in recent else None,
                    index.accounts[ad.account].currency,
                )
            )  # fmt: skip
        known_rules = {r.name for r in rules}
        orphans = [f for f in facts if f.held_by - known_rules]
        cfacts = self._campaigns(conn, campaigns, states, stored, sellable, acted, now)
        decisions = self._orphans(orphans, known_rules) + decide(
            rules, facts, cfacts, self.guardrails(conn), now, trigger=trigger
        )
        applied = self._apply(conn, decisions, caused_by, now)
        self._stock(conn, {f.code: (f.sellable, f.cover_days) for f in facts}, stored, now)
        return Pass(len(facts), len(decisions), applied, time.perf_counter() - began)

    def _campaigns(
        self,
        conn: Connection,
        codes: set[str],
        states: dict[str, outbox.StateRow],
        stored: dict[str, tuple[int, float | None, datetime]],
        sellable: dict[str, int],
        acted: dict[tuple[str, str], datetime],
        now: datetime,
    ) -> list[CampaignFacts]:
        index = self.index
        rows = outbox.get(conn, Level.CAMPAIGN, codes)
        day_start = datetime.combine(now.date(), day_time(0), tzinfo=now.tzinfo)
        moved = log.moved_today(conn, day_start)
        out = []
        for code in sorted(codes):
            c, row = index.campaigns[code], rows.get(code)
            if row is None or row.drift is not None:
                continue
            ads = [a for a in index.ads.values() if a.campaign == code]
            held = [bool(states[a.code].held_by) for a in ads if a.code in states]
            units = {a.code: sellable.get(a.code, stored.get(a.code, (0,))[0]) for a in ads}
            stocked = [a for a in ads if units[a.code] > 0]
            out.append(
                CampaignFacts(
                    code, c.account, index.accounts[c.account].platform, c.region.country, c.daily_budget, row.state,
                    moved.get(code, 0), bool(held) and all(held),
                    frozenset(x for a in ads for x in a.categories), frozenset(a.brand for a in ads if a.brand),
                    frozenset(x for a in stocked for x in a.categories), frozenset(a.brand for a in stocked if a.brand),
                    c.status, {r: at for (k, r), at in acted.items() if k == code},
                    index.accounts[c.account].currency,
                )
            )  # fmt: skip
        return out

    def _orphans(self, facts: Sequence[AdFacts], known: set[str]) -> list[Decision]:
        """Let go of the holds of rules that no longer exist (deleted or renamed)."""
        out = []
        for f in facts:
            gone = sorted(f.held_by - known)
            held = f.held_by & known
            resume = not held and f.operator_status is Status.ENABLED
            after = AdState(Status.ENABLED, f.state.bid, f.state.budget) if resume else f.state
            out.append(
                Decision(
                    gone[0], Act.RESUME if resume else Act.RELEASE, Level.AD, f.code, f.account, f.state, after,
                    f"rule {', '.join(gone)} no longer exists: its hold is let go", {"sellable": f.sellable}, held,
                )
            )  # fmt: skip
        return out

    def _apply(self, conn: Connection, decisions: Sequence[Decision], caused_by: int | None, now: datetime) -> int:
        """Record the decisions and make the live ones the objects' desired states. A change that waits for
        approval is asked once: the same change already waiting is not asked again. A rule-paused interval of
        an ad runs while some rule holds it (whatever a person did meanwhile)."""
        if not decisions:
            return 0
        waiting = log.waiting(conn, sorted({d.code for d in decisions if d.needs_approval and not d.dry_run}))
        final: dict[tuple[Level, str], tuple[AdState, frozenset[str] | None, Decision]] = {}
        rows = []
        for d in decisions:
            mode = "dry_run" if d.dry_run else "approval" if d.needs_approval else "applied"
            if mode == "approval" and (d.rule, d.level.value, d.code, log.canonical(state_doc(d.after))) in waiting:
                continue
            if mode == "applied":
                key = (d.level, d.code)
                held = d.held_by if d.held_by is not None else (final[key][1] if key in final else None)
                final[key] = (d.after, held, d)
            rows.append((d, mode))
        holds = outbox.get(conn, Level.AD, [c for (lv, c) in final if lv is Level.AD])
        changes = []
        opened, closed = [], []
        for (level, code), (state, held, d) in final.items():
            before = frozenset(holds[code].held_by) if level is Level.AD and code in holds else frozenset()
            after = before if held is None else held
            changes.append((level, code, state, tuple(sorted(after))))
            if level is Level.AD and not before and after:
                opened.append((code, log.PAUSED, d.rule))
            elif level is Level.AD and before and not after:
                closed.append((code, log.PAUSED))
        versions = outbox.change(conn, changes, now)
        log.record(
            conn,
            [
                {
                    "at": now, "rule": d.rule, "level": d.level.value, "code": d.code, "account": d.account,
                    "mode": mode, "before": state_doc(d.before), "after": state_doc(d.after), "reason": d.reason,
                    "numbers": dict(d.numbers),
                    "version": versions.get((d.level, d.code)) if mode == "applied" else None,
                    "caused_by": caused_by, "decided_by": None,
                }
                for d, mode in rows
            ],
        )  # fmt: skip
        log.close_intervals(conn, closed, now)
        log.open_intervals(conn, opened, now)
        return sum(1 for _, mode in rows if mode == "applied")

    def _stock(
        self,
        conn: Connection,
        now_stock: dict[str, tuple[int, float | None]],
        stored: dict[str, tuple[int, float | None, datetime]],
        now: datetime,
    ) -> None:
        """Keep each ad's stock and open or close its out-of-stock interval when it crosses zero."""
        rows, opened, closed = [], [], []
        for code, (units, cover) in now_stock.items():
            before = stored.get(code)
            if before is not None and (before[0], before[1]) == (units, cover):
                continue
            crossed = before is None or (before[0] > 0) != (units > 0)
            rows.append((code, units, cover, now if crossed else before[2]))  # type: ignore[index]
            if crossed and units <= 0:
                opened.append((code, log.OUT_OF_STOCK, None))
            elif crossed and before is not None:
                closed.append((code, log.OUT_OF_STOCK))
        log.save_stock(conn, rows, now)
        log.close_intervals(conn, closed, now)
        log.open_intervals(conn, opened, now)
