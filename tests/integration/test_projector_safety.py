"""Projector and ledger safety cases found in review: each failed before its fix."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from keel.bootstrap import Keel
from keel.inventory import store
from keel.inventory.service.projector import CONSUMER
from keel.platform.clock import utcnow
from tests.support import ST_DE, WEB_DE, WH_DE, World, mv, receive


def listed(keel: Keel, sku: str) -> dict[tuple[str, str], int]:
    return {(r.channel, r.country): r.quantity for r in keel.availability.projected([sku])[sku]}


def live(keel: Keel, sku: str) -> dict[tuple[str, str], int]:
    return {(r.channel, r.country): r.quantity for r in keel.availability.explain(sku) if r.quantity}


def test_deactivating_a_source_takes_its_stock_out_of_listings(keel: Keel, world: World) -> None:
    # given web-de listing 5 units that all sit in store ST-DE-1
    receive(keel, "SKU-1", ST_DE, 5)
    keel.availability.catch_up()
    assert listed(keel, "SKU-1")[(WEB_DE, "DE")] == 5
    # when the store is deactivated
    keel.locations.deactivate(ST_DE)
    keel.availability.catch_up()
    # then the listing drops to what the remaining sources hold: nothing
    assert listed(keel, "SKU-1")[(WEB_DE, "DE")] == 0
    assert {k: v for k, v in listed(keel, "SKU-1").items() if v} == live(keel, "SKU-1")


def test_a_failed_step_does_not_apply_its_deltas_twice(
    keel: Keel, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    receive(keel, "SKU-1", WH_DE, 5)
    keel.availability.catch_up()
    keel.stock.apply_batch([mv("a", "received", "SKU-1", WH_DE, 1)])
    keel.stock.apply_batch([mv("b", "received", "SKU-1", WH_DE, 2)])
    # when reading the second batch's movements fails once, after the first batch's deltas were applied
    real, calls = store.movement_deltas, []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise sa.exc.OperationalError("simulated", {}, Exception("connection reset"))
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "movement_deltas", flaky)
    with pytest.raises(sa.exc.OperationalError):
        keel.availability.step()
    monkeypatch.setattr(store, "movement_deltas", real)
    keel.availability.catch_up()
    # then the numbers are the live ones, not 8 + 1
    assert listed(keel, "SKU-1")[(WEB_DE, "DE")] == 8 == live(keel, "SKU-1")[(WEB_DE, "DE")]


def test_only_one_instance_wins_the_first_offset_move(keel: Keel) -> None:
    with keel.db.write() as conn:
        first = keel.events.advance_offset(conn, CONSUMER, 0, 5)
    with keel.db.write() as conn:
        second = keel.events.advance_offset(conn, CONSUMER, 0, 7)
    with keel.db.read() as conn:
        assert (first, second, keel.events.offset(conn, CONSUMER)) == (True, False, 5)


def test_one_unclosable_hold_does_not_block_other_expiries(keel: Keel, world: World) -> None:
    # given two expiring holds, the first of which had its reserved stock moved by hand
    receive(keel, "SKU-1", WH_DE, 10)
    keel.stock.reserve("SKU-1", WH_DE, 4, 1, "cart-1")
    keel.stock.reserve("SKU-1", WH_DE, 1, 1, "cart-2")
    keel.stock.apply_batch([mv("manual", "released", "SKU-1", WH_DE, 2)])  # reserved 3: cart-1's 4 cannot close
    # when the sweeper runs after both expired
    released = keel.stock.expire_due(now=utcnow() + timedelta(seconds=5))
    # then the healthy hold expired and the broken one stays active for a person to look at
    assert released == 1
    statuses = {rid: keel.stock.reservation(rid).status for rid in ("cart-1", "cart-2")}
    assert statuses == {"cart-1": "active", "cart-2": "expired"}
