"""Products and their variants as documents checked against a family, and the flat view revisions diff.

A product holds the values every variant shares (title, brand, description) and its variants (one SKU each)
the values that tell them apart (size, colour) with their own identifiers (GTIN, MPN). A value is keyed by
attribute, locale (localised attributes only) and channel (an override for one channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from keel.catalog.model.attributes import LOCALE_RE, AttributeDef, Family, canonical, is_url
from keel.catalog.model.gtin import check_gtin
from keel.platform.vocabulary import CODE_RE, CODE_RULE, SKU_RE, SKU_RULE

MAX_VALUES = 2_000  # values of one product or variant
MAX_VARIANTS = 500
MAX_MEDIA = 50
MAX_CATEGORIES = 20
MPN_MAX = 70
BRAND_MAX = 100


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"


@dataclass(frozen=True)
class Value:
    attribute: str
    value: Any
    locale: str | None = None
    channel: str | None = None

    @property
    def key(self) -> str:
        """``title@de#google``: the attribute, its locale after ``@``, its channel after ``#``."""
        return _value_key(self.attribute, self.locale, self.channel)


def _value_key(attribute: str, locale: str | None, channel: str | None) -> str:
    if locale:
        attribute += "@" + locale
    return attribute + "#" + channel if channel else attribute


@dataclass(frozen=True)
class Variant:
    sku: str
    gtin: str | None = None
    mpn: str | None = None
    values: tuple[Value, ...] = ()


@dataclass(frozen=True)
class MediaLink:
    url: str
    kind: MediaKind = MediaKind.IMAGE
    alt: str | None = None


@dataclass(frozen=True)
class Product:
    code: str
    family: str
    brand: str | None = None
    categories: tuple[str, ...] = ()
    values: tuple[Value, ...] = ()
    variants: tuple[Variant, ...] = ()
    media: tuple[MediaLink, ...] = ()

    @property
    def skus(self) -> tuple[str, ...]:
        return tuple(v.sku for v in self.variants)


Problems = list[tuple[str, str]]


def _text(doc: Mapping[str, Any], name: str, limit: int, errors: Problems, where: str) -> str | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        errors.append((f"{where}{name}", f"a non-empty text of at most {limit} characters"))
        return None
    return value


_VALUE_FIELDS = frozenset({"attribute", "locale", "channel", "value"})


