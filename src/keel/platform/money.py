"""Money as Keel computes it: whole minor units of an ISO 4217 currency, rounded once, on purpose.

Amounts are ``int`` minor units (cents, pence, yen) beside their currency, never floats and never a decimal
of arbitrary scale: two amounts that print the same are equal, a sum of lines equals the total to the minor
unit, and a currency's exponent is looked up, not assumed (JPY has none, BHD three). Arithmetic that makes
fractions (a percentage, a tax rate, a share of a discount) goes through ``Decimal`` and comes back by an
explicit rounding mode; banker's rounding (half-even) is the default because it does not drift upwards over
many roundings, and retailers who round half-up choose it.

``allocate`` splits an amount over weights so that the parts add up exactly (largest remainders): the
basis of prorating an order discount over lines and tax rates. ``Ending`` is a price ending as data (.99,
.95, whole hundreds of yen): an amount is moved to the nearest ending at or below it, or above.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import pycountry

from keel.platform.errors import FieldError, ValidationFailed

# ISO 4217 exponents that are not 2 (every other active code has 2 decimals)
EXPONENTS: Mapping[str, int] = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV"), 0
    ),
    **dict.fromkeys(("XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
# funds, precious metals and testing codes: not money a shop sells in
NOT_TENDER = frozenset({"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"})
ROUNDING: Mapping[str, str] = {
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_up": decimal.ROUND_HALF_UP,
    "half_down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,  # away from zero
    "down": decimal.ROUND_DOWN,  # towards zero
    "ceiling": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
}
DEFAULT_ROUNDING = "half_even"


class UnknownCurrency(ValidationFailed):
    def __init__(self, currency: str, field: str = "currency") -> None:
        shown = currency if len(currency) <= 8 else currency[:8] + "..."
        super().__init__(
            f"{shown!r} is not an ISO 4217 currency code", [FieldError(None, field, "an ISO 4217 code, e.g. EUR")]
        )


@cache
def exponent(currency: str) -> int:
    """The currency's minor-unit exponent (EUR 2, JPY 0, BHD 3); ``UnknownCurrency`` for anything else."""
    if len(currency) != 3 or not currency.isascii() or not currency.isupper() or currency in NOT_TENDER:
        raise UnknownCurrency(currency)
    if pycountry.currencies.get(alpha_3=currency) is None:
        raise UnknownCurrency(currency)
    return EXPONENTS.get(currency, 2)


def to_minor(amount: Decimal, currency: str, rounding: str = DEFAULT_ROUNDING) -> int:
    """``amount`` (major units, e.g. ``Decimal("19.99")``) in whole minor units, rounded by ``rounding``."""
    scaled = amount.scaleb(exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUNDING[rounding]))


def to_major(minor: int, currency: str) -> Decimal:
    """Whole minor units as a decimal of the currency's exponent (``1999`` EUR -> ``Decimal("19.99")``)."""
    return Decimal(minor).scaleb(-exponent(currency))


def plain(minor: int, currency: str) -> str:
    """The plain-notation amount, as documents and APIs carry it (``"19.99"``, JPY ``"1980"``)."""
    return f"{to_major(minor, currency):f}"


def scale(minor: int, factor: Decimal, rounding: str = DEFAULT_ROUNDING) -> int:
    """``minor`` times ``factor`` (a rate, a percentage as a fraction), back to whole minor units."""
    return int((Decimal(minor) * factor).quantize(Decimal(1), rounding=ROUNDING[rounding]))


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` minor units over ``weights`` (non-negative, not all zero) in proportion, so that the
    parts sum to ``total`` exactly: each part is its floor share, and the units left over go one each to the
    largest remainders (ties to the earlier weight). A negative ``total`` is split as its opposite."""
    whole = sum(weights)
    if whole <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative and not all zero")
    if total < 0:
        return [-p for p in allocate(-total, weights)]
    parts = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class Ending:
    """A price ending: amounts end in ``end`` minor units modulo ``step`` (EUR .99: step 100, end 99; JPY whole
    hundreds: step 100, end 0; SEK 9 crowns: step 1000, end 900)."""

    step: int
    end: int

    def __post_init__(self) -> None:
        if self.step <= 0 or not 0 <= self.end < self.step:
            raise ValueError("an ending needs a positive step and 0 <= end < step")

    def below(self, minor: int) -> int:
        """The largest amount with this ending at or below ``minor`` (never below 0: then ``above``)."""
        candidate = minor - ((minor - self.end) % self.step)
        return candidate if candidate >= 0 else self.above(minor)

    def above(self, minor: int) -> int:
        """The smallest amount with this ending at or above ``minor``."""
        return minor + ((self.end - minor) % self.step)
