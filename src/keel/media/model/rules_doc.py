"""Ad rules as documents: what an operator stores, parsed into a ``Rule`` with every problem and its path.

A rule is a trigger, conditions that must all hold (``when``) and one action (``then``):

    {"name": "pause when out", "trigger": "stock",
     "scope": {"platforms": ["amazon"], "accounts": [], "campaigns": [], "countries": ["DE"]},
     "when": [{"metric": "sellable", "op": "<=", "value": 0}],
     "then": {"action": "pause", "resume_when": [{"metric": "sellable", "op": ">=", "value": 5}]},
     "cooldown_minutes": 60, "dry_run": false, "priority": 100}

Paths are 1-based in lists, as the sourcing documents' are: ``when[2].metric`` is the second condition's.
An empty scope list means "all". Metrics are an ad's: ``sellable`` (units its SKUs can sell in the campaign's
region), ``cover_days`` (days of stock at the current sales rate; no sales means unlimited cover),
``roas_7d`` (attributed sales / spend, a ratio), ``acos_7d`` (spend / sales, in percent) and ``spend_7d``
(minor units of the account's currency). A condition on a metric Keel does not know (no 7-day numbers yet)
does not hold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from keel.media.model.ads import Platform
from keel.platform.errors import FieldError

MAX_FACTOR = 10.0
MAX_COVER_DAYS = 3650.0
MAX_COOLDOWN = 7 * 24 * 60


class Metric(StrEnum):
    SELLABLE = "sellable"
    COVER_DAYS = "cover_days"
    ROAS_7D = "roas_7d"
    ACOS_7D = "acos_7d"
    SPEND_7D = "spend_7d"


class Op(StrEnum):
    LT = "<"
    LE = "<="
    EQ = "=="
    GE = ">="
    GT = ">"


class Trigger(StrEnum):
    STOCK = "stock"  # run when an ad's sellable units change
    SCHEDULE = "schedule"  # run on the automation's schedule (performance numbers, budgets)


class Substitute(StrEnum):
    SAME_CATEGORY = "same_category"
    SAME_BRAND = "same_brand"


@dataclass(frozen=True)
class Condition:
    metric: Metric
    op: Op
    value: float

    def holds(self, actual: float | None) -> bool:
        """Whether ``actual`` passes; None (an unknown number) never does."""
        if actual is None:
            return False
        match self.op:
            case Op.LT:
                return actual < self.value
            case Op.LE:
                return actual <= self.value
            case Op.EQ:
                return actual == self.value
            case Op.GE:
                return actual >= self.value
            case Op.GT:
                return actual > self.value

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Scope:
    """Which objects a rule may act on; an empty set means all."""

    platforms: frozenset[Platform] = frozenset()
    accounts: frozenset[str] = frozenset()
    campaigns: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()

    def covers(self, platform: Platform, account: str, campaign: str, country: str) -> bool:
        pairs = ((self.platforms, platform), (self.accounts, account), (self.campaigns, campaign))
        return all(not allowed or value in allowed for allowed, value in (*pairs, (self.countries, country)))


@dataclass(frozen=True)
class Pause:
    """Pause an ad while ``when`` holds; resume it only once ``resume_when`` holds (hysteresis). Without
    ``resume_when`` the ad resumes as soon as ``when`` stops holding."""

    resume_when: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Step:
    cover_below: float
    factor: float


@dataclass(frozen=True)
class BidLadder:
    """The bid as a factor of the set bid by days of cover: the first step whose ``cover_below`` is above
    the ad's cover gives the factor, ``above_factor`` past the last step (and for unlimited cover)."""

    steps: tuple[Step, ...]
    above_factor: float = 1.0

    def step_for(self, cover: float | None) -> Step | None:
        """The step the cover falls in (None: above every step)."""
        if cover is None:
            return None
        return next((s for s in self.steps if cover < s.cover_below), None)