def _values(raw: Any, family: Family, *, variant: bool, where: str, errors: Problems) -> tuple[Value, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_VALUES:
        errors.append((f"{where}values", f"a list of at most {MAX_VALUES} values"))
        return ()
    out: dict[str, Value] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not _VALUE_FIELDS.issuperset(item):
            errors.append((f"{where}values[{i}]", "an object with attribute, value and optionally locale and channel"))
            continue
        code = item.get("attribute")
        attr = family.attribute(code) if isinstance(code, str) else None
        if attr is None:
            errors.append((f"{where}values[{i}].attribute", f"not an attribute of family {family.code}"))
            continue
        if attr.variant != variant:
            level = "each variant" if attr.variant else "the product"
            errors.append((f"{where}values[{i}].attribute", f"{attr.code} is set on {level}"))
            continue
        locale, channel = item.get("locale"), item.get("channel")
        if attr.localised and not (isinstance(locale, str) and LOCALE_RE.fullmatch(locale)):
            errors.append((f"{where}values[{i}].locale", f"{attr.code} is localised: a locale such as de or en-GB"))
            continue
        if not attr.localised and locale is not None:
            errors.append((f"{where}values[{i}].locale", f"{attr.code} is not localised"))
            continue
        if channel is not None and not (isinstance(channel, str) and CODE_RE.fullmatch(channel)):
            errors.append((f"{where}values[{i}].channel", f"a channel code ({CODE_RULE})"))
            continue
        value, reason = canonical(attr, item.get("value"))
        if reason is not None:
            errors.append((f"{where}values[{i}].value", f"{attr.code} ({attr.type.value}): {reason}"))
            continue
        key = _value_key(attr.code, locale, channel)
        if key in out:
            errors.append((f"{where}values[{i}]", f"{key} is given twice"))
        out[key] = Value(attr.code, value, locale, channel)
    return tuple(out[k] for k in sorted(out))


def parse_product(
    doc: Any, families: Mapping[str, Family], categories: frozenset[str] | None = None
) -> tuple[Product | None, Problems]:
    """A product from its JSON document, checked against its family (and the known categories when given),
    or the (field, reason) of every problem."""
    if not isinstance(doc, dict):
        return None, [("", "a JSON object")]
    errors: Problems = []
    unknown = set(doc) - {"code", "family", "brand", "categories", "values", "variants", "media"}
    errors += [(k, "not a field of a product") for k in sorted(unknown)]
    code = doc.get("code")
    if not isinstance(code, str) or not CODE_RE.fullmatch(code):
        errors.append(("code", CODE_RULE))
    family = families.get(doc["family"]) if isinstance(doc.get("family"), str) else None
    if family is None:
        errors.append(("family", f"unknown family {doc.get('family')!r}"))
        return None, errors
    brand = _text(doc, "brand", BRAND_MAX, errors, "")
    cats = doc.get("categories", [])
    if not isinstance(cats, list) or len(cats) > MAX_CATEGORIES or not all(isinstance(c, str) for c in cats):
        errors.append(("categories", f"a list of at most {MAX_CATEGORIES} category codes"))
        cats = []
    elif categories is not None and (missing := [c for c in cats if c not in categories]):
        errors.append(("categories", f"unknown category {missing[0]!r}"))
    values = _values(doc.get("values"), family, variant=False, where="", errors=errors)
    variants = _variants(doc.get("variants"), family, errors)
    media = _media(doc.get("media"), errors)
    if errors:
        return None, errors
    product = Product(str(code), family.code, brand, tuple(sorted(set(cats))), values, variants, media)
    return product, []


def _variants(raw: Any, family: Family, errors: Problems) -> tuple[Variant, ...]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_VARIANTS:
        errors.append(("variants", f"a list of 1 to {MAX_VARIANTS} variants (one SKU each)"))
        return ()
    out: list[Variant] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        at = f"variants[{i}]."
        if not isinstance(item, dict) or set(item) - {"sku", "gtin", "mpn", "values"}:
            errors.append((at.rstrip("."), "an object with sku and optionally gtin, mpn and values"))
            continue
        sku = item.get("sku")
        if not isinstance(sku, str) or not SKU_RE.fullmatch(sku):
            errors.append((f"{at}sku", SKU_RULE))
            continue
        if sku in seen:
            errors.append((f"{at}sku", f"{sku} is given twice"))
        seen.add(sku)
        gtin = item.get("gtin")
        if gtin is not None:
            check = check_gtin(gtin) if isinstance(gtin, str) else None
            if check is None or not check.valid:
                errors.append((f"{at}gtin", f"not a valid GTIN: {check.reason if check else 'a text of digits'}"))
        mpn = _text(item, "mpn", MPN_MAX, errors, at)
        values = _values(item.get("values"), family, variant=True, where=at, errors=errors)
        out.append(Variant(sku, gtin, mpn, values))
    return tuple(out)


def _media(raw: Any, errors: Problems) -> tuple[MediaLink, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_MEDIA:
        errors.append(("media", f"a list of at most {MAX_MEDIA} links"))
        return ()
    out = []
    for i, item in enumerate(raw):
        at = f"media[{i}]"
        if not isinstance(item, dict) or set(item) - {"url", "kind", "alt"} or not is_url(item.get("url")):
            errors.append((at, "an object with an http(s) url, and optionally kind and alt"))
            continue
        try:
            kind = MediaKind(item.get("kind", "image"))
        except ValueError:
            errors.append((f"{at}.kind", f"one of {', '.join(k.value for k in MediaKind)}"))
            continue
        alt = _text(item, "alt", 500, errors, f"{at}.")
        out.append(MediaLink(item["url"], kind, alt))
    return tuple(out)


def _value_doc(v: Value) -> dict[str, Any]:
    doc: dict[str, Any] = {"attribute": v.attribute}
    if v.locale:
        doc["locale"] = v.locale
    if v.channel:
        doc["channel"] = v.channel
    doc["value"] = v.value
    return doc


def product_document(p: Product) -> dict[str, Any]:
    """The canonical JSON document of ``p``: what ``parse_product`` reads back to an equal product."""
    doc: dict[str, Any] = {"code": p.code, "family": p.family}
    if p.brand is not None:
        doc["brand"] = p.brand
    doc["categories"] = list(p.categories)
    doc["values"] = [_value_doc(v) for v in p.values]
    variants = []
    for v in p.variants:
        item: dict[str, Any] = {"sku": v.sku}
        if v.gtin is not None:
            item["gtin"] = v.gtin
        if v.mpn is not None:
            item["mpn"] = v.mpn
        item["values"] = [_value_doc(x) for x in v.values]
        variants.append(item)
    doc["variants"] = variants
    doc["media"] = [{"url": m.url, "kind": m.kind.value} | ({"alt": m.alt} if m.alt else {}) for m in p.media]
    return doc


def flatten(doc: Mapping[str, Any] | None) -> dict[str, Any]:
    """A product document as path -> value, the unit a revision's diff speaks in (``values.title@de``,
    ``variants.SKU-1.gtin``)."""
    if doc is None:
        return {}
    flat: dict[str, Any] = {"family": doc["family"], "categories": doc.get("categories", [])}
    if doc.get("brand") is not None:
        flat["brand"] = doc["brand"]
    if doc.get("media"):
        flat["media"] = doc["media"]
    for v in doc.get("values", []):
        flat[f"values.{_key(v)}"] = v["value"]
    for position, variant in enumerate(doc.get("variants", [])):
        at = f"variants.{variant['sku']}"
        flat[at] = position
        for name in ("gtin", "mpn"):
            if variant.get(name) is not None:
                flat[f"{at}.{name}"] = variant[name]
        for v in variant.get("values", []):
            flat[f"{at}.values.{_key(v)}"] = v["value"]
    return flat


def _key(v: Mapping[str, Any]) -> str:
    return _value_key(v["attribute"], v.get("locale"), v.get("channel"))


@dataclass(frozen=True)
class Change:
    """One path a revision changed: ``before`` None when it was added, ``after`` None when removed."""

    path: str
    before: Any
    after: Any


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[Change, ...]:
    """What changed from one product document to another, path by path."""
    a, b = flatten(before), flatten(after)
    if not a:  # a new product (an import's usual case): every path it has is added
        return tuple(Change(k, None, b[k]) for k in sorted(b) if b[k] is not None)
    return tuple(Change(k, a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k))


def override_channel(path: str) -> str | None:
    """The channel a diff path is an override for (``values.title@de#google``,
    ``variants.SKU-1.values.size#google``: a value whose key names a channel), else None. Only value keys carry
    ``#``: codes, SKUs and locales cannot."""
    head, sep, channel = path.rpartition("#")
    if not sep or not CODE_RE.fullmatch(channel):
        return None
    if head.startswith("values.") or (head.startswith("variants.") and ".values." in head):
        return channel
    return None


def outside_channels(changes: tuple[Change, ...], channels: frozenset[str]) -> list[tuple[str, str]]:
    """The changes a caller restricted to ``channels`` may not make, as (path, reason): everything but values
    overridden for one of ``channels``, since every other value (common values, the brand, media, categories,
    the family, variants and their identifiers) shows on every channel."""
    refused = []
    for change in changes:
        channel = override_channel(change.path)
        if channel is None:
            refused.append((change.path, "shows on every channel"))
        elif channel not in channels:
            refused.append((change.path, f"the override for channel {channel}, outside your restrictions"))
    return refused


def resolve(values: tuple[Value, ...], attr: AttributeDef, locale: str | None, channel: str | None) -> Any:
    """The value of ``attr`` a channel shows in a locale: its override for the channel, else the common one."""
    by_key = {v.key: v.value for v in values if v.attribute == attr.code}
    loc = locale if attr.localised else None
    for ch in (channel, None):
        key = Value(attr.code, None, loc, ch).key
        if key in by_key:
            return by_key[key]
    return None
