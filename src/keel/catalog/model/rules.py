"""A compliance profile's rules and how each is checked.

A rule is compiled once into a function of a field reader (``get(name) -> value``), so checking a listing
costs a few calls per rule and no dispatch on the rule's kind; the same compiled rule reads a payload (what a
channel receives) or a listing read on demand (``profiles.Listing``). GTIN and URL checks are pure and
repeat across a variant's channels and locales, so ``check_gtin`` and ``is_url`` keep their answers
(bounded).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from keel.catalog.model.attributes import is_url
from keel.catalog.model.gtin import check_gtin

CHECKS = frozenset(
    {
        "required",
        "length",
        "one_of",
        "pattern",
        "url",
        "gtin",
        "gtin_tradable",
        "any_of",
        "positive",
        "equals",
        "percent_total",
    }
)
PERCENT = re.compile(r"(\d{1,3}(?:[.,]\d+)?)\s*%")
Getter = Callable[[str], Any]
Check = Callable[[Getter], bool | None]  # pass, fail, or None when the rule does not apply


@dataclass(frozen=True)
class Rule:
    id: str
    check: str
    message: str
    field: str = ""
    fields: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    values: tuple[Any, ...] = ()
    pattern: str | None = None
    value: Any = None
    when_field: str | None = None
    when_in: tuple[Any, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return self.fields or (self.field,)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        unit = value.get("unit") or value.get("currency")
        return f"{value.get('amount')} {unit}" if unit else str(value.get("amount"))
    return str(value)


def _amount(value: Any) -> Decimal | None:
    raw = value.get("amount") if isinstance(value, dict) else value
    if isinstance(raw, bool):
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def given(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _positive(value: Any) -> bool:
    amount = _amount(value)
    return amount is not None and amount > 0


def _percent_total(value: Any) -> bool:
    shares = [Decimal(s.replace(",", ".")) for s in PERCENT.findall(_text(value))]
    return bool(shares) and sum(shares) == 100


def _value_test(rule: Rule) -> Callable[[Any], bool]:
    """The test of a given value (absence is the ``required`` rule's to report)."""
    match rule.check:
        case "length":
            low, high = rule.min, rule.max
            return lambda v: (low is None or len(_text(v)) >= low) and (high is None or len(_text(v)) <= high)
        case "one_of":
            allowed = rule.values
            return lambda v: v in allowed or _text(v) in allowed
        case "pattern":
            pattern = re.compile(rule.pattern or "")
            return lambda v: pattern.fullmatch(_text(v)) is not None
        case "url":
            return is_url
        case "gtin":
            return lambda v: check_gtin(_text(v)).valid
        case "gtin_tradable":
            return lambda v: check_gtin(_text(v)).tradable
        case "positive":
            return _positive
        case "equals":
            expected = rule.value
            return lambda v: bool(v == expected)
        case _:
            return _percent_total


def compile_rule(rule: Rule) -> Check:
    """``rule`` as a function of a field reader."""
    when, among, name = rule.when_field, rule.when_in, rule.field
    if rule.check == "any_of":
        names = rule.fields

        def any_of(get: Getter) -> bool | None:
            if when is not None and get(when) not in among:
                return None
            return any(given(get(n)) for n in names)

        return any_of
    if rule.check == "required":

        def required(get: Getter) -> bool | None:
            if when is not None and get(when) not in among:
                return None
            return given(get(name))

        return required
    test = _value_test(rule)

    def check(get: Getter) -> bool | None:
        if when is not None and get(when) not in among:
            return None
        value = get(name)
        return test(value) if given(value) else True

    return check
