"""Typed attributes and families: what a product of a family may and must say, and the check of one value.

Values are held in a canonical JSON form so two equal values compare equal (and an unchanged import row
makes no revision): text, enum, URL and image are strings; a number is ``{"amount": "12.5", "unit": "cm"}``
(decimal text); a boolean is ``true``/``false``; a list is a list of strings; money is
``{"amount": "19.99", "currency": "EUR"}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlsplit

from keel.platform.vocabulary import CODE_RE

MAX_TEXT = 20_000  # characters of one text value: a marketplace description is at most a few thousand
MAX_LIST = 200  # items of one list value
MAX_OPTIONS = 1_000
ANY_CHANNEL = "*"  # the key of a family's requirements that hold on every channel
LOCALE_RE = re.compile(r"[a-z]{2}(?:-[A-Z]{2})?")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
WHITESPACE = re.compile(r"\s")  # what str.isspace() is true of
UNIT_RE = re.compile(r"[A-Za-z0-9%°/._ -]{1,16}")


class AttributeType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    LIST = "list"
    MONEY = "money"
    URL = "url"
    IMAGE = "image"


@dataclass(frozen=True)
class AttributeDef:
    """One attribute a family defines. ``localised``: a value per locale (and none without one);
    ``variant``: each variant carries its own value (size, colour) rather than the product; ``units`` the
    units a number may use; ``options`` the values an enum or list may take (a list without options is free)."""

    code: str
    type: AttributeType
    label: str = ""
    localised: bool = False
    variant: bool = False
    units: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    max_length: int = MAX_TEXT


@dataclass(frozen=True)
class Family:
    """A kind of product: the attributes it has and which of them each channel requires (``"*"``: every
    channel)."""

    code: str
    label: str
    attributes: tuple[AttributeDef, ...]
    required: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    def attribute(self, code: str) -> AttributeDef | None:
        return self._by_code.get(code)

    @cached_property
    def _by_code(self) -> dict[str, AttributeDef]:
        return {a.code: a for a in self.attributes}

    def required_on(self, channel: str | None) -> tuple[str, ...]:
        """The attributes required everywhere plus those ``channel`` adds."""
        extra = self.required.get(channel, ()) if channel else ()
        return tuple(dict.fromkeys((*self.required.get(ANY_CHANNEL, ()), *extra)))


def _decimal(text: Any) -> Decimal | None:
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def is_url(text: Any) -> bool:
    return isinstance(text, str) and _is_url(text)


@lru_cache(maxsize=65_536)
def _is_url(text: str) -> bool:
    # kept (bounded): an import checks each product's URLs as it parses them, then again in every listing
    if len(text) > 2_000 or WHITESPACE.search(text):
        return False
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def canonical(attr: AttributeDef, value: Any) -> tuple[Any, str | None]:
    """``value`` in the canonical form of ``attr``'s type, or None and the reason it is refused."""
    t = attr.type
    if t in (AttributeType.TEXT, AttributeType.ENUM):
        if not isinstance(value, str) or not value.strip():
            return None, "a non-empty text"
        if len(value) > attr.max_length:
            return None, f"{len(value)} characters; at most {attr.max_length}"
        if t is AttributeType.ENUM and value not in attr.options:
            return None, f"one of {', '.join(attr.options[:20])}"
        return value, None
    if t is AttributeType.BOOLEAN:
        return (value, None) if isinstance(value, bool) else (None, "true or false")
    if t is AttributeType.NUMBER:
        if not isinstance(value, dict) or set(value) - {"amount", "unit"}:
            return None, 'a number with its unit, {"amount": "12.5", "unit": "cm"}'
        amount, unit = _decimal(value.get("amount")), value.get("unit")
        if amount is None:
            return None, "amount: a decimal number"
        if attr.units and unit not in attr.units:
            return None, f"unit: one of {', '.join(attr.units)}"
        if not attr.units and unit is not None:
            return None, "unit: this attribute has no unit"
        return ({"amount": str(amount), "unit": unit} if unit else {"amount": str(amount)}), None
    if t is AttributeType.MONEY:
        if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
            return None, 'an amount and its currency, {"amount": "19.99", "currency": "EUR"}'
        amount, currency = _decimal(value["amount"]), value["currency"]
        if amount is None or amount < 0:
            return None, "amount: a decimal number, not negative"
        if not isinstance(currency, str) or not CURRENCY_RE.fullmatch(currency):
            return None, "currency: an ISO 4217 code"
        return {"amount": str(amount), "currency": currency}, None
    if t is AttributeType.LIST:
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            return None, f"a list of 1 to {MAX_LIST} texts"
        if not all(isinstance(v, str) and v.strip() and len(v) <= attr.max_length for v in value):
            return None, f"every item a non-empty text of at most {attr.max_length} characters"
        if attr.options and (bad := [v for v in value if v not in attr.options]):
            return None, f"{bad[0]!r} is not one of {', '.join(attr.options[:20])}"
        return list(value), None
    return (value, None) if is_url(value) else (None, "an http(s) URL")  # URL and IMAGE