@dataclass(frozen=True)
class ShiftBudget:
    """Move ``share_pct`` of the set budget of a campaign whose ads rules have all paused to campaigns of the
    same account and country that advertise the same category (or brand) and have it in stock."""

    to: Substitute
    share_pct: float


@dataclass(frozen=True)
class Boost:
    """Push overstock: ads with more than ``cover_above`` days of cover get ``bid_factor`` times the set bid,
    and their campaigns ``budget_pct`` more than the set budget."""

    cover_above: float
    bid_factor: float = 1.0
    budget_pct: float = 0.0


Action = Pause | BidLadder | ShiftBudget | Boost


@dataclass(frozen=True)
class Rule:
    name: str
    then: Action
    trigger: Trigger = Trigger.STOCK
    when: tuple[Condition, ...] = ()
    scope: Scope = Scope()
    cooldown_minutes: int = 0
    dry_run: bool = False
    priority: int = 100  # lower runs first

    @property
    def stock_out_pause(self) -> bool:
        """A pause for stock running out (a ``sellable`` upper bound): never delayed by a cooldown."""
        below = (Op.LT, Op.LE, Op.EQ)
        return isinstance(self.then, Pause) and any(c.metric is Metric.SELLABLE and c.op in below for c in self.when)


TOP = frozenset({"name", "trigger", "scope", "when", "then", "cooldown_minutes", "dry_run", "priority"})
SCOPE_KEYS = ("platforms", "accounts", "campaigns", "countries")
ACTION_KEYS: Mapping[str, frozenset[str]] = {
    "pause": frozenset({"resume_when"}),
    "bid_ladder": frozenset({"steps", "above_factor"}),
    "shift_budget": frozenset({"to", "share_pct"}),
    "boost": frozenset({"cover_above", "bid_factor", "budget_pct"}),
}


def _unknown(doc: Mapping[str, Any], allowed: frozenset[str], path: str, errors: list[FieldError]) -> None:
    for key in sorted(str(k) for k in doc if k not in allowed):
        errors.append(FieldError(None, f"{path}{key}", f"unknown field; allowed: {', '.join(sorted(allowed))}"))


def _number(
    doc: Mapping[str, Any],
    key: str,
    path: str,
    low: float,
    high: float,
    errors: list[FieldError],
    *,
    above: bool = False,
) -> float | None:
    """A finite number in [low, high] (or (low, high] with ``above``), refused with its path otherwise."""
    raw = doc.get(key)
    value = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else math.nan
    # NaN fails every comparison, so a missing, non-numeric or non-finite value is refused here too.
    if not (low < value if above else low <= value) or not value <= high:
        bound = f"above {low:g}" if above else f"from {low:g}"
        errors.append(FieldError(None, f"{path}{key}", f"a number {bound} to {high:g}"))
        return None
    return value


def _whole(doc: Mapping[str, Any], key: str, default: int, high: int, errors: list[FieldError]) -> int | None:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        errors.append(FieldError(None, key, f"a whole number from 0 to {high}"))
        return None
    return value


def _conditions(raw: Any, path: str, errors: list[FieldError]) -> tuple[Condition, ...]:
    if not isinstance(raw, list):
        errors.append(FieldError(None, path, "a list of conditions, all of which must hold"))
        return ()
    found: list[Condition] = []
    for i, item in enumerate(raw, start=1):
        at = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            errors.append(FieldError(None, at, 'a condition: {"metric": ..., "op": ..., "value": ...}'))
            continue
        _unknown(item, frozenset({"metric", "op", "value"}), f"{at}.", errors)
        metric, op = item.get("metric"), item.get("op")
        if metric not in {m.value for m in Metric}:
            errors.append(FieldError(None, f"{at}.metric", f"one of {', '.join(m.value for m in Metric)}"))
            metric = None
        if op not in {o.value for o in Op}:
            errors.append(FieldError(None, f"{at}.op", f"one of {' '.join(o.value for o in Op)}"))
            op = None
        # Days, ratios and money are never negative; a sellable count can be (an oversold position).
        low = -1e9 if metric == Metric.SELLABLE else 0.0
        value = _number(item, "value", f"{at}.", low, 1e12, errors)
        if metric == Metric.SELLABLE and value is not None and not value.is_integer():
            errors.append(FieldError(None, f"{at}.value", "a whole number of units"))
            continue
        if metric is not None and op is not None and value is not None:
            found.append(Condition(Metric(metric), Op(op), value))
    return tuple(found)


