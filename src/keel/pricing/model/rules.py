"""Pricing policies: ordered rules, as data, that turn a price list's base price into the price a channel
shows, each step recorded so every number can be explained.

A policy is a list of rules for a scope (``*``, every channel, or one channel's code: the channel's own
policy replaces the default). The rules run in their order on the base price:

- ``cost_plus`` ``{"margin_floor": "0.25"}``: the net price (before tax) keeps at least that margin on the
  SKU's cost, ``net >= cost / (1 - margin)``; a lower price is raised. A hard floor.
- ``map`` ``{"list": "map-eu", "brands": ["Kestrel"]}``: a minimum advertised price per SKU, from a price
  list of the same currency (with ``brands``, for those brands' SKUs only: a brand's MAP policy)
  holding the minimums; a lower price is raised. A hard floor.
- ``parity`` ``{"channel": "web-de", "within": "0.05"}``: the price stays within that fraction of the
  reference channel's price for the same country and SKU (a marketplace kept near the web store).
- ``max_change_per_day`` ``{"limit": "0.10"}``: the price moves at most that fraction from the price it had a
  day ago.
- ``competitor`` ``{"within": "0.05", "index": "1.00", "of": "lowest", "max_age_days": 7}``: the price stays
  within that fraction of ``index`` times the lowest (or ``median``) competitor price observed for the SKU in
  the country within ``max_age_days``; no fresh observation, no step (``signals.competitor_band``).
- ``markdown`` ``{"cover_days_above": 90, "percent": "0.20"}``: the price is lowered by that fraction when
  the SKU's days of cover exceed that many (``signals.Stock``).
- ``no_discount_when_short`` ``{"cover_days_below": 7}``: when the cover is under that many days, no
  ``markdown`` of the policy applies (wherever it stands), the compare-at ("was") price is dropped, and the
  price becomes its own hard floor, so no cart promotion takes anything off it.
- ``ending`` (always last, whatever its place; default on when a policy does not list it):
  the price moves down to the nearest price ending of its currency (``DEFAULT_ENDINGS``; a
  ``{"endings": {"EUR": {"step": "1", "end": "0.95"}}}`` overrides per currency).

Hard floors win: after the rules, and again after the ending, a price below the highest floor is raised to
it (to the next ending above it). So no rule and no ending can sell below cost plus margin or below MAP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

from keel.platform.errors import FieldError
from keel.platform.money import Ending, UnknownCurrency, exponent, plain, to_minor
from keel.pricing.model.lists import CODE_RE, PriceEntry
from keel.pricing.model.signals import BASES, Observed, Stock, above, below, competitor_band, markdown
from keel.pricing.model.tax import stated_from_net

SIGNAL_KINDS = ("competitor", "markdown", "no_discount_when_short")
STOCK_KINDS = ("markdown", "no_discount_when_short")
RULE_KINDS = ("cost_plus", "map", "parity", "max_change_per_day", *SIGNAL_KINDS, "ending")
SETTINGS = {
    "cost_plus": {"margin_floor"},
    "map": {"list", "brands"},
    "parity": {"channel", "within"},
    "max_change_per_day": {"limit"},
    "competitor": {"within", "index", "of", "max_age_days"},
    "markdown": {"cover_days_above", "percent"},
    "no_discount_when_short": {"cover_days_below"},
    "ending": {"endings"},
}
MAX_RULES = 20
MAX_DAYS = 3650
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
    fraction: Decimal | None = None  # cost_plus margin_floor, parity/competitor within, the limit, markdown percent
    ref: str | None = None  # map: the list; parity: the reference channel; competitor: lowest or median
    index: Decimal = Decimal(1)  # competitor: the target as a multiple of the competitor price
    days: int | None = None  # competitor max_age_days; markdown cover_days_above; no_discount_when_short below
    endings: Mapping[str, Ending] = field(default_factory=dict)  # ending: overrides per currency
    brands: frozenset[str] = frozenset()  # map: only these brands' SKUs (empty: every SKU the list prices)


@dataclass(frozen=True)
class Facts:
    """What the rules need to know of one SKU in one market (the service gathers them)."""

    cost: int | None = None  # net unit cost in the channel's currency, minor units
    rate: Decimal = Decimal(0)  # the tax rate of the SKU's class in the country
    inclusive: bool = True  # the market states prices with tax
    map_prices: Mapping[str, int] = field(default_factory=dict)  # map list code -> the SKU's minimum
    reference: Mapping[str, int] = field(default_factory=dict)  # parity channel -> its price of the SKU here
    previous: int | None = None  # the price a day ago
    competitors: tuple[Observed, ...] = ()  # competitor prices of the SKU in the country (any age)
    stock: Stock | None = None  # the SKU's stock and run rate (None: not known to inventory, or not needed)


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
    short = _short(rules, facts.stock)
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
        elif rule.kind in SIGNAL_KINDS and (found := _signal(rule, amount, facts, short, money)) is not None:
            amount, note = found
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
    if short is not None and facts.stock is not None:
        # a guard on the whole policy, like the floor: said once, after the price is settled. The price becomes
        # its own hard floor, so no promotion of a cart can take anything off it either
        blocked = [r for r in rules if r.kind == "markdown" and r.days is not None and above(facts.stock, r.days)]
        what = ["no markdown"] * bool(blocked) + ["no compare-at price"] * (compare is not None) + ["no promotion"]
        note = f"stock short: {facts.stock.describe()}, under {short}: {', '.join(what)}"
        steps.append(Step("no_discount_when_short", amount, amount, note))
        compare, floor = None, amount
    return Priced(amount, compare, code, tuple(steps), floor)


def _short(rules: Sequence[Rule], stock: Stock | None) -> int | None:
    """The threshold of the first ``no_discount_when_short`` rule the cover is under (None: not short)."""
    if stock is None:
        return None
    return next((r.days for r in rules if r.kind == "no_discount_when_short" and r.days and below(stock, r.days)), None)


def _signal(
    rule: Rule, amount: int, facts: Facts, short: int | None, money: Callable[[int], str]
) -> tuple[int, str] | None:
    """A competitor or stock rule's new amount and note; None when it has no facts or does not apply."""
    if rule.kind == "competitor" and rule.fraction is not None and rule.days is not None:
        return competitor_band(amount, facts.competitors, rule.fraction, rule.index, rule.days, rule.ref or "", money)
    if rule.kind == "markdown" and facts.stock is not None and short is None and rule.fraction and rule.days:
        return markdown(amount, facts.stock, rule.fraction, rule.days)
    return None  # no_discount_when_short acts after the rules (see ``price``)


