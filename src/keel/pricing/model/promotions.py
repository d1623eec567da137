"""Promotions as data: what a promotion gives, to which lines, for whom, when, and how it stacks with others.

A promotion is one of five kinds, each in one class (item, order or shipping: the class decides when it
is applied and what "exclusive in its class" means):

- ``percent_off`` ``{"target": "items"|"order"|"shipping", "percent": "0.20"}``: a fraction off the lines in
  scope (item), the order's lines in scope (order) or the shipping;
- ``amount_off`` ``{"target": ..., "amount": "5.00"}``: an amount off each unit in scope (item), off the
  order's lines in scope (order) or off the shipping, never more than what it is taken from;
- ``buy_x_get_y`` ``{"buy": 2, "get": 1, "percent": "1"}``: for every ``buy + get`` units in scope, the
  ``get`` cheapest are that fraction off (1: free); it repeats up to ``max_applications``;
- ``bundle`` ``{"items": [{"sku", "quantity"}], "amount": "49.00"}``: each complete set of the items costs
  that amount together (applied up to ``max_applications``), when that is less than their prices;
- ``tiered_spend`` ``{"tiers": [{"spend": "100.00", "amount"|"percent": ...}]}``: the highest tier whose
  spend the order's lines in scope reach (after item discounts) gives its amount or fraction off the order.

Every promotion has a scope that must name something (``{"all": true}`` for every cart): channels,
countries, customer groups, loyalty tiers (an offer for members), and for the lines it counts and
discounts: SKUs, categories, brands. A validity window, a ``priority`` (higher first), ``exclusive``
(``none``, ``class``: alone in its class, ``global``: alone in the cart), ``stop_further`` (nothing of
lower priority after it), a ``group`` (of a group's promotions only the best deal for the cart applies),
``coupon`` (applies only with one of its codes), usage limits (in all, per customer) and a budget (the
discount it may give in all). Amounts are in the promotion's ``currency``: a promotion with amounts applies
only to carts in that currency; one without amounts may leave it unset (any currency).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from keel.platform.errors import FieldError, ValidationFailed
from keel.platform.money import plain
from keel.pricing.model.documents import instant
from keel.pricing.model.lists import CODE_RE, SKU_RE, amount_of, parse_currency

KINDS = ("percent_off", "amount_off", "buy_x_get_y", "bundle", "tiered_spend")
TARGETS = ("items", "order", "shipping")
CLASSES = ("item", "order", "shipping")  # the order classes are applied in
EXCLUSIVE = ("none", "class", "global")
SCOPES = ("channels", "countries", "customer_groups", "loyalty_tiers", "skus", "categories", "brands")
LINE_SCOPES = ("skus", "categories", "brands")
MAX_SCOPE = 10_000  # values in one scope list
MAX_TIERS = 20
MAX_BUNDLE = 20
MAX_COUNT = 1_000_000_000
FIELDS = {
    "name", "kind", "target", "percent", "amount", "buy", "get", "items", "tiers", "currency", "scope",
    "valid_from", "valid_to", "priority", "exclusive", "stop_further", "group", "coupon", "usage_limit",
    "per_customer_limit", "budget", "max_applications", "min_subtotal", "active", "publish",
}  # fmt: skip


@dataclass(frozen=True)
class Tier:
    spend: int
    amount: int | None  # minor units off, or
    percent: Decimal | None  # a fraction off


@dataclass(frozen=True)
class Scope:
    """Who and what a promotion is for; an empty set (or None for the line filters) means any."""

    channels: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    customer_groups: frozenset[str] = frozenset()
    loyalty_tiers: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    brands: frozenset[str] = frozenset()

    def covers(self, sku: str, categories: frozenset[str], brand: str | None) -> bool:
        """Whether a line of ``sku`` counts: every line filter given matches (none given: every line)."""
        return (
            (not self.skus or sku in self.skus)
            and (not self.categories or not self.categories.isdisjoint(categories))
            and (not self.brands or brand in self.brands)
        )


@dataclass(frozen=True)
class Promotion:
    code: str
    name: str
    kind: str
    klass: str  # item, order or shipping
    scope: Scope
    percent: Decimal | None = None
    amount: int | None = None
    buy: int = 0
    get: int = 0
    items: tuple[tuple[str, int], ...] = ()  # bundle: (sku, quantity)
    tiers: tuple[Tier, ...] = ()
    currency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    priority: int = 0
    exclusive: str = "none"
    stop_further: bool = False
    group: str | None = None
    coupon: bool = False
    usage_limit: int | None = None
    per_customer_limit: int | None = None
    budget: int | None = None
    max_applications: int | None = None
    min_subtotal: int | None = None
    active: bool = True
    publish: bool = False  # a sale price for everyone: in the published price, announced to the channels

    def live(self, at: datetime) -> bool:
        return (
            self.active
            and (self.valid_from is None or self.valid_from <= at)
            and (self.valid_to is None or at < self.valid_to)
        )

    def overlaps(self, other: Promotion) -> bool:
        """Whether both can be live at once for a common channel, country and customer group, in a common
        currency (an unset window end, an empty set or no currency: every one)."""
        apart = (self.valid_to is not None and other.valid_from is not None and self.valid_to <= other.valid_from) or (
            other.valid_to is not None and self.valid_from is not None and other.valid_to <= self.valid_from
        )
        shared = all(
            not a or not b or not a.isdisjoint(b)
            for a, b in (
                (self.scope.channels, other.scope.channels),
                (self.scope.countries, other.scope.countries),
                (self.scope.customer_groups, other.scope.customer_groups),
            )
        )
        currencies = self.currency is None or other.currency is None or self.currency == other.currency
        return not apart and shared and currencies


def parse_promotion(code: str, document: object) -> Promotion:
    """A promotion document checked whole: every problem named by field; ``ValidationFailed`` if any."""
    errors: list[FieldError] = []
    if not CODE_RE.fullmatch(code):
        errors.append(FieldError(None, "code", "lowercase letters, digits and _ . -, at most 64"))
    if not isinstance(document, dict):
        raise ValidationFailed("invalid promotion", [*errors, FieldError(None, "", "a JSON object")])
    d: dict[str, Any] = document
    errors += [FieldError(None, str(k)[:64], "unknown field") for k in sorted(set(d) - FIELDS)]
    name = d.get("name", code)
    if not isinstance(name, str) or not 1 <= len(name) <= 200 or "\x00" in name:
        errors.append(FieldError(None, "name", "1 to 200 characters"))
    kind = d.get("kind")
    if kind not in KINDS:
        errors.append(FieldError(None, "kind", f"one of {', '.join(KINDS)}"))
        raise ValidationFailed("invalid promotion", errors)
    currency = None if d.get("currency") is None else parse_currency(d.get("currency"), errors)
    target = d.get("target", "items") if kind in ("percent_off", "amount_off") else None
    if target is not None and target not in TARGETS:
        errors.append(FieldError(None, "target", f"one of {', '.join(TARGETS)}"))
    klass = {"items": "item", "order": "order", "shipping": "shipping"}.get(str(target), "item")
    if kind == "tiered_spend":
        klass = "order"

    def money(field: str, value: Any) -> int | None:
        if currency is None:
            errors.append(FieldError(None, "currency", f"needed with {field}: amounts are in one currency"))
            return None
        found: list[FieldError] = []
        minor = amount_of(value, currency, None, field, found)
        errors.extend(found)
        return minor

    percent = amount = None
    buy = get = 0
    items: list[tuple[str, int]] = []
    tiers: list[Tier] = []
    allowed = {
        "percent_off": {"percent", "target"},
        "amount_off": {"amount", "target"},
        "buy_x_get_y": {"buy", "get", "percent"},
        "bundle": {"items", "amount"},
        "tiered_spend": {"tiers"},
    }[kind]
    for field in ("percent", "amount", "buy", "get", "items", "tiers", "target"):
        if field in d and field not in allowed:
            errors.append(FieldError(None, field, f"not a setting of {kind}"))
    if kind == "percent_off":
        percent = _fraction(d.get("percent"), "percent", errors)
    elif kind == "amount_off":
        amount = money("amount", d.get("amount"))
        if amount == 0:
            errors.append(FieldError(None, "amount", "more than zero"))
    elif kind == "buy_x_get_y":
        buy = _count(d.get("buy"), "buy", errors, 1, 1000) or 0
        get = _count(d.get("get"), "get", errors, 1, 1000) or 0
        percent = _fraction(d.get("percent", "1"), "percent", errors)
    elif kind == "bundle":
        items = _bundle(d.get("items"), errors)
        amount = money("amount", d.get("amount"))
    else:
        tiers = _tiers(d.get("tiers"), currency, errors)
    scope = _scope(d.get("scope"), errors)
    window = {k: instant(d.get(k), k, errors) for k in ("valid_from", "valid_to")}
    if window["valid_from"] and window["valid_to"] and window["valid_from"] >= window["valid_to"]:
        errors.append(FieldError(None, "valid_to", "must be after valid_from"))
    priority = _count(d.get("priority", 0), "priority", errors, -1000, 1000) or 0
    exclusive = d.get("exclusive", "none")
    if exclusive not in EXCLUSIVE:
        errors.append(FieldError(None, "exclusive", f"one of {', '.join(EXCLUSIVE)}"))
    flags = {}
    for flag in ("stop_further", "coupon", "active", "publish"):
        value = d.get(flag, flag == "active")
        if not isinstance(value, bool):
            errors.append(FieldError(None, flag, "true or false"))
        flags[flag] = bool(value) if isinstance(value, bool) else False
    group = d.get("group")
    if group is not None and (not isinstance(group, str) or not CODE_RE.fullmatch(group)):
        errors.append(FieldError(None, "group", "a code: lowercase letters, digits and _ . -"))
    limits = {
        k: None if d.get(k) is None else _count(d.get(k), k, errors, 1, MAX_COUNT)
        for k in ("usage_limit", "per_customer_limit", "max_applications")
    }
    budget = None if d.get("budget") is None else money("budget", d.get("budget"))
    minimum = None if d.get("min_subtotal") is None else money("min_subtotal", d.get("min_subtotal"))
    if flags["publish"] and not errors:
        why = _unpublishable(kind, klass, flags["coupon"], scope, limits, budget, minimum)
        if why:
            errors.append(FieldError(None, "publish", f"only a sale price for everyone is published: {why}"))
    if errors or not isinstance(name, str):
        raise ValidationFailed("invalid promotion", errors)
    return Promotion(
        code, name, kind, klass, scope, percent, amount, buy, get, tuple(items), tuple(tiers), currency,
        window["valid_from"], window["valid_to"], priority, str(exclusive), flags["stop_further"],
        group if isinstance(group, str) else None, flags["coupon"], limits["usage_limit"],
        limits["per_customer_limit"], budget, limits["max_applications"], minimum, flags["active"],
        flags["publish"],
    )  # fmt: skip


def _unpublishable(
    kind: str, klass: str, coupon: bool, scope: Scope, limits: dict[str, int | None], budget: int | None,
    minimum: int | None,
) -> str:  # fmt: skip
    """Why a promotion cannot be a published sale price (""; it can): it must take a fraction or an amount off
    each unit in scope, for everyone, with nothing counted."""
    if kind not in ("percent_off", "amount_off") or klass != "item":
        return "a percent_off or amount_off on items"
    if coupon or scope.customer_groups or scope.loyalty_tiers:
        return "no code, customer group or loyalty tier"
    if minimum is not None or budget is not None or any(v is not None for v in limits.values()):
        return "no minimum subtotal, budget or usage limit"
    return ""


def document_of(p: Promotion) -> dict[str, Any]:
    """The promotion as the document that saves it (amounts as decimal strings): what the API returns."""

    def money(minor: int | None) -> str | None:
        return None if minor is None or p.currency is None else plain(minor, p.currency)

    doc: dict[str, Any] = {"name": p.name, "kind": p.kind, "currency": p.currency}
    if p.kind in ("percent_off", "amount_off"):
        doc["target"] = {"item": "items"}.get(p.klass, p.klass)
    if p.percent is not None:
        doc["percent"] = str(p.percent)
    if p.amount is not None:
        doc["amount"] = money(p.amount)
    if p.kind == "buy_x_get_y":
        doc |= {"buy": p.buy, "get": p.get}
    if p.items:
        doc["items"] = [{"sku": s, "quantity": q} for s, q in p.items]
    if p.tiers:
        doc["tiers"] = [
            {"spend": money(t.spend), **({"amount": money(t.amount)} if t.amount is not None else {}),
             **({"percent": str(t.percent)} if t.percent is not None else {})}
            for t in p.tiers
        ]  # fmt: skip
    named: dict[str, Any] = {k: sorted(getattr(p.scope, k)) for k in SCOPES if getattr(p.scope, k)}
    doc["scope"] = named or {"all": True}
    doc |= {
        "valid_from": p.valid_from.isoformat() if p.valid_from else None,
        "valid_to": p.valid_to.isoformat() if p.valid_to else None,
        "priority": p.priority, "exclusive": p.exclusive, "stop_further": p.stop_further, "group": p.group,
        "coupon": p.coupon, "usage_limit": p.usage_limit, "per_customer_limit": p.per_customer_limit,
        "budget": money(p.budget), "max_applications": p.max_applications, "min_subtotal": money(p.min_subtotal),
        "active": p.active, "publish": p.publish,
    }  # fmt: skip
    return doc


def _scope(value: object, errors: list[FieldError]) -> Scope:
    """A scope names at least one thing; ``{"all": true}`` says "every cart" on purpose (an empty scope is
    refused: a promotion meant for one brand must not reach the whole catalogue by a missing field)."""
    if value == {"all": True}:
        return Scope()
    if not isinstance(value, dict) or not value:
        errors.append(FieldError(None, "scope", 'name at least one of channels, countries, ..., or {"all": true}'))
        return Scope()
    sets: dict[str, frozenset[str]] = {}
    for key, items in value.items():
        where = f"scope.{str(key)[:32]}"
        if key not in SCOPES:
            errors.append(FieldError(None, where, f"one of {', '.join(SCOPES)}, or all"))
            continue
        checks: dict[str, Callable[[str], object]] = {"countries": _country, "brands": _brand, "skus": SKU_RE.fullmatch}
        check = checks.get(key, CODE_RE.fullmatch)
        good = isinstance(items, list) and 1 <= len(items) <= MAX_SCOPE
        good = good and all(isinstance(i, str) and check(i) for i in items)
        if not good:
            errors.append(FieldError(None, where, f"a list of 1 to {MAX_SCOPE:,} codes"))
            continue
        sets[key] = frozenset(items)
    return Scope(**sets)


def _country(text: str) -> bool:
    return len(text) == 2 and text.isascii() and text.isupper() and text.isalpha()


def _brand(text: str) -> bool:
    """Brands are names (``Nordic Trail``), not codes: printable, 1 to 100 characters."""
    return 1 <= len(text) <= 100 and text.isprintable()


def _bundle(value: object, errors: list[FieldError]) -> list[tuple[str, int]]:
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_BUNDLE:
        errors.append(FieldError(None, "items", f"a list of 2 to {MAX_BUNDLE} {{sku, quantity}}"))
        return []
    out: dict[str, int] = {}
    for row, item in enumerate(value, start=1):
        sku = item.get("sku") if isinstance(item, dict) else None
        quantity = item.get("quantity", 1) if isinstance(item, dict) else None
        if not isinstance(sku, str) or not SKU_RE.fullmatch(sku) or sku in out:
            errors.append(FieldError(row, "items.sku", "a SKU, once per bundle"))
        elif not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 100:
            errors.append(FieldError(row, "items.quantity", "a whole number from 1 to 100"))
        else:
            out[sku] = quantity
    return list(out.items())


def _tiers(value: object, currency: str | None, errors: list[FieldError]) -> list[Tier]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_TIERS:
        errors.append(FieldError(None, "tiers", f"a list of 1 to {MAX_TIERS} {{spend, amount or percent}}"))
        return []
    if currency is None:
        errors.append(FieldError(None, "currency", "needed with tiers: spends are in one currency"))
        return []
    out: list[Tier] = []
    for row, item in enumerate(value, start=1):
        if not isinstance(item, dict) or len(set(item) & {"amount", "percent"}) != 1 or set(item) - {
            "spend", "amount", "percent"
        }:  # fmt: skip
            errors.append(FieldError(row, "tiers", "an object with spend and one of amount or percent"))
            continue
        spend = amount_of(item.get("spend"), currency, row, "tiers.spend", errors)
        amount = amount_of(item["amount"], currency, row, "tiers.amount", errors) if "amount" in item else None
        percent = _fraction(item["percent"], "tiers.percent", errors, row) if "percent" in item else None
        if spend is not None and (amount is not None or percent is not None):
            out.append(Tier(spend, amount, percent))
    spends = [t.spend for t in out]
    if len(set(spends)) != len(spends):
        errors.append(FieldError(None, "tiers", "each spend once"))
    return sorted(out, key=lambda t: t.spend)


def _fraction(value: object, field: str, errors: list[FieldError], row: int | None = None) -> Decimal | None:
    try:
        number = Decimal(value) if isinstance(value, str) and len(value) <= 12 else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not 0 < number <= 1:
        errors.append(FieldError(row, field, 'a fraction above 0 and at most 1 as a decimal string, e.g. "0.20"'))
        return None
    return number


def _count(value: object, field: str, errors: list[FieldError], low: int, high: int) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        errors.append(FieldError(None, field, f"a whole number from {low:,} to {high:,}"))
        return None
    return value
