"""The ledger write (StockService.apply_batch) and its reads: ledger queries and position filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from keel.bootstrap import Keel
from keel.inventory.model import Kind
from keel.inventory.service import BatchResult
from keel.platform.errors import NotFound
from keel.platform.scope import OutOfScope, Scope
from tests.support import ST_DE, ST_FR, WEB_DE, WH_DE, WH_FR, World, events_after, last_seq, mv, position, snapshot


def t(day: int, hour: int = 0) -> str:
    return datetime(2026, 3, day, hour, tzinfo=UTC).isoformat()


def test_apply_batch_updates_positions_ledger_and_announces_the_range(keel: Keel, world: World) -> None:
    # given an empty ledger
    seq = last_seq(keel)
    # when a receipt, a sale and an announced purchase order are applied in one batch
    result = keel.stock.apply_batch(
        [
            mv("r1", "received", "SKU-1", WH_DE, 10, reference="PO-1"),
            mv("s1", "sold", "SKU-1", WH_DE, 3),
            mv("e1", "expected", "SKU-1", WH_DE, 5),
        ],
        source="test",
    )
    # then all three are written with consecutive sequence numbers
    assert result == BatchResult(accepted=3, duplicates=0, first_seq=1, last_seq=3)
    assert position(keel, "SKU-1", WH_DE) == {
        "on_hand": 7, "available": 7, "committed": 0, "reserved": 0, "safety_stock": 0, "damaged": 0,
        "quality_control": 0, "incoming": 5,
    }  # fmt: skip
    ledger = keel.queries.ledger()
    assert [(m.seq, m.id, m.kind, m.sku, m.location, m.quantity) for m in ledger] == [
        (1, "r1", "received", "SKU-1", WH_DE, 10),
        (2, "s1", "sold", "SKU-1", WH_DE, 3),
        (3, "e1", "expected", "SKU-1", WH_DE, 5),
    ]
    assert ledger[0].reference == "PO-1"
    assert ledger[0].occurred_at == ledger[0].recorded_at
    # and one stock.moved event names the range, in the same transaction
    [event] = events_after(keel, seq)
    assert (event.type, event.subject, event.source) == ("stock.moved", "movements/1-3", "test")
    assert event.data == {
        "first_seq": 1,
        "last_seq": 3,
        "count": 3,
        "kinds": {"received": 1, "sold": 1, "expected": 1},
        "changes_available": True,
    }


def test_movements_that_do_not_touch_available_say_so(keel: Keel, world: World) -> None:
    seq = last_seq(keel)
    keel.stock.apply_batch([mv("e1", "expected", "SKU-1", WH_DE, 5)])
    [event] = events_after(keel, seq)
    assert event.data["changes_available"] is False


def test_a_movement_later_in_the_batch_may_use_stock_from_an_earlier_row(keel: Keel, world: World) -> None:
    keel.stock.apply_batch(
        [
            mv("a", "received", "SKU-1", WH_DE, 4),
            mv("b", "transfer_out", "SKU-1", WH_DE, 4),
            mv("c", "transfer_in", "SKU-1", WH_FR, 4),
            mv("d", "returned_damaged", "SKU-1", WH_FR, 1),
            mv("e", "disposed", "SKU-1", WH_FR, 1, reason="torn"),
        ]
    )
    assert position(keel, "SKU-1", WH_DE)["on_hand"] == 0
    assert position(keel, "SKU-1", WH_FR) == {
        "on_hand": 4, "available": 4, "committed": 0, "reserved": 0, "safety_stock": 0, "damaged": 0,
        "quality_control": 0, "incoming": 0,
    }  # fmt: skip


@pytest.fixture
def history(keel: Keel, world: World) -> Keel:
    """Seven movements over three days, two SKUs, three locations (seq 1..7)."""
    keel.stock.apply_batch(
        [
            mv("h1", "received", "SKU-1", WH_DE, 10, occurred_at=t(1, 9)),
            mv("h2", "received", "SKU-2", WH_DE, 5, occurred_at=t(1, 10)),
            mv("h3", "received", "SKU-1", ST_DE, 3, occurred_at=t(2, 9)),
            mv("h4", "sold", "SKU-1", WH_DE, 2, occurred_at=t(2, 12)),
            mv("h5", "received", "SKU-1", WH_FR, 8, occurred_at=t(3, 8)),
            mv("h6", "sold", "SKU-1", ST_DE, 1, occurred_at=t(3, 9)),
            mv("h7", "sold", "SKU-2", WH_DE, 5, occurred_at=t(3, 10)),
        ]
    )
    return keel


def ids(items: list[dict[str, object]]) -> list[object]:
    return [m.id for m in items]


def test_ledger_filters(history: Keel) -> None:
    q = history.queries
    assert ids(q.ledger(sku="SKU-2")) == ["h2", "h7"]
    assert ids(q.ledger(location=ST_DE)) == ["h3", "h6"]
    assert ids(q.ledger(kind=Kind.SOLD)) == ["h4", "h6", "h7"]
    assert ids(q.ledger(sku="SKU-1", location=WH_DE, kind=Kind.SOLD)) == ["h4"]
    assert ids(q.ledger(sku="NOPE")) == []


def test_ledger_time_range_is_half_open_on_occurred_at(history: Keel) -> None:
    since = datetime.fromisoformat(t(2, 9))
    until = datetime.fromisoformat(t(3, 9))
    assert ids(history.queries.ledger(since=since, until=until)) == ["h3", "h4", "h5"]
    assert ids(history.queries.ledger(since=datetime.fromisoformat(t(3, 10)))) == ["h7"]
    assert history.queries.ledger(sku="SKU-1", since=since)[0].occurred_at == since


def test_ledger_pages_by_after_seq(history: Keel) -> None:
    pages, after = [], 0
    while page := history.queries.ledger(after_seq=after, limit=3):
        pages.append(ids(page))
        after = page[-1].seq
    assert pages == [["h1", "h2", "h3"], ["h4", "h5", "h6"], ["h7"]]
    assert ids(history.queries.ledger(sku="SKU-1", after_seq=3, limit=2)) == ["h4", "h5"]


def keys(items: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(p.sku, p.location) for p in items]


def test_position_filters_and_totals(history: Keel) -> None:
    q = history.queries
    everything, total = q.positions()
    assert total == 4
    assert keys(everything) == [("SKU-1", ST_DE), ("SKU-1", WH_DE), ("SKU-1", WH_FR), ("SKU-2", WH_DE)]
    assert everything[1].country == "DE" and everything[1].available == 8
    assert q.positions(sku="SKU-1")[1] == 3
    assert keys(q.positions(location=WH_DE)[0]) == [("SKU-1", WH_DE), ("SKU-2", WH_DE)]
    assert keys(q.positions(country="fr")[0]) == [("SKU-1", WH_FR)]
    assert keys(q.positions(min_available=3)[0]) == [("SKU-1", WH_DE), ("SKU-1", WH_FR)]
    assert q.positions(locations=[]) == ([], 0)


def test_position_filter_by_channel_uses_its_source_locations(history: Keel) -> None:
    # given web-de sells from WH-DE-1 and ST-DE-1 only
    sources = history.availability.source_locations(WEB_DE)
    assert sources == [ST_DE, WH_DE]
    # when positions are filtered by them / then the French and 3PL positions are left out
    items, total = history.queries.positions(locations=sources)
    assert total == 3
    assert keys(items) == [("SKU-1", ST_DE), ("SKU-1", WH_DE), ("SKU-2", WH_DE)]
    assert history.availability.source_locations("market-eu") == [WH_DE, WH_FR]
    assert history.availability.source_locations("pos-fr") == [ST_FR]
    with pytest.raises(NotFound):
        history.availability.source_locations("no-such-channel")


def test_positions_paginate_with_a_stable_order(history: Keel) -> None:
    pages = [history.queries.positions(limit=3, offset=o) for o in (0, 3, 6)]
    assert [keys(items) for items, _ in pages] == [
        [("SKU-1", ST_DE), ("SKU-1", WH_DE), ("SKU-1", WH_FR)],
        [("SKU-2", WH_DE)],
        [],
    ]
    assert {total for _, total in pages} == {4}


def test_trailing_duplicates_do_not_widen_the_announced_range(keel: Keel, world: World) -> None:
    # given a recorded movement
    keel.stock.apply_batch([mv("first", "received", "SKU-1", WH_DE, 5)])
    # when a batch ends with that duplicate, and another batch follows
    mixed = keel.stock.apply_batch(
        [mv("second", "received", "SKU-1", WH_DE, 1), mv("first", "received", "SKU-1", WH_DE, 5)]
    )
    after = keel.stock.apply_batch([mv("third", "received", "SKU-1", WH_DE, 2)])
    # then each announced range holds exactly the rows that batch wrote, and ranges never overlap
    assert (mixed.accepted, mixed.duplicates, mixed.first_seq, mixed.last_seq) == (
        1,
        1,
        mixed.first_seq,
        mixed.first_seq,
    )
    assert after.first_seq is not None and mixed.last_seq is not None and after.first_seq > mixed.last_seq
    keel.availability.catch_up()
    listed = {(r.channel, r.country): r.quantity for r in keel.availability.projected(["SKU-1"])["SKU-1"]}
    live = {(r.channel, r.country): r.quantity for r in keel.availability.explain("SKU-1")}
    assert listed == {k: v for k, v in live.items() if v}


def test_apply_many_refuses_a_file_with_a_row_outside_the_scope_whole(keel: Keel, world: World) -> None:
    # given a caller restricted to Germany and a file with one row in France among German ones
    germany = Scope.of(None, ["DE"])
    rows = [
        mv("a", "received", "SKU-1", WH_DE, 1),
        mv("b", "received", "SKU-1", WH_FR, 1),
        mv("c", "sold", "X", ST_DE, 1),
    ]
    before = snapshot(keel)
    # when it is applied, then nothing is, and the row at fault is named
    with pytest.raises(OutOfScope) as refused:
        keel.stock.apply_many(rows, scope=germany)
    assert refused.value.extra["errors"] == [
        {"row": 2, "field": "location", "reason": f"location '{WH_FR}' is in FR, outside your restrictions"}
    ]
    assert snapshot(keel) == before
    # and the German rows alone go in
    assert keel.stock.apply_many([rows[0]], scope=germany).accepted == 1