def parse_family(doc: Any) -> tuple[Family | None, list[tuple[str, str]]]:
    """A family from its JSON document, or the (field, reason) of every problem."""
    errors: list[tuple[str, str]] = []
    if not isinstance(doc, dict):
        return None, [("", "a JSON object")]
    code, label = doc.get("code"), doc.get("label", "")
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        errors.append(("code", "1-64 letters, digits or ._- starting alphanumeric"))
    if not isinstance(label, str) or len(label) > 200:
        errors.append(("label", "a text of at most 200 characters"))
    attrs: list[AttributeDef] = []
    raw_attrs = doc.get("attributes")
    if not isinstance(raw_attrs, list) or not raw_attrs or len(raw_attrs) > 500:
        errors.append(("attributes", "a list of 1 to 500 attributes"))
        raw_attrs = []
    for i, raw in enumerate(raw_attrs):
        attr, problems = _attribute(raw)
        errors += [(f"attributes[{i}].{f}".rstrip("."), r) for f, r in problems]
        if attr is not None:
            if any(a.code == attr.code for a in attrs):
                errors.append((f"attributes[{i}].code", f"{attr.code!r} is defined twice"))
            attrs.append(attr)
    required: dict[str, tuple[str, ...]] = {}
    raw_required = doc.get("required", {})
    if not isinstance(raw_required, dict):
        errors.append(("required", 'an object: channel (or "*") to attribute codes'))
        raw_required = {}
    known = {a.code for a in attrs}
    for channel, codes in raw_required.items():
        if channel != ANY_CHANNEL and not CODE_RE.fullmatch(channel):
            errors.append((f"required.{channel}", 'a channel code or "*"'))
        elif not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            errors.append((f"required.{channel}", "a list of attribute codes"))
        elif unknown := [c for c in codes if c not in known]:
            errors.append((f"required.{channel}", f"{unknown[0]!r} is not an attribute of this family"))
        else:
            required[channel] = tuple(codes)
    if errors:
        return None, errors
    return Family(str(code), str(label), tuple(attrs), required), []


def _attribute(raw: Any) -> tuple[AttributeDef | None, list[tuple[str, str]]]:
    if not isinstance(raw, dict):
        return None, [("", "an object")]
    errors: list[tuple[str, str]] = []
    unknown = set(raw) - {"code", "type", "label", "localised", "variant", "units", "options", "max_length"}
    if unknown:
        errors.append((sorted(unknown)[0], "not a field of an attribute"))
    code = raw.get("code")
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        errors.append(("code", "1-64 letters, digits or ._- starting alphanumeric"))
    try:
        kind = AttributeType(str(raw.get("type")))
    except ValueError:
        errors.append(("type", f"one of {', '.join(t.value for t in AttributeType)}"))
        kind = AttributeType.TEXT
    flags = {k: raw.get(k, False) for k in ("localised", "variant")}
    errors += [(k, "true or false") for k, v in flags.items() if not isinstance(v, bool)]
    lists: dict[str, tuple[str, ...]] = {}
    for name, pattern in (("units", UNIT_RE), ("options", None)):
        items = raw.get(name, [])
        if not isinstance(items, list) or len(items) > MAX_OPTIONS or not all(isinstance(v, str) for v in items):
            errors.append((name, f"a list of at most {MAX_OPTIONS} texts"))
        elif pattern is not None and (bad := [v for v in items if not pattern.fullmatch(v)]):
            errors.append((name, f"{bad[0]!r} is not a unit"))
        else:
            lists[name] = tuple(items)
    if kind is AttributeType.ENUM and not lists.get("options"):
        errors.append(("options", "an enum needs its options"))
    if lists.get("units") and kind is not AttributeType.NUMBER:
        errors.append(("units", "only a number has units"))
    max_length = raw.get("max_length", MAX_TEXT)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= MAX_TEXT:
        errors.append(("max_length", f"an integer from 1 to {MAX_TEXT}"))
    label = raw.get("label", "")
    if not isinstance(label, str) or len(label) > 200:
        errors.append(("label", "a text of at most 200 characters"))
    if errors:
        return None, errors
    return AttributeDef(
        str(code),
        kind,
        str(label),
        bool(flags["localised"]),
        bool(flags["variant"]),
        lists["units"],
        lists["options"],
        int(max_length),
    ), []


def family_document(family: Family) -> dict[str, Any]:
    """The JSON document of ``family`` (what ``parse_family`` reads back)."""
    attrs = []
    for a in family.attributes:
        doc: dict[str, Any] = {"code": a.code, "type": a.type.value}
        if a.label:
            doc["label"] = a.label
        for name in ("localised", "variant"):
            if getattr(a, name):
                doc[name] = True
        for name in ("units", "options"):
            if getattr(a, name):
                doc[name] = list(getattr(a, name))
        if a.max_length != MAX_TEXT:
            doc["max_length"] = a.max_length
        attrs.append(doc)
    required = {k: list(v) for k, v in sorted(family.required.items())}
    return {"code": family.code, "label": family.label, "attributes": attrs, "required": required}
