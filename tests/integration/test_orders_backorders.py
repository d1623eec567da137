"""Backorders on both databases: units accepted without stock are allocated when stock arrives."""

from __future__ import annotations

from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.channels import CreateChannel
from keel.orders import CancelOrder
from keel.platform.errors import ValidationFailed
from keel.worker import run_once
from tests.integration.test_orders import order
from tests.support import POS_FR, ST_FR, WH_DE, WH_FR, World, place, position, receive, snapshot


def pickup(external_id: str, qty: int) -> dict[str, Any]:
    """A store-POS order collected at ST-FR-1; pos-fr allows backorders."""
    return order(external_id, ("SKU-3", qty), channel=POS_FR, fulfilment="pickup", ship_to=None, pickup_location=ST_FR)


@pytest.fixture
def waiting(keel: Keel, world: World) -> tuple[Keel, int]:
    receive(keel, "SKU-3", ST_FR, 2, mid="rcv-1")
    placed, _ = place(keel, pickup("BO-1", 5))
    assert placed.lines[0].backordered == 3
    return keel, placed.id


def test_arriving_stock_fills_the_backorder(waiting: tuple[Keel, int]) -> None:
    keel, oid = waiting
    receive(keel, "SKU-3", ST_FR, 4, mid="rcv-2")
    report = keel.orders.backorders.fill()
    assert (report.orders_waiting, report.orders_filled, report.units_allocated) == (1, 1, 3)
    filled = keel.orders.reads.get(oid)
    assert filled.status == "allocated"
    assert filled.lines[0].backordered == 0
    assert [(s.location, s.lines[0].quantity) for s in filled.shipments] == [(ST_FR, 2), (ST_FR, 3)]
    assert filled.routing[-1]["trigger"] == "backorder"
    assert filled.timeline[-1].kind == "backorder_allocated"
    p = position(keel, "SKU-3", ST_FR)
    assert (p["on_hand"], p["committed"], p["available"]) == (6, 5, 1)
    # nothing left to do: a second pass changes nothing
    before = snapshot(keel)
    assert keel.orders.backorders.fill().orders_waiting == 0
    assert snapshot(keel) == before
    assert keel.stock.rebuild(write=False).differences == []


def test_partial_arrival_fills_part_and_keeps_waiting(waiting: tuple[Keel, int]) -> None:
    keel, oid = waiting
    receive(keel, "SKU-3", ST_FR, 1, mid="rcv-2")
    assert keel.orders.backorders.fill().units_allocated == 1
    got = keel.orders.reads.get(oid)
    assert got.status == "partially_backordered"
    assert got.lines[0].backordered == 2
    assert position(keel, "SKU-3", ST_FR)["available"] == 0


def test_oldest_order_is_served_first(waiting: tuple[Keel, int]) -> None:
    keel, first = waiting
    second, _ = place(keel, pickup("BO-2", 2))
    assert second.lines[0].backordered == 2
    receive(keel, "SKU-3", ST_FR, 3, mid="rcv-2")
    report = keel.orders.backorders.fill()
    assert [f.order_id for f in report.filled] == [first]
    assert keel.orders.reads.get(first).lines[0].backordered == 0
    assert keel.orders.reads.get(second.id).lines[0].backordered == 2


def test_cancelled_backorders_are_not_filled(waiting: tuple[Keel, int]) -> None:
    keel, oid = waiting
    keel.orders.fulfilment.cancel(CancelOrder(oid, [(1, 3)], "customer gave up waiting"))
    receive(keel, "SKU-3", ST_FR, 4, mid="rcv-2")
    assert keel.orders.backorders.fill().orders_waiting == 0
    assert position(keel, "SKU-3", ST_FR)["committed"] == 2


def test_the_worker_fills_backorders(waiting: tuple[Keel, int]) -> None:
    keel, oid = waiting
    receive(keel, "SKU-3", ST_FR, 3, mid="rcv-2")
    run_once(keel)
    assert keel.orders.reads.get(oid).lines[0].backordered == 0


@pytest.mark.parametrize("limit", [0, 1001])
def test_bad_limit_is_refused(waiting: tuple[Keel, int], limit: int) -> None:
    keel, _ = waiting
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as caught:
        keel.orders.backorders.fill(limit=limit)
    assert [e.field for e in caught.value.errors] == ["limit"]
    assert snapshot(keel) == before


def test_an_order_whose_stock_has_not_come_does_not_hold_back_newer_ones(waiting: tuple[Keel, int]) -> None:
    keel, first = waiting  # waits for SKU-3, which does not arrive
    receive(keel, "SKU-4", ST_FR, 2, mid="rcv-4")
    newer, _ = place(
        keel, order("BO-2", ("SKU-4", 4), channel=POS_FR, fulfilment="pickup", ship_to=None, pickup_location=ST_FR)
    )
    receive(keel, "SKU-4", ST_FR, 2, mid="rcv-4b")
    report = keel.orders.backorders.fill(limit=1)
    assert (report.orders_waiting, report.orders_with_stock) == (2, 1)
    assert [f.order_id for f in report.filled] == [newer.id]
    assert keel.orders.reads.get(first).lines[0].backordered == 3


def test_stock_at_a_node_the_channel_does_not_use_fills_nothing(waiting: tuple[Keel, int]) -> None:
    keel, _ = waiting
    receive(keel, "SKU-3", WH_FR, 10, mid="rcv-wh")  # pos-fr sells only from ST-FR-1
    before = snapshot(keel)
    report = keel.orders.backorders.fill()
    assert (report.orders_waiting, report.orders_with_stock, report.orders_filled) == (1, 0, 0)
    assert snapshot(keel) == before


def test_an_order_whose_stock_is_held_back_does_not_take_the_only_slot(keel: Keel, world: World) -> None:
    keel.channels.create(
        CreateChannel(code="web-fr", name="Web FR", kind="web_store", countries=("FR",), currency="EUR",
                      policy={"sources": {"FR": {"locations": [WH_FR, ST_FR]}}, "backorder": True})
    )  # fmt: skip
    paris = {"country": "FR", "city": "Paris", "postal_code": "75001"}
    for sku in ("SKU-5", "SKU-6"):  # known SKUs, but nowhere web-fr sells from
        receive(keel, sku, WH_DE, 1, mid=f"de-{sku}")
    older, _ = place(keel, order("H-1", ("SKU-5", 1), channel="web-fr", ship_to=paris))
    newer, _ = place(keel, order("H-2", ("SKU-6", 1), channel="web-fr", ship_to=paris))
    receive(keel, "SKU-5", ST_FR, 2, mid="shelf")  # on the shelf, but a store keeps its last 2 units
    receive(keel, "SKU-6", WH_FR, 3, mid="dc")
    report = keel.orders.backorders.fill(limit=1)
    assert (report.orders_with_stock, report.orders_tried) == (2, 2)
    assert [f.order_id for f in report.filled] == [newer.id]
    assert keel.orders.reads.get(older.id).lines[0].backordered == 1
