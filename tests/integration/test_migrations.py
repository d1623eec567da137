"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import keel.models  # noqa: F401  (registers every table on the shared metadata)
from keel.bootstrap import Keel
from keel.platform import migrate
from keel.platform.db import metadata
from tests.support import WH_DE, World, mv, position


def test_migrated_schema_matches_the_declared_tables(keel: Keel) -> None:
    # given a database brought up by `keel db upgrade` / when compared with the tables in code
    with keel.db.engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), metadata)
    # then nothing is missing, extra or different (a forgotten migration shows up here)
    assert drift == []


def test_0013_upgrades_a_database_holding_stock(keel: Keel, world: World) -> None:
    # given a database at 0012 (before the fillfactor) whose ledger and positions hold stock
    with keel.db.engine.begin() as conn:
        cfg = migrate._config(keel.db)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    keel.stock.apply_batch([mv("r1", "received", "SKU-1", WH_DE, 10), mv("s1", "sold", "SKU-1", WH_DE, 3)])
    # when it is brought up to date
    migrate.upgrade(keel.db)
    # then the stock is intact, the ledger still writes, and PostgreSQL leaves room for heap-only updates
    keel.stock.apply_batch([mv("s2", "sold", "SKU-1", WH_DE, 2)])
    assert position(keel, "SKU-1", WH_DE)["available"] == 5
    assert [m.id for m in keel.queries.ledger(sku="SKU-1")] == ["r1", "s1", "s2"]
    assert migrate.state(keel.db).up_to_date
    if keel.db.engine.dialect.name == "postgresql":
        with keel.db.read() as conn:
            options = conn.exec_driver_sql("SELECT reloptions FROM pg_class WHERE relname = 'positions'").scalar()
        assert options == ["fillfactor=70"]
