"""Reusable request field types: every context's schemas build on these, so one input is refused the same
way on every route and on both databases (PostgreSQL refuses NUL in text, SQLite stores it: both are
refused here, before any database sees them).

- ``Text`` (names, cities, reasons), ``Code`` (codes, SKUs, ids, countries), ``Email``: bounded length,
  no NUL, no lone surrogate (``"\\ud800"`` decodes from JSON but is not Unicode text).
- ``Quantity``: a JSON integer (``"5"`` is refused, not coerced) the ledger can store (32-bit).
- ``Price``: a bounded decimal string; its format is checked by the orders model.
- ``Number``: a JSON number (a string is refused).
- ``Document``: a free-form JSON object (policies) whose texts and numbers obey the same rules.
- ``StrictModel``: the base of request bodies; unknown fields are refused.
- ``RowId``/``SeqNumber``: path integers bounded by their column, so 2**63 is a 422 and never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from keel.platform.vocabulary import MAX_QUANTITY

MAX_ROW_ID = 2**63 - 1  # BIGINT keys (orders)
MAX_NUMBER = 2**31 - 1  # INTEGER columns (line and shipment numbers)
TEXT_MAX = 200
CODE_MAX = 128
DOCUMENT_DEPTH = 16


def clean(value: str) -> str:
    """``value`` when it is storable text on both databases, else a ValueError naming why."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def clean_document(value: Any, depth: int = 0) -> Any:
    """A JSON document whose keys and texts are clean and whose integers fit 64 bits, else a ValueError."""
    if depth > DOCUMENT_DEPTH:
        raise ValueError(f"must not nest deeper than {DOCUMENT_DEPTH} levels")
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        if not -MAX_ROW_ID <= value <= MAX_ROW_ID:
            raise ValueError("numbers must fit in 64 bits")
        return value
    if isinstance(value, list):
        return [clean_document(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {clean(str(k)): clean_document(v, depth + 1) for k, v in value.items()}
    return value


Text = Annotated[str, Field(max_length=TEXT_MAX), AfterValidator(clean)]
LongText = Annotated[str, Field(max_length=2000), AfterValidator(clean)]
Code = Annotated[str, Field(max_length=CODE_MAX), AfterValidator(clean)]
Email = Annotated[str, Field(max_length=254), AfterValidator(clean)]
Price = Annotated[str, Field(max_length=20), AfterValidator(clean)]
Quantity = Annotated[StrictInt, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
Number = StrictFloat  # accepts JSON integers too, never strings
Flag = StrictBool
Document = Annotated[dict[str, Any], AfterValidator(clean_document)]
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
SeqNumber = Annotated[int, Path(ge=1, le=MAX_NUMBER)]


class StrictModel(BaseModel):
    """Base of request bodies: an unknown field is a mistake the client should hear about."""

    model_config = ConfigDict(extra="forbid")
