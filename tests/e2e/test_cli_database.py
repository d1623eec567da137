"""Only ``keel db upgrade`` and ``keel demo`` create a database; every other command refuses one that is
missing, holds no Keel schema or is out of date, with one line and exit status 2, and creates nothing
(``keel serve`` and ``keel worker`` bring an existing Keel database up to date)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from typer.testing import CliRunner

from keel.cli import app
from keel.platform import migrate
from keel.platform.db import Database
from tests.conftest import postgres_database
from tests.e2e.conftest import Invoke

HINT = "run `keel db upgrade` or `keel demo` first"


def one_line(result: Result) -> str:
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def revision(url: str) -> tuple[str, ...]:
    db = Database(url)
    try:
        return migrate.state(db).current
    finally:
        db.dispose()


@pytest.mark.parametrize(
    "args",
    [
        ("inventory", "positions"),
        ("inventory", "atp", "SKU-1", "--json"),
        ("locations", "list", "--json"),
        ("locations", "create", "WH-DE-9", "Berlin", "warehouse", "DE"),
        ("orders", "list"),
        ("users", "list"),
        ("worker", "--once"),
        ("serve",),
    ],
    ids=lambda args: " ".join(args),
)
def test_a_missing_sqlite_file_is_refused_and_not_created(
    invoke: Invoke, tmp_path: Path, args: tuple[str, ...]
) -> None:
    path = tmp_path / "elsewhere" / "keel.db"
    line = one_line(invoke(f"sqlite:///{path}", *args))
    assert line == f"no Keel database at {path}; {HINT}"
    assert not path.parent.exists()  # not even its folder


def test_the_default_database_is_not_created_in_another_folder(bare_url: str, tmp_path: Path) -> None:
    # given a folder without .keel/ and no KEEL_DATABASE_URL (bare_url isolates both)
    result = CliRunner(env={"KEEL_LOG_JSON": "false"}).invoke(app, ["inventory", "positions"])
    assert one_line(result) == f"no Keel database at {tmp_path / '.keel' / 'keel.db'}; {HINT}"
    assert list(tmp_path.iterdir()) == []


def test_an_empty_sqlite_file_or_another_file_is_refused(invoke: Invoke, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()  # a valid SQLite file without any table
    assert one_line(invoke(f"sqlite:///{empty}", "locations", "list")) == f"no Keel database at {empty}; {HINT}"
    assert sa.inspect(sa.create_engine(f"sqlite:///{empty}")).get_table_names() == []
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, but long enough for SQLite to read a header from it " * 3)
    refused = one_line(invoke(f"sqlite:///{text}", "locations", "list"))
    assert refused == f"{text} is not a Keel database: file is not a database"


def test_an_older_schema_is_refused_until_db_upgrade(invoke: Invoke, bare_url: str, tmp_path: Path) -> None:
    db = Database(bare_url)
    migrate.upgrade(db, "0005")
    head = migrate.state(db).head
    db.dispose()
    line = one_line(invoke(bare_url, "orders", "list", "--json"))
    assert line == (
        f"the Keel database at {tmp_path / 'cli.db'} is at schema revision 0005, this Keel needs {head}; "
        "run `keel db upgrade`"
    )
    assert revision(bare_url) == ("0005",)  # a read changed nothing
    assert invoke(bare_url, "db", "upgrade").exit_code == 0
    listed = invoke(bare_url, "orders", "list", "--json")
    assert (listed.exit_code, listed.stdout) == (0, '{"items": [], "total": 0, "limit": 50, "offset": 0, "metrics": '
                                                 '{"routed": 0, "delivered": 0, "split_rate": null, '
                                                 '"on_time_rate": null, "same_day_rate": null}}\n')  # fmt: skip


def test_the_worker_brings_an_older_schema_up_to_date(invoke: Invoke, bare_url: str) -> None:
    db = Database(bare_url)
    migrate.upgrade(db, "0005")
    head = migrate.state(db).head
    db.dispose()
    result = invoke(bare_url, "worker", "--once")
    assert result.exit_code == 0, result.output
    assert revision(bare_url) == (head,)


def test_a_schema_from_a_newer_keel_is_refused_even_by_db_upgrade(invoke: Invoke, db_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    for args in (("locations", "list"), ("db", "upgrade"), ("demo", "--no-serve")):
        assert one_line(invoke(db_url, *args)) == (
            f"the database at {tmp_path / 'cli.db'} is at schema revision 9999, which this Keel does not know: "
            "a newer Keel upgraded it; use that version"
        )


@pytest.mark.postgres
def test_a_postgresql_database_without_keel_schema_is_refused(invoke: Invoke, postgres_admin_url: str) -> None:
    with postgres_database(postgres_admin_url) as url:
        shown = sa.make_url(url).render_as_string(hide_password=True)
        assert one_line(invoke(url, "inventory", "positions", "--json")) == f"no Keel database at {shown}; {HINT}"
        assert one_line(invoke(url, "serve")) == f"no Keel database at {shown}; {HINT}"
        assert revision(url) == ()
        assert invoke(url, "db", "upgrade").exit_code == 0
        listed = invoke(url, "locations", "list", "--json")
        assert (listed.exit_code, listed.stdout) == (0, '{"items": [], "total": 0, "limit": 50, "offset": 0}\n')
