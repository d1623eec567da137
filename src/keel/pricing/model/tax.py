"""Tax as data: a rate per (country, tax class), and whether a market's shelf prices include it.

Retailers state prices the way their market reads them: tax-inclusive in Europe, Japan and Australia (the
shelf price is what the customer pays), tax-exclusive in the United States and Canada (tax is added at the
till, by state or province). Keel stores each price on its market's basis and derives the other side with
one rounding, of the tax amount, in the currency's minor units: so net + tax == gross to the unit, always.

``STANDARD_RATES`` are the standard rates of the twin's 21 markets (national VAT/GST, as published by the
tax authorities in 2026; the United States has no national sales tax: 0 here, a retailer sets its own per
state as data). Stored rates (``keel pricing tax set``) override these defaults per class; a class no rate
names falls back to the country's ``standard`` rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from keel.platform.money import DEFAULT_ROUNDING, ROUNDING

STANDARD = "standard"
STANDARD_RATES: Mapping[str, Decimal] = {
    country: Decimal(rate)
    for country, rate in {
        "AT": "0.20", "AU": "0.10", "BE": "0.21", "CA": "0.05", "CH": "0.081", "CZ": "0.21", "DE": "0.19",
        "DK": "0.25", "ES": "0.21", "FI": "0.255", "FR": "0.20", "GB": "0.20", "IE": "0.23", "IT": "0.22",
        "JP": "0.10", "NL": "0.21", "NO": "0.25", "PL": "0.23", "PT": "0.23", "SE": "0.25", "US": "0",
    }.items()
}  # fmt: skip
EXCLUSIVE_MARKETS = frozenset({"US", "CA"})  # shelf prices before tax; every other market's include it


@dataclass(frozen=True)
class TaxRate:
    country: str
    tax_class: str
    rate: Decimal  # a fraction: 0.19 for 19 %


@dataclass(frozen=True)
class Taxed:
    """One amount on both bases: ``net + tax == gross`` in minor units."""

    net: int
    tax: int
    gross: int
    rate: Decimal
    inclusive: bool  # whether the market states prices with tax (the stated price is ``gross``)

    @property
    def stated(self) -> int:
        return self.gross if self.inclusive else self.net


def inclusive(country: str) -> bool:
    return country not in EXCLUSIVE_MARKETS


def rate_of(country: str, tax_class: str, stored: Mapping[tuple[str, str], Decimal]) -> Decimal:
    """The rate of ``tax_class`` in ``country``: stored, else the stored or default standard rate, else 0."""
    for key in ((country, tax_class), (country, STANDARD)):
        if key in stored:
            return stored[key]
    return STANDARD_RATES.get(country, Decimal(0))


def tax(stated: int, rate: Decimal, is_inclusive: bool, rounding: str = DEFAULT_ROUNDING) -> Taxed:
    """Split a stated amount (minor units) into net, tax and gross: an inclusive amount is the gross and its
    tax is ``gross * rate / (1 + rate)``; an exclusive one is the net and its tax ``net * rate``; the tax is
    the one amount rounded."""
    mode = ROUNDING[rounding]
    if is_inclusive:
        amount = _included(stated, rate, mode)
        return Taxed(stated - amount, amount, stated, rate, True)
    amount = int((Decimal(stated) * rate).quantize(Decimal(1), rounding=mode))
    return Taxed(stated, amount, stated + amount, rate, False)


def _included(gross: int, rate: Decimal, mode: str) -> int:
    """The tax included in ``gross`` (minor units), rounded by ``mode``."""
    return int((Decimal(gross) * rate / (1 + rate)).quantize(Decimal(1), rounding=mode))


@lru_cache(maxsize=65_536)  # many SKUs share a cost and a rate: the search runs once for each
def stated_from_net(net: int, rate: Decimal, is_inclusive: bool) -> int:
    """The smallest stated amount whose net is at least ``net`` (a floor on the net, e.g. a margin floor,
    expressed on the market's basis)."""
    if not is_inclusive:
        return net
    guess = int((Decimal(net) * (1 + rate)).to_integral_value(rounding=ROUNDING["ceiling"]))
    # the net of a stated amount as ``tax`` splits it (without building a ``Taxed`` per try: a recompute
    # searches once for each distinct cost)
    mode = ROUNDING[DEFAULT_ROUNDING]
    while guess > 0 and guess - 1 - _included(guess - 1, rate, mode) >= net:
        guess -= 1
    while guess - _included(guess, rate, mode) < net:
        guess += 1
    return guess
