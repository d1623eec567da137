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
from tests.support_catalog import channels, seed, tee


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


def test_0014_keeps_every_channels_listings_both_ways(keel: Keel) -> None:
    # given listings of two channels sharing a target, one with its own row for an overridden product
    seed(keel)
    channels(keel, "shop", "shop-at")
    keel.catalog.put_target("shop", {"profile": "web-store", "locale": "de"})
    keel.catalog.put_target("shop-at", {"profile": "web-store", "locale": "de"})
    doc = tee()
    doc["values"].append({"attribute": "title", "locale": "de", "channel": "shop-at", "value": "Shirt (AT)"})
    keel.catalog.put_product(doc, source="api")
    listed = sorted((v.channel, v.sku, v.state, v.payload["title"]) for v in keel.catalog.listings()[0])
    assert len(listed) == 4
    cfg = migrate._config(keel.db)
    # when the schema goes back to 0013 (one row per channel and SKU) and up again
    with keel.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0013")
    with keel.db.read() as conn:
        rows = conn.exec_driver_sql("SELECT channel, sku FROM catalog_listings ORDER BY channel, sku").all()
    assert [tuple(r) for r in rows] == [(c, s) for c, s, _, _ in listed]
    migrate.upgrade(keel.db)
    # then each channel lists what it listed, and the next write stores the product once per group again
    assert sorted((v.channel, v.sku, v.state, v.payload["title"]) for v in keel.catalog.listings()[0]) == listed
    keel.catalog.put_product(tee(), source="api")
    with keel.db.read() as conn:
        kept = conn.exec_driver_sql("SELECT grp, channel FROM catalog_listings").all()
    assert {channel for _, channel in kept} == {""} and len(kept) == 2


def test_0014_a_channel_joining_a_group_lists_the_products_not_written_since(keel: Keel) -> None:
    # given listings kept by 0014 as a channel's own rows (the group has none until a product's next write)
    seed(keel)
    channels(keel, "shop", "shop-at")
    keel.catalog.put_target("shop", {"profile": "web-store", "locale": "de"})
    keel.catalog.put_product(tee(), source="api")
    cfg = migrate._config(keel.db)
    with keel.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0013")
    migrate.upgrade(keel.db)
    # when another channel joins the group / then it lists every product, as the first channel does
    keel.catalog.put_target("shop-at", {"profile": "web-store", "locale": "de"})
    listed = {c: sorted((v.sku, v.state) for v in keel.catalog.listings(c)[0]) for c in ("shop", "shop-at")}
    assert listed["shop-at"] == listed["shop"] and len(listed["shop"]) == 2
