"""Fixtures for every test layer. Names here are a stable interface (the browser tests use them).

Databases
- ``database_url``: a fresh database URL, parametrised ``sqlite`` (a file in ``tmp_path``, copied from a
  session template migrated once) and
  ``postgresql`` (``CREATE DATABASE keel_test_<uuid>`` on ``KEEL_TEST_POSTGRES_URL``, default
  postgresql://postgres@127.0.0.1:5432/postgres, copied from a session template migrated once, one test
  ahead by a thread, dropped ``WITH (FORCE)`` afterwards). PostgreSQL params carry the ``postgres``
  marker; when the server is unreachable they skip with the reason, or fail when ``KEEL_REQUIRE_SERVICES=1``
  (``service_unavailable(reason)`` does the same for other services, e.g. Chromium).
- ``keel``: a bootstrapped ``keel.bootstrap.Keel`` on ``database_url`` with migrations applied.
- ``keel_factory(**settings)``: another ``Keel`` on the same database with other ``Settings`` values
  (e.g. ``max_batch=3``); closed at teardown.
- ``sqlite_keel``: like ``keel`` but SQLite only, for tests that do not touch storage semantics.
- ``world``: ``tests.support.build_world(keel)``: 5 locations in DE/FR, a group, 3 channels.

HTTP
- ``client``: a starlette ``TestClient`` on ``keel.api.create_app(keel)`` (both databases), sending a
  test admin's bearer token.
- ``make_client(keel, as_admin=True)``: the same for any ``Keel`` (e.g. ``sqlite_keel``); closed at
  teardown; ``as_admin=False`` sends no credentials.
- ``live_server``: a real uvicorn server in a thread on 127.0.0.1:<free port> serving
  ``create_app(sqlite_keel, background=True)``; a ``LiveServer`` with ``.url`` and ``.keel``. Requests
  without credentials of their own act as a logged-in admin's browser session (``tests.support.serve_app``).
- ``live_server_factory(keel, background=True, as_admin=True)``: the same for any ``Keel``.

NATS JetStream (the distributed event bus)
- ``nats_url``: ``KEEL_TEST_NATS_URL`` (default nats://127.0.0.1:4222), checked once per session to answer
  with JetStream enabled; skips with the reason when it does not (fails when ``KEEL_REQUIRE_SERVICES=1``).
- ``bus``: a ``keel.platform.bus.BusConfig`` naming a stream and subject prefix unique to the test (so tests
  never see each other's events); the stream is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import psycopg
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from keel.api import create_app
from keel.bootstrap import Keel
from keel.platform.bus import BusConfig
from tests.support import World, admin_headers, build_world, open_keel, serve_app

NATS_URL = os.environ.get("KEEL_TEST_NATS_URL", "nats://127.0.0.1:4222")
POSTGRES_ADMIN_URL = os.environ.get("KEEL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_SERVICES = os.environ.get("KEEL_REQUIRE_SERVICES") == "1"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def service_unavailable(reason: str) -> None:
    """Skip with ``reason``, or fail when ``KEEL_REQUIRE_SERVICES=1`` (CI must run everything)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (KEEL_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    # SQLAlchemy 2.1 deprecates Result.tuples(), which src still calls; it works, so keep the output readable.
    config.addinivalue_line("filterwarnings", "ignore:The Result.tuples:sqlalchemy.exc.SADeprecationWarning")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The maintenance database URL, checked once per session."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            pass
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        service_unavailable(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {first_line}")
    return POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def nats_url() -> str:
    """The NATS server the event-bus tests use, checked once per session (JetStream must be enabled)."""

    async def probe() -> None:
        nc = await nats.connect(NATS_URL, connect_timeout=2, allow_reconnect=False, max_reconnect_attempts=0)
        try:
            await nc.jetstream().account_info()
        finally:
            await nc.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        service_unavailable(f"NATS JetStream unreachable at {NATS_URL}: {type(exc).__name__} {exc}".strip())
    return NATS_URL


@pytest.fixture
def bus(nats_url: str) -> Iterator[BusConfig]:
    """A stream and subject prefix of this test's own, deleted afterwards."""
    name = uuid.uuid4().hex[:12]
    config = BusConfig(nats_url, f"KEEL_TEST_{name}", f"keeltest.{name}.events")
    yield config

    async def delete() -> None:
        nc = await nats.connect(nats_url, connect_timeout=2, allow_reconnect=False)
        try:
            with suppress(nats.js.errors.NotFoundError):
                await nc.jetstream().delete_stream(config.stream)
        finally:
            await nc.close()

    asyncio.run(delete())


@contextmanager
def postgres_database(admin_url: str, template: str | None = None) -> Iterator[str]:
    """A new uniquely named database (optionally copied from ``template``), dropped on exit."""
    name = f"keel_test_{uuid.uuid4().hex}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str) -> Iterator[str]:
    """A database migrated once per session; each test's database is a copy (migrations stay a no-op).

    Copying saves the ~0.3 s an Alembic run from scratch costs per PostgreSQL test.
    """
    with postgres_database(postgres_admin_url) as url:
        open_keel(url).close()
        yield sa.make_url(url).database or ""


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; each test's database is a copy (about 0.25 s saved a test)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "keel.db"
    open_keel(f"sqlite:///{path}").close()  # the last connection closed: the WAL is folded into the file
    return path


def sqlite_copy(template: Path, path: Path) -> str:
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


class PostgresCopies:
    """Copies of the template database made one test ahead, and dropped after their test, by one thread: the
    quarter second a ``CREATE DATABASE ... TEMPLATE`` takes runs on the other core while a test runs."""

    def __init__(self, admin_url: str, template: str) -> None:
        self.admin_url, self.template = admin_url, template
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-copies")
        self.ahead: deque[Future[str]] = deque()

    def _create(self) -> str:
        name = f"keel_test_{uuid.uuid4().hex}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def _drop(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def take(self) -> str:
        """A fresh copy's URL (and the next one started)."""
        if not self.ahead:
            self.ahead.append(self.worker.submit(self._create))
        name = self.ahead.popleft().result()
        self.ahead.append(self.worker.submit(self._create))
        return sa.make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def give_back(self, url: str) -> None:
        self.worker.submit(self._drop, sa.make_url(url).database or "")

    def close(self) -> None:
        for made in self.ahead:
            self.worker.submit(self._drop, made.result())
        self.worker.shutdown(wait=True)


@pytest.fixture(scope="session")
def postgres_copies(postgres_admin_url: str, postgres_template: str) -> Iterator[PostgresCopies]:
    copies = PostgresCopies(postgres_admin_url, postgres_template)
    yield copies
    copies.close()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path / "keel.db")
        return
    copies: PostgresCopies = request.getfixturevalue("postgres_copies")
    url = copies.take()
    try:
        yield url
    finally:
        copies.give_back(url)


@pytest.fixture
def keel_factory(database_url: str) -> Iterator[Callable[..., Keel]]:
    made: list[Keel] = []

    def make(**settings: Any) -> Keel:
        keel = open_keel(database_url, **settings)
        made.append(keel)
        return keel

    yield make
    for keel in reversed(made):
        keel.close()


@pytest.fixture
def keel(keel_factory: Callable[..., Keel]) -> Keel:
    return keel_factory()


@pytest.fixture
def sqlite_keel(tmp_path: Path, sqlite_template: Path) -> Iterator[Keel]:
    keel = open_keel(sqlite_copy(sqlite_template, tmp_path / "sqlite-keel.db"))
    yield keel
    keel.close()


@pytest.fixture
def world(keel: Keel) -> World:
    return build_world(keel)


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    with ExitStack() as stack:

        def make(keel: Keel, *, as_admin: bool = True) -> TestClient:
            headers = admin_headers(keel) if as_admin else {}
            return stack.enter_context(TestClient(create_app(keel), headers=headers))

        yield make


@pytest.fixture
def client(keel: Keel, make_client: Callable[[Keel], TestClient]) -> TestClient:
    return make_client(keel)


@dataclass(frozen=True)
class LiveServer:
    url: str
    keel: Keel


@pytest.fixture
def live_server_factory() -> Iterator[Callable[..., LiveServer]]:
    with ExitStack() as stack:

        def start(keel: Keel, *, background: bool = True, as_admin: bool = True) -> LiveServer:
            url = stack.enter_context(serve_app(create_app(keel, background=background), as_admin=as_admin))
            return LiveServer(url, keel)

        yield start


@pytest.fixture
def live_server(sqlite_keel: Keel, live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory(sqlite_keel)
