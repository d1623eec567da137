"""Syndication: a channel's listing of each variant, built through the channel's mapping and checked against its
profile, ready or blocked with reasons.

A **target** says how one channel lists products: the compliance profile it must meet, the locale it shows, and
its mapping: channel field <- attribute (or a built-in source), with transforms (a number converted to
another unit; a text cut to a length, where the profile lets that field be truncated). The payload of one
variant holds every field the mapping or the profile's rules name; validation reads only the payload, so two
channels whose payloads are equal share one validation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from keel.catalog.model.attributes import LOCALE_RE, Family
from keel.catalog.model.product import Product, Variant
from keel.catalog.model.profiles import Listing, Profile, check_rule, family_results
from keel.platform.vocabulary import CODE_RE

# Factors to a base unit per dimension (mass: g, length: mm, volume: ml).
UNITS: dict[str, tuple[str, Decimal]] = {
    "mg": ("mass", Decimal("0.001")),
    "g": ("mass", Decimal(1)),
    "kg": ("mass", Decimal(1000)),
    "oz": ("mass", Decimal("28.349523125")),
    "lb": ("mass", Decimal("453.59237")),
    "mm": ("length", Decimal(1)),
    "cm": ("length", Decimal(10)),
    "m": ("length", Decimal(1000)),
    "in": ("length", Decimal("25.4")),
    "ml": ("volume", Decimal(1)),
    "cl": ("volume", Decimal(10)),
    "l": ("volume", Decimal(1000)),
}
MAX_FIELDS = 200


class ListingState(StrEnum):
    READY = "ready"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class FieldMap:
    """One channel field: read from ``source`` (an attribute code or a built-in such as ``@sku``), optionally
    converted to ``unit`` or cut to ``truncate`` characters."""

    field: str
    source: str
    unit: str | None = None
    truncate: int | None = None


@dataclass(frozen=True)
class Target:
    """How one channel lists products: its profile, its locale and its mapping."""

    channel: str
    profile: str
    locale: str | None
    mapping: tuple[FieldMap, ...] = ()


@dataclass(frozen=True)
class Reason:
    rule: str
    field: str
    message: str


@dataclass(frozen=True)
class ListingView:
    """One variant's listing on one channel: ``ready`` or ``blocked`` with the reasons, and its payload."""

    channel: str
    sku: str
    product: str
    state: ListingState
    reasons: tuple[Reason, ...]
    payload: dict[str, Any]
    revision: int


@dataclass(frozen=True)
class ChannelReadiness:
    """How many listings of a channel are ready and blocked, and the reasons that block most."""

    channel: str
    ready: int
    blocked: int
    top_reasons: tuple[tuple[str, int], ...]


def parse_target(channel: str, doc: Any, profiles: dict[str, Profile]) -> tuple[Target | None, list[tuple[str, str]]]:
    """A target from its document (``profile``, ``locale``, ``mapping``: field -> source or
    ``{"source", "unit", "truncate"}``), or the (field, reason) of every problem."""
    if not isinstance(doc, dict):
        return None, [("", "a JSON object")]
    errors: list[tuple[str, str]] = []
    errors += [(k, "not a field of a target") for k in sorted(set(doc) - {"profile", "locale", "mapping", "channel"})]
    if not CODE_RE.fullmatch(channel):
        errors.append(("channel", "a channel code"))
    profile = profiles.get(str(doc["profile"])) if isinstance(doc.get("profile"), str) else None
    if profile is None:
        errors.append(("profile", f"unknown profile {doc.get('profile')!r}"))
    locale = doc.get("locale")
    if locale is not None and not (isinstance(locale, str) and LOCALE_RE.fullmatch(locale)):
        errors.append(("locale", "a locale such as de or en-GB"))
    raw = doc.get("mapping", {})
    mapping: list[FieldMap] = []
    if not isinstance(raw, dict) or len(raw) > MAX_FIELDS:
        errors.append(("mapping", f"an object of at most {MAX_FIELDS} fields"))
        raw = {}
    for name, spec in raw.items():
        at = f"mapping.{name}"
        if isinstance(spec, str):
            spec = {"source": spec}
        if not isinstance(spec, dict) or set(spec) - {"source", "unit", "truncate"} or "source" not in spec:
            errors.append((at, 'an attribute code, or {"source": ..., "unit": ..., "truncate": ...}'))
            continue
        unit, cut = spec.get("unit"), spec.get("truncate")
        if unit is not None and unit not in UNITS:
            errors.append((f"{at}.unit", f"one of {', '.join(UNITS)}"))
        if cut is not None:
            if isinstance(cut, bool) or not isinstance(cut, int) or cut < 1:
                errors.append((f"{at}.truncate", "a length, 1 or more"))
            elif profile is not None and name not in profile.truncatable:
                errors.append((f"{at}.truncate", f"profile {profile.code} does not let {name} be truncated"))
        mapping.append(FieldMap(str(name), str(spec["source"]), unit, cut))
    if errors or profile is None:
        return None, errors
    return Target(channel, profile.code, locale, tuple(mapping)), []


