"""Ledger retention on both databases: a fold checkpoints the positions and deletes only the named movements,
never past what the availability projector consumed nor the newest row; rebuild replays from the checkpoint."""

from __future__ import annotations

import sqlalchemy as sa

from keel.bootstrap import Keel
from keel.inventory import store
from tests.support import ST_DE, WH_DE, WH_FR, World, mv, position, snapshot


def ids(keel: Keel) -> list[str]:
    with keel.db.read() as conn:
        return list(conn.execute(sa.select(store.movements.c.id).order_by(store.movements.c.seq)).scalars())


def test_a_fold_deletes_the_named_movements_and_rebuild_still_replays_exactly(keel: Keel, world: World) -> None:
    # given twin and other movements interleaved, all consumed by the projector
    keel.stock.apply_batch([mv("twin-1", "received", "SKU-1", WH_DE, 10), mv("mine-1", "received", "SKU-1", ST_DE, 4)])
    keel.stock.apply_batch([mv("twin-2", "sold", "SKU-1", WH_DE, 3), mv("twin-3", "received", "SKU-2", WH_FR, 5)])
    keel.stock.record_count("SKU-1", WH_DE, 6, "twin-c1")  # a count loss of 1, id count:twin-c1
    keel.stock.apply_batch([mv("twin-4", "sold", "SKU-2", WH_FR, 1)])
    keel.availability.catch_up()
    before = [position(keel, "SKU-1", WH_DE), position(keel, "SKU-2", WH_FR), position(keel, "SKU-1", ST_DE)]
    # when the ledger is folded through everything
    report = keel.stock.fold_history(10**9, ["twin-", "count:twin-"])
    # then the newest row stays, the named older ones are gone, the others are kept as history
    assert (report.movements, report.deleted, report.error) == (5, 4, None)
    assert ids(keel) == ["mine-1", "twin-4"]
    assert [position(keel, "SKU-1", WH_DE), position(keel, "SKU-2", WH_FR), position(keel, "SKU-1", ST_DE)] == before
    rebuilt = keel.stock.rebuild(write=False)
    assert rebuilt.differences == [] and rebuilt.checkpoint_seq == report.through_seq and rebuilt.movements == 1
    # and a second fold has nothing to do; later movements fold on top of the checkpoint
    assert keel.stock.fold_history(10**9, ["twin-"]).movements == 0
    keel.stock.apply_batch([mv("twin-5", "received", "SKU-2", WH_FR, 2), mv("twin-6", "sold", "SKU-2", WH_FR, 1)])
    keel.availability.catch_up()
    again = keel.stock.fold_history(10**9, ["twin-"])
    assert (again.movements, again.deleted) == (2, 2)
    assert ids(keel) == ["mine-1", "twin-6"]
    assert keel.stock.rebuild(write=False).differences == []


def test_a_fold_stops_at_what_the_projector_has_not_consumed(keel: Keel, world: World) -> None:
    keel.stock.apply_batch([mv("twin-1", "received", "SKU-1", WH_DE, 10)])
    keel.stock.apply_batch([mv("twin-2", "received", "SKU-1", WH_DE, 1)])
    keel.availability.catch_up()
    keel.stock.apply_batch([mv("twin-3", "sold", "SKU-1", WH_DE, 2), mv("twin-4", "sold", "SKU-1", WH_DE, 1)])
    # the projector has not read twin-3/twin-4: their rows must stay for it
    report = keel.stock.fold_history(10**9, ["twin-"])
    assert ids(keel) == ["twin-3", "twin-4"]
    assert report.deleted == 2
    keel.availability.catch_up()
    assert keel.availability.projected(["SKU-1"])  # the projector read its rows after the fold
    assert keel.stock.rebuild(write=False).differences == []


def test_a_drifted_position_is_still_found_and_repaired_after_a_fold(keel: Keel, world: World) -> None:
    keel.stock.apply_batch([mv("twin-1", "received", "SKU-1", WH_DE, 10), mv("twin-2", "sold", "SKU-1", WH_DE, 4)])
    keel.stock.apply_batch([mv("twin-3", "sold", "SKU-1", WH_DE, 1)])
    keel.availability.catch_up()
    keel.stock.fold_history(10**9, ["twin-"])
    with keel.db.write() as conn:
        conn.execute(store.positions.update().values(on_hand=99))
    report = keel.stock.rebuild()
    assert report.applied and [d["sku"] for d in report.differences] == ["SKU-1"]
    assert position(keel, "SKU-1", WH_DE)["on_hand"] == 5


def test_nothing_to_fold_changes_nothing(keel: Keel, world: World) -> None:
    keel.stock.apply_batch([mv("only", "received", "SKU-1", WH_DE, 1)])
    keel.availability.catch_up()
    before = snapshot(keel)
    assert keel.stock.fold_history(10**9, ["only"]).movements == 0  # the newest row is never folded
    assert keel.stock.fold_history(0, ["x"]).movements == 0
    assert snapshot(keel) == before
