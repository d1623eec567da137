"""The ad connector port: what the action outbox hands a platform and what it hears back.

Keel keeps one desired ``AdState`` per object (level, code) with a ``version`` that every change bumps. The
outbox sends the newest version only, in batches no bigger than the platform's limit; a change's ``key``
(object and version) makes a resend harmless. Each item of a batch comes back on its own: accepted, refused
for good (``retry=False``: a dead letter), or to try again. A whole request may also be refused: throttled
(``retry_after_s``, as the platform's Retry-After says), out of the day's quota (``quota_reset_at``), or
failed (``error``); then no item counts as sent.

``read`` returns what the platform holds now: the outbox confirms an accepted change by reading it back, and
a state nobody in Keel asked for is drift (a person changed the object on the platform), reported and left
alone until an operator chooses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from keel.media.model.ads import AdState, Level


@dataclass(frozen=True)
class Limits:
    """What a platform declares and enforces."""

    batch_size: int  # items per request
    requests_per_s: float = 10.0
    daily_operations: int | None = None  # operations per account per day (None: no quota)


@dataclass(frozen=True)
class Change:
    level: Level
    code: str
    state: AdState
    version: int

    @property
    def key(self) -> str:
        return f"{self.level}:{self.code}:v{self.version}"


@dataclass(frozen=True)
class ItemResult:
    level: Level
    code: str
    ok: bool
    retry: bool = True  # a refused item: try again later (False: refused for good)
    error: str | None = None


@dataclass(frozen=True)
class Sent:
    """A request's outcome. ``items`` names every item the platform answered for; an item it did not answer
    for was not applied."""

    items: tuple[ItemResult, ...] = ()
    retry_after_s: float | None = None
    quota_reset_at: datetime | None = None
    error: str | None = None
    operations: int = 0  # operations the request used of the daily quota


@dataclass(frozen=True)
class Remote:
    """An object as the platform holds it (``read``)."""

    level: Level
    code: str
    state: AdState


@dataclass
class ConnectorStats:
    requests: int = 0
    throttled: int = 0
    failed: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class AdConnector(Protocol):
    """One platform account's API. Implementations never raise for what the platform answers: a refused or
    failed request is a ``Sent`` with ``error``/``retry_after_s``; only a programming error raises."""

    limits: Limits
    stats: ConnectorStats  # requests, throttles and failures so far (a failed read shows only here)

    def send(self, account: str, changes: Sequence[Change]) -> Sent:
        """Apply ``changes`` (at most ``limits.batch_size``) on the platform."""
        ...

    def read(self, account: str, level: Level, codes: Sequence[str]) -> list[Remote]:
        """The platform's current state of these objects (unknown codes are left out)."""
        ...
