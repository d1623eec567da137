"""What a cart's promotions may still give: the promotions its codes unlock (or why a code is refused), those
whose usage limit is reached (in all, or for this customer), and what each budget has left, read in the
cart's transaction (``model.cart.Limits``)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import Connection

from keel.pricing import promo_store
from keel.pricing.model.cart import Cart, Limits
from keel.pricing.model.promotions import Promotion


def limits_of(conn: Connection, cart: Cart, promotions: list[Promotion], every: Mapping[str, Promotion]) -> Limits:
    """What the cart's codes unlock (or why not), and the limits and budgets of ``promotions`` now."""
    unlocked: dict[str, str] = {}
    refused: dict[str, str] = {}
    for code, coupon in sorted(promo_store.coupons(conn, cart.codes).items() if cart.codes else []):
        p = every.get(coupon.promotion)
        if p is None:  # deleted since the promotions were read
            refused[code] = "unknown"
        elif p.currency not in (None, cart.currency):
            refused[code] = f"valid in {p.currency} only"
        elif not p.active:
            refused[code] = "its promotion is switched off"
        elif p.valid_to is not None and p.valid_to <= cart.at:
            refused[code] = "expired"
        elif p.valid_from is not None and cart.at < p.valid_from:
            refused[code] = "not valid yet"
        elif coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
            refused[code] = "exhausted"
        elif p.code in unlocked.values():
            refused[code] = "another code of the same promotion is used"
        else:
            unlocked[code] = p.code
    refused |= {c: "unknown" for c in cart.codes if c not in unlocked and c not in refused}
    limited = [p for p in promotions if p.usage_limit is not None or p.budget is not None]
    counts = promo_store.counters(conn, [p.code for p in limited]) if limited else {}
    used_up = {
        p.code: "its usage limit is reached"
        for p in limited
        if p.usage_limit is not None and counts.get(p.code, (0, 0))[0] >= p.usage_limit
    }
    per_customer = [p for p in promotions if p.per_customer_limit is not None]
    if per_customer and cart.customer is None:
        used_up |= {p.code: "limited per customer: needs the customer's id" for p in per_customer}
    elif per_customer and cart.customer is not None:
        uses = promo_store.customer_uses(conn, cart.customer, [p.code for p in per_customer])
        used_up |= {
            p.code: f"used {uses[p.code]} time(s) by this customer (limit {p.per_customer_limit})"
            for p in per_customer
            if uses.get(p.code, 0) >= (p.per_customer_limit or 0)
        }
    budget_left = {p.code: p.budget - counts.get(p.code, (0, 0))[1] for p in limited if p.budget is not None}
    return Limits(used_up, budget_left, unlocked, refused)
