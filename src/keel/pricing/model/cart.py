"""Cart evaluation: a cart's lines at their published prices, the promotions that apply to it, each discount
spread over the lines it comes from, the tax of every line, and the totals, explained.

The same call serves the web, the app and the till. How promotions combine, in order:

1. **Eligible**: live at the cart's moment, for its channel, country, customer group and loyalty tier, in its
   currency (when the promotion has amounts), with one of its codes if it is a coupon, within its usage
   limits and budget, and giving something to this cart on its own.
2. **Best deal within a group**: of the eligible promotions sharing a ``group``, only the one giving the most
   on its own stays (ties: higher priority, then code).
3. **Selection by priority** (higher first; ties: item before order before shipping, then code): a promotion
   ``exclusive: global`` is selected only if nothing was selected before it, and then nothing after it; one
   ``exclusive: class`` only if nothing of its class was, and then nothing more of its class;
   ``stop_further`` lets nothing after it.
4. **Application by class**: item promotions first, then order, then shipping, each on the amounts the ones
   before left. So a percentage off the order applies to the discounted lines, never to the list prices
   (the peer's free order: 40 % then 70 % of the original); a line never goes below its hard floor (the
   margin floor and minimum advertised price of its price, per unit), whatever stacks.

Order discounts are spread over the lines in scope by their value (largest remainders, to the minor unit),
so a line at 7 % and one at 19 % each carry their share and their tax is computed on what they cost after
it. Every total is the sum of its lines; nothing is ever negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from keel.platform.money import allocate, plain, scale
from keel.pricing.model.promotions import CLASSES, Promotion
from keel.pricing.model.tax import tax


@dataclass(frozen=True)
class CartLine:
    sku: str
    quantity: int
    unit: int  # the published unit price, stated on the market's basis (minor units)
    floor: int = 0  # per unit: the price's hard floor (margin floor, MAP)
    rate: Decimal = Decimal(0)  # the tax rate of the SKU's class in the country
    categories: frozenset[str] = frozenset()
    brand: str | None = None


@dataclass(frozen=True)
class Cart:
    channel: str
    country: str
    currency: str
    inclusive: bool
    lines: tuple[CartLine, ...]
    at: datetime
    customer: str | None = None
    group: str | None = None
    tier: str | None = None  # the customer's loyalty tier
    codes: frozenset[str] = frozenset()
    shipping: int = 0  # stated on the market's basis
    shipping_rate: Decimal = Decimal(0)


@dataclass(frozen=True)
class Limits:
    """What usage and budgets allow now (the service reads them): promotion codes whose usage limit (in all,
    or for this customer) is reached, the budget each budgeted promotion has left, and the promotion each
    valid code of the cart unlocks with the codes refused and why."""

    used_up: Mapping[str, str] = field(default_factory=dict)  # promotion -> why it can be used no more
    budget_left: Mapping[str, int] = field(default_factory=dict)
    unlocked: Mapping[str, str] = field(default_factory=dict)  # code -> its promotion
    refused: Mapping[str, str] = field(default_factory=dict)  # code -> why (unknown, expired, exhausted)


@dataclass(frozen=True)
class Discount:
    promotion: str
    amount: int


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit: int
    amount: int  # unit x quantity
    discounts: tuple[Discount, ...]
    total: int  # amount less the discounts, stated on the market's basis
    net: int
    tax: int
    gross: int
    rate: Decimal


@dataclass(frozen=True)
class Outcome:
    promotion: str
    applied: bool
    amount: int  # what it took off (0 when not applied)
    reason: str


@dataclass(frozen=True)
class Evaluated:
    currency: str
    inclusive: bool
    lines: tuple[Line, ...]
    shipping: Line | None
    subtotal: int  # the lines' and shipping's amounts before discounts
    discount: int
    total: int  # stated basis
    net: int
    tax: int
    gross: int  # what the customer pays
    outcomes: tuple[Outcome, ...]
    codes: Mapping[str, str]  # code -> "applied", or why not


class _State:
    """The running amounts: per line what it costs now and what each promotion took."""

    def __init__(self, cart: Cart) -> None:
        self.cart = cart
        self.current = [ln.unit * ln.quantity for ln in cart.lines]
        self.taken: list[dict[str, int]] = [{} for _ in cart.lines]
        self.shipping = cart.shipping
        self.shipping_taken: dict[str, int] = {}

    def room(self, i: int) -> int:
        line = self.cart.lines[i]
        return max(0, self.current[i] - line.floor * line.quantity)

    def take(self, code: str, parts: Sequence[int], shipping: int) -> None:
        for i, part in enumerate(parts):
            if part:
                self.current[i] -= part
                self.taken[i][code] = self.taken[i].get(code, 0) + part
        if shipping:
            self.shipping -= shipping
            self.shipping_taken[code] = shipping


def evaluate(cart: Cart, promotions: Sequence[Promotion], limits: Limits) -> Evaluated:
    outcomes: dict[str, Outcome] = {}
    alone: dict[str, int] = {}
    eligible: list[Promotion] = []
    for p in promotions:
        why = _ineligible(p, cart, limits)
        if why is None:
            fresh = _State(cart)
            alone[p.code] = _apply(p, fresh, limits)[0]
            why = None if alone[p.code] > 0 else (_short(p, fresh) or _nothing(p))
        if why is None:
            eligible.append(p)
        elif why:  # "" for promotions not for this market: left out of the explanation
            outcomes[p.code] = Outcome(p.code, False, 0, why)
    best: dict[str, Promotion] = {}
    for p in eligible:
        if p.group is not None:
            held = best.get(p.group)
            if held is None or (alone[p.code], p.priority, held.code) > (alone[held.code], held.priority, p.code):
                best[p.group] = p
    selected: list[Promotion] = []
    closed: set[str] = set()
    stopper: str | None = None
    for p in sorted(eligible, key=lambda p: (-p.priority, CLASSES.index(p.klass), p.code)):
        if p.group is not None and best[p.group] is not p:
            why = f"a better deal in group {p.group}: {best[p.group].code}"
        elif stopper is not None:
            why = f"{stopper} lets nothing of lower priority apply after it"
        elif p.klass in closed:
            why = f"{p.klass} promotions are closed by an exclusive one"
        elif p.exclusive == "global" and selected:
            why = f"exclusive, but {selected[0].code} of higher priority applies"
        elif p.exclusive == "class" and any(s.klass == p.klass for s in selected):
            why = f"exclusive in its class, but {next(s.code for s in selected if s.klass == p.klass)} applies"
        else:
            selected.append(p)
            if p.exclusive == "global" or p.stop_further:
                stopper = p.code
            if p.exclusive == "class":
                closed.add(p.klass)
            continue
        outcomes[p.code] = Outcome(p.code, False, 0, why)
    state = _State(cart)
    for p in sorted(selected, key=lambda p: (CLASSES.index(p.klass), -p.priority, p.code)):
        given, note = _apply(p, state, limits, take=True)
        outcomes[p.code] = Outcome(p.code, given > 0, given, note if given else "nothing left to take: " + note)
    return _totals(cart, state, outcomes, limits)


def _ineligible(p: Promotion, cart: Cart, limits: Limits) -> str | None:
    """Why ``p`` cannot apply to ``cart`` (None: it can); "" when it is not for this market at all."""
    s = p.scope
    for wanted, value in (
        (s.channels, cart.channel),
        (s.countries, cart.country),
        (s.customer_groups, cart.group),
        (s.loyalty_tiers, cart.tier),
    ):
        if wanted and value not in wanted:
            return ""
    if p.currency is not None and p.currency != cart.currency:
        return ""
    if not p.live(cart.at):
        return "not live now" if p.active else "switched off"
    if p.coupon and p.code not in limits.unlocked.values():
        return "needs one of its codes"
    if p.code in limits.used_up:
        return limits.used_up[p.code]
    if limits.budget_left.get(p.code, 1) <= 0:
        return "its budget is spent"
    return None


def _nothing(p: Promotion) -> str:
    return {
        "buy_x_get_y": f"needs {p.buy + p.get} units in scope",
        "bundle": "needs every item of the bundle (or the bundle costs more than its items)",
        "tiered_spend": "the lines in scope reach no tier",
    }.get(p.kind, "no line in scope, or each at its floor" if p.klass != "shipping" else "no shipping to take from")


def _apply(p: Promotion, state: _State, limits: Limits, take: bool = False) -> tuple[int, str]:
    """What ``p`` takes off on ``state`` (and takes, when ``take``), with a note of how it was computed."""
    cart = state.cart
    lines = _covered(p, cart)
    base = sum(state.current[i] for i in lines)
    short = _short(p, state, lines)
    if short is not None:
        return 0, short
    parts = [0] * len(cart.lines)
    shipping = 0
    note = ""
    if p.klass == "shipping":
        wanted = state.shipping if p.percent is None else scale(state.shipping, p.percent)
        shipping = min(state.shipping, wanted if p.amount is None else p.amount)
        note = f"off shipping of {_money(state.shipping, cart)}"
    elif p.kind == "percent_off" and p.klass == "item":
        for i in lines:
            parts[i] = min(state.room(i), scale(state.current[i], p.percent or Decimal(0)))
        note = f"{p.percent:.0%} off {len(lines)} line(s)"
    elif p.kind == "amount_off" and p.klass == "item":
        for i in lines:
            parts[i] = min(state.room(i), (p.amount or 0) * cart.lines[i].quantity)
        note = f"{_money(p.amount or 0, cart)} off each unit of {len(lines)} line(s)"
    elif p.kind == "buy_x_get_y":
        parts, note = _buy_get(p, state, lines)
    elif p.kind == "bundle":
        parts, note = _bundle(p, state)
    else:  # order: percent_off, amount_off, tiered_spend on the lines in scope, spread by value
        wanted, note = _order_amount(p, base, cart)
        parts = _spread(wanted, state, lines)
    budget = limits.budget_left.get(p.code)
    given = sum(parts) + shipping
    if budget is not None and given > budget:
        shares = allocate(budget, [*parts, shipping])
        parts, shipping = shares[:-1], shares[-1]
        note += f", limited by what is left of its budget ({_money(budget, cart)})"
        given = budget
    if take:
        state.take(p.code, parts, shipping)
    return given, note


def _covered(p: Promotion, cart: Cart) -> list[int]:
    return [i for i, ln in enumerate(cart.lines) if p.scope.covers(ln.sku, ln.categories, ln.brand)]


def _short(p: Promotion, state: _State, lines: Sequence[int] | None = None) -> str | None:
    """Why ``p``'s minimum subtotal is not reached by the lines in scope as they cost now (None: it is)."""
    if p.min_subtotal is None:
        return None
    base = sum(state.current[i] for i in (_covered(p, state.cart) if lines is None else lines))
    if base >= p.min_subtotal:
        return None
    cart = state.cart
    return f"the lines in scope come to {_money(base, cart)}, below its minimum {_money(p.min_subtotal, cart)}"


