"""Who is acting: set by each adapter (HTTP, web, CLI, worker) for the work it runs, read by the event log
and the audit log so that every write names its author and the path it came through.

A context variable, because the adapters and the code that writes are far apart (a request's identity is
resolved in middleware, the event is appended deep in a service) and may run in a worker thread: FastAPI
copies the context into the thread that runs a sync endpoint, so a value set before the call is seen there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Literal

Via = Literal["api", "web", "cli", "worker", "automation", "system"]


@dataclass(frozen=True)
class Actor:
    """An identity acting through one path; ``request_id`` ties the audit entry of one request or command
    to the events it appended."""

    identity_id: str
    name: str
    via: Via
    address: str | None = None
    request_id: str | None = None

    def with_identity(self, identity_id: str, name: str) -> Actor:
        return replace(self, identity_id=identity_id, name=name)


SYSTEM = Actor("system", "system", "system")
current_actor: ContextVar[Actor] = ContextVar("keel_actor", default=SYSTEM)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Run the block as ``actor`` (restored afterwards, also on error)."""
    token = current_actor.set(actor)
    try:
        yield actor
    finally:
        current_actor.reset(token)
