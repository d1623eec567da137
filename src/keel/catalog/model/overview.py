"""What the catalog pages show: a product's row in the list (completeness per channel), its values laid out
per locale, and a value as a person reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keel.catalog.model.listings import ListingView
from keel.catalog.model.records import Revision

COMMON = ""  # the locale column of values that are not localised


@dataclass(frozen=True)
class ProductQuery:
    """Filters of the product list; every one optional. ``blocked_on`` a channel where one of the product's
    listings is blocked; ``missing`` an attribute (or channel field) a blocked listing lacks; ``rule`` a rule
    a blocked listing fails; ``text`` a part of the code, a SKU, a GTIN, the brand or any value."""

    family: str | None = None
    brand: str | None = None
    text: str | None = None
    blocked_on: str | None = None
    missing: str | None = None
    rule: str | None = None


@dataclass(frozen=True)
class ChannelScore:
    """One product on one channel: the completeness score (share of rule results that pass, in percent) and
    how many of its variants' listings are ready or blocked."""

    channel: str
    score: float
    ready: int
    blocked: int


@dataclass(frozen=True)
class ProductRow:
    code: str
    family: str
    brand: str | None
    title: str | None
    variants: int
    revision: int
    updated_at: datetime
    channels: tuple[ChannelScore, ...]


@dataclass(frozen=True)
class ValueRow:
    """One attribute of a product or variant: its value per locale (``COMMON`` for a value that is not
    localised) and its per-channel overrides as (channel, locale, value)."""

    attribute: str
    level: str  # "product" or the variant's SKU
    values: dict[str, str]
    overrides: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class ProductDetail:
    code: str
    family: str
    brand: str | None
    revision: int
    updated_at: datetime
    categories: tuple[str, ...]
    locales: tuple[str, ...]
    values: tuple[ValueRow, ...]
    variants: tuple[dict[str, Any], ...]
    media: tuple[dict[str, Any], ...]
    channels: tuple[ChannelScore, ...]
    listings: tuple[ListingView, ...]
    history: tuple[Revision, ...]
    revisions: int


def show(value: Any) -> str:
    """A stored value as a person reads it: money and numbers with their unit, lists joined, booleans as
    yes/no; nothing as an en dash."""
    if value is None:
        return "\N{EN DASH}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and "amount" in value:
        unit = value.get("currency") or value.get("unit")
        return f"{value['amount']} {unit}" if unit else str(value["amount"])
    if isinstance(value, list):
        return ", ".join(show(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {show(v)}" for k, v in value.items())
    return str(value)


def value_rows(document: dict[str, Any]) -> tuple[tuple[str, ...], tuple[ValueRow, ...]]:
    """A product document's values, the product's first then each variant's, one row per attribute with a
    column per locale; and the locales in use."""
    locales: set[str] = set()
    rows: list[ValueRow] = []
    levels = [("product", document.get("values", []))]
    levels += [(v["sku"], v.get("values", [])) for v in document.get("variants", [])]
    for level, values in levels:
        by_attribute: dict[str, tuple[dict[str, str], list[tuple[str, str, str]]]] = {}
        for item in values:
            locale = item.get("locale") or COMMON
            common, overrides = by_attribute.setdefault(item["attribute"], ({}, []))
            if item.get("channel"):
                overrides.append((item["channel"], locale, show(item["value"])))
            else:
                common[locale] = show(item["value"])
                if locale != COMMON:
                    locales.add(locale)
        rows += [ValueRow(a, level, c, tuple(sorted(o))) for a, (c, o) in by_attribute.items()]
    return tuple(sorted(locales)), tuple(rows)


def title_of(document: dict[str, Any], locale: str | None) -> str | None:
    """The product's title in ``locale`` (else its first title), for a list row."""
    titles: dict[str, str] = {
        str(v.get("locale")): v["value"]
        for v in document.get("values", [])
        if v["attribute"] == "title" and not v.get("channel") and isinstance(v["value"], str)
    }
    if not titles:
        return None
    return titles.get(str(locale)) or titles[min(titles)]
