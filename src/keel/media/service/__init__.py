"""The media context's use cases: the ad setup, performance, rules and guardrails, the action log with its
approvals, the outbox's states and drift, and savings. ``MediaService`` is the one object the API, the CLI,
the pages and the worker call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from keel.media.model import AdState, Guardrails, Level, Status
from keel.media.model.documents import parse_guardrails
from keel.media.model.rules_doc import parse_rule, rule_document
from keel.media.model.savings import Savings
from keel.media.service import overview
from keel.media.service import savings as savings_service
from keel.media.service.overview import CampaignDetail, CampaignView, Summary
from keel.media.service.performance import PerformanceService
from keel.media.service.sender import Sender, state_doc
from keel.media.service.setup import SetupService
from keel.media.service.watch import Watcher
from keel.media.store import log, objects, outbox
from keel.media.store.log import ActionRow
from keel.media.store.outbox import StateRow
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed, single_field

__all__ = ["AdStock", "CampaignDetail", "CampaignStock", "CampaignView", "MediaService", "RuleView", "Summary"]


@dataclass(frozen=True)
class RuleView:
    name: str
    document: dict[str, Any]
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class AdStock:
    ad: str
    sellable: int
    cover_days: float | None
    since: datetime


@dataclass(frozen=True)
class CampaignStock:
    """A campaign's ads against their stock and the outbox: how many ads it has, how many the watcher last saw
    without sellable stock, how many rules hold paused, and how many of its objects (itself, its ad groups, its
    ads) owe their platform a change, are dead letters or drifted."""

    campaign: str
    ads: int = 0
    out_of_stock: int = 0
    paused_by_rules: int = 0
    owed: int = 0
    dead: int = 0
    drift: int = 0


class MediaService:
    def __init__(
        self,
        db: Database,
        setup: SetupService,
        performance: PerformanceService,
        sender: Sender,
        watcher: Watcher,
    ) -> None:
        self.db, self.setup, self.performance, self.sender, self.watcher = db, setup, performance, sender, watcher

    # -- rules and guardrails ---------------------------------------------------------------------------------
    def rules(self) -> list[RuleView]:
        """Every rule by name, its document as stored (defaults filled in) and version."""
        with self.db.read() as conn:
            return [RuleView(n, d, v, at) for n, d, v, at in log.rules(conn)]

    def save_rule(self, name: str, document: Mapping[str, Any]) -> RuleView:
        """Validate and store a rule (``document["name"]``, when given, must be ``name``); a new version each
        save. ``ValidationFailed`` with the path of every error, nothing stored."""
        doc = dict(document)
        if doc.setdefault("name", name) != name:
            raise single_field("name", f"the rule's name is {name!r}, as in the path")
        rule, errors = parse_rule(doc)
        if rule is None:
            raise ValidationFailed("the rule has errors; nothing was saved", errors)
        stored = rule_document(rule)
        now = utcnow()
        with self.db.write() as conn:
            version = log.save_rule(conn, name, stored, now)
        return RuleView(name, stored, version, now)

    def delete_rule(self, name: str) -> None:
        """Delete a rule; the ads it holds paused are let go on the next rules pass."""
        with self.db.write() as conn:
            if not log.delete_rule(conn, name):
                raise NotFound(f"rule {name!r} does not exist")

    def guardrails(self) -> Guardrails:
        """The global guardrails (every account's own combine with these; the stricter holds)."""
        with self.db.read() as conn:
            doc = log.guardrails(conn)
        return parse_guardrails(doc, "guardrails", None, [])

    def save_guardrails(self, document: Mapping[str, Any]) -> Guardrails:
        errors: list[FieldError] = []
        parse_guardrails(document, "guardrails", None, errors)
        if errors:
            raise ValidationFailed("the guardrails have errors; nothing was saved", errors)
        with self.db.write() as conn:
            log.save_guardrails(conn, dict(document), utcnow())
        return self.guardrails()

    # -- actions and approvals --------------------------------------------------------------------------------
    def actions(self, **filters: Any) -> tuple[list[ActionRow], int]:
        """The action log, newest first (filters: code, rule, mode, account, since, limit, offset)."""
        with self.db.read() as conn:
            return log.actions(conn, **filters)

    def decide(self, action_id: int, approve: bool, by: str) -> ActionRow:
        """Approve (apply) or reject a rule's change that waits for a person."""
        with self.db.write() as conn:
            action = log.action(conn, action_id)
            if action is None:
                raise NotFound(f"action {action_id} does not exist")
            if action.mode != "approval":
                raise Conflict(f"action {action_id} is {action.mode}, not waiting for approval")
            level = Level(action.level)
            version = None
            if approve:
                row = outbox.get(conn, level, [action.code]).get(action.code)
                if row is None:
                    raise NotFound(f"{level.value} {action.code!r} no longer exists")
                if state_doc(row.state) != action.before:
                    raise Conflict(
                        f"{level.value} {action.code} changed since the rule asked; its next pass asks again"
                    )
                after = AdState(Status(action.after["status"]), action.after.get("bid"), action.after.get("budget"))
                version = outbox.change(conn, [(level, action.code, after, row.held_by)], utcnow()).get(
                    (level, action.code)
                )
            log.decide(conn, action_id, "approved" if approve else "rejected", by, version)
            found = log.action(conn, action_id)
        if approve:
            self.sender.run_pass()
        assert found is not None
        return found

    # -- the outbox -------------------------------------------------------------------------------------------
    def states(self, account: str | None, only: str | None, limit: int, offset: int) -> tuple[list[StateRow], int]:
        """Desired states by level and code; ``only``: owed, dead or drift."""
        with self.db.read() as conn:
            return outbox.page(conn, account, only, limit, offset)

    def outbox_totals(self) -> dict[str, int]:
        with self.db.read() as conn:
            return outbox.totals(conn)

    def resolve(self, level: Level, code: str, keep: str) -> StateRow:
        """End a drift: keep ``keel``'s state (sent again) or the ``platform``'s (adopted)."""
        self.sender.resolve(level, code, keep)
        self.sender.run_pass()
        return self._state(level, code)

    def retry(self, level: Level, code: str) -> StateRow:
        """Send a dead letter again (after its cause was fixed)."""
        with self.db.write() as conn:
            row = outbox.get(conn, level, [code]).get(code)
            if row is None:
                raise NotFound(f"{level.value} {code!r} does not exist")
            if not row.dead:
                raise Conflict(f"{level.value} {code} is not a dead letter")
            outbox.force(conn, level, code, utcnow())
        self.sender.run_pass()
        return self._state(level, code)

    def states_of(self, level: Level, codes: Iterable[str]) -> dict[str, StateRow]:
        """The desired states of these objects of one level, by code (an unknown code is left out)."""
        with self.db.read() as conn:
            return outbox.get(conn, level, codes)

    def campaign_stock(self, codes: Iterable[str]) -> dict[str, CampaignStock]:
        """Each campaign's ads, ads out of stock, ads paused by rules and objects owed, dead or drifted."""
        wanted = sorted(set(codes))
        with self.db.read() as conn:
            ads = objects.ads(conn, wanted)
            groups = objects.groups(conn, wanted)
            stock = log.stock(conn, [a.code for a, _ in ads])
            states = {
                Level.CAMPAIGN: outbox.get(conn, Level.CAMPAIGN, wanted),
                Level.AD_GROUP: outbox.get(conn, Level.AD_GROUP, [g.code for g in groups]),
                Level.AD: outbox.get(conn, Level.AD, [a.code for a, _ in ads]),
            }
        counts = {c: dict.fromkeys(("ads", "out", "held", "owed", "dead", "drift"), 0) for c in wanted}
        members = [(Level.CAMPAIGN, c, c) for c in wanted] + [(Level.AD_GROUP, g.campaign, g.code) for g in groups]
        members += [(Level.AD, c, a.code) for a, c in ads]
        for level, campaign, code in members:
            n, row = counts[campaign], states[level].get(code)
            if level is Level.AD:
                n["ads"] += 1
                n["out"] += code in stock and stock[code][0] <= 0
                n["held"] += row is not None and bool(row.held_by)
            if row is not None:
                n["dead"] += row.dead
                n["drift"] += row.drift is not None
                n["owed"] += row.owed and not row.dead and row.drift is None
        return {
            c: CampaignStock(c, n["ads"], n["out"], n["held"], n["owed"], n["dead"], n["drift"])
            for c, n in counts.items()
        }

    def _state(self, level: Level, code: str) -> StateRow:
        with self.db.read() as conn:
            return outbox.get(conn, level, [code])[code]

    # -- stock and savings ------------------------------------------------------------------------------------
    def stock(self, ads: list[str] | None = None) -> dict[str, AdStock]:
        """Each ad's sellable stock and cover as the watcher last saw them."""
        with self.db.read() as conn:
            rows = log.stock(conn, ads)
        return {ad: AdStock(ad, s, c, since) for ad, (s, c, since) in rows.items()}

    def savings(self, since: datetime, until: datetime) -> Savings:
        """What the rules saved and cost in the window, per currency, by rule, campaign, account, channel and
        region (estimates named as such: see ``keel.media.model.savings``)."""
        return savings_service.compute(self.db, since, until)

    def savings_by_day(self, since: datetime, until: datetime) -> list[tuple[date, Savings]]:
        """``savings`` for each UTC day of the window (each day estimated from its own clean hours)."""
        return overview.savings_by_day(self.db, since, until)

    # -- views for the pages and the API ----------------------------------------------------------------------
    def campaign_views(
        self,
        account: str | None = None,
        country: str | None = None,
        status: str | None = None,
        stock_outs: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[CampaignView], int]:
        """Campaigns a page at a time with their stock and outbox figures (``stock_outs``: only those with an
        ad out of stock), and how many match."""
        return overview.campaign_views(self.db, account, country, status, stock_outs, limit, offset)

    def campaign_detail(self, code: str) -> CampaignDetail:
        """One campaign with its ad groups, ads (SKUs, stock, states) and newest actions; ``NotFound``."""
        return overview.campaign_detail(self.db, code)

    def summary(self) -> Summary:
        """Counts of the setup, of the ads paused by rules or out of stock now, and of the outbox."""
        return overview.summary(self.db)

    def countries(self) -> list[str]:
        """The countries campaigns target."""
        return overview.countries(self.db)
