"""The rules engine: what rules decide for ads and campaigns on one pass, from facts, with reasons and numbers.

``decide`` is pure: it reads facts (stock, cover, performance, Keel's current desired state, the holds and
the last acts) and returns ``Decision``s; the caller records them, applies the live ones and sends the
changes. Its semantics:

- Rules run in ``priority`` order (lower first, then by name). The first rule that decides an object's bid
  or budget owns it for the pass; later rules leave it alone (even when the owner finds nothing to change,
  so two rules never undo each other pass after pass). Pauses are not owned: several rules may hold one ad.
- A pause *holds* the ad: the ad shows only when no rule holds it and the operator has not paused it. A rule
  lets go only when its ``resume_when`` holds and its ``when`` no longer does (hysteresis); letting go never
  resumes an ad another rule holds or a person paused (that is a ``release``, not a ``resume``).
- A bid is a factor of the set bid (the one a person chose), held within the account's ``max_bid_factor``.
- Budgets move within the day's room (``rules_budget``); a move above ``approval_above`` is a Decision with
  ``needs_approval`` that the caller keeps for a person instead of applying.
- Cooldown is per (rule, object): a rule that changed an object less than ``cooldown_minutes`` ago does not
  change it again, and no rule's cooldown delays another rule. A stock-out pause (``sellable`` below a bound)
  is never delayed, not even by its own rule's cooldown: showing ads for stock there is none of is the cost
  this engine exists to cut. Recording a hold on an ad that is already paused changes nothing on the
  platform, so it is never delayed either.
- A dry-run rule's decisions are marked ``dry_run``; they neither change the pass's working state nor own
  objects, so live rules decide as if the dry-run rule were absent.
- Excluded campaigns (guardrails) and their ads are never acted on; no decision is a no-op.
- A boost or a budget shift is undone by its own rule once its reason is gone, but only while that rule made
  the object's latest change (otherwise the excess belongs to another rule or a person).
- ``shift_budget`` sees the facts as given: ads paused in this pass make their campaign a donor on the next
  pass (``CampaignFacts.all_ads_paused`` comes from the caller).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from keel.media.model.ads import AdState, Guardrails, Level, Platform, Status
from keel.media.model.rules_budget import GuardrailSet, clamp_bid, day_cap, percent_of, room_down, room_up, split
from keel.media.model.rules_doc import (
    BidLadder,
    Boost,
    Condition,
    Metric,
    Pause,
    Rule,
    ShiftBudget,
    Substitute,
    Trigger,
)
from keel.media.model.rules_facts import Act, AdFacts, CampaignFacts, Decision, Numbers, money


class _Pass:
    """The working state of one pass: what live decisions made of each object so far, and who owns it."""

    def __init__(self, ads: Sequence[AdFacts], campaigns: Sequence[CampaignFacts], now: datetime) -> None:
        self.now = now
        self.state: dict[tuple[Level, str], AdState] = {(Level.AD, a.code): a.state for a in ads}
        self.state.update({(Level.CAMPAIGN, c.code): replace(c.state, budget=c.budget) for c in campaigns})
        self.holds = {a.code: a.held_by for a in ads}
        self.moved = {c.code: c.moved_today for c in campaigns}
        self.owner: dict[tuple[Level, str], str] = {}
        self.out: list[Decision] = []

    def may_own(self, rule: Rule, key: tuple[Level, str]) -> bool:
        return self.owner.get(key, rule.name) == rule.name

    def own(self, rule: Rule, key: tuple[Level, str]) -> bool:
        """Whether ``rule`` decides the object's bid or budget this pass (taking it if it is free)."""
        if not self.may_own(rule, key):
            return False
        if not rule.dry_run:
            self.owner[key] = rule.name
        return True

    def emit(self, decision: Decision) -> None:
        self.out.append(decision)
        if decision.dry_run or decision.needs_approval:
            return
        self.state[(decision.level, decision.code)] = decision.after
        if decision.held_by is not None:
            self.holds[decision.code] = decision.held_by
        if decision.act is Act.BUDGET and decision.after.budget is not None and decision.before.budget is not None:
            self.moved[decision.code] += decision.after.budget - decision.before.budget


def _cooling(rule: Rule, last_acted: Mapping[str, datetime], now: datetime) -> bool:
    last = last_acted.get(rule.name)
    return last is not None and now - last < timedelta(minutes=rule.cooldown_minutes)


def _latest(rule: Rule, last_acted: Mapping[str, datetime]) -> bool:
    """Whether ``rule`` made the object's most recent rule change."""
    mine = last_acted.get(rule.name)
    return mine is not None and all(t <= mine for t in last_acted.values())


