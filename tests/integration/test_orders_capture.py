"""The lean capture path on both databases: one transaction, the answer built from what was written (equal to a
read back), every event attributed, and a bounded number of statements whatever the size of the network."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import event

from keel.bootstrap import Keel
from keel.channels import CreateChannel
from keel.inventory import CreateLocation
from keel.platform.actor import Actor, acting_as
from keel.platform.vocabulary import OrderStatus
from tests.integration.test_orders import order
from tests.support import POS_FR, ST_DE, ST_FR, WEB_DE, WH_DE, World, events_after, last_seq, place, receive


@pytest.fixture
def stocked(keel: Keel, world: World) -> Keel:
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", ST_DE, 5)
    receive(keel, "SKU-4", ST_FR, 1)
    return keel


CASES = {
    "split over two nodes": order("L-1", ("SKU-1", 2), ("SKU-2", 1)),
    "one SKU on two lines": order("L-2", ("SKU-1", 1), ("SKU-1", 2)),
    "express with its promise": order(
        "L-3", ("SKU-1", 1), fulfilment="ship_express", promise_at="2030-01-02T12:00:00.123457+02:00"
    ),
    "curbside at a store": order("L-4", ("SKU-2", 1), fulfilment="curbside", ship_to=None, pickup_location=ST_DE),
    "backordered in part": order(
        "L-5", ("SKU-4", 3), channel=POS_FR, fulfilment="pickup", ship_to=None, pickup_location=ST_FR
    ),
    "backordered in full": order(
        "L-7", ("SKU-4", 2), channel=POS_FR, ship_to={"country": "FR", "city": "Lyon", "postal_code": "69001"}
    ),
    "given coordinates": order(
        "L-6", ("SKU-1", 1), ship_to={"country": "DE", "postal_code": "10115", "latitude": 52.5, "longitude": 13.4}
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_the_answer_is_what_a_read_back_gives(stocked: Keel, case: str) -> None:
    # when an order is captured
    placed, created = place(stocked, CASES[case])
    # then the answer, built from what was written, is exactly what reading the order back gives
    assert created
    assert placed == stocked.orders.reads.get(placed.id)
    # and an identical repeat answers with the same order
    again, created_again = place(stocked, CASES[case])
    assert (again, created_again) == (placed, False)


def test_a_backordered_order_says_so_in_the_answer(stocked: Keel) -> None:
    placed, _ = place(stocked, CASES["backordered in part"])
    assert placed.status is OrderStatus.PARTIALLY_BACKORDERED
    assert [(line.committed, line.backordered) for line in placed.lines] == [(1, 2)]
    assert [t.data["backordered"] for t in placed.timeline if t.kind == "routed"] == [2]


def test_every_event_of_a_capture_names_who_captured_it(stocked: Keel) -> None:
    # given a connector acting for its channel with a request id
    before = last_seq(stocked)
    with acting_as(Actor("svc-1", "web-de connector", "api", None, "req-42")):
        placed, _ = place(stocked, order("A-1", ("SKU-1", 2)))
    # then the stock it committed and the order's own events were written with the order, all attributed
    events = events_after(stocked, before)
    assert [e.type for e in events] == ["stock.moved", "order.captured", "order.routed"]
    assert {(e.actor, e.via, e.request_id) for e in events} == {("svc-1", "api", "req-42")}
    assert placed.promise_at is not None
    assert events[1].data == {
        "order_id": placed.id, "channel": WEB_DE, "external_id": "A-1", "units": 2,
        "promise_at": placed.promise_at.isoformat(),
    }  # fmt: skip


def _more_network(keel: Keel, extra: int) -> None:
    """``extra`` more DE stores and channels, none holding the order's SKU: a capture must not read them."""
    for i in range(extra):
        code = f"ST-DE-X{i}"
        keel.locations.create(
            CreateLocation(code, f"Store {i}", "store", "DE", city="Hamburg", capabilities=("pickup",))
        )
        receive(keel, "OTHER", code, 1)
        policy: dict[str, Any] = {"sources": {"DE": {"locations": [code]}}}
        keel.channels.create(CreateChannel(f"web-x{i}", f"Web {i}", "web_store", ("DE",), "EUR", policy))


def _statements(keel: Keel, document: dict[str, Any]) -> list[str]:
    """The statements SQLite runs for one capture (every connection opened meanwhile is traced)."""
    seen: list[str] = []

    def trace(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.set_trace_callback(seen.append)

    keel.db.engine.pool.dispose()  # connections opened from now on are traced
    event.listen(keel.db.engine, "connect", trace)
    try:
        place(keel, document)
    finally:
        event.remove(keel.db.engine, "connect", trace)
        keel.db.engine.pool.dispose()
    return [s for s in seen if not s.startswith("PRAGMA")]


def test_a_capture_runs_the_same_few_statements_whatever_the_network(sqlite_keel: Keel) -> None:
    # given the small world, then the same with twenty more stores and channels
    from tests.support import build_world

    build_world(sqlite_keel)
    receive(sqlite_keel, "SKU-1", WH_DE, 10)
    small = _statements(sqlite_keel, order("S-1", ("SKU-1", 1)))
    _more_network(sqlite_keel, 20)
    large = _statements(sqlite_keel, order("S-2", ("SKU-1", 1)))
    # then one capture is one transaction of a bounded number of statements, none per location or channel
    assert len(large) == len(small)
    assert [s.split()[0] for s in small].count("BEGIN") == 1
    assert len(small) <= 22, small  # 21 today: BEGIN, 7 reads, the writes (one per row of an executemany), COMMIT
