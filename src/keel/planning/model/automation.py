"""Planning automation as data: per country, how often the worker re-plans and what it may accept on its own.

A country's rule names the modes it re-plans (replenishment, rebalancing), how often, and the guardrails of
automatic acceptance: which suggestion kinds, at most how many units in one suggestion, at most how much goods
value per UTC day (in the country's currency: a rule never adds two currencies), and locations the worker never
touches. ``guard`` applies them to a run's suggestions, most urgent first, and gives every suggestion a
decision with its reason; held ones stay proposed for a person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from keel.platform.errors import FieldError
from keel.platform.vocabulary import CODE_RE

__all__ = [
    "ACCEPTED",
    "AUTO_KINDS",
    "HELD",
    "Action",
    "Automation",
    "Candidate",
    "Decision",
    "guard",
    "parse_automation",
]

AUTO_KINDS = ("purchase", "transfer", "rebalance")
ACCEPTED, HELD = "accepted", "held"
MAX_EVERY_MINUTES = 7 * 24 * 60
MAX_VALUE = 1e12
MAX_UNITS = 10_000_000
MAX_EXCLUDED = 1_000


@dataclass(frozen=True, slots=True)
class Automation:
    """A country's automation rule. Disabled by default; enabled with no acceptance limits it only re-plans."""

    country: str
    enabled: bool = False
    every_minutes: int = 1440  # re-plan when the last automatic run is this old
    replenish: bool = True  # purchase and DC transfer suggestions
    rebalance: bool = False  # transfers between the country's locations
    top: int | None = None  # only the N best-selling SKUs (None: every SKU)
    accept_kinds: tuple[str, ...] = ()  # suggestion kinds the worker may accept on its own (none: suggest only)
    max_units: int = 0  # at most this many units in one automatically accepted suggestion
    max_value_per_day: float = 0.0  # goods value (units x unit cost) accepted automatically per UTC day
    excluded_locations: tuple[str, ...] = ()  # never accepted automatically into or out of these


FIELDS = tuple(f.name for f in fields(Automation))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A proposed suggestion of an automatic run, with what the guardrails weigh."""

    suggestion: int
    kind: str
    location: str
    source: str
    quantity: int
    value: float  # quantity x the destination's unit cost
    urgency: float  # position / order-up-to level: the emptier the sooner it is considered


@dataclass(frozen=True, slots=True)
class Decision:
    suggestion: int
    action: str  # accepted | held
    value: float
    reason: str


@dataclass(frozen=True, slots=True)
class Action:
    """One recorded thing the automation did, and why."""

    id: int
    at: datetime
    country: str
    action: str  # planned | skipped | accepted | held | failed
    run_id: int | None
    suggestion_id: int | None
    value: float
    reason: str


def guard(rule: Automation, candidates: Sequence[Candidate], spent_today: float) -> list[Decision]:
    """The decision on each candidate, most urgent first: accepted while within every limit, else held with the
    limit it would break. ``spent_today``: goods value already accepted automatically today."""
    out: list[Decision] = []
    spent = spent_today
    excluded = set(rule.excluded_locations)
    for c in sorted(candidates, key=lambda c: (c.urgency, c.suggestion)):
        if c.kind not in rule.accept_kinds:
            reason = f"{c.kind} suggestions are not accepted automatically in {rule.country}"
        elif c.location in excluded or c.source in excluded:
            reason = f"location {c.location if c.location in excluded else c.source} is excluded from automation"
        elif c.quantity > rule.max_units:
            reason = f"{c.quantity} units are over the limit of {rule.max_units} per suggestion"
        elif spent + c.value > rule.max_value_per_day:
            reason = (
                f"its value {c.value:,.2f} would pass the daily limit of {rule.max_value_per_day:,.2f} "
                f"({spent:,.2f} already accepted today)"
            )
        else:
            spent += c.value
            out.append(
                Decision(
                    c.suggestion, ACCEPTED, c.value,
                    f"{c.kind} of {c.quantity} units worth {c.value:,.2f} is within the limits "
                    f"({spent:,.2f} of {rule.max_value_per_day:,.2f} accepted today)",
                )
            )  # fmt: skip
            continue
        out.append(Decision(c.suggestion, HELD, c.value, reason))
    return out


def parse_automation(
    country: str, doc: Mapping[str, Any], known: frozenset[str]
) -> tuple[Automation, list[FieldError]]:
    """A rule for ``country`` from a JSON document (fields not given keep their defaults), and every error by
    field; ``known``: the location codes of ``country``."""
    errors: list[FieldError] = []

    def bad(name: str, message: str) -> None:
        errors.append(FieldError(None, name, message))

    rule = Automation(country)
    for name in sorted(set(doc) - set(FIELDS) - {"country"}):
        bad(name, "unknown field")
    values: dict[str, Any] = {}
    for name in ("enabled", "replenish", "rebalance"):
        if name in doc:
            if isinstance(doc[name], bool):
                values[name] = doc[name]
            else:
                bad(name, "true or false")
    for name, low, high in (("every_minutes", 1, MAX_EVERY_MINUTES), ("max_units", 0, MAX_UNITS)):
        if name in doc:
            v = doc[name]
            if isinstance(v, int) and not isinstance(v, bool) and low <= v <= high:
                values[name] = v
            else:
                bad(name, f"a whole number from {low} to {high:,}")
    if "top" in doc:
        v = doc["top"]
        if v is None or (isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 100_000):
            values["top"] = v
        else:
            bad("top", "null (every SKU) or a whole number from 1 to 100,000")
    if "max_value_per_day" in doc:
        v = doc["max_value_per_day"]
        if isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= MAX_VALUE:
            values["max_value_per_day"] = float(v)
        else:
            bad("max_value_per_day", "a number from 0 to 10^12, in the country's currency")
    if "accept_kinds" in doc:
        v = doc["accept_kinds"]
        if isinstance(v, list) and all(k in AUTO_KINDS for k in v):
            values["accept_kinds"] = tuple(k for k in AUTO_KINDS if k in v)
        else:
            bad("accept_kinds", f"a list of {', '.join(AUTO_KINDS)}")
    if "excluded_locations" in doc:
        v = doc["excluded_locations"]
        if not isinstance(v, list) or len(v) > MAX_EXCLUDED or not all(isinstance(c, str) for c in v):
            bad("excluded_locations", f"a list of at most {MAX_EXCLUDED} location codes")
        else:
            unknown = [c for c in v if not CODE_RE.fullmatch(c) or c not in known]
            if unknown:
                bad("excluded_locations", f"not a location of {country}: {', '.join(sorted(unknown)[:5])}")
            else:
                values["excluded_locations"] = tuple(sorted(set(v)))
    if "country" in doc and doc["country"] != country:
        bad("country", f"the rule of {country} names another country")
    rule = replace(rule, **values)
    if rule.enabled and not (rule.replenish or rule.rebalance):
        bad("replenish", "an enabled rule re-plans at least one mode (replenish or rebalance)")
    return rule, errors
