"""Pure channel domain: kinds and the availability policy a channel lists stock by."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from keel.platform.errors import FieldError
from keel.platform.vocabulary import MAX_QUANTITY, AtpRules


class ChannelKind(StrEnum):
    MARKETPLACE = "marketplace"
    WEB_STORE = "web_store"
    POS = "pos"
    SOCIAL = "social"
    B2B = "b2b"


@dataclass(frozen=True)
class Sources:
    """Where a channel may sell from in one country: explicit locations and/or location groups."""

    locations: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """How a channel's listed quantity is derived from stock: where from, and the numbers (``rules``, which
    the inventory context's ATP arithmetic applies)."""

    sources: Mapping[str, Sources] = field(default_factory=dict)  # country -> sources
    rules: AtpRules = field(default_factory=AtpRules)


def parse_policy(raw: Mapping[str, Any], countries: list[str]) -> tuple[Policy, list[FieldError]]:
    """Validate a policy document; every source country must be one of the channel's countries."""
    errors: list[FieldError] = []
    sources: dict[str, Sources] = {}
    raw_sources = raw.get("sources") or {}
    if not isinstance(raw_sources, Mapping):
        errors.append(FieldError(None, "policy.sources", "an object of country -> {locations, groups}"))
        raw_sources = {}
    for country, spec in raw_sources.items():
        if country not in countries:
            errors.append(FieldError(None, f"policy.sources.{country}", "not one of the channel's countries"))
            continue
        if not isinstance(spec, Mapping):
            errors.append(FieldError(None, f"policy.sources.{country}", "an object with locations and/or groups"))
            continue
        lists = {}
        for key in ("locations", "groups"):
            value = spec.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors.append(FieldError(None, f"policy.sources.{country}.{key}", "a list of codes"))
                value = []
            lists[key] = tuple(value)
        locs, groups = lists["locations"], lists["groups"]
        if not locs and not groups:
            errors.append(FieldError(None, f"policy.sources.{country}", "name at least one location or group"))
        sources[country] = Sources(locs, groups)
    ints = {}
    for key, low in (("safety_buffer", 0), ("zero_below", 0), ("max_listed", 0)):
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            errors.append(FieldError(None, f"policy.{key}", f"must be an integer >= {low}"))
        elif value > MAX_QUANTITY:  # the ledger's counts are 32-bit: a larger buffer means nothing
            errors.append(FieldError(None, f"policy.{key}", f"must be an integer <= {MAX_QUANTITY}"))
        else:
            ints[key] = value
    pct = raw.get("allocation_pct", 100.0)
    if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 <= pct <= 100:
        errors.append(FieldError(None, "policy.allocation_pct", "must be a number from 0 to 100"))
        pct = 100.0
    backorder = raw.get("backorder", False)
    if not isinstance(backorder, bool):
        errors.append(FieldError(None, "policy.backorder", "must be true or false"))
        backorder = False
    rules = AtpRules(
        safety_buffer=ints.get("safety_buffer", 0),
        allocation_pct=float(pct),
        max_listed=ints.get("max_listed"),
        zero_below=ints.get("zero_below", 0),
        backorder=backorder,
    )
    policy = Policy(sources=sources, rules=rules)
    return policy, errors


def policy_document(policy: Policy) -> dict[str, Any]:
    """The stored and published JSON form of a policy (``parse_policy`` reads it back)."""
    rules = policy.rules
    return {
        "sources": {
            c: {"locations": list(s.locations), "groups": list(s.groups)} for c, s in sorted(policy.sources.items())
        },
        "safety_buffer": rules.safety_buffer,
        "allocation_pct": rules.allocation_pct,
        "max_listed": rules.max_listed,
        "zero_below": rules.zero_below,
        "backorder": rules.backorder,
    }


@dataclass(frozen=True, slots=True)
class Channel:
    """A registered sales channel; ``policy`` is its parsed availability policy."""

    id: int
    code: str
    name: str
    kind: str
    countries: tuple[str, ...]
    currency: str
    policy: Policy
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CreateChannel:
    """Command: register a channel. ``policy`` is the policy document (validated by ``parse_policy``)."""

    code: str
    name: str
    kind: str
    countries: tuple[str, ...]
    currency: str
    policy: Mapping[str, Any] = field(default_factory=dict)


class ChannelChanges(TypedDict, total=False):
    """Command: the fields of a channel to change (absent: unchanged)."""

    name: str | None
    kind: str | None
    countries: list[str] | None
    currency: str | None
    policy: Mapping[str, Any] | None
    active: bool | None
