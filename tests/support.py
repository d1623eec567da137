"""Helpers shared by every test layer: a small world, movement rows, state snapshots and a live server.

Import them as ``from tests.support import ...`` (``tests`` is a package so test modules may share names).

- ``build_world(keel)``: five locations in DE and FR, one location group and three channels with
  different availability policies (see ``World`` for the codes and the numbers each policy applies).
- ``mv(...)``: one raw movement row as a client would send it.
- ``snapshot(keel)``: every row of every Keel table, for "nothing changed" assertions.
- ``serve_app(app)``: a real uvicorn server in a thread on 127.0.0.1 and a free port; every request
  without credentials of its own is sent as the test admin's browser session (``as_admin=False``: as is).
- ``admin_token(keel)``, ``admin_headers(keel)``, ``admin_session(keel)``: credentials of the test admin
  (created once per database).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

import keel.models  # noqa: F401  (registers every table on the shared metadata)
from keel.access import SESSION_COOKIE, Identity, Role
from keel.bootstrap import Keel, bootstrap
from keel.channels import CreateChannel
from keel.inventory import CreateLocation
from keel.orders import OrderView, capture_command
from keel.platform import migrate
from keel.platform.config import Settings
from keel.platform.db import metadata

# Locations. 3PL-DE-1 feeds no channel on purpose.
WH_DE = "WH-DE-1"
ST_DE = "ST-DE-1"
WH_FR = "WH-FR-1"
ST_FR = "ST-FR-1"
TPL_DE = "3PL-DE-1"
GROUP = "fulfilment-eu"  # WH-DE-1 + WH-FR-1
# Channels.
WEB_DE = "web-de"  # DE <- WH-DE-1, ST-DE-1; no rules: ATP = pooled available
MARKET = "market-eu"  # DE <- group fulfilment-eu, FR <- WH-FR-1; buffer 2, 50 %, max 20, zero below 3
POS_FR = "pos-fr"  # FR <- ST-FR-1; backorder

LOCATIONS: tuple[dict[str, Any], ...] = (
    {"code": WH_DE, "name": "Berlin warehouse", "kind": "warehouse", "country": "DE", "city": "Berlin",
     "latitude": 52.52, "longitude": 13.405, "capabilities": ["ship"]},
    {"code": ST_DE, "name": "Munich store", "kind": "store", "country": "DE", "city": "Munich",
     "capabilities": ["pickup", "ship_from_store"]},
    {"code": WH_FR, "name": "Paris warehouse", "kind": "warehouse", "country": "FR", "city": "Paris",
     "capabilities": ["ship"]},
    {"code": ST_FR, "name": "Lyon store", "kind": "store", "country": "FR", "city": "Lyon",
     "capabilities": ["pickup"]},
    {"code": TPL_DE, "name": "Hamburg 3PL", "kind": "3pl", "country": "DE", "city": "Hamburg",
     "capabilities": ["ship"]},
)  # fmt: skip

CHANNELS: tuple[dict[str, Any], ...] = (
    {"code": WEB_DE, "name": "Web store DE", "kind": "web_store", "countries": ["DE"], "currency": "EUR",
     "policy": {"sources": {"DE": {"locations": [WH_DE, ST_DE]}}}},
    {"code": MARKET, "name": "Marketplace EU", "kind": "marketplace", "countries": ["DE", "FR"],
     "currency": "EUR",
     "policy": {"sources": {"DE": {"groups": [GROUP]}, "FR": {"locations": [WH_FR]}},
                "safety_buffer": 2, "allocation_pct": 50, "max_listed": 20, "zero_below": 3}},
    {"code": POS_FR, "name": "Store POS FR", "kind": "pos", "countries": ["FR"], "currency": "EUR",
     "policy": {"sources": {"FR": {"locations": [ST_FR]}}, "backorder": True}},
)  # fmt: skip


@dataclass(frozen=True)
class World:
    """Codes of what ``build_world`` created (all active, projector caught up)."""

    locations: tuple[str, ...] = (WH_DE, ST_DE, WH_FR, ST_FR, TPL_DE)
    group: str = GROUP
    channels: tuple[str, ...] = (WEB_DE, MARKET, POS_FR)


def open_keel(database_url: str, **overrides: Any) -> Keel:
    """Bootstrap Keel on ``database_url`` with explicit settings (never the caller's env) and migrate."""
    keel = bootstrap(Settings(database_url=database_url, log_json=False, **overrides))
    migrate.upgrade(keel.db)
    return keel


def build_world(keel: Keel) -> World:
    """Create the small world of this module in ``keel`` and let the availability projector catch up."""
    for loc in LOCATIONS:
        keel.locations.create(CreateLocation(**loc))
    keel.locations.create_group(GROUP, "Fulfilment EU", [WH_DE, WH_FR])
    for channel in CHANNELS:
        keel.channels.create(CreateChannel(**channel))
    keel.availability.catch_up()
    return World()


def mv(mid: str, kind: str, sku: str, location: str, quantity: Any, **extra: Any) -> dict[str, Any]:
    """A raw movement row (the JSON shape of POST /inventory/movements)."""
    return {"id": mid, "kind": kind, "sku": sku, "location": location, "quantity": quantity, **extra}


def receive(keel: Keel, sku: str, location: str, quantity: int, mid: str | None = None) -> None:
    """Put ``quantity`` units of ``sku`` into ``location`` with one ``received`` movement."""
    keel.stock.apply_batch([mv(mid or f"rcv:{sku}:{location}:{quantity}", "received", sku, location, quantity)])


def position(keel: Keel, sku: str, location: str) -> dict[str, int]:
    """The eight quantities of one position (all zero when it does not exist)."""
    items, _ = keel.queries.positions(sku=sku, location=location)
    fields = ("on_hand", "available", "committed", "reserved", "safety_stock", "damaged",
              "quality_control", "incoming")  # fmt: skip
    return {f: getattr(items[0], f) if items else 0 for f in fields}


# Bookkeeping of a credential's use, not a change of data: a refused request still uses its token.
USE_MARKS = {"api_tokens": "last_used_at"}


def snapshot(keel: Keel) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order: equal snapshots mean nothing was written (a token's
    ``last_used_at`` aside). The audit log is left out: it records every write attempt, refused ones too."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with keel.db.read() as conn:
        for table in metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            columns = [c for c in table.columns if c.name != USE_MARKS.get(table.name)]
            query = sa.select(*columns).order_by(*table.primary_key.columns)
            out[table.name] = [tuple(row) for row in conn.execute(query)]
    return out


def events_after(keel: Keel, seq: int, types: set[str] | None = None) -> list[Any]:
    """Events with ``seq`` greater than ``seq`` (optionally only some types)."""
    with keel.db.read() as conn:
        return keel.events.read(conn, seq, types, limit=100_000)


def last_seq(keel: Keel) -> int:
    with keel.db.read() as conn:
        return keel.events.last_seq(conn)


TEST_ADMIN = "test-admin"  # a service account: its token needs no argon2 hash (fast fixtures)
TEST_OPERATOR = "test-operator"  # a person, for browser sessions
TEST_PASSWORD = "correct horse battery staple"


def _account(keel: Keel, name: str) -> Identity | None:
    found = [a for a in keel.access.accounts() if a.name == name]
    if not found:
        return None
    a = found[0]
    return Identity(a.id, a.name, a.kind, a.role)


def admin_token(keel: Keel) -> str:
    """A new bearer token of the test admin (created on first use)."""
    if _account(keel, TEST_ADMIN) is None:
        keel.access.add_service(TEST_ADMIN, Role.ADMIN)
    return keel.access.create_token(TEST_ADMIN, "tests").secret


def admin_headers(keel: Keel) -> dict[str, str]:
    """An Authorization header with a new test admin token."""
    return {"Authorization": f"Bearer {admin_token(keel)}"}


def admin_session(keel: Keel) -> str:
    """A new web session id of the test operator (an admin person, created on first use)."""
    identity = _account(keel, TEST_OPERATOR)
    if identity is None:
        keel.access.add_user(TEST_OPERATOR, Role.ADMIN, TEST_PASSWORD)
        identity = _account(keel, TEST_OPERATOR)
    assert identity is not None
    return keel.access.open_session(identity)


class AsAdmin:
    """ASGI wrapper: a request with neither an Authorization header nor a session cookie gets the test
    admin's session cookie, so a browser pointed at the server is logged in (its forms carry CSRF)."""

    def __init__(self, app: ASGIApp, session_id: str) -> None:
        self.app = app
        self.cookie = f"{SESSION_COOKIE}={session_id}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            names = {k for k, _ in headers}
            cookies = b";".join(v for k, v in headers if k == b"cookie")
            if b"authorization" not in names and SESSION_COOKIE.encode() not in cookies:
                others = [(k, v) for k, v in headers if k != b"cookie"]
                cookie = self.cookie + (b"; " + cookies if cookies else b"")
                scope = {**scope, "headers": [*others, (b"cookie", cookie)]}
        await self.app(scope, receive, send)


@contextmanager
def serve_app(app: FastAPI, *, timeout: float = 30.0, as_admin: bool = True) -> Iterator[str]:
    """Run ``app`` under uvicorn in a daemon thread on 127.0.0.1; yields the base URL.

    The socket is bound here, before the server starts, so the port cannot be taken in between.
    """
    served: ASGIApp = AsAdmin(app, admin_session(app.state.keel)) if as_admin else app
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(served, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn stopped during start-up")
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start within {timeout} s")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)
        sock.close()


def place(keel: Keel, document: dict[str, Any]) -> tuple[OrderView, bool]:
    """Capture an order document through the capture use case: (the order, whether it was created now)."""
    captured = keel.orders.capture.place(capture_command(document))
    return captured.order, captured.created