def _buy_get(p: Promotion, state: _State, lines: Sequence[int]) -> tuple[list[int], str]:
    """Every ``buy + get`` units in scope make one application (at most ``max_applications``); the cheapest
    ``get`` units of the cart's units in scope are discounted (the retailer-favourable reading, documented).
    A line's units are worth its running amount split evenly to the minor unit (the first ``amount % qty``
    one unit more), counted in groups, never one by one: a line may hold 100,000 units."""
    cart = state.cart
    groups: list[tuple[int, int, int]] = []  # (unit value, line, units)
    for i in lines:
        qty = cart.lines[i].quantity
        base, extra = divmod(state.current[i], qty)
        groups += [(base, i, qty - extra), *([(base + 1, i, extra)] if extra else [])]
    units = sum(n for _, _, n in groups)
    times = units // (p.buy + p.get)
    if p.max_applications is not None:
        times = min(times, p.max_applications)
    parts = [0] * len(cart.lines)
    need = times * p.get
    for value, i, n in sorted(groups, key=lambda g: (g[0], -g[1])):
        if need <= 0:
            break
        taken = min(n, need)
        parts[i] += scale(value, p.percent or Decimal(1)) * taken
        need -= taken
    parts = [min(part, state.room(i)) for i, part in enumerate(parts)]
    return parts, f"buy {p.buy} get {p.get} at {p.percent:.0%} off, {times} time(s)"


