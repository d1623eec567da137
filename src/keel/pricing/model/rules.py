"""Pricing policies: ordered rules, as data, that turn a price list's base price into the price a channel
shows, each step recorded so every number can be explained.

A policy is a list of rules for a scope (``*``, every channel, or one channel's code: the channel's own
policy replaces the default). The rules run in their order on the base price:

- ``cost_plus`` ``{"margin_floor": "0.25"}``: the net price (before tax) keeps at least that margin on the
  SKU's cost, ``net >= cost / (1 - margin)``; a lower price is raised. A hard floor.
- ``map`` ``{"list": "map-eu"}``: a minimum advertised price per SKU, from a price list of the same currency
  holding the minimums; a lower price is raised. A hard floor.
- ``parity`` ``{"channel": "web-de", "within": "0.05"}``: the price stays within that fraction of the
  reference channel's price for the same country and SKU (a marketplace kept near the web store).
- ``max_change_per_day`` ``{"limit": "0.10"}``: the price moves at most that fraction from the price it had a
  day ago.
- ``ending`` (always last, whatever its place; default on when a policy does not list it):
  the price moves down to the nearest price ending of its currency (``DEFAULT_ENDINGS``; a
  ``{"endings": {"EUR": {"step": "1", "end": "0.95"}}}`` overrides per currency).

Hard floors win: after the rules, and again after the ending, a price below the highest floor is raised to
it (to the next ending above it). So no rule and no ending can sell below cost plus margin or below MAP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

from keel.platform.errors import FieldError
from keel.platform.money import Ending, UnknownCurrency, exponent, plain, to_minor
from keel.pricing.model.lists import CODE_RE, PriceEntry
from keel.pricing.model.tax import stated_from_net

RULE_KINDS = ("cost_plus", "map", "parity", "max_change_per_day", "ending")
MAX_RULES = 20
# price endings per currency, in minor units: x.99 in most two-decimal currencies; whole 90 rappen in
# Switzerland; crowns ending in 9 in the Nordics and the Czech Republic; whole tens of yen
DEFAULT_ENDINGS: Mapping[str, Ending] = {
    **dict.fromkeys(("EUR", "USD", "GBP", "CAD", "AUD", "PLN"), Ending(100, 99)),
    "CHF": Ending(100, 90),
    **dict.fromkeys(("SEK", "NOK", "DKK", "CZK"), Ending(1000, 900)),
    "JPY": Ending(10, 0),
}


@dataclass(frozen=True)
class Rule:
    kind: str
    fraction: Decimal | None = None  # cost_plus margin_floor, parity within, max_change_per_day limit
    ref: str | None = None  # map: the list; parity: the reference channel
    endings: Mapping[str, Ending] = field(default_factory=dict)  # ending: overrides per currency


@dataclass(frozen=True)
class Facts:
    """What the rules need to know of one SKU in one market (the service gathers them)."""

    cost: int | None = None  # net unit cost in the channel's currency, minor units
    rate: Decimal = Decimal(0)  # the tax rate of the SKU's class in the country
    inclusive: bool = True  # the market states prices with tax
    map_prices: Mapping[str, int] = field(default_factory=dict)  # map list code -> the SKU's minimum
    reference: Mapping[str, int] = field(default_factory=dict)  # parity channel -> its price of the SKU here
    previous: int | None = None  # the price a day ago


@dataclass(frozen=True)
class Step:
    rule: str  # "price_list", a rule kind, or "floor"
    before: int
    after: int
    note: str


@dataclass(frozen=True)
class Priced:
    amount: int
    compare_at: int | None
    price_list: str
    steps: tuple[Step, ...]
    floor: int  # the highest hard floor (0: none)


def price(base: tuple[str, PriceEntry], rules: Sequence[Rule], facts: Facts, currency: str) -> Priced:
    """The price of ``base`` (list code, entry) after ``rules``, with every step that changed something."""
    code, entry = base

    def money(minor: int) -> str:
        return f"{plain(minor, currency)} {currency}"

    amount = entry.amount
    steps = [Step("price_list", amount, amount, f"base price from list {code}")]
    floor = 0
    ending = DEFAULT_ENDINGS.get(currency)
    for rule in rules:
        before = amount
        if rule.kind == "cost_plus" and facts.cost is not None and rule.fraction is not None:
            net = int((Decimal(facts.cost) / (1 - rule.fraction)).to_integral_value(rounding=ROUND_CEILING))
            need = stated_from_net(net, facts.rate, facts.inclusive)
            floor = max(floor, need)
            amount = max(amount, need)
            note = f"margin floor {rule.fraction:.0%} on cost {money(facts.cost)}: at least {money(need)}"
        elif rule.kind == "map" and rule.ref is not None and rule.ref in facts.map_prices:
            need = facts.map_prices[rule.ref]
            floor = max(floor, need)
            amount = max(amount, need)
            note = f"minimum advertised price {money(need)} (list {rule.ref})"
        elif (
            rule.kind == "parity" and rule.ref is not None and rule.ref in facts.reference and rule.fraction is not None
        ):
            ref = facts.reference[rule.ref]
            amount = _clamp(amount, ref, rule.fraction)
            note = f"within {rule.fraction:.0%} of {rule.ref}'s {money(ref)}"
        elif rule.kind == "max_change_per_day" and facts.previous is not None and rule.fraction is not None:
            amount = _clamp(amount, facts.previous, rule.fraction)
            note = f"at most {rule.fraction:.0%} from the day's starting price {money(facts.previous)}"
        elif rule.kind == "ending":
            ending = rule.endings.get(currency, ending)
            continue
        else:
            continue  # a rule without its facts (no cost, no MAP for the SKU, no reference price) does nothing
        if amount != before:
            steps.append(Step(rule.kind, before, amount, note))
    if amount < floor:
        steps.append(Step("floor", amount, floor, f"raised to the hard floor {money(floor)} (cost plus margin, MAP)"))
        amount = floor
    if ending is not None:
        ended = ending.below(amount)
        if ended < floor:
            ended = ending.above(floor)
        if ended != amount:
            note = f"price ending: {plain(ending.end, currency)} in every {money(ending.step)}"
            steps.append(Step("ending", amount, ended, note))
            amount = ended
    compare = entry.compare_at if entry.compare_at is not None and entry.compare_at > amount else None
    return Priced(amount, compare, code, tuple(steps), floor)


def _clamp(amount: int, reference: int, fraction: Decimal) -> int:
    low = int((reference * (1 - fraction)).to_integral_value(rounding=ROUND_CEILING))
    high = int((reference * (1 + fraction)).to_integral_value(rounding=ROUND_FLOOR))
    return min(max(amount, low), high)


def parse_rules(raw: object) -> tuple[list[Rule], list[FieldError]]:
    """The ``rules`` of a policy document, each checked; errors name the rule (1-based row)."""
    if not isinstance(raw, list) or len(raw) > MAX_RULES:
        return [], [FieldError(None, "rules", f"a list of at most {MAX_RULES} rules")]
    rules: list[Rule] = []
    errors: list[FieldError] = []
    for row, item in enumerate(raw, start=1):
        kind = item.get("rule") if isinstance(item, dict) else None
        if kind not in RULE_KINDS or not isinstance(item, dict):
            errors.append(FieldError(row, "rule", f"one of {', '.join(RULE_KINDS)}"))
            continue
        allowed = {"cost_plus": {"margin_floor"}, "map": {"list"}, "parity": {"channel", "within"},
                   "max_change_per_day": {"limit"}, "ending": {"endings"}}[kind]  # fmt: skip
        for name in sorted(set(item) - allowed - {"rule"}):
            errors.append(FieldError(row, str(name)[:64], f"not a setting of {kind}"))
        if kind == "cost_plus":
            rules.append(Rule(kind, fraction=_fraction(item.get("margin_floor"), row, "margin_floor", errors, 0.95)))
        elif kind == "map":
            rules.append(Rule(kind, ref=_code(item.get("list"), row, "list", errors)))
        elif kind == "parity":
            ref = _code(item.get("channel"), row, "channel", errors)
            rules.append(Rule(kind, _fraction(item.get("within"), row, "within", errors, 1), ref))
        elif kind == "max_change_per_day":
            rules.append(Rule(kind, fraction=_fraction(item.get("limit"), row, "limit", errors, 1)))
        else:
            rules.append(Rule(kind, endings=_endings(item.get("endings", {}), row, errors)))
    return rules, errors


def _fraction(value: object, row: int, name: str, errors: list[FieldError], high: float) -> Decimal | None:
    try:
        number = Decimal(value) if isinstance(value, str) and len(value) <= 12 else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not 0 <= number <= Decimal(str(high)):
        errors.append(FieldError(row, name, f'a fraction as a decimal string from 0 to {high}, e.g. "0.25"'))
        return None
    return number


def _code(value: object, row: int, name: str, errors: list[FieldError]) -> str | None:
    if not isinstance(value, str) or not CODE_RE.fullmatch(value):
        errors.append(FieldError(row, name, "a code: lowercase letters, digits and _ . -"))
        return None
    return value


def _endings(value: object, row: int, errors: list[FieldError]) -> dict[str, Ending]:
    """``{"EUR": {"step": "1", "end": "0.95"}}``: steps and ends in major units of each currency."""
    out: dict[str, Ending] = {}
    if not isinstance(value, dict):
        errors.append(FieldError(row, "endings", 'currency -> {"step", "end"}'))
        return out
    for currency, spec in value.items():
        where = f"endings.{str(currency)[:8]}"
        try:
            exponent(str(currency))
        except UnknownCurrency:
            errors.append(FieldError(row, where, "an ISO 4217 currency code"))
            continue
        try:
            step, end = (spec[k] if isinstance(spec[k], str) and len(spec[k]) <= 12 else "x" for k in ("step", "end"))
            out[str(currency)] = Ending(to_minor(Decimal(step), str(currency)), to_minor(Decimal(end), str(currency)))
        except (KeyError, TypeError, ValueError, ArithmeticError):  # InvalidOperation is an ArithmeticError
            errors.append(FieldError(row, where, 'step and end as decimal strings, 0 <= end < step, e.g. "1", "0.95"'))
    return out
