"""Pure inventory domain: movement kinds, their effects on a position, batch validation, accuracy.

A position holds eight integers per SKU x location (DESIGN section 3)::

    on_hand = available + committed + reserved + safety_stock + damaged + quality_control

``incoming`` sits outside that identity. Every movement kind is a row of ``EFFECTS``: the sign it applies
to each quantity. Each row moves stock between buckets or in/out of ``on_hand`` in balance, so the
identity holds after any sequence of accepted movements; a property test checks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from keel.platform.errors import FieldError
from keel.platform.vocabulary import MAX_QUANTITY, SKU_RE, SKU_RULE
from keel.platform.vocabulary import MOVEMENT_ID_RE as ID_RE

FIELDS = (
    "on_hand",
    "available",
    "committed",
    "reserved",
    "safety_stock",
    "damaged",
    "quality_control",
    "incoming",
)
ON_HAND, AVAILABLE, COMMITTED, RESERVED, SAFETY, DAMAGED, QC, INCOMING = range(8)
COMPONENTS = (AVAILABLE, COMMITTED, RESERVED, SAFETY, DAMAGED, QC)

MAX_TEXT = 200  # reason, reference


class Kind(StrEnum):
    RECEIVED = "received"
    EXPECTED = "expected"
    EXPECTED_CANCELLED = "expected_cancelled"
    SOLD = "sold"
    COMMITTED = "committed"
    UNCOMMITTED = "uncommitted"
    SHIPPED = "shipped"
    RESERVED = "reserved"
    RELEASED = "released"
    RESERVATION_COMMITTED = "reservation_committed"
    ADJUSTED_IN = "adjusted_in"
    ADJUSTED_OUT = "adjusted_out"
    COUNT_GAIN = "count_gain"
    COUNT_LOSS = "count_loss"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    RETURNED = "returned"
    RETURNED_DAMAGED = "returned_damaged"
    RETURNED_QC = "returned_qc"
    DAMAGED = "damaged"
    DISPOSED = "disposed"
    QC_HOLD = "qc_hold"
    QC_RELEASED = "qc_released"
    QC_REJECTED = "qc_rejected"
    SAFETY_HELD = "safety_held"
    SAFETY_RELEASED = "safety_released"


def _fx(**deltas: int) -> tuple[int, ...]:
    return tuple(deltas.get(name, 0) for name in FIELDS)


EFFECTS: dict[Kind, tuple[int, ...]] = {
    Kind.RECEIVED: _fx(on_hand=1, available=1),
    Kind.EXPECTED: _fx(incoming=1),
    Kind.EXPECTED_CANCELLED: _fx(incoming=-1),
    Kind.SOLD: _fx(on_hand=-1, available=-1),
    Kind.COMMITTED: _fx(available=-1, committed=1),
    Kind.UNCOMMITTED: _fx(committed=-1, available=1),
    Kind.SHIPPED: _fx(committed=-1, on_hand=-1),
    Kind.RESERVED: _fx(available=-1, reserved=1),
    Kind.RELEASED: _fx(reserved=-1, available=1),
    Kind.RESERVATION_COMMITTED: _fx(reserved=-1, committed=1),
    Kind.ADJUSTED_IN: _fx(on_hand=1, available=1),
    Kind.ADJUSTED_OUT: _fx(on_hand=-1, available=-1),
    Kind.COUNT_GAIN: _fx(on_hand=1, available=1),
    Kind.COUNT_LOSS: _fx(on_hand=-1, available=-1),
    Kind.TRANSFER_OUT: _fx(on_hand=-1, available=-1),
    Kind.TRANSFER_IN: _fx(on_hand=1, available=1),
    Kind.RETURNED: _fx(on_hand=1, available=1),
    Kind.RETURNED_DAMAGED: _fx(on_hand=1, damaged=1),
    Kind.RETURNED_QC: _fx(on_hand=1, quality_control=1),
    Kind.DAMAGED: _fx(available=-1, damaged=1),
    Kind.DISPOSED: _fx(damaged=-1, on_hand=-1),
    Kind.QC_HOLD: _fx(available=-1, quality_control=1),
    Kind.QC_RELEASED: _fx(quality_control=-1, available=1),
    Kind.QC_REJECTED: _fx(quality_control=-1, damaged=1),
    Kind.SAFETY_HELD: _fx(available=-1, safety_stock=1),
    Kind.SAFETY_RELEASED: _fx(safety_stock=-1, available=1),
}
KIND_CODES: dict[Kind, int] = {kind: code for code, kind in enumerate(Kind, start=1)}
KINDS_BY_CODE: dict[int, Kind] = {code: kind for kind, code in KIND_CODES.items()}
# Arrivals first settle what was announced as incoming (purchase orders, transfers in transit).
CONSUMES_INCOMING = frozenset({Kind.RECEIVED, Kind.TRANSFER_IN})
# A count records physical truth: when fewer units are found than are promised, available goes negative
# and shows the shortage instead of hiding it.
MAY_GO_NEGATIVE: dict[Kind, frozenset[int]] = {Kind.COUNT_LOSS: frozenset({AVAILABLE})}
NEEDS_REASON = frozenset({Kind.ADJUSTED_IN, Kind.ADJUSTED_OUT, Kind.DAMAGED, Kind.DISPOSED})
# Kinds that change ``available``; only they can change what a channel may sell.
CHANGES_AVAILABLE = frozenset(k for k, fx in EFFECTS.items() if fx[AVAILABLE])
AVAILABLE_DELTA: dict[int, int] = {KIND_CODES[k]: fx[AVAILABLE] for k, fx in EFFECTS.items()}
# Demand as the ledger tells it: units sold over the counter or committed to orders (directly or from a
# reservation), less commitments given back (a cancelled or re-sourced line: re-sourcing gives back at one
# node what it commits at another, so it nets out). By kind code: the sign each movement counts with.
DEMAND_SIGNS: dict[int, int] = {
    KIND_CODES[Kind.SOLD]: 1,
    KIND_CODES[Kind.COMMITTED]: 1,
    KIND_CODES[Kind.RESERVATION_COMMITTED]: 1,
    KIND_CODES[Kind.UNCOMMITTED]: -1,
}
# Of that demand, what orders committed at a node (net of what they gave back): where sourcing sent an order,
# not necessarily where its customer is (planning attributes it to the ship-to country).
ROUTED_SIGNS: dict[int, int] = {KIND_CODES[Kind.COMMITTED]: 1, KIND_CODES[Kind.UNCOMMITTED]: -1}


@dataclass(frozen=True, slots=True)
class Movement:
    """One validated ledger entry (before it has a ledger sequence number)."""

    id: str
    kind: Kind
    sku: str
    location_id: int
    quantity: int
    occurred_at: datetime | None = None
    reason: str | None = None
    reference: str | None = None


def empty_position() -> list[int]:
    return [0] * len(FIELDS)


# Per kind: the (index, sign) pairs it touches, so ``apply`` loops over two entries instead of eight.
_STEPS: dict[Kind, tuple[tuple[int, int], ...]] = {
    k: tuple((i, sign) for i, sign in enumerate(fx) if sign) for k, fx in EFFECTS.items()
}


def apply(position: list[int], kind: Kind, quantity: int) -> str | None:
    """Apply one movement to ``position`` in place; returns why it is refused (position untouched) or None."""
    steps = _STEPS[kind]
    allowed = MAY_GO_NEGATIVE.get(kind)
    for index, sign in steps:
        if sign < 0 and position[index] < quantity and (allowed is None or index not in allowed):
            return f"{kind.value} of {quantity} would leave {FIELDS[index]} at {position[index] - quantity}"
        if sign > 0 and position[index] + quantity > MAX_QUANTITY:
            return f"{kind.value} of {quantity} would take {FIELDS[index]} past {MAX_QUANTITY}"
    for index, sign in steps:
        position[index] += sign * quantity
    if kind in CONSUMES_INCOMING:
        position[INCOMING] -= min(quantity, position[INCOMING])
    return None


def identity_holds(position: list[int]) -> bool:
    return position[ON_HAND] == sum(position[i] for i in COMPONENTS) and position[INCOMING] >= 0


def _clean(value: Any) -> bool:
    """A value the fast path may store as is: absent, or a short string without NUL."""
    return value is None or (type(value) is str and len(value) <= MAX_TEXT and "\x00" not in value)


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    return str(value).strip() or None


_KIND_BY_VALUE: dict[Any, Kind] = {k.value: k for k in Kind}
# Keel writes reservation and count movements under these prefixes; a client id may not take them.
INTERNAL_ID_PREFIXES = ("rsv:", "count:")
_ID_MATCH = ID_RE.fullmatch
_SKU_MATCH = SKU_RE.fullmatch


def parse_movement(
    raw: Mapping[str, Any], row: int, locations: Mapping[str, int], errors: list[FieldError]
) -> Movement | None:
    """Validate one raw movement (from JSON or CSV); appends its problems to ``errors``."""
    # Fast path for well-typed JSON rows (the bulk of traffic); anything unusual takes the full checks.
    mid, sku, qty = raw.get("id"), raw.get("sku"), raw.get("quantity")
    reason, reference = raw.get("reason"), raw.get("reference")
    if (
        type(mid) is str
        and type(sku) is str
        and type(qty) is int
        and 0 < qty <= MAX_QUANTITY
        and raw.get("occurred_at") is None
        and _clean(reason)
        and _clean(reference)
    ):
        kind = _KIND_BY_VALUE.get(raw.get("kind"))
        location_id = locations.get(raw.get("location"))  # type: ignore[arg-type]
        # _clean let through only None or str: what ``_text`` would make of them, without fetching them again.
        why = (reason.strip() or None) if reason else None
        if (
            kind is not None
            and location_id is not None
            and _ID_MATCH(mid)
            and not mid.startswith(INTERNAL_ID_PREFIXES)
            and _SKU_MATCH(sku)
            and (why is not None or kind not in NEEDS_REASON)  # "  " is no reason
        ):
            ref = (reference.strip() or None) if reference else None
            return Movement(mid, kind, sku, location_id, qty, None, why, ref)
    return _parse_slow(raw, row, locations, errors)


def _parse_slow(
    raw: Mapping[str, Any], row: int, locations: Mapping[str, int], errors: list[FieldError]
) -> Movement | None:
    before = len(errors)
    mid = _text(raw, "id")
    if mid is None or not ID_RE.fullmatch(mid):
        errors.append(FieldError(row, "id", "required: 1-128 letters, digits or ._:/- starting alphanumeric"))
    elif mid.startswith(INTERNAL_ID_PREFIXES):
        errors.append(FieldError(row, "id", "ids starting with rsv: or count: are reserved for Keel's own movements"))
    kind_raw = _text(raw, "kind")
    kind: Kind | None = None
    try:
        kind = Kind(str(kind_raw))
    except ValueError:
        errors.append(FieldError(row, "kind", f"unknown movement kind {kind_raw!r}"))
    sku = _text(raw, "sku")
    if sku is None or not SKU_RE.fullmatch(sku):
        errors.append(FieldError(row, "sku", f"required: {SKU_RULE}"))
    loc_code = _text(raw, "location")
    location_id = locations.get(loc_code or "")
    if location_id is None:
        errors.append(FieldError(row, "location", f"unknown or inactive location {loc_code!r}"))
    quantity = _quantity(raw.get("quantity"), row, errors)
    occurred_at = _timestamp(raw.get("occurred_at"), row, errors)
    for key in ("reason", "reference"):
        if not _clean(raw.get(key)):
            errors.append(FieldError(row, key, f"text of at most {MAX_TEXT} characters"))
    reason = _text(raw, "reason")
    if kind in NEEDS_REASON and reason is None:
        errors.append(FieldError(row, "reason", f"required for {kind}"))
    if len(errors) > before:
        return None
    assert mid and kind and sku and location_id is not None and quantity is not None
    return Movement(mid, kind, sku, location_id, quantity, occurred_at, reason, _text(raw, "reference"))


def _quantity(raw: Any, row: int, errors: list[FieldError]) -> int | None:
    if isinstance(raw, bool):
        raw = None
    try:
        value = int(raw) if isinstance(raw, int | str) and str(raw).strip().lstrip("-").isdigit() else None
    except ValueError:
        value = None
    if value is None:
        errors.append(FieldError(row, "quantity", f"must be an integer, got {raw!r}"))
        return None
    if value <= 0:
        errors.append(FieldError(row, "quantity", f"must be > 0, got {value}"))
        return None
    if value > MAX_QUANTITY:
        errors.append(FieldError(row, "quantity", f"must be at most {MAX_QUANTITY}, got {value}"))
        return None
    return value


def _timestamp(raw: Any, row: int, errors: list[FieldError]) -> datetime | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        return raw
    try:
        parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        errors.append(FieldError(row, "occurred_at", f"not an ISO 8601 timestamp: {raw!r}"))
        return None
    if parsed.tzinfo is None:
        errors.append(FieldError(row, "occurred_at", "needs a UTC offset, e.g. 2026-01-31T10:00:00Z"))
        return None
    if not 1970 <= parsed.year <= 9999 or parsed.utcoffset() is None:
        errors.append(FieldError(row, "occurred_at", "must fall between 1970 and 9999"))
        return None
    return parsed


def validate_batch(
    rows: Iterable[Mapping[str, Any]], locations: Mapping[str, int]
) -> tuple[list[Movement], list[FieldError]]:
    """Parse every row and refuse ids repeated inside the batch."""
    errors: list[FieldError] = []
    movements: list[Movement] = []
    seen: dict[str, int] = {}
    for row, raw in enumerate(rows, start=1):
        if not isinstance(raw, Mapping):
            errors.append(FieldError(row, "", "each movement must be an object"))
            continue
        movement = parse_movement(raw, row, locations, errors)
        if movement is None:
            continue
        first = seen.setdefault(movement.id, row)
        if first != row:
            errors.append(FieldError(row, "id", f"duplicate of row {first} in the same batch"))
            continue
        movements.append(movement)
    return movements, errors


def plan_batch(
    movements: list[tuple[int, Movement]],
    positions: dict[tuple[str, int], list[int]],
    location_codes: Mapping[int, str] | None = None,
) -> list[FieldError]:
    """Apply (row, movement) pairs in order to ``positions`` (mutated); returns rows that would go negative."""
    codes = location_codes or {}
    errors: list[FieldError] = []
    for row, m in movements:
        key = (m.sku, m.location_id)
        position = positions.get(key)
        if position is None:
            position = positions[key] = empty_position()
        refusal = apply(position, m.kind, m.quantity)
        if refusal is not None:
            where = codes.get(m.location_id, f"#{m.location_id}")
            errors.append(FieldError(row, "quantity", f"{refusal} for {m.sku} at {where}"))
    return errors


@dataclass(frozen=True)
class CountResult:
    book: int
    counted: int
    variance: int
    within_tolerance: bool


def count_variance(book_on_hand: int, counted: int, tolerance_pct: float) -> CountResult:
    """Compare a counted quantity with the book; within tolerance when |variance| <= pct % of book."""
    variance = counted - book_on_hand
    limit = abs(book_on_hand) * tolerance_pct / 100.0
    return CountResult(book_on_hand, counted, variance, abs(variance) <= limit)


def accuracy(within: int, total: int) -> float | None:
    """Inventory accuracy: share of counted positions within tolerance (None when nothing was counted)."""
    return None if total == 0 else within / total
