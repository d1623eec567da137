"""Replenishment policies as data: one row per location kind, location, or SKU at a location.

A SKU x location takes the most specific row that names a field (SKU at location > location > kind) and the
built-in default of its location kind for the rest, so an operator states only what differs. Rows arrive as
JSON documents and are validated field by field before anything is written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from keel.platform.errors import FieldError
from keel.platform.vocabulary import CODE_RE, SKU_RE, LocationKind

__all__ = [
    "DEFAULTS",
    "SOURCES",
    "Policy",
    "PolicyRow",
    "parse_policy_rows",
    "resolve_policy",
]

SOURCES = ("supplier", "warehouse")  # where a location's stock comes from: bought in, or moved from a DC
DISTRIBUTION_KINDS = frozenset({LocationKind.WAREHOUSE.value, LocationKind.THREE_PL.value})
MAX_DAYS = 365
MAX_UNITS = 10_000_000


@dataclass(frozen=True, slots=True)
class Policy:
    """How one SKU x location is replenished (periodic review, order-up-to)."""

    review_days: int  # how often it is reviewed: an order must cover until the next review's order arrives
    lead_time_days: float  # mean days from order to stock on the shelf
    lead_time_sd_days: float  # their standard deviation
    service_level: float  # target cycle service level: chance a cycle ends without a stockout
    moq: int  # minimum order quantity (0: none)
    pack_size: int  # orders are whole packs
    shelf_capacity: int | None  # at most this many on hand plus incoming (None: no limit)
    order_weekdays: tuple[int, ...]  # 0 = Monday; suggestions are made only on these days
    source: str  # "supplier" (purchase order) or "warehouse" (transfer from a DC of the same country first)
    history_days: int  # days of history the forecast learns from
    # Rebalancing (transfers between locations of a country), in the country's currency:
    unit_margin: float = 10.0  # margin of one sale saved here
    transfer_cost: float = 15.0  # fixed cost of one transfer into this location
    handling_cost: float = 0.5  # per unit moved into this location
    min_transfer: int = 2  # the smallest transfer into this location worth making
    unit_cost: float = 20.0  # what one unit costs here: the goods value automation's daily limit counts
    # A target fill rate (share of demand served from the shelf) instead of the cycle service level: the safety
    # stock then covers the units expected short per review cycle, not the chance of any shortage (None: off).
    fill_rate: float | None = None
    # The lead time of a purchase from the supplier by a location whose source is a warehouse, when no DC of its
    # country holds the SKU (a SKU a dark store alone fulfils): often days longer than a transfer (None: the
    # lead time above).
    supplier_lead_time_days: float | None = None
    supplier_lead_time_sd_days: float | None = None

    def bought(self) -> Policy:
        """This policy when the location buys from the supplier itself: the supplier's lead time where set."""
        if self.source != "warehouse" or self.supplier_lead_time_days is None:
            return self
        sd = self.lead_time_sd_days if self.supplier_lead_time_sd_days is None else self.supplier_lead_time_sd_days
        return replace(self, lead_time_days=self.supplier_lead_time_days, lead_time_sd_days=sd)


# Built-in defaults per location kind: stores are reviewed often with short lead times from a DC of their
# country; DCs buy from suppliers weekly.
_DC = Policy(7, 5.0, 1.5, 0.95, 0, 1, None, tuple(range(7)), "supplier", 56)
_SHOP = Policy(2, 1.5, 0.5, 0.95, 0, 1, None, tuple(range(7)), "warehouse", 56)
DEFAULTS: dict[str, Policy] = {
    LocationKind.WAREHOUSE.value: _DC,
    LocationKind.THREE_PL.value: _DC,
    LocationKind.STORE.value: _SHOP,
    LocationKind.DARK_STORE.value: _SHOP,
    LocationKind.SUPPLIER.value: replace(_DC, order_weekdays=()),  # a supplier is not replenished
}
FIELDS = tuple(f.name for f in fields(Policy))


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """A stored row: exactly one of ``kind`` or ``location``, and ``sku`` only with ``location``. ``values``
    holds only the fields the row sets."""

    kind: str | None
    location: str | None
    sku: str | None
    values: Mapping[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind or "", self.location or "", self.sku or "")


