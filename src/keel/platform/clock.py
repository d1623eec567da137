"""Time helpers: Keel stores UTC timestamps as timezone-aware datetimes.

``utcnow`` is the one source of "now" for every service. A simulation can stand in its own clock for the
calls it makes (``clock_at``): the retail twin stamps the orders it drives with its scaled simulated time, so
their lives (placed, shipped, delivered, late or on time) follow its schedule whatever the machine's pace.
The override is per context (thread or task): a request served meanwhile still sees the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_fixed: ContextVar[datetime | None] = ContextVar("keel_clock", default=None)


def utcnow() -> datetime:
    fixed = _fixed.get()
    return datetime.now(UTC) if fixed is None else fixed


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Within the block, ``utcnow()`` answers ``moment`` (in this context only)."""
    if moment.tzinfo is None:
        raise ValueError("clock_at needs an aware datetime")
    token = _fixed.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _fixed.reset(token)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; Keel only ever stores UTC, so naive means UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