def _bundle(p: Promotion, state: _State) -> tuple[list[int], str]:
    cart = state.cart
    where: dict[str, list[int]] = {}
    for i, ln in enumerate(cart.lines):
        where.setdefault(ln.sku, []).append(i)
    held = {sku: sum(cart.lines[i].quantity for i in where.get(sku, [])) for sku, _ in p.items}
    times = min(held[sku] // q for sku, q in p.items)
    if p.max_applications is not None:
        times = min(times, p.max_applications)
    parts = [0] * len(cart.lines)
    if times == 0:
        return parts, "the bundle is not complete"
    # the value of the units a set takes: each line's running amount per unit, in whole minor units
    used: dict[int, int] = {}
    for sku, q in p.items:
        need = times * q
        for i in where[sku]:
            n = min(need, cart.lines[i].quantity)
            used[i], need = n, need - n
    value = {i: state.current[i] * n // cart.lines[i].quantity for i, n in used.items() if n}
    off = sum(value.values()) - times * (p.amount or 0)
    if off <= 0:
        return parts, "the bundle costs more than its items"
    spread = _spread(off, state, list(value), weights=[value[i] for i in value])
    return spread, f"{times} set(s) at {_money(p.amount or 0, cart)} each"


def _order_amount(p: Promotion, base: int, cart: Cart) -> tuple[int, str]:
    if p.kind == "tiered_spend":
        tier = next((t for t in reversed(p.tiers) if t.spend <= base), None)
        if tier is None:
            return 0, "no tier reached"
        wanted = tier.amount if tier.amount is not None else scale(base, tier.percent or Decimal(0))
        return min(wanted, base), f"spend tier {_money(tier.spend, cart)} reached with {_money(base, cart)}"
    if p.percent is not None:
        return scale(base, p.percent), f"{p.percent:.0%} off {_money(base, cart)} of lines in scope"
    return min(p.amount or 0, base), f"{_money(p.amount or 0, cart)} off the order"


def _spread(total: int, state: _State, lines: Sequence[int], weights: Sequence[int] | None = None) -> list[int]:
    """``total`` over ``lines`` by value (``weights``: their running amounts unless given), never past a line's
    room above its floor: what a full line cannot take goes to the others; what none can take is not given."""
    parts = [0] * len(state.cart.lines)
    weight = dict(zip(lines, weights if weights is not None else [state.current[i] for i in lines], strict=True))
    left = total
    while left > 0:
        open_ = [i for i in lines if weight[i] > 0 and state.room(i) - parts[i] > 0]
        if not open_:
            break
        for i, share in zip(open_, allocate(left, [weight[i] for i in open_]), strict=True):
            give = min(share, state.room(i) - parts[i])
            parts[i] += give
            left -= give
    return parts


def _totals(cart: Cart, state: _State, outcomes: Mapping[str, Outcome], limits: Limits) -> Evaluated:
    lines = tuple(
        _line(ln.sku, ln.quantity, ln.unit, state.current[i], state.taken[i], ln.rate, cart)
        for i, ln in enumerate(cart.lines)
    )
    shipping = None
    if cart.shipping:
        shipping = _line("shipping", 1, cart.shipping, state.shipping, state.shipping_taken, cart.shipping_rate, cart)
    every = [*lines, *([shipping] if shipping else [])]
    applied = {p for p, o in outcomes.items() if o.applied}
    codes = {c: "applied" if p in applied else "its promotion did not apply" for c, p in limits.unlocked.items()}
    codes |= dict(limits.refused)
    ordered = sorted(outcomes.values(), key=lambda o: (not o.applied, o.promotion))
    return Evaluated(
        cart.currency, cart.inclusive, lines, shipping,
        sum(x.amount for x in every), sum(x.amount - x.total for x in every), sum(x.total for x in every),
        sum(x.net for x in every), sum(x.tax for x in every), sum(x.gross for x in every), tuple(ordered), codes,
    )  # fmt: skip


def _line(sku: str, qty: int, unit: int, total: int, taken: Mapping[str, int], rate: Decimal, cart: Cart) -> Line:
    taxed = tax(total, rate, cart.inclusive)
    discounts = tuple(Discount(code, amount) for code, amount in sorted(taken.items()))
    return Line(sku, qty, unit, unit * qty, discounts, total, taxed.net, taxed.tax, taxed.gross, rate)


def _money(minor: int, cart: Cart) -> str:
    return f"{plain(minor, cart.currency)} {cart.currency}"
