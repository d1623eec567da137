"""Query-string handling for pages: every value is checked here, so a bad URL gets a 400 page, never a 500.

Pages take raw strings from the query string (FastAPI would answer a bad int with a JSON problem) and
turn them into typed filters with these helpers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request

from keel.platform.geo import COUNTRIES

MAX_TEXT = 128
PAGE_SIZES = (25, 50, 100, 200)
_INT_RE = re.compile(r"[0-9]{1,9}")  # int() would also take "1_000", "+3" and "٣"


class BadQuery(Exception):
    """A query-string value the page cannot use; rendered as a 400 page naming the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def text(raw: str | None, field: str) -> str | None:
    """A trimmed filter value, or None when absent or blank."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if len(value) > MAX_TEXT:
        raise BadQuery(field, f"at most {MAX_TEXT} characters")
    return value


def integer(raw: str | None, field: str, *, default: int, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``; absent or blank gives ``default``."""
    if raw is None or not raw.strip():
        return default
    value = raw.strip()
    if not _INT_RE.fullmatch(value) or not low <= int(value) <= high:
        raise BadQuery(field, f"must be a whole number from {low} to {high}, got {value[:20]!r}")
    return int(value)


def choice(raw: str | None, field: str, allowed: frozenset[str] | set[str]) -> str | None:
    """One of ``allowed`` (case-sensitive), or None when absent or blank."""
    value = text(raw, field)
    if value is not None and value not in allowed:
        raise BadQuery(field, f"one of {', '.join(sorted(allowed))}; got {value[:20]!r}")
    return value


def boolean(raw: str | None, field: str) -> bool | None:
    """``yes``/``no`` (also true/false, 1/0), or None for both."""
    value = text(raw, field)
    if value is None or value == "all":
        return None
    if value.lower() in ("yes", "true", "1"):
        return True
    if value.lower() in ("no", "false", "0"):
        return False
    raise BadQuery(field, f"yes, no or all; got {value[:20]!r}")


def country(raw: str | None, field: str = "country") -> str | None:
    """An ISO 3166-1 alpha-2 code (any case), upper-cased."""
    value = text(raw, field)
    if value is None:
        return None
    if value.upper() not in COUNTRIES:
        raise BadQuery(field, f"not an ISO 3166-1 alpha-2 country code: {value[:20]!r}")
    return value.upper()


@dataclass(frozen=True)
class Pager:
    """Page ``page`` (1-based) of ``size`` rows out of ``total``."""

    page: int
    size: int
    total: int = 0

    @classmethod
    def parse(cls, page: str | None, size: str | None, default_size: int = 50) -> Pager:
        number = integer(page, "page", default=1, low=1, high=1_000_000)
        rows = integer(size, "size", default=default_size, low=1, high=PAGE_SIZES[-1])
        return cls(number, rows)

    def with_total(self, total: int) -> Pager:
        return Pager(self.page, self.size, total)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def past_end(self) -> bool:
        return self.total > 0 and self.page > self.pages

    @property
    def first_row(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last_row(self) -> int:
        return min(self.offset + self.size, self.total)


def url_with(request: Request, **changes: object) -> str:
    """The current URL with some query parameters replaced; None or "" removes one."""
    params = {k: v for k, v in request.query_params.items() if v != ""}
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path
