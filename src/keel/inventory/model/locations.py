"""Location field validation (kinds and capabilities are shared vocabulary: ``keel.platform.vocabulary``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keel.platform.errors import FieldError
from keel.platform.vocabulary import CODE_RE, CODE_RULE, Capability, LocationKind

MAX_CAPACITY = 10_000_000  # units a day: far above any real node, so only typos are refused


def validate_location_fields(values: Mapping[str, Any], countries: frozenset[str]) -> list[FieldError]:
    """Check the location fields present in ``values`` (a create or a partial update)."""
    errors: list[FieldError] = []
    if "code" in values and not CODE_RE.fullmatch(str(values["code"] or "")):
        errors.append(FieldError(None, "code", CODE_RULE))
    if "name" in values and not str(values["name"] or "").strip():
        errors.append(FieldError(None, "name", "must not be empty"))
    elif "name" in values and len(str(values["name"])) > 200:
        errors.append(FieldError(None, "name", "at most 200 characters"))
    for key in ("region", "city"):
        if values.get(key) is not None and len(str(values[key])) > 100:
            errors.append(FieldError(None, key, "at most 100 characters"))
    if "kind" in values and values["kind"] not in {k.value for k in LocationKind}:
        errors.append(FieldError(None, "kind", f"one of {', '.join(k.value for k in LocationKind)}"))
    if "country" in values and values["country"] not in countries:
        errors.append(FieldError(None, "country", f"not an ISO 3166-1 alpha-2 code: {values['country']!r}"))
    for key, bound in (("latitude", 90.0), ("longitude", 180.0)):
        value = values.get(key)
        if value is not None and not -bound <= float(value) <= bound:
            errors.append(FieldError(None, key, f"must be between -{bound:g} and {bound:g}"))
    capacity = values.get("daily_capacity")
    if capacity is not None and (
        isinstance(capacity, bool) or not isinstance(capacity, int) or not 0 <= capacity <= MAX_CAPACITY
    ):
        errors.append(
            FieldError(None, "daily_capacity", f"a whole number of units from 0 to {MAX_CAPACITY:,}, or null")
        )
    caps = values.get("capabilities")
    if caps is not None:
        unknown = sorted(set(caps) - {c.value for c in Capability})
        if unknown:
            errors.append(FieldError(None, "capabilities", f"unknown: {', '.join(unknown)}"))
    return errors


__all__ = ["MAX_CAPACITY", "Capability", "LocationKind", "validate_location_fields"]