def _show(value: float | None) -> str:
    if value is None:
        return "unknown"
    return "unlimited" if math.isinf(value) else f"{value:g}"


def _checks(conditions: Iterable[Condition], ad: AdFacts) -> tuple[str, dict[str, int | float | None]]:
    """The conditions with the ad's numbers in words (``sellable 0 <= 0``) and as numbers."""
    words, numbers = [], {}
    for c in conditions:
        actual = ad.metric(c.metric)
        words.append(f"{c.metric} {_show(actual)} {c.op} {c.value:g}")
        numbers[str(c.metric)] = None if actual is not None and math.isinf(actual) else actual
        numbers[f"{c.metric}_threshold"] = c.value
    return ", ".join(words), numbers


def _all(conditions: Iterable[Condition], ad: AdFacts) -> bool:
    return all(c.holds(ad.metric(c.metric)) for c in conditions)


def _pause(rule: Rule, action: Pause, ad: AdFacts, p: _Pass) -> None:
    holds, before = p.holds[ad.code], p.state[(Level.AD, ad.code)]
    met = _all(rule.when, ad)
    if rule.name not in holds:
        if not met:
            return
        after_holds, checked = holds | {rule.name}, rule.when
    else:
        if met or not _all(action.resume_when, ad):
            return
        after_holds, checked = holds - {rule.name}, action.resume_when or rule.when
    paused = ad.operator_status is Status.PAUSED or bool(after_holds)
    after = replace(before, status=Status.PAUSED if paused else Status.ENABLED)
    pausing = rule.name in after_holds
    if after != before and _cooling(rule, ad.last_acted, p.now) and not (pausing and rule.stock_out_pause):
        return
    words, numbers = _checks(checked, ad)
    where = f"{ad.code} in {ad.region}"
    if pausing:
        act = Act.PAUSE if after != before else Act.HOLD
        resume = ", ".join(map(str, action.resume_when)) or f"not ({', '.join(map(str, rule.when))})"
        reason = f"{'paused' if act is Act.PAUSE else 'also holds paused'} {where}: {words}; resumes when {resume}"
    elif after != before:
        act, reason = Act.RESUME, f"resumed {where}: {words}"
    else:
        act = Act.RELEASE
        why = (
            "paused by a person" if ad.operator_status is Status.PAUSED else f"held by {', '.join(sorted(after_holds))}"
        )
        reason = f"let go of {where} ({words}); it stays paused: {why}"
    p.emit(
        Decision(
            rule.name, act, Level.AD, ad.code, ad.account, before, after, reason, numbers, after_holds, rule.dry_run
        )
    )


def _set_bid(rule: Rule, ad: AdFacts, p: _Pass, g: Guardrails, factor: float, why: str, numbers: Numbers) -> None:
    key = (Level.AD, ad.code)
    if not p.own(rule, key):
        return
    before = p.state[key]
    current = ad.set_bid if before.bid is None else before.bid
    bid, clamped = clamp_bid(ad.set_bid, factor, g)
    if bid == current or _cooling(rule, ad.last_acted, p.now):
        return
    held = f", held to {g.max_bid_factor:g}x" if clamped else ""
    cur = ad.currency
    base = f"{factor:g} x set bid {money(ad.set_bid, cur)}{held}"
    reason = f"bid {money(current, cur)} -> {money(bid, cur)} for {ad.code}: {why} ({base})"
    figures = {**numbers, "factor": factor, "set_bid": ad.set_bid, "bid_before": current, "bid_after": bid}
    figures["max_bid_factor"] = g.max_bid_factor
    after = replace(before, bid=bid)
    p.emit(
        Decision(rule.name, Act.BID, Level.AD, ad.code, ad.account, before, after, reason, figures, None, rule.dry_run)
    )


def _ladder(rule: Rule, ladder: BidLadder, ad: AdFacts, p: _Pass, g: Guardrails) -> None:
    if p.state[(Level.AD, ad.code)].status is Status.PAUSED or not _all(rule.when, ad):
        return
    step = ladder.step_for(ad.cover_days)
    if step is not None:
        why = f"cover {ad.cover_days:g} days < {step.cover_below:g}"
    else:
        why = "no sales, unlimited cover" if ad.cover_days is None else f"cover {ad.cover_days:g} days above the ladder"
    factor = ladder.above_factor if step is None else step.factor
    numbers = {"cover_days": ad.cover_days, "cover_below": None if step is None else step.cover_below}
    _set_bid(rule, ad, p, g, factor, why, numbers)