def _scope(raw: Any, errors: list[FieldError]) -> Scope:
    if not isinstance(raw, Mapping):
        errors.append(FieldError(None, "scope", f"an object with any of {', '.join(SCOPE_KEYS)}"))
        return Scope()
    _unknown(raw, frozenset(SCOPE_KEYS), "scope.", errors)
    sets: dict[str, frozenset[str]] = {}
    for key in SCOPE_KEYS:
        values = raw.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            errors.append(FieldError(None, f"scope.{key}", "a list of codes"))
            continue
        sets[key] = frozenset(v.strip() for v in values)
    platforms = sets.get("platforms", frozenset())
    bad = sorted(p for p in platforms if p not in {p.value for p in Platform})
    if bad:
        errors.append(FieldError(None, "scope.platforms", f"{bad[0]!r} is not one of {', '.join(Platform)}"))
    countries = sets.get("countries", frozenset())
    if any(len(c) != 2 or not c.isascii() or not c.isupper() for c in countries):
        errors.append(FieldError(None, "scope.countries", "ISO 3166-1 alpha-2 codes, e.g. DE"))
    return Scope(
        frozenset(Platform(p) for p in platforms if not bad),
        sets.get("accounts", frozenset()),
        sets.get("campaigns", frozenset()),
        countries,
    )


def _ladder(doc: Mapping[str, Any], errors: list[FieldError]) -> BidLadder | None:
    raw = doc.get("steps")
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError(None, "then.steps", 'a list of {"cover_below": days, "factor": f}, by cover'))
        return None
    steps: list[Step] = []
    for i, item in enumerate(raw, start=1):
        at = f"then.steps[{i}]."
        if not isinstance(item, Mapping):
            errors.append(FieldError(None, at.rstrip("."), 'a step: {"cover_below": days, "factor": f}'))
            continue
        _unknown(item, frozenset({"cover_below", "factor"}), at, errors)
        below = _number(item, "cover_below", at, 0, MAX_COVER_DAYS, errors, above=True)
        factor = _number(item, "factor", at, 0, MAX_FACTOR, errors, above=True)
        if below is not None and steps and below <= steps[-1].cover_below:
            errors.append(FieldError(None, f"{at}cover_below", "steps go up: above the previous step's cover_below"))
        elif below is not None and factor is not None:
            steps.append(Step(below, factor))
    above = _number({"above_factor": 1.0, **doc}, "above_factor", "then.", 0, MAX_FACTOR, errors, above=True)
    return None if above is None or len(steps) != len(raw) else BidLadder(tuple(steps), above)


def _action(raw: Any, errors: list[FieldError]) -> Action | None:
    kind = raw.get("action") if isinstance(raw, Mapping) else None
    if not isinstance(raw, Mapping) or not isinstance(kind, str) or kind not in ACTION_KEYS:
        errors.append(FieldError(None, "then.action", f"one of {', '.join(ACTION_KEYS)}"))
        return None
    _unknown(raw, ACTION_KEYS[kind] | {"action"}, "then.", errors)
    if kind == "pause":
        return Pause(_conditions(raw.get("resume_when", []), "then.resume_when", errors))
    if kind == "bid_ladder":
        return _ladder(raw, errors)
    if kind == "shift_budget":
        to = raw.get("to")
        if to not in {s.value for s in Substitute}:
            errors.append(FieldError(None, "then.to", f"one of {', '.join(Substitute)}"))
        share = _number(raw, "share_pct", "then.", 0, 100, errors, above=True)
        return None if share is None or to not in {s.value for s in Substitute} else ShiftBudget(Substitute(to), share)
    cover = _number(raw, "cover_above", "then.", 0, MAX_COVER_DAYS, errors)
    bid = _number({"bid_factor": 1.0, **raw}, "bid_factor", "then.", 0, MAX_FACTOR, errors, above=True)
    budget = _number({"budget_pct": 0.0, **raw}, "budget_pct", "then.", 0, 1000, errors)
    if bid == 1.0 and budget == 0.0:
        errors.append(FieldError(None, "then", "a boost changes the bid_factor, the budget_pct or both"))
        return None
    return None if cover is None or bid is None or budget is None else Boost(cover, bid, budget)


