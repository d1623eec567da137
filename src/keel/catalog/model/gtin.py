"""GS1 identifiers: GTIN-8, -12 (UPC-A), -13 (EAN) and -14, their mod-10 check digit and the prefixes that
mark numbers not meant for open trade.

A GTIN is checked in its 14-digit form (left-padded with zeros), so the GS1 prefix rules read the same digits
whatever the length: for GTIN-12 (UPC) the leading zero makes "0" + the UPC number system digit, so a UPC
starting 2 (random-weight items) reads as prefix 02, one starting 5 (coupons) as 05.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

LENGTHS = (8, 12, 13, 14)


class GtinFlag(StrEnum):
    RESTRICTED = "restricted_circulation"  # 02, 04, 20-29: in-store numbers (variable weight, internal use)
    COUPON = "coupon"  # 05, 98, 99: coupons and refund receipts


@dataclass(frozen=True)
class GtinCheck:
    """What a GTIN text is: ``valid`` (digits, length and check digit), the reason when it is not, and the
    flags of a valid number that is not a trade item for open markets."""

    text: str
    valid: bool
    reason: str | None = None
    flags: tuple[GtinFlag, ...] = ()

    @property
    def tradable(self) -> bool:
        return self.valid and not self.flags


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of ``body`` (every digit but the last): weights 3, 1, 3, ... from the right."""
    backwards = body[::-1]
    total = 3 * sum(map(int, backwards[0::2])) + sum(map(int, backwards[1::2]))
    return (10 - total % 10) % 10


def gtin_flags(text: str) -> tuple[GtinFlag, ...]:
    """The flags of a valid GTIN's GS1 prefix. GTIN-8 has its own prefix space, where numbers starting 0
    or 2 are restricted-circulation (RCN-8); longer ones are read in the 13-digit form after a GTIN-14's
    indicator digit."""
    if len(text) == 8:
        return (GtinFlag.RESTRICTED,) if text[0] in "02" else ()
    prefix = text.zfill(14)[1:3]
    if prefix in ("02", "04") or prefix[0] == "2":
        return (GtinFlag.RESTRICTED,)
    if prefix in ("05", "98", "99"):
        return (GtinFlag.COUPON,)
    return ()


@lru_cache(maxsize=65_536)
def check_gtin(text: str) -> GtinCheck:
    """Check ``text`` as a GTIN: only digits, 8, 12, 13 or 14 of them, and the right check digit. Kept
    (bounded, the result is immutable): an import checks each variant's GTIN as it parses it, then again in
    every listing."""
    if not text.isascii() or not text.isdigit():
        return GtinCheck(text, False, "only digits")
    if len(text) not in LENGTHS:
        return GtinCheck(text, False, f"{len(text)} digits; a GTIN has 8, 12, 13 or 14")
    expected = check_digit(text[:-1])
    if int(text[-1]) != expected:
        return GtinCheck(text, False, f"check digit {text[-1]} is wrong; expected {expected}")
    return GtinCheck(text, True, flags=gtin_flags(text))
