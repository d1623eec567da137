"""A cart as a caller sends it (web, app, till): checked whole before anything is read or counted.

``{"channel", "country", "lines": [{"sku", "quantity"}], "customer": {"id", "group", "loyalty_tier"},
"codes": [...], "shipping": "4.95", "at": "2026-12-24T10:00:00Z"}``: the shipping amount is in the channel's
currency on the market's basis; ``at`` (default now) prices the cart at another moment (a simulator asking
what a cart will cost when a promotion starts). Codes are matched case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keel.platform.errors import FieldError, ValidationFailed
from keel.pricing.model.documents import instant
from keel.pricing.model.lists import CODE_RE, SKU_RE

MAX_LINES = 200
MAX_QUANTITY = 100_000
MAX_CODES = 20
FIELDS = {"channel", "country", "lines", "customer", "codes", "shipping", "at"}
COUPON_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,63}$")
CUSTOMER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}$")


@dataclass(frozen=True)
class CartRequest:
    channel: str
    country: str
    lines: tuple[tuple[str, int], ...]  # (sku, quantity), a SKU once (repeated lines are merged)
    customer: str | None = None
    group: str | None = None
    tier: str | None = None
    codes: frozenset[str] = frozenset()
    shipping: str | None = None  # a decimal string, converted in the channel's currency by the service
    at: datetime | None = None


def parse_cart(document: object) -> CartRequest:
    errors: list[FieldError] = []
    if not isinstance(document, dict):
        raise ValidationFailed("invalid cart", [FieldError(None, "", "a JSON object")])
    d: dict[str, Any] = document
    errors += [FieldError(None, str(k)[:64], "unknown field") for k in sorted(set(d) - FIELDS)]
    channel, country = d.get("channel"), d.get("country")
    if not isinstance(channel, str) or not CODE_RE.fullmatch(channel):
        errors.append(FieldError(None, "channel", "a channel code"))
    if not isinstance(country, str) or len(country) != 2 or not country.isascii() or not country.isupper():
        errors.append(FieldError(None, "country", "an ISO 3166 code, e.g. DE"))
    lines: dict[str, int] = {}
    raw = d.get("lines")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_LINES:
        errors.append(FieldError(None, "lines", f"a list of 1 to {MAX_LINES} {{sku, quantity}}"))
        raw = []
    for row, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or set(item) - {"sku", "quantity"}:
            errors.append(FieldError(row, "lines", "an object with sku and quantity"))
            continue
        sku, quantity = item.get("sku"), item.get("quantity", 1)
        if not isinstance(sku, str) or not SKU_RE.fullmatch(sku):
            errors.append(FieldError(row, "sku", "a SKU: letters, digits and _ . - /, at most 64"))
        elif not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
            errors.append(FieldError(row, "quantity", f"a whole number from 1 to {MAX_QUANTITY:,}"))
        elif lines.get(sku, 0) + quantity > MAX_QUANTITY:
            errors.append(FieldError(row, "quantity", f"{sku} comes to more than {MAX_QUANTITY:,} units in the cart"))
        else:
            lines[sku] = lines.get(sku, 0) + quantity
    customer = d.get("customer") or {}
    who: dict[str, str | None] = {"id": None, "group": None, "loyalty_tier": None}
    if not isinstance(customer, dict) or set(customer) - set(who):
        errors.append(FieldError(None, "customer", "an object with id, group and loyalty_tier"))
    else:
        for key in who:
            value = customer.get(key)
            pattern = CUSTOMER_RE if key == "id" else CODE_RE
            if value is not None and (not isinstance(value, str) or not pattern.fullmatch(value)):
                errors.append(FieldError(None, f"customer.{key}", "an id" if key == "id" else "a code"))
            else:
                who[key] = value
    codes = d.get("codes", [])
    if not isinstance(codes, list) or len(codes) > MAX_CODES or not all(isinstance(c, str) for c in codes):
        errors.append(FieldError(None, "codes", f"a list of at most {MAX_CODES} codes"))
        codes = []
    upper = {c.strip().upper() for c in codes}
    if any(not COUPON_RE.fullmatch(c) for c in upper):
        errors.append(FieldError(None, "codes", "codes are letters, digits, _ and -, at most 64"))
    shipping = d.get("shipping")
    if shipping is not None and (not isinstance(shipping, str) or len(shipping) > 24):
        errors.append(FieldError(None, "shipping", 'a decimal string, e.g. "4.95"'))
    at = instant(d.get("at"), "at", errors)
    if errors or not isinstance(channel, str) or not isinstance(country, str):
        raise ValidationFailed("invalid cart", errors)
    return CartRequest(
        channel, country, tuple(lines.items()), who["id"], who["group"], who["loyalty_tier"], frozenset(upper),
        shipping, at,
    )  # fmt: skip
