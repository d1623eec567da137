"""Fixtures of the command-line tests: an isolated SQLite file and a runner bound to it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from keel.cli import app

Run = Callable[..., Result]


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file; the working directory and KEEL_* settings are isolated from the developer's."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("KEEL_")]:
        monkeypatch.delenv(name)
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def run(db_url: str) -> Run:
    """``run("orders", "list")`` runs ``keel orders list --database-url <db_url>`` in process."""
    runner = CliRunner(env={"COLUMNS": "240", "KEEL_LOG_JSON": "false"})

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, [*args, "--database-url", db_url], env=env, catch_exceptions=False)

    return invoke
