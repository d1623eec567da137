"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import keel.models  # noqa: F401  (registers every table on the shared metadata)
from keel.bootstrap import Keel
from keel.platform.db import metadata


def test_migrated_schema_matches_the_declared_tables(keel: Keel) -> None:
    # given a database brought up by `keel db upgrade` / when compared with the tables in code
    with keel.db.engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), metadata)
    # then nothing is missing, extra or different (a forgotten migration shows up here)
    assert drift == []
