"""The documents the pricing API and CLI take, checked whole: a price list with its prices, SKU costs and tax
classes, and competitors' observed prices. Every problem is reported at once (the row and field it is in),
and nothing is written when there is one."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from keel.platform.errors import FieldError, ValidationFailed
from keel.platform.money import to_major, to_minor
from keel.pricing.model.lists import CODE_RE, SKU_RE, PriceEntry, PriceList, amount_of, parse_currency, parse_entries

LIST_FIELDS = {"name", "currency", "channel", "country", "customer_group", "valid_from", "valid_to", "priority"} | {
    "prices"
}
TAX_CLASS_RE = re.compile(r"^[a-z0-9_]{1,32}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
MAX_SKUS = 100_000
MAX_OBSERVATIONS = 10_000  # competitor prices in one request
OBSERVATION_FIELDS = {"competitor", "country", "sku", "currency", "amount", "observed_at"}
CLOCK_SKEW = timedelta(minutes=5)  # an observation may come from a clock this far ahead, not further


@dataclass(frozen=True)
class CompetitorPrice:
    """A competitor's price of a SKU in a country, as observed at a moment (in the currency it was seen in)."""

    competitor: str
    country: str
    sku: str
    currency: str
    amount: int
    observed_at: datetime


@dataclass(frozen=True)
class SkuCost:
    """A SKU's unit cost (net of tax, in a currency of its own; None: unknown) and its tax class."""

    sku: str
    cost_currency: str | None
    cost: int | None
    tax_class: str

    def cost_in(self, currency: str, convert: Callable[[str, str], Decimal | None]) -> int | None:
        """The cost in ``currency`` (minor units, rounded up: a floor computed on it never undercuts the real
        cost); None without a cost or a rate to that currency."""
        if self.cost is None or self.cost_currency is None:
            return None
        factor = convert(self.cost_currency, currency)
        if factor is None:
            return None
        return to_minor(to_major(self.cost, self.cost_currency) * factor, currency, "ceiling")


def parse_list(code: str, document: object) -> tuple[PriceList, list[PriceEntry]]:
    errors: list[FieldError] = []
    if not CODE_RE.fullmatch(code):
        errors.append(FieldError(None, "code", "lowercase letters, digits and _ . -, at most 64"))
    if not isinstance(document, dict):
        raise ValidationFailed("invalid price list", [*errors, FieldError(None, "", "a JSON object")])
    errors += [FieldError(None, str(k)[:64], "unknown field") for k in sorted(set(document) - LIST_FIELDS)]
    name = document.get("name", code)
    if not isinstance(name, str) or not 1 <= len(name) <= 200 or "\x00" in name:
        errors.append(FieldError(None, "name", "1 to 200 characters"))
    currency = parse_currency(document.get("currency"), errors)
    scopes: dict[str, str | None] = {}
    for scope, pattern in (("channel", CODE_RE), ("customer_group", CODE_RE), ("country", re.compile(r"^[A-Z]{2}$"))):
        value = document.get(scope)
        if value is not None and (not isinstance(value, str) or not pattern.fullmatch(value)):
            errors.append(FieldError(None, scope, "a code" if scope != "country" else "an ISO 3166 code, e.g. DE"))
            value = None
        scopes[scope] = value
    window = {k: instant(document.get(k), k, errors) for k in ("valid_from", "valid_to")}
    if window["valid_from"] and window["valid_to"] and window["valid_from"] >= window["valid_to"]:
        errors.append(FieldError(None, "valid_to", "must be after valid_from"))
    priority = document.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or not -1000 <= priority <= 1000:
        errors.append(FieldError(None, "priority", "a whole number from -1000 to 1000"))
        priority = 0
    entries, row_errors = parse_entries(document.get("prices", []), currency or "EUR") if currency else ([], [])
    errors += row_errors
    if errors or currency is None or not isinstance(name, str):
        raise ValidationFailed("invalid price list", errors)
    pl = PriceList(code, name, currency, scopes["channel"], scopes["country"], scopes["customer_group"],
                   window["valid_from"], window["valid_to"], priority)  # fmt: skip
    return pl, entries


