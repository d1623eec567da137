"""Contract of the inventory store ports (``keel.inventory.store``), run on every backend.

Each test speaks only through the store functions and a transaction of ``keel.db``; another backend joins
by adding a ``database_url`` param.
"""

from __future__ import annotations

from datetime import UTC, datetime

from keel.bootstrap import Keel
from keel.inventory import store
from keel.inventory.model import KIND_CODES, Kind, Location, LocationGroup

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
NOW_US = int(NOW.timestamp() * 1_000_000)
WH = {"code": "WH-1", "name": "Berlin", "kind": "warehouse", "country": "DE", "region": None, "city": "Berlin",
      "latitude": 52.5, "longitude": 13.4, "capabilities": ["ship", "pickup"], "daily_capacity": None}  # fmt: skip


def _location(keel: Keel, **overrides: object) -> int:
    with keel.db.write() as conn:
        store.insert_location(conn, {**WH, **overrides}, NOW)
        return store.ids_by_code(conn)[str({**WH, **overrides}["code"])]


def test_a_location_reads_back_as_written(keel: Keel) -> None:
    # given a stored location / when it is read / then every field comes back, capabilities sorted
    location_id = _location(keel)
    with keel.db.read() as conn:
        found = store.get_location(conn, "WH-1")
        assert store.get_location(conn, "NOPE") is None
        assert store.active_ids(conn) == {"WH-1": location_id}
        assert store.codes_by_id(conn) == {location_id: "WH-1"}
    assert found == Location(
        location_id, "WH-1", "Berlin", "warehouse", "DE", None, "Berlin", 52.5, 13.4, ("pickup", "ship"), None,
        True, NOW, NOW,
    )  # fmt: skip


def test_an_inactive_location_leaves_the_active_ids(keel: Keel) -> None:
    location_id = _location(keel)
    with keel.db.write() as conn:
        store.update_location(conn, "WH-1", {"active": False}, NOW)
    with keel.db.read() as conn:
        assert store.active_ids(conn) == {}
        assert store.ids_by_code(conn) == {"WH-1": location_id}
        assert store.list_locations(conn, active=False)[1] == 1


def test_groups_replace_their_members(keel: Keel) -> None:
    first, second = _location(keel), _location(keel, code="WH-2")
    with keel.db.write() as conn:
        store.insert_group(conn, "g", "G", [first, second])
        store.replace_group_members(conn, "g", [second])
    with keel.db.read() as conn:
        assert store.list_groups(conn) == [LocationGroup("g", "G", ("WH-2",))]
        assert store.group_codes(conn) == {"g"}
        assert store.get_group_name(conn, "ghost") is None


def test_movements_are_idempotent_by_id(keel: Keel) -> None:
    # given one movement in the ledger / when the same id is inserted again / then nothing new is written
    location_id = _location(keel)
    row = (1, "m1", KIND_CODES[Kind.RECEIVED], "SKU-1", location_id, 5, NOW_US, NOW_US, None, None)
    with keel.db.write() as conn:
        store.lock_ledger(conn)
        assert store.next_movement_seqs(conn, 1) == 1
        assert store.insert_movements(conn, [row]) == 1
        assert store.insert_movements(conn, [(2, *row[1:])]) == 0
        assert store.next_movement_seqs(conn, 1) == 2
        assert store.movement_ids_in(conn, 1, 2) == {"m1"}
        assert store.existing_movements(conn, ["m1", "m2"]) == {
            "m1": (KIND_CODES[Kind.RECEIVED], "SKU-1", location_id, 5)
        }
        assert store.movement_deltas(conn, 1, 1, [KIND_CODES[Kind.RECEIVED]]) == [
            ("SKU-1", location_id, KIND_CODES[Kind.RECEIVED], 5)
        ]
        assert list(store.replay(conn)) == [(KIND_CODES[Kind.RECEIVED], "SKU-1", location_id, 5)]


