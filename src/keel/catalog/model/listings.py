"""Syndication: a channel's listing of each variant, built through the channel's mapping and checked against its
profile, ready or blocked with reasons.

A **target** says how one channel lists products: the compliance profile it must meet, the locale it shows, and
its mapping: channel field <- attribute (or a built-in source), with transforms (a number converted to
another unit; a text cut to a length, where the profile lets that field be truncated). The payload of one
variant holds every field the mapping or the profile's rules name; validation reads only the payload.

Channels whose targets are equal (same profile, locale and mapping) form a **listing group**: they show every
product the same way, so a variant's listing is built, checked and stored once per group, not once per
channel. A channel leaves its group's common listing only for the products that differ there: a value
overridden for that channel, or a family that requires more on it; those products get the channel's own
listing rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, NamedTuple

from keel.catalog.model.attributes import LOCALE_RE
from keel.catalog.model.profiles import Profile
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

    @cached_property
    def group(self) -> str:
        """The listing group: equal for channels whose profile, locale and mapping are equal."""
        return group_of(target_document(self))


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


class ListingRow(NamedTuple):
    """One variant's listing as stored: in ``group`` for every channel of the group (``channel`` empty), or for
    one channel whose listing of the product differs from the group's (``channel`` set). A named tuple: an
    import builds one per variant and listing group, and a tuple costs less than half a frozen dataclass."""

    group: str
    channel: str
    sku: str
    state: ListingState
    reasons: tuple[Reason, ...]
    payload: dict[str, Any]


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


def group_of(document: dict[str, Any]) -> str:
    """The listing group of a stored target document (``target_document``): a digest of its canonical JSON.
    Migration 0014 computes the same digest for the targets it finds; the two must not drift."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "g" + hashlib.sha256(text.encode()).hexdigest()[:16]


def convert(value: Any, unit: str) -> Any:
    if not isinstance(value, dict) or value.get("unit") not in UNITS:
        return value
    have, factor = UNITS[value["unit"]]
    want, target = UNITS[unit]
    if have != want:
        return value  # a mapping to another dimension is the profile's to refuse, not ours to guess
    amount = (Decimal(value["amount"]) * factor / target).normalize()
    return {"amount": format(amount, "f"), "unit": unit}


def validate(profile: Profile, payload: dict[str, Any]) -> tuple[Reason, ...]:
    """The profile's rules the payload fails, each with its field and message: validation sees exactly what
    the channel would receive."""
    get = payload.get
    return tuple(Reason(r.id, names, r.message) for check, r, names in profile.checks if check(get) is False)
