"""Keel's exception tree; every client mistake maps to one RFC 9457 problem.

KeelError                      500 (only for bugs that escaped a more precise class)
+-- ConfigError                settings or config file cannot be read
+-- NotFound                   404
+-- Conflict                   409  (state does not allow the command)
|   +-- InsufficientStock      409  (a movement or reservation would oversell)
+-- ValidationFailed           422  (row-level errors: row, field, reason)
+-- PayloadTooLarge            413  (batch over the configured limit)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One reason a row was refused; ``row`` is 1-based within the batch or file (None for a single object)."""

    row: int | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class KeelError(Exception):
    status = 500
    title = "Internal error"
    slug = "internal"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://keel.dev/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        body.update(self.extra)
        return body


class ConfigError(KeelError):
    title = "Configuration error"
    slug = "config"


class NotFound(KeelError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(KeelError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class InsufficientStock(Conflict):
    title = "Insufficient stock"
    slug = "insufficient-stock"


class ValidationFailed(KeelError):
    status = 422
    title = "Validation failed"
    slug = "validation"

    def __init__(self, detail: str, errors: list[FieldError]) -> None:
        super().__init__(detail, errors=[e.as_dict() for e in errors])
        self.errors = errors


class PayloadTooLarge(KeelError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


def single_field(field: str, reason: str) -> ValidationFailed:
    """A validation failure of one field of a single object."""
    return ValidationFailed(f"{field}: {reason}", [FieldError(None, field, reason)])


class Unauthenticated(KeelError):
    status = 401
    title = "Unauthenticated"
    slug = "unauthenticated"


class Forbidden(KeelError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class TooManyRequests(KeelError):
    status = 429
    title = "Too many requests"
    slug = "rate-limited"
