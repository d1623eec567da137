"""Schema migrations (Alembic), applied by ``keel db upgrade``, ``keel serve`` and ``keel demo``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from keel.platform.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url)
    return cfg


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
