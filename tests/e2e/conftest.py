"""Fixtures of the command-line tests: an isolated SQLite file and a runner bound to it.

- ``bare_url``: a SQLite file that does not exist yet (what ``keel db upgrade`` or ``keel demo`` creates);
  the working directory and KEEL_* settings are isolated from the developer's.
- ``db_url``: the same path holding a Keel database at the latest schema, as ``keel db upgrade`` leaves it
  (a copy of a file migrated once per session). Every command but ``db upgrade`` and ``demo`` refuses a
  path without one.
- ``run("orders", "list")``: ``keel orders list --database-url <db_url>`` in process;
  ``invoke(url, *args)`` the same on any URL.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from keel.cli import app
from keel.platform import migrate
from keel.platform.db import Database

Run = Callable[..., Result]
Invoke = Callable[..., Result]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the latest schema, migrated once per session; tests copy it."""
    path = tmp_path_factory.mktemp("cli-template") / "keel.db"
    db = Database(f"sqlite:///{path}")
    try:
        migrate.upgrade(db)
    finally:
        db.dispose()
    return path


@pytest.fixture
def bare_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("KEEL_")]:
        monkeypatch.delenv(name)
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def db_url(bare_url: str, migrated_sqlite: Path) -> str:
    shutil.copyfile(migrated_sqlite, bare_url.removeprefix("sqlite:///"))
    return bare_url


@pytest.fixture
def invoke(bare_url: str) -> Invoke:
    runner = CliRunner(env={"COLUMNS": "240", "KEEL_LOG_JSON": "false"})

    def call(url: str, *args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, [*args, "--database-url", url], env=env, catch_exceptions=False)

    return call


@pytest.fixture
def run(db_url: str, invoke: Invoke) -> Run:
    def call(*args: str, env: dict[str, str] | None = None) -> Result:
        return invoke(db_url, *args, env=env)

    return call