def _boost_ad(rule: Rule, boost: Boost, ad: AdFacts, p: _Pass, g: Guardrails) -> bool:
    """Boost one ad's bid (or undo the rule's boost); whether the ad is overstocked for this rule."""
    if p.state[(Level.AD, ad.code)].status is Status.PAUSED:
        return False
    cover = ad.metric(Metric.COVER_DAYS)
    numbers = {"cover_days": ad.cover_days, "cover_above": boost.cover_above}
    if cover is not None and cover > boost.cover_above and _all(rule.when, ad):
        if boost.bid_factor != 1.0:
            why = f"overstock: cover {_show(cover)} days > {boost.cover_above:g}"
            _set_bid(rule, ad, p, g, boost.bid_factor, why, numbers)
        return True
    state = p.state[(Level.AD, ad.code)]
    if state.bid not in (None, ad.set_bid) and _latest(rule, ad.last_acted):
        why = f"boost over: cover {_show(cover)} days no longer > {boost.cover_above:g}"
        _set_bid(rule, ad, p, g, 1.0, why, numbers)
    return False


def _budget(
    rule: Rule, p: _Pass, c: CampaignFacts, g: Guardrails, delta: int, why: str, numbers: Numbers, *, approve: int
) -> None:
    """Emit one budget change of ``delta``; ``approve`` is the size of the whole move it belongs to."""
    key = (Level.CAMPAIGN, c.code)
    before = p.state[key]
    if delta == 0 or before.budget is None:
        return
    after = replace(before, budget=before.budget + delta)
    needs = g.approval_above is not None and approve > g.approval_above
    cur = c.currency
    wait = f"; waits for approval above {money(g.approval_above, cur)}" if needs else ""
    reason = f"budget {money(before.budget, cur)} -> {money(after.budget, cur)} for {c.code}: {why}{wait}"
    figures = {
        **numbers,
        "set_budget": c.set_budget,
        "budget_before": before.budget,
        "budget_after": after.budget,
        "moved_today": p.moved[c.code],
        "day_cap": day_cap(c.set_budget, g),
        "min_budget": g.min_budget,
        "approval_above": g.approval_above,
    }
    decision = Decision(rule.name, Act.BUDGET, Level.CAMPAIGN, c.code, c.account, before, after, reason, figures)
    p.emit(replace(decision, dry_run=rule.dry_run, needs_approval=needs))


def _boost_budget(rule: Rule, boost: Boost, c: CampaignFacts, overstocked: bool, p: _Pass, g: Guardrails) -> None:
    budget = p.state[(Level.CAMPAIGN, c.code)].budget or 0
    if overstocked and boost.budget_pct > 0:
        target = c.set_budget + percent_of(c.set_budget, boost.budget_pct)
        # never below where it is: a campaign another rule raised further keeps that budget
        delta = max(0, min(target - budget, room_up(c.set_budget, p.moved[c.code], g)))
        why = f"overstocked ads; {boost.budget_pct:g}% over the set budget, within {g.max_budget_change_pct:g}%/day"
    elif not overstocked and budget > c.set_budget and _latest(rule, c.last_acted):
        delta = -min(budget - c.set_budget, room_down(c.set_budget, budget, p.moved[c.code], g))
        why = "boost over: no ad overstocked any more"
    else:
        return
    if delta != 0 and p.own(rule, (Level.CAMPAIGN, c.code)) and not _cooling(rule, c.last_acted, p.now):
        _budget(rule, p, c, g, delta, why, {"budget_pct": boost.budget_pct}, approve=abs(delta))


def _shares(shift: ShiftBudget, donor: CampaignFacts, other: CampaignFacts) -> frozenset[str]:
    if shift.to is Substitute.SAME_CATEGORY:
        return donor.categories & other.stocked_categories
    return donor.brands & other.stocked_brands


