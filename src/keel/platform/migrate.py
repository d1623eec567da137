"""Schema migrations (Alembic), applied by ``keel db upgrade`` and ``keel demo`` (which may create the
database), and by ``keel serve`` and ``keel worker`` (which bring an existing Keel database up to date).
Every other command reads ``state`` and refuses a database that is missing, not Keel's, or out of date."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from keel.platform.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url)
    return cfg


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against this Keel's migrations."""

    current: tuple[str, ...]  # the revisions recorded in the database; empty: no Keel schema
    head: str  # the newest revision this Keel ships
    unknown: tuple[str, ...]  # recorded revisions this Keel has no migration for (a newer Keel wrote them)

    @property
    def empty(self) -> bool:
        return not self.current

    @property
    def up_to_date(self) -> bool:
        return self.current == (self.head,)


def state(db: Database) -> SchemaState:
    """The database's schema revision beside this Keel's head; reads only (creates and changes nothing)."""
    script = ScriptDirectory.from_config(_config(db))
    with db.engine.connect() as conn:
        current = tuple(MigrationContext.configure(conn).get_current_heads())
    unknown = []
    for revision in current:
        try:
            script.get_revision(revision)
        except CommandError:
            unknown.append(revision)
    return SchemaState(current, script.get_current_head() or "", tuple(unknown))


def upgrade(db: Database, revision: str = "head") -> None:
    with db.engine.begin() as conn:
        cfg = _config(db)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def revision(db: Database, message: str) -> None:
    """Autogenerate a new revision from the difference between the tables and the database (developers)."""
    with db.engine.begin() as conn:
        cfg = _config(db)
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