def resolve_policy(kind: str, location: str, sku: str, rows: Mapping[tuple[str, str, str], PolicyRow]) -> Policy:
    """The policy of ``sku`` at ``location`` (of ``kind``): the kind's default overlaid by the kind's row, the
    location's row and the SKU-at-location row, in that order."""
    values: dict[str, Any] = {}
    for key in ((kind, "", ""), ("", location, ""), ("", location, sku)):
        row = rows.get(key)
        if row is not None:
            values.update(row.values)
    base = DEFAULTS.get(kind, _DC)
    if "order_weekdays" in values:
        values["order_weekdays"] = tuple(values["order_weekdays"])
    return replace(base, **values) if values else base


def _number(value: Any, low: float, high: float, integer: bool) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        return f"must be {'an integer' if integer else 'a number'}"
    if not math.isfinite(value) or not low <= value <= high:
        return f"must be between {low:g} and {high:g}"
    return None


def _field_error(name: str, value: Any) -> str | None:
    match name:
        case "review_days":
            return _number(value, 1, MAX_DAYS, True)
        case "history_days":  # two years: enough for the forecaster to see a yearly season (forecast/yearly.py)
            return _number(value, 14, 2 * MAX_DAYS, True)
        case "lead_time_days" | "lead_time_sd_days":
            return _number(value, 0, MAX_DAYS, False)
        case "service_level":
            return _number(value, 0.5, 0.999, False)
        case "unit_margin" | "transfer_cost" | "handling_cost" | "unit_cost":
            return _number(value, 0, 1_000_000, False)
        case "min_transfer":
            return _number(value, 1, MAX_UNITS, True)
        case "moq":
            return _number(value, 0, MAX_UNITS, True)
        case "pack_size":
            return _number(value, 1, MAX_UNITS, True)
        case "supplier_lead_time_days" | "supplier_lead_time_sd_days":
            return None if value is None else _number(value, 0, MAX_DAYS, False)
        case "shelf_capacity":
            return None if value is None else _number(value, 1, MAX_UNITS, True)
        case "fill_rate":
            return None if value is None else _number(value, 0.5, 0.9999, False)
        case "order_weekdays":
            ok = isinstance(value, list) and all(type(d) is int and 0 <= d <= 6 for d in value) and len(value) <= 7
            return None if ok and len(set(value)) == len(value) else "a list of distinct weekdays 0 (Monday)..6"
        case "source":
            return None if value in SOURCES else f"one of {', '.join(SOURCES)}"
    return "unknown field"  # pragma: no cover - names are checked against FIELDS first


def parse_policy_rows(docs: Sequence[Any], known_locations: frozenset[str]) -> tuple[list[PolicyRow], list[FieldError]]:
    """Validate policy documents (``{"kind"|"location", "sku"?, <fields>...}``); every error by row and field.
    A key may appear once per batch."""
    rows: list[PolicyRow] = []
    errors: list[FieldError] = []
    seen: set[tuple[str, str, str]] = set()
    for n, doc in enumerate(docs, start=1):
        if not isinstance(doc, dict):
            errors.append(FieldError(n, "", "must be an object"))
            continue
        bad: list[FieldError] = []
        kind, location, sku = doc.get("kind"), doc.get("location"), doc.get("sku")
        if (kind is None) == (location is None):
            bad.append(FieldError(n, "kind", "give exactly one of kind or location"))
        if kind is not None and kind not in DEFAULTS:
            bad.append(FieldError(n, "kind", f"one of {', '.join(DEFAULTS)}"))
        if location is not None and not (isinstance(location, str) and CODE_RE.fullmatch(location)):
            bad.append(FieldError(n, "location", "not a location code"))
        elif location is not None and location not in known_locations:
            bad.append(FieldError(n, "location", f"unknown location {location!r}"))
        if sku is not None and (location is None or not (isinstance(sku, str) and SKU_RE.fullmatch(sku))):
            bad.append(FieldError(n, "sku", "a SKU code, and only together with a location"))
        values = {k: v for k, v in doc.items() if k not in ("kind", "location", "sku")}
        for name, value in values.items():
            reason = "unknown field" if name not in FIELDS else _field_error(name, value)
            if reason:
                bad.append(FieldError(n, name, reason))
        row = PolicyRow(kind, location, sku, values)
        if not bad and row.key in seen:
            bad.append(FieldError(n, "location" if location else "kind", "this key appears twice in the batch"))
        seen.add(row.key)
        if bad:
            errors += bad
        else:
            rows.append(row)
    return rows, errors