def _shift(rule: Rule, shift: ShiftBudget, live: list[CampaignFacts], p: _Pass, gs: GuardrailSet) -> None:
    """Move budget from campaigns whose ads are all paused to in-stock substitutes; undo the rule's own moves
    once a donor has ads showing again or a recipient has no donor left."""
    for d in live:
        if not d.all_ads_paused or not p.own(rule, (Level.CAMPAIGN, d.code)) or _cooling(rule, d.last_acted, p.now):
            continue
        g, budget = gs.of(d.account), p.state[(Level.CAMPAIGN, d.code)].budget or 0
        target = d.set_budget - percent_of(d.set_budget, shift.share_pct)
        give = min(budget - max(target, g.min_budget), room_down(d.set_budget, budget, p.moved[d.code], g))
        recipients = [
            r
            for r in live
            if r.account == d.account and r.country == d.country and not r.all_ads_paused and _shares(shift, d, r)
            if p.may_own(rule, (Level.CAMPAIGN, r.code)) and not _cooling(rule, r.last_acted, p.now)
        ]
        parts = split(max(give, 0), [room_up(r.set_budget, p.moved[r.code], g) for r in recipients])
        amount = sum(parts)
        if amount <= 0:
            continue
        names = ", ".join(r.code for r, part in zip(recipients, parts, strict=True) if part)
        numbers = {"moved": amount, "share_pct": shift.share_pct}
        most = f"{shift.share_pct:g}% of the set budget at most"
        why = f"every ad paused by rules; {money(amount, d.currency)} moved to {names} ({most})"
        _budget(rule, p, d, g, -amount, why, numbers, approve=amount)
        for r, part in zip(recipients, parts, strict=True):
            if part and p.own(rule, (Level.CAMPAIGN, r.code)):
                common = ", ".join(sorted(_shares(shift, d, r)))
                given = money(part, d.currency)
                why = f"receives {given} from {d.code}, whose ads are all paused; {common} in stock here"
                _budget(rule, p, r, g, part, why, {"moved": part, "share_pct": shift.share_pct}, approve=amount)
    for c in live:
        budget = p.state[(Level.CAMPAIGN, c.code)].budget or 0
        if budget == c.set_budget or not _latest(rule, c.last_acted) or not p.may_own(rule, (Level.CAMPAIGN, c.code)):
            continue
        g = gs.of(c.account)
        if budget < c.set_budget and not c.all_ads_paused:
            delta, why = min(c.set_budget - budget, room_up(c.set_budget, p.moved[c.code], g)), "ads showing again"
        elif budget > c.set_budget and not any(
            d.all_ads_paused and d.account == c.account and d.country == c.country and _shares(shift, d, c)
            for d in live
        ):
            delta = -min(budget - c.set_budget, room_down(c.set_budget, budget, p.moved[c.code], g))
            why = "no campaign left to stand in for"
        else:
            continue
        if delta and p.own(rule, (Level.CAMPAIGN, c.code)) and not _cooling(rule, c.last_acted, p.now):
            _budget(rule, p, c, g, delta, f"back towards the set budget: {why}", {"moved": delta}, approve=abs(delta))


def decide(
    rules: Sequence[Rule],
    ads: Sequence[AdFacts],
    campaigns: Sequence[CampaignFacts],
    guardrails: GuardrailSet,
    now: datetime,
    *,
    trigger: Trigger | None = None,
) -> list[Decision]:
    """One pass of ``rules`` (only those of ``trigger`` when given) over the facts: the decisions, in the
    order they apply (see the module docstring for the semantics)."""
    p = _Pass(ads, campaigns, now)

    def acts_on(rule: Rule, platform: Platform, account: str, campaign: str, country: str) -> bool:
        excluded = campaign in guardrails.of(account).excluded_campaigns
        return not excluded and rule.scope.covers(platform, account, campaign, country)

    for rule in sorted(rules, key=lambda r: (r.priority, r.name)):
        if trigger is not None and rule.trigger is not trigger:
            continue
        mine = [a for a in ads if acts_on(rule, a.platform, a.account, a.campaign, a.country)]
        live = [
            c
            for c in sorted(campaigns, key=lambda c: c.code)
            if acts_on(rule, c.platform, c.account, c.code, c.country)
            and Status.PAUSED not in (c.operator_status, p.state[(Level.CAMPAIGN, c.code)].status)
        ]
        match rule.then:
            case Pause() as action:
                for ad in mine:
                    _pause(rule, action, ad, p)
            case BidLadder() as ladder:
                for ad in mine:
                    _ladder(rule, ladder, ad, p, guardrails.of(ad.account))
            case Boost() as boost:
                hot = {ad.campaign for ad in mine if _boost_ad(rule, boost, ad, p, guardrails.of(ad.account))}
                # A campaign none of whose ads came with the facts is left alone: nothing says it cooled down.
                seen = {ad.campaign for ad in mine}
                for c in (c for c in live if c.code in seen):
                    _boost_budget(rule, boost, c, c.code in hot, p, guardrails.of(c.account))
            case ShiftBudget() as shift:
                _shift(rule, shift, live, p, guardrails)
    return p.out