def parse_rule(doc: Any) -> tuple[Rule | None, list[FieldError]]:
    """Validate a rule document completely (every problem, each with its path) and build the rule."""
    if not isinstance(doc, Mapping):
        return None, [FieldError(None, "", "a JSON object")]
    errors: list[FieldError] = []
    _unknown(doc, TOP, "", errors)
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors.append(FieldError(None, "name", "a name of 1 to 200 characters"))
    trigger = doc.get("trigger", Trigger.STOCK.value)
    if trigger not in {t.value for t in Trigger}:
        errors.append(FieldError(None, "trigger", f"one of {', '.join(Trigger)}"))
    scope = _scope(doc.get("scope", {}), errors)
    when = _conditions(doc.get("when", []), "when", errors)
    if "then" not in doc:
        errors.append(FieldError(None, "then", "the action: an object with an action"))
        action = None
    else:
        action = _action(doc["then"], errors)
    then = doc.get("then")
    kind = then.get("action") if isinstance(then, Mapping) else None
    if kind == "pause" and not doc.get("when"):
        errors.append(FieldError(None, "when", "a pause needs at least one condition"))
    if kind == "shift_budget" and doc.get("when"):
        # A shift's donors are the campaigns whose ads rules paused; ad conditions have nothing to test.
        errors.append(FieldError(None, "when", "shift_budget takes no conditions"))
    cooldown = _whole(doc, "cooldown_minutes", 0, MAX_COOLDOWN, errors)
    priority = _whole(doc, "priority", 100, 1_000_000, errors)
    dry_run = doc.get("dry_run", False)
    if not isinstance(dry_run, bool):
        errors.append(FieldError(None, "dry_run", "true or false"))
    if errors or action is None or cooldown is None or priority is None or not isinstance(name, str):
        return None, errors
    rule = Rule(name.strip(), action, Trigger(trigger), when, scope, cooldown, dry_run, priority)
    return rule, []


def _condition_docs(conditions: tuple[Condition, ...]) -> list[dict[str, Any]]:
    return [{"metric": c.metric.value, "op": c.op.value, "value": c.value} for c in conditions]


def rule_document(rule: Rule) -> dict[str, Any]:
    """The document ``parse_rule`` turns into ``rule``: what an operator sees in effect, defaults filled in."""
    then: dict[str, Any]
    match rule.then:
        case Pause(resume_when):
            then = {"action": "pause", "resume_when": _condition_docs(resume_when)}
        case BidLadder(steps, above):
            ladder = [{"cover_below": s.cover_below, "factor": s.factor} for s in steps]
            then = {"action": "bid_ladder", "steps": ladder, "above_factor": above}
        case ShiftBudget(to, share):
            then = {"action": "shift_budget", "to": to.value, "share_pct": share}
        case Boost(cover, bid, budget):
            then = {"action": "boost", "cover_above": cover, "bid_factor": bid, "budget_pct": budget}
    s = rule.scope
    return {
        "name": rule.name,
        "trigger": rule.trigger.value,
        "scope": {
            "platforms": sorted(p.value for p in s.platforms),
            "accounts": sorted(s.accounts),
            "campaigns": sorted(s.campaigns),
            "countries": sorted(s.countries),
        },
        "when": _condition_docs(rule.when),
        "then": then,
        "cooldown_minutes": rule.cooldown_minutes,
        "dry_run": rule.dry_run,
        "priority": rule.priority,
    }
