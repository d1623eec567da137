"""Who is acting right now: set by each adapter (HTTP, web, CLI, worker) for the audit log to read.

A context variable rather than a parameter: every write path would otherwise have to thread the caller
through every use case. Adapters set it once per request or command; code that runs with no adapter
(tests, the twin) sees ``SYSTEM``.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

Via = Literal["api", "web", "cli", "worker", "system"]


@dataclass(frozen=True)
class Actor:
    identity_id: str
    name: str
    via: Via
    address: str | None = None


SYSTEM = Actor(identity_id="system", name="system", via="system")
current_actor: ContextVar[Actor] = ContextVar("keel_current_actor", default=SYSTEM)
