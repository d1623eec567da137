"""Price lists: base and compare-at prices, scoped, and the order in which one is chosen.

A price list holds prices in one currency and may be scoped to a channel, a country, a customer group and a
validity window. For a (channel, country, customer group, moment) the lists that apply are those whose every
scope matches (an unset scope matches anything) and whose currency is the channel's; the most specific one
that prices the SKU wins, in this documented order:

1. a list for the customer group beats one for everyone (a negotiated price is the customer's price);
2. then a list for the channel beats one for every channel;
3. then a list for the country beats one for every country;
4. then a list with a validity window (a season, a campaign) beats an open-ended one;
5. then the higher ``priority``; then the code, so the choice is always the same.

Within the chosen list, the quantity tier is the entry with the largest ``min_quantity`` at or below the
quantity asked for. A list that does not price the SKU (or not at that quantity) passes to the next.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from keel.platform.errors import FieldError
from keel.platform.money import UnknownCurrency, exponent, to_minor

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$")
MAX_AMOUNT = 10**13  # minor units: a hundred billion in a two-decimal currency, far above any shelf price
MAX_TIER = 1_000_000
MAX_PRICES = 100_000  # prices in one request


@dataclass(frozen=True)
class PriceList:
    code: str
    name: str
    currency: str
    channel: str | None = None
    country: str | None = None
    customer_group: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    priority: int = 0

    def applies(self, channel: str, country: str, currency: str, group: str | None, at: datetime) -> bool:
        return (
            self.currency == currency
            and self.channel in (None, channel)
            and self.country in (None, country)
            and self.customer_group in (None, group)
            and (self.valid_from is None or self.valid_from <= at)
            and (self.valid_to is None or at < self.valid_to)
        )

    def specificity(self) -> tuple[bool, bool, bool, bool, int]:
        windowed = self.valid_from is not None or self.valid_to is not None
        return (
            self.customer_group is not None,
            self.channel is not None,
            self.country is not None,
            windowed,
            self.priority,
        )


@dataclass(frozen=True)
class PriceEntry:
    sku: str
    amount: int  # minor units of the list's currency, on the market's basis (see ``tax``)
    compare_at: int | None = None  # the "was" price shown struck through
    min_quantity: int = 1


def ranked(
    lists: Sequence[PriceList], channel: str, country: str, currency: str, group: str | None, at: datetime
) -> list[PriceList]:
    """The lists that apply, most specific first (the order above)."""
    found = [pl for pl in lists if pl.applies(channel, country, currency, group, at)]
    found.sort(key=lambda pl: pl.code)
    found.sort(key=lambda pl: pl.specificity(), reverse=True)
    return found


def pick(
    ordered: Sequence[PriceList], entries: Mapping[str, Mapping[str, Sequence[PriceEntry]]], sku: str, quantity: int = 1
) -> tuple[PriceList, PriceEntry] | None:
    """The first of ``ordered`` pricing ``sku`` at ``quantity``, with its tier; ``entries``: list code -> SKU
    -> that SKU's entries in ascending ``min_quantity``."""
    for pl in ordered:
        tiers = entries.get(pl.code, {}).get(sku)
        if not tiers:
            continue
        chosen = None
        for tier in tiers:
            if tier.min_quantity > quantity:
                break
            chosen = tier
        if chosen is not None:
            return pl, chosen
    return None


def parse_entries(raw: object, currency: str) -> tuple[list[PriceEntry], list[FieldError]]:
    """The ``prices`` of a price list document (``[{"sku", "amount", "compare_at", "min_quantity"}]``, amounts
    as decimal strings in the list's currency), each row checked; errors name the row (1-based)."""
    if not isinstance(raw, list):
        return [], [FieldError(None, "prices", "a list of {sku, amount, compare_at, min_quantity}")]
    if len(raw) > MAX_PRICES:
        return [], [FieldError(None, "prices", f"at most {MAX_PRICES:,} prices in one request")]
    out: list[PriceEntry] = []
    errors: list[FieldError] = []
    seen: set[tuple[str, int]] = set()
    for row, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            errors.append(FieldError(row, "", "a price is an object with sku and amount"))
            continue
        unknown = sorted(set(item) - {"sku", "amount", "compare_at", "min_quantity"})
        for name in unknown:
            errors.append(FieldError(row, str(name)[:64], "unknown field"))
        sku = item.get("sku")
        if not isinstance(sku, str) or not SKU_RE.fullmatch(sku):
            errors.append(FieldError(row, "sku", "a SKU: letters, digits and _ . - /, at most 64"))
        amount = amount_of(item.get("amount"), currency, row, "amount", errors)
        compare = (
            None
            if item.get("compare_at") is None
            else amount_of(item["compare_at"], currency, row, "compare_at", errors)
        )
        tier = item.get("min_quantity", 1)
        if not isinstance(tier, int) or isinstance(tier, bool) or not 1 <= tier <= MAX_TIER:
            errors.append(FieldError(row, "min_quantity", f"a whole number from 1 to {MAX_TIER:,}"))
            continue
        if amount is not None and compare is not None and compare <= amount:
            errors.append(FieldError(row, "compare_at", "must be above the amount (it is the price struck through)"))
        if isinstance(sku, str) and (sku, tier) in seen:
            errors.append(FieldError(row, "sku", f"{sku} at min_quantity {tier} is priced twice"))
        if isinstance(sku, str) and SKU_RE.fullmatch(sku) and amount is not None and not unknown:
            seen.add((sku, tier))
            out.append(PriceEntry(sku, amount, compare, tier))
    return out, errors


def amount_of(value: Any, currency: str, row: int | None, name: str, errors: list[FieldError]) -> int | None:
    """A decimal string of at most the currency's decimals, not negative, in minor units; None when refused."""
    places = exponent(currency)
    try:
        amount = Decimal(value) if isinstance(value, str) and len(value) <= 24 else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or -amount.as_tuple().exponent > places:  # type: ignore[operator]
        errors.append(
            FieldError(row, name, f'a decimal string with at most {places} decimals, not negative, e.g. "19.99"')
        )
        return None
    # compared before converting: to_minor's quantize cannot hold an exponent like 1e400 (InvalidOperation)
    if amount.scaleb(places) > MAX_AMOUNT:
        errors.append(FieldError(row, name, "too large"))
        return None
    return to_minor(amount, currency)


def parse_currency(value: object, errors: list[FieldError]) -> str | None:
    if not isinstance(value, str):
        errors.append(FieldError(None, "currency", "an ISO 4217 code, e.g. EUR"))
        return None
    try:
        exponent(value)
    except UnknownCurrency as exc:
        errors.extend(exc.errors)
        return None
    return value
