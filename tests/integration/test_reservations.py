"""Reservations: reserve, release, commit, expiry, idempotency by id and refusals (both databases)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from keel.platform.errors import Conflict, FieldError, InsufficientStock, NotFound, ValidationFailed
from tests.support import ST_DE, WH_DE, World, events_after, last_seq, position, receive, snapshot


@pytest.fixture
def stocked(keel: Keel, world: World) -> Keel:
    """10 x SKU-1 available at WH-DE-1."""
    receive(keel, "SKU-1", WH_DE, 10)
    return keel


def avail_reserved_committed(keel: Keel) -> tuple[int, int, int]:
    p = position(keel, "SKU-1", WH_DE)
    return p["available"], p["reserved"], p["committed"]


def ledger_tail(keel: Keel) -> list[tuple[Any, ...]]:
    return [(m.id, m.kind, m.quantity) for m in keel.queries.ledger()[1:]]


def test_reserve_holds_stock_and_records_a_movement(stocked: Keel) -> None:
    seq = last_seq(stocked)
    # when 3 units are held for a minute
    res = stocked.stock.reserve("SKU-1", WH_DE, 3, 60, "cart-1", reference="basket 42")
    # then available moves to reserved, the hold is in the ledger and announced
    assert {k: getattr(res, k) for k in ("id", "sku", "location", "quantity", "status", "reference", "closed_at")} == {
        "id": "cart-1", "sku": "SKU-1", "location": WH_DE, "quantity": 3, "status": "active",
        "reference": "basket 42", "closed_at": None,
    }  # fmt: skip
    assert round((res.expires_at - res.created_at).total_seconds()) == 60
    assert avail_reserved_committed(stocked) == (7, 3, 0)
    assert ledger_tail(stocked) == [("rsv:cart-1", "reserved", 3)]
    [event] = events_after(stocked, seq)
    assert (event.type, event.source, event.data["kinds"]) == ("stock.moved", "reservations", {"reserved": 1})
    assert stocked.stock.reservation("cart-1") == res


def test_release_gives_the_hold_back(stocked: Keel) -> None:
    stocked.stock.reserve("SKU-1", WH_DE, 3, 60, "cart-1")
    released = stocked.stock.release("cart-1")
    assert released.status == "released"
    assert released.closed_at is not None
    assert avail_reserved_committed(stocked) == (10, 0, 0)
    assert ledger_tail(stocked) == [("rsv:cart-1", "reserved", 3), ("rsv:cart-1:released", "released", 3)]


def test_commit_turns_the_hold_into_committed_stock(stocked: Keel) -> None:
    stocked.stock.reserve("SKU-1", WH_DE, 4, 60, "cart-1")
    assert stocked.stock.commit_reservation("cart-1").status == "committed"
    assert avail_reserved_committed(stocked) == (6, 0, 4)
    assert ledger_tail(stocked)[-1] == ("rsv:cart-1:committed", "reservation_committed", 4)


def test_repeated_close_is_idempotent_and_a_different_close_conflicts(stocked: Keel) -> None:
    stocked.stock.reserve("SKU-1", WH_DE, 4, 60, "cart-1")
    stocked.stock.commit_reservation("cart-1")
    before = snapshot(stocked)
    # a repeated commit returns the same reservation and writes nothing
    assert stocked.stock.commit_reservation("cart-1").status == "committed"
    assert snapshot(stocked) == before
    # a release of a committed hold is refused and writes nothing
    with pytest.raises(Conflict, match="reservation 'cart-1' is committed, not active"):
        stocked.stock.release("cart-1")
    assert snapshot(stocked) == before


def test_expiry_releases_only_holds_that_are_due(stocked: Keel) -> None:
    # given a 60 s hold and a 1 h hold
    stocked.stock.reserve("SKU-1", WH_DE, 2, 60, "short")
    stocked.stock.reserve("SKU-1", WH_DE, 3, 3600, "long")
    # when the sweeper runs now, nothing is due
    assert stocked.stock.expire_due(now=utcnow()) == 0
    # when it runs two minutes later, only the short hold is released
    assert stocked.stock.expire_due(now=utcnow() + timedelta(minutes=2)) == 1
    assert stocked.stock.reservation("short").status == "expired"
    assert stocked.stock.reservation("long").status == "active"
    assert avail_reserved_committed(stocked) == (7, 3, 0)
    assert ledger_tail(stocked)[-1] == ("rsv:short:expired", "released", 2)
    # and running again finds nothing more
    before = snapshot(stocked)
    assert stocked.stock.expire_due(now=utcnow() + timedelta(minutes=2)) == 0
    assert snapshot(stocked) == before


def test_an_expired_hold_cannot_be_committed(stocked: Keel) -> None:
    stocked.stock.reserve("SKU-1", WH_DE, 2, 60, "short")
    stocked.stock.expire_due(now=utcnow() + timedelta(hours=1))
    before = snapshot(stocked)
    with pytest.raises(Conflict, match="is expired, not active"):
        stocked.stock.commit_reservation("short")
    assert snapshot(stocked) == before


def test_reserving_again_with_the_same_id_is_idempotent(stocked: Keel) -> None:
    first = stocked.stock.reserve("SKU-1", WH_DE, 3, 60, "cart-1")
    before = snapshot(stocked)
    assert stocked.stock.reserve("SKU-1", WH_DE, 3, 60, "cart-1") == first
    assert snapshot(stocked) == before
    with pytest.raises(Conflict, match="reservation 'cart-1' exists with other content"):
        stocked.stock.reserve("SKU-1", WH_DE, 4, 60, "cart-1")
    assert snapshot(stocked) == before


def test_reserving_more_than_available_is_refused(stocked: Keel) -> None:
    stocked.stock.reserve("SKU-1", WH_DE, 8, 60, "a")
    before = snapshot(stocked)
    with pytest.raises(InsufficientStock) as info:
        stocked.stock.reserve("SKU-1", WH_DE, 3, 60, "b")
    assert info.value.detail == f"cannot reserve 3 of SKU-1 at {WH_DE}: 2 available"
    assert info.value.problem()["available"] == 2
    assert info.value.status == 409
    assert snapshot(stocked) == before


def test_reserving_a_sku_never_stocked_there_is_refused(stocked: Keel) -> None:
    before = snapshot(stocked)
    with pytest.raises(InsufficientStock) as info:
        stocked.stock.reserve("SKU-1", ST_DE, 1, 60)
    assert info.value.problem()["available"] == 0
    assert snapshot(stocked) == before


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("SKU-1", WH_DE, 0, 60, None), "quantity"),
        (("SKU-1", WH_DE, -1, 60, None), "quantity"),
        (("SKU-1", WH_DE, 1, 0, None), "ttl_seconds"),
        (("SKU-1", WH_DE, 1, 7 * 86400 + 1, None), "ttl_seconds"),
        (("bad sku", WH_DE, 1, 60, None), "sku"),
        (("SKU-1", WH_DE, 1, 60, "bad id"), "id"),
        (("SKU-1", "NOWHERE", 1, 60, None), "location"),
    ],
)
def test_invalid_reservation_requests_are_refused(stocked: Keel, args: tuple[Any, ...], field: str) -> None:
    before = snapshot(stocked)
    with pytest.raises(ValidationFailed) as info:
        stocked.stock.reserve(*args)
    [error] = info.value.errors
    assert (error.row, error.field) == (None, field)
    assert snapshot(stocked) == before


def test_unknown_reservation_is_not_found(stocked: Keel) -> None:
    for call in (stocked.stock.reservation, stocked.stock.release, stocked.stock.commit_reservation):
        with pytest.raises(NotFound, match="reservation 'ghost' does not exist"):
            call("ghost")


def test_reservation_at_a_deactivated_location_is_refused(stocked: Keel) -> None:
    stocked.locations.deactivate(WH_DE)
    with pytest.raises(ValidationFailed) as info:
        stocked.stock.reserve("SKU-1", WH_DE, 1, 60)
    assert info.value.errors == [FieldError(None, "location", f"unknown or inactive location {WH_DE!r}")]