def parse_skus(document: object) -> list[SkuCost]:
    """``[{"sku", "cost", "currency", "tax_class"}]``: cost and currency together or neither."""
    if not isinstance(document, list) or not 1 <= len(document) <= MAX_SKUS:
        raise ValidationFailed("invalid SKU costs", [FieldError(None, "", f"a list of 1 to {MAX_SKUS:,} SKUs")])
    errors: list[FieldError] = []
    out: list[SkuCost] = []
    seen: set[str] = set()
    for row, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            errors.append(FieldError(row, "", "an object with sku, cost, currency and tax_class"))
            continue
        unknown = sorted(set(item) - {"sku", "cost", "currency", "tax_class"})
        errors += [FieldError(row, str(k)[:64], "unknown field") for k in unknown]
        sku, tax_class = item.get("sku"), item.get("tax_class", "standard")
        if not isinstance(sku, str) or not SKU_RE.fullmatch(sku) or sku in seen:
            errors.append(FieldError(row, "sku", "a SKU, once per request"))
            continue
        seen.add(sku)
        if not isinstance(tax_class, str) or not TAX_CLASS_RE.fullmatch(tax_class):
            errors.append(FieldError(row, "tax_class", "lowercase letters, digits and _, at most 32"))
            continue
        currency, cost = None, None
        if item.get("cost") is not None or item.get("currency") is not None:
            found: list[FieldError] = []
            currency = parse_currency(item.get("currency"), found)
            cost = amount_of(item.get("cost"), currency, row, "cost", found) if currency else None
            errors += [FieldError(row, e.field, e.reason) for e in found]
            if currency is None or cost is None:
                continue
        out.append(SkuCost(sku, currency, cost, tax_class))
    if errors:
        raise ValidationFailed("invalid SKU costs", errors)
    return out


def parse_competitor_prices(document: object, now: datetime) -> list[CompetitorPrice]:
    """``[{"competitor", "country", "sku", "currency", "amount", "observed_at"}]``, every field required, each
    (competitor, country, SKU) once, observed no later than now; every row checked, all or nothing."""
    if not isinstance(document, list) or not 1 <= len(document) <= MAX_OBSERVATIONS:
        reason = f"a list of 1 to {MAX_OBSERVATIONS:,} competitor prices"
        raise ValidationFailed("invalid competitor prices", [FieldError(None, "", reason)])
    errors: list[FieldError] = []
    out: list[CompetitorPrice] = []
    seen: set[tuple[str, str, str]] = set()
    for row, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            errors.append(FieldError(row, "", "an object with " + ", ".join(sorted(OBSERVATION_FIELDS))))
            continue
        found: list[FieldError] = [
            FieldError(None, str(k)[:64], "unknown field") for k in sorted(set(item) - OBSERVATION_FIELDS)
        ]
        competitor, country, sku = item.get("competitor"), item.get("country"), item.get("sku")
        if not isinstance(competitor, str) or not CODE_RE.fullmatch(competitor):
            found.append(FieldError(None, "competitor", "a code: lowercase letters, digits and _ . -, at most 64"))
        if not isinstance(country, str) or not COUNTRY_RE.fullmatch(country):
            found.append(FieldError(None, "country", "an ISO 3166 code, e.g. DE"))
        if not isinstance(sku, str) or not SKU_RE.fullmatch(sku):
            found.append(FieldError(None, "sku", "a SKU: letters, digits and _ . - /, at most 64"))
        currency = parse_currency(item.get("currency"), found)
        amount = amount_of(item.get("amount"), currency, row, "amount", found) if currency else None
        observed_at = instant(item.get("observed_at"), "observed_at", found, required=True)
        if observed_at is not None and observed_at > now + CLOCK_SKEW:
            found.append(FieldError(None, "observed_at", "not in the future"))
        key = (str(competitor), str(country), str(sku))
        if not found and key in seen:
            found.append(FieldError(None, "sku", "one price per competitor, country and SKU in a request"))
        errors += [FieldError(row, e.field, e.reason) for e in found]
        if not found and currency is not None and amount is not None and observed_at is not None:
            seen.add(key)
            out.append(CompetitorPrice(*key, currency, amount, observed_at))
    if errors:
        raise ValidationFailed("invalid competitor prices", errors)
    return out


def instant(value: Any, name: str, errors: list[FieldError], *, required: bool = False) -> datetime | None:
    if value is None and not required:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) and len(value) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        errors.append(FieldError(None, name, "an ISO 8601 date-time with its offset, e.g. 2026-12-01T00:00:00Z"))
        return None
    return moment
