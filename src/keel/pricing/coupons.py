"""Coupon codes of a promotion: given ones and generated batches, each with its own use limit.

Generated codes are a prefix and 10 characters drawn by ``secrets`` from an alphabet without the look-alikes
0/O and 1/I (people read codes off receipts and type them): 32^10, about 10^15, so a guessed code is as good
as none. Codes are stored upper-case and matched case-insensitively.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any, Protocol

from keel.platform.clock import utcnow
from keel.platform.errors import Conflict, FieldError, ValidationFailed
from keel.pricing import promo_store
from keel.pricing.model.checkout import COUPON_RE

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_BATCH = 100_000


class _Promotions(Protocol):
    db: Any

    def get(self, code: str) -> Any: ...


class CouponCodes:
    """The coupon-code use cases of ``PromotionService``."""

    def add_codes(
        self: _Promotions,
        promotion: str,
        *,
        count: int = 0,
        codes: Iterable[str] = (),
        prefix: str = "",
        max_uses: int | None = 1,
    ) -> list[str]:
        """Codes for coupon promotion ``promotion``: ``codes`` as given and ``count`` generated ones (``prefix``
        then 10 random characters), each usable ``max_uses`` times (None: unlimited). Returns the new codes."""
        given = sorted({c.strip().upper() for c in codes})
        errors = [FieldError(None, "codes", f"{c[:70]!r}: letters, digits, _ and -") for c in given
                  if not COUPON_RE.fullmatch(c)]  # fmt: skip
        if not 0 <= count <= MAX_BATCH or len(given) > MAX_BATCH or not (count or given):
            errors.append(FieldError(None, "count", f"from 1 to {MAX_BATCH:,} codes, generated or given"))
        if len(prefix) > 20 or (prefix and not COUPON_RE.fullmatch(prefix.upper() + "X")):
            errors.append(FieldError(None, "prefix", "letters, digits, _ and -, at most 20"))
        if max_uses is not None and not 1 <= max_uses <= 1_000_000_000:
            errors.append(FieldError(None, "max_uses", "a whole number from 1, or null for unlimited"))
        if errors:
            raise ValidationFailed("invalid codes", errors)
        view = self.get(promotion)
        if not view.promotion.coupon:
            raise ValidationFailed("not a coupon promotion", [FieldError(None, "promotion", "coupon must be true")])
        generated = {prefix.upper() + "".join(secrets.choice(CODE_ALPHABET) for _ in range(10)) for _ in range(count)}
        wanted = sorted(set(given) | generated)
        with self.db.write() as conn:
            taken = promo_store.coupons(conn, wanted)
            clash = [c for c in given if c in taken and taken[c].promotion != promotion]
            if clash:
                raise Conflict(f"code {clash[0]!r} belongs to another promotion")
            promo_store.add_coupons(conn, promotion, wanted, max_uses, utcnow())
        return [c for c in wanted if c not in taken]

    def codes(
        self: _Promotions, promotion: str, limit: int = 100, offset: int = 0
    ) -> tuple[list[promo_store.Coupon], int]:
        self.get(promotion)
        with self.db.read() as conn:
            return promo_store.coupon_page(conn, promotion, limit, offset)
