"""Promotions in words an operator reads at a glance: what one gives, to whom, and how it stacks. The pages and
the CLI tables show these lines; the document stays the exact statement."""

from __future__ import annotations

from decimal import Decimal

from keel.platform.money import plain
from keel.pricing.model.promotions import Promotion

MAX_NAMED = 3  # values of a scope named before "and N more"


def percent(fraction: Decimal | None) -> str:
    """``0.2`` -> ``20%``, ``0.125`` -> ``12.5%``: no trailing zeros, no binary rounding."""
    return "?" if fraction is None else f"{(fraction * 100).normalize():f}%"


def _money(minor: int | None, p: Promotion) -> str:
    return "?" if minor is None or p.currency is None else f"{plain(minor, p.currency)} {p.currency}"


def offer(p: Promotion) -> str:
    """What ``p`` gives: ``20% off items``, ``5.00 EUR off the order``, ``buy 2 get 1 free``, ..."""
    where = {"item": "items", "order": "the order", "shipping": "shipping"}[p.klass]
    if p.kind == "percent_off":
        text = "free shipping" if p.klass == "shipping" and p.percent == 1 else f"{percent(p.percent)} off {where}"
    elif p.kind == "amount_off":
        text = f"{_money(p.amount, p)} off " + ("each unit" if p.klass == "item" else where)
    elif p.kind == "buy_x_get_y":
        gift = "free" if p.percent == 1 else f"at {percent(p.percent)} off"
        text = f"buy {p.buy} get {p.get} {gift}"
    elif p.kind == "bundle":
        sets = " + ".join(f"{q} x {sku}" for sku, q in p.items)
        text = f"{sets} for {_money(p.amount, p)}"
    else:
        steps = [f"{_money(t.amount, p)} off" if t.amount is not None else f"{percent(t.percent)} off" for t in p.tiers]
        text = "; ".join(f"from {_money(t.spend, p)}: {s}" for t, s in zip(p.tiers, steps, strict=True))
    if p.max_applications is not None and p.kind in ("buy_x_get_y", "bundle"):
        text += f", at most {p.max_applications} time(s) a cart"
    if p.min_subtotal is not None:
        text += f", from {_money(p.min_subtotal, p)} in scope"
    return text


def _named(label: str, values: frozenset[str]) -> str:
    shown = sorted(values)
    more = f" and {len(shown) - MAX_NAMED} more" if len(shown) > MAX_NAMED else ""
    return f"{label} {', '.join(shown[:MAX_NAMED])}{more}"


def audience(p: Promotion) -> str:
    """Who and what ``p`` is for: ``channels web-de · SKUs SKU-1, SKU-2``, or ``every cart``."""
    s = p.scope
    parts = [
        _named(label, values)
        for label, values in (
            ("channels", s.channels),
            ("countries", s.countries),
            ("groups", s.customer_groups),
            ("tiers", s.loyalty_tiers),
            ("SKUs", s.skus),
            ("categories", s.categories),
            ("brands", s.brands),
        )
        if values
    ]
    return " · ".join(parts) or "every cart"


def stacking(p: Promotion) -> str:
    """How ``p`` combines with others: ``exclusive in its class``, ``stops lower priorities``, ``best of group x``."""
    parts = {"none": [], "class": [f"exclusive among {p.klass} promotions"], "global": ["exclusive: alone in a cart"]}[
        p.exclusive
    ]
    if p.stop_further:
        parts.append("stops lower priorities")
    if p.group is not None:
        parts.append(f"best deal of group {p.group}")
    if p.publish:  # in the published prices: carts do not count it
        parts.append("published: a sale price on the channels")
    return ", ".join(parts) or "stacks"