def stock_thresholds(rules: Iterable[Rule]) -> tuple[tuple[str, int], ...]:
    """The cover thresholds of the stock rules among ``rules`` (``("above", 90)``, ``("below", 7)``): a stock
    change matters to a price only when it carries the cover across one of them."""
    found = {("above" if r.kind == "markdown" else "below", r.days) for r in rules if r.kind in STOCK_KINDS and r.days}
    return tuple(sorted((side, days) for side, days in found if days is not None))


def stock_state(stock: Stock, thresholds: Sequence[tuple[str, int]]) -> tuple[bool, ...]:
    """Which side of each threshold the cover is on."""
    return tuple(above(stock, d) if side == "above" else below(stock, d) for side, d in thresholds)


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
        for name in sorted(set(item) - SETTINGS[kind] - {"rule"}):
            errors.append(FieldError(row, str(name)[:64], f"not a setting of {kind}"))
        if kind == "cost_plus":
            rules.append(Rule(kind, fraction=_fraction(item.get("margin_floor"), row, "margin_floor", errors, 0.95)))
        elif kind == "map":
            rules.append(
                Rule(kind, ref=_code(item.get("list"), row, "list", errors), brands=_brands(item, row, errors))
            )
        elif kind == "parity":
            ref = _code(item.get("channel"), row, "channel", errors)
            rules.append(Rule(kind, _fraction(item.get("within"), row, "within", errors, 1), ref))
        elif kind == "max_change_per_day":
            rules.append(Rule(kind, fraction=_fraction(item.get("limit"), row, "limit", errors, 1)))
        elif kind in SIGNAL_KINDS:
            rules.append(_signal_rule(kind, item, row, errors))
        else:
            rules.append(Rule(kind, endings=_endings(item.get("endings", {}), row, errors)))
    return rules, errors


def _brands(item: Mapping[str, object], row: int, errors: list[FieldError]) -> frozenset[str]:
    """A MAP rule's ``brands``: 1 to 1,000 brand names (printable, 1 to 100 characters), or left out."""
    value = item.get("brands")
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not 1 <= len(value) <= 1000 or not all(
        isinstance(b, str) and 1 <= len(b) <= 100 and b.isprintable() for b in value
    ):  # fmt: skip
        errors.append(FieldError(row, "brands", "a list of 1 to 1,000 brand names"))
        return frozenset()
    return frozenset(value)


def _fraction(value: object, row: int, name: str, errors: list[FieldError], high: float) -> Decimal | None:
    try:
        number = Decimal(value) if isinstance(value, str) and len(value) <= 12 else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not 0 <= number <= Decimal(str(high)):
        errors.append(FieldError(row, name, f'a fraction as a decimal string from 0 to {high}, e.g. "0.25"'))
        return None
    return number


def _signal_rule(kind: str, item: dict[str, object], row: int, errors: list[FieldError]) -> Rule:
    if kind == "competitor":
        basis = item.get("of", "lowest")
        if basis not in BASES:
            errors.append(FieldError(row, "of", "lowest or median"))
        index = _fraction(item.get("index", "1"), row, "index", errors, 10)
        if index is not None and index <= 0:
            errors.append(FieldError(row, "index", 'a multiple above 0, e.g. "0.98"'))
        within = _fraction(item.get("within"), row, "within", errors, 1)
        days = _days(item.get("max_age_days", 7), row, "max_age_days", errors, 365)
        return Rule(kind, fraction=within, ref=str(basis), index=index or Decimal(1), days=days)
    if kind == "markdown":
        percent = _fraction(item.get("percent"), row, "percent", errors, 0.95)
        return Rule(kind, fraction=percent, days=_days(item.get("cover_days_above"), row, "cover_days_above", errors))
    return Rule(kind, days=_days(item.get("cover_days_below"), row, "cover_days_below", errors))


def _days(value: object, row: int, name: str, errors: list[FieldError], high: int = MAX_DAYS) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        errors.append(FieldError(row, name, f"a whole number of days from 1 to {high}"))
        return None
    return value


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