def test_positions_save_load_and_guarded_moves(keel: Keel) -> None:
    location_id = _location(keel)
    key = ("SKU-1", location_id)
    with keel.db.write() as conn:
        assert store.load_positions(conn, [key]).get(key, [0] * 8) == [0] * 8
        store.save_positions(conn, {key: [5, 5, 0, 0, 0, 0, 0, 0]}, NOW_US)
        # a move that would take available below zero changes nothing
        reserve = (0, -1, 0, 1, 0, 0, 0, 0)
        assert store.conditional_move(conn, "SKU-1", location_id, reserve, 6, NOW_US) is False
        assert store.conditional_move(conn, "SKU-1", location_id, reserve, 2, NOW_US) is True
    with keel.db.read() as conn:
        assert store.load_positions(conn, [key, ("SKU-2", location_id)]) == {key: [5, 3, 0, 2, 0, 0, 0, 0]}
        assert store.available_by_location(conn, ["SKU-1", "SKU-2"]) == {"SKU-1": {"WH-1": 3}, "SKU-2": {}}
        assert store.available_of_sku(conn, "SKU-1") == {location_id: 3}
        page, total = store.positions_page(conn, country="DE")
        assert (total, [(p.sku, p.location, p.available, p.reserved) for p in page]) == (1, [("SKU-1", "WH-1", 3, 2)])


def test_listings_upsert_and_filter(keel: Keel) -> None:
    # given two listings / when one is replaced / then reads see the latest, filtered by channel and country
    with keel.db.write() as conn:
        store.save_listed(conn, [(1, "DE", "SKU-1", 4, False), (2, "FR", "SKU-1", 1, True)], NOW_US)
        store.save_listed(conn, [(1, "DE", "SKU-1", 7, False)], NOW_US + 1)
    with keel.db.read() as conn:
        assert store.listed_snapshot(conn) == {"SKU-1": {(1, "DE"): (7, False), (2, "FR"): (1, True)}}
    with keel.db.raw_cursor() as cur:
        rows = sorted(store.listed_for_skus(cur, ["SKU-1", "SKU-9"]))
        assert [(r[0], r[1], r[3], bool(r[4]), r[5]) for r in rows] == [
            (1, "DE", 7, False, NOW_US + 1),
            (2, "FR", 1, True, NOW_US),
        ]
        assert [r[0] for r in store.listed_for_skus(cur, ["SKU-1"], channel_id=2, country="FR")] == [2]


def test_order_capture_reads_the_sources_holding_its_skus(keel: Keel) -> None:
    # given three locations, one inactive, one in a group, and positions of SKU-1 at all of them
    wh, store_id, closed = _location(keel), _location(keel, code="ST-1"), _location(keel, code="WH-OLD")
    with keel.db.write() as conn:
        store.update_location(conn, "WH-OLD", {"active": False}, NOW)
        store.insert_group(conn, "stores", "Stores", [store_id])
        rows = {("SKU-1", wh): [5, 5, 0, 0, 0, 0, 0, 0], ("SKU-1", store_id): [2, 0, 2, 0, 0, 0, 0, 0]}
        store.save_positions(conn, {**rows, ("SKU-1", closed): [9, 9, 0, 0, 0, 0, 0, 0]}, NOW_US)
    with keel.db.read() as conn:
        # then the positions of the SKUs come back wherever they are, and an unknown SKU has none
        assert sorted(store.available_of_skus(conn, ["SKU-1", "SKU-9"])()) == sorted(
            [("SKU-1", wh, 5), ("SKU-1", store_id, 0), ("SKU-1", closed, 9)]
        )
        assert store.available_of_skus(conn, [])() == []
        # and only active holders of the SKUs named by code or through a group feed
        feeding = store.feeding(conn, ["SKU-1"], ["WH-1", "WH-OLD"], ["stores"])()
        assert sorted(loc.code for loc in feeding) == ["ST-1", "WH-1"]
        assert [loc.code for loc in store.feeding(conn, ["SKU-1"], [], ["stores"])()] == ["ST-1"]
        assert store.feeding(conn, ["SKU-1"], [], [])() == []
        assert store.feeding(conn, ["SKU-9"], ["WH-1"], ["stores"])() == []  # nobody holds it
        assert store.active_ids_of(conn, ["WH-1", "WH-OLD", "NOPE"]) == {"WH-1": wh}


def test_the_ledger_lock_is_taken_once_per_transaction_and_again_by_the_next(keel: Keel) -> None:
    # given one connection running two transactions one after the other
    query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 7366 AND pid = pg_backend_pid()"
    with keel.db.engine.connect() as conn:
        for _ in range(2):
            with conn.begin():
                # when each locks the ledger (twice: the second call is a no-op)
                store.lock_ledger(conn)
                store.lock_ledger(conn)
                # then each holds the lock (PostgreSQL; SQLite's write transactions are serial already)
                if conn.dialect.name == "postgresql":
                    assert conn.exec_driver_sql(query).scalar_one() == 1
