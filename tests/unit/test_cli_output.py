"""``keel.cli_support.jsonable``: what ``--json`` makes of the values commands print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest
from pydantic import BaseModel

from keel.cli_support import jsonable, page


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Inner:
    at: datetime
    tags: frozenset[str]


@dataclass(frozen=True)
class Outer:
    price: Decimal
    colour: Colour
    inner: tuple[Inner, ...]
    note: str | None = None


class Model(BaseModel):
    day: date


def test_dataclasses_become_objects_field_by_field() -> None:
    value = Outer(Decimal("12.50"), Colour.RED, (Inner(datetime(2026, 3, 1, 9, 30, tzinfo=UTC), frozenset("ba")),))
    assert jsonable(value) == {
        "price": "12.50",  # a string: no binary rounding of a price
        "colour": "red",
        "inner": [{"at": "2026-03-01T09:30:00Z", "tags": ["a", "b"]}],
        "note": None,
    }


def test_times_models_mappings_and_pages() -> None:
    berlin = timezone(timedelta(hours=1))
    assert jsonable(datetime(2026, 3, 1, 9, 30, 0, 5, tzinfo=UTC)) == "2026-03-01T09:30:00.000005Z"
    assert jsonable(datetime(2026, 3, 1, 9, 30, tzinfo=berlin)) == "2026-03-01T09:30:00+01:00"
    assert jsonable(Model(day=date(2026, 3, 1))) == {"day": "2026-03-01"}
    assert jsonable({1: (True, 2.5)}) == {"1": [True, 2.5]}
    assert jsonable(page([Colour.RED], 7, limit=1, offset=3)) == {"items": ["red"], "total": 7, "limit": 1, "offset": 3}


def test_anything_else_is_a_bug_not_a_silent_string() -> None:
    with pytest.raises(TypeError, match="cannot write a object as JSON"):
        jsonable(object())