def target_document(t: Target) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for m in t.mapping:
        extra = {k: v for k, v in (("unit", m.unit), ("truncate", m.truncate)) if v is not None}
        mapping[m.field] = {"source": m.source, **extra} if extra else m.source
    return {"profile": t.profile, "locale": t.locale, "mapping": mapping}


def _convert(value: Any, unit: str) -> Any:
    if not isinstance(value, dict) or value.get("unit") not in UNITS:
        return value
    have, factor = UNITS[value["unit"]]
    want, target = UNITS[unit]
    if have != want:
        return value  # a mapping to another dimension is the profile's to refuse, not ours to guess
    amount = (Decimal(value["amount"]) * factor / target).normalize()
    return {"amount": format(amount, "f"), "unit": unit}


def build_payload(
    target: Target, profile: Profile, product: Product, variant: Variant, family: Family
) -> dict[str, Any]:
    """The fields one variant is listed with on ``target``'s channel: every mapped field (transformed) and
    every field the profile's rules read."""
    listing = Listing(profile, product, variant, family, target.channel, target.locale)
    mapped = {m.field: m for m in target.mapping}
    names = (*mapped, *(n for n in profile.read if n not in mapped))
    payload: dict[str, Any] = {}
    for name in names:
        m = mapped.get(name)
        value = listing.get(m.source if m else name, direct=m is not None)
        if m is not None and m.unit:
            value = _convert(value, m.unit)
        if m is not None and m.truncate and isinstance(value, str):
            value = value[: m.truncate]
        if value is not None:
            payload[name] = value
    return payload


class PayloadFields(Listing):
    """A payload read as a listing: validation sees exactly what the channel would receive."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    def get(self, name: str, *, direct: bool = False) -> Any:
        return self.payload.get(name)


def validate(profile: Profile, payload: dict[str, Any]) -> tuple[Reason, ...]:
    """The profile's rules the payload fails, each with its field and message."""
    fields = PayloadFields(payload)
    return tuple(Reason(r.id, ",".join(r.names), r.message) for r in profile.rules if check_rule(r, fields) is False)


def payload_key(profile: str, payload: dict[str, Any]) -> str:
    """What a validation depends on: channels with the same key share one validation."""
    return profile + "\n" + json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def listing_states(
    product: Product, family: Family, targets: list[Target], profiles: dict[str, Profile]
) -> list[ListingView]:
    """Every variant's listing on every target, each distinct (profile, payload) validated once."""
    checked: dict[str, tuple[Reason, ...]] = {}
    out: list[ListingView] = []
    for variant in product.variants:
        for target in targets:
            profile = profiles[target.profile]
            payload = build_payload(target, profile, product, variant, family)
            key = payload_key(profile.code, payload)
            if key not in checked:
                checked[key] = validate(profile, payload)
            missing = family_results(product, variant, family, target.channel, target.locale)
            reasons = tuple(Reason(r.rule, r.field, r.message) for r in missing if not r.passed) + checked[key]
            state = ListingState.BLOCKED if reasons else ListingState.READY
            out.append(ListingView(target.channel, variant.sku, product.code, state, reasons, payload, 0))
    return out


def completeness(product: Product, family: Family, target: Target, profile: Profile) -> float:
    """The share, in percent, of the profile's applicable rules and the family's requirements for the channel
    that ``product``'s variants pass as ``target``'s channel receives them: through its mapping, so a field the
    target maps from another attribute (a bullet point cut from the description) counts as given."""
    results: list[bool] = []
    for variant in product.variants:
        fields = PayloadFields(build_payload(target, profile, product, variant, family))
        results += [r.passed for r in family_results(product, variant, family, target.channel, target.locale)]
        results += [o for o in (check_rule(r, fields) for r in profile.rules) if o is not None]
    return round(100 * sum(results) / len(results), 1) if results else 100.0
