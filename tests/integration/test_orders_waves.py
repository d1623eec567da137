"""Waves on both databases: allocated orders re-planned jointly, applied atomically through the ledger."""

from __future__ import annotations

from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.orders import AdvanceShipment, PlanWave
from keel.orders.service.waves import WaveOrders, WaveStale
from keel.platform.errors import Conflict, NotFound, ValidationFailed
from keel.platform.vocabulary import ShipmentStatus
from tests.integration.test_orders import order
from tests.support import ST_DE, WH_DE, World, mv, place, position, receive, snapshot


@pytest.fixture
def sequenced(keel: Keel, world: World) -> tuple[Keel, int, int]:
    """Two Berlin orders captured one at a time: A takes the warehouse's last SKU-1, so B, which also
    needs SKU-2 (held only by the warehouse), must split between the warehouse and the Munich store."""
    receive(keel, "SKU-1", WH_DE, 1)
    receive(keel, "SKU-2", WH_DE, 5)
    receive(keel, "SKU-1", ST_DE, 5)
    a, _ = place(keel, order("W-A", ("SKU-1", 1)))
    b, _ = place(keel, order("W-B", ("SKU-1", 1), ("SKU-2", 1)))
    assert [s.location for s in a.shipments] == [WH_DE]
    assert sorted(s.location for s in b.shipments) == [ST_DE, WH_DE]
    return keel, a.id, b.id


def test_dry_run_reports_the_joint_plan_and_changes_nothing(sequenced: tuple[Keel, int, int]) -> None:
    keel, a, b = sequenced
    before = snapshot(keel)
    report = keel.orders.waves.plan(PlanWave())
    assert snapshot(keel) == before
    assert not report.applied
    assert (report.orders_considered, report.orders_changed) == (2, 2)
    assert (report.splits_before, report.splits_after) == (1, 0)
    # priced by the same cost model as at capture: the capture plans' costs add up to "before"
    captured = sum(keel.orders.reads.get(o).routing[0]["cost"]["total"] for o in (a, b))
    assert report.cost_before == pytest.approx(captured, abs=0.01)
    assert report.saving > 0 and report.cost_after == pytest.approx(report.cost_before - report.saving)
    moves = {c.order_id: (c.before["nodes"], c.after["nodes"]) for c in report.changes}
    assert moves == {a: ([WH_DE], [ST_DE]), b: (sorted([ST_DE, WH_DE]), [WH_DE])}


def test_apply_moves_the_orders_through_the_ledger(sequenced: tuple[Keel, int, int]) -> None:
    keel, a, b = sequenced
    report = keel.orders.waves.plan(PlanWave(apply=True))
    assert report.applied and report.orders_changed == 2
    moved_a, moved_b = keel.orders.reads.get(a), keel.orders.reads.get(b)
    assert [(s.number, s.location, s.status) for s in moved_a.shipments] == [
        (1, WH_DE, "replanned"),
        (2, ST_DE, "allocated"),
    ]
    assert [s.status for s in moved_b.shipments] == ["replanned", "replanned", "allocated"]
    assert moved_b.shipments[2].location == WH_DE
    assert moved_a.shipments[0].lines[0].moved == 1
    assert moved_a.status == moved_b.status == ShipmentStatus.ALLOCATED.value
    assert moved_b.routing[-1]["trigger"] == "wave"
    replanned = sum(keel.orders.reads.get(o).routing[-1]["cost"]["total"] for o in (a, b))
    assert replanned == pytest.approx(report.cost_after, abs=0.01)
    assert moved_b.timeline[-1].kind == "replanned"
    assert position(keel, "SKU-1", WH_DE)["committed"] == 1  # now B's
    assert position(keel, "SKU-1", ST_DE)["committed"] == 1  # now A's
    assert position(keel, "SKU-2", WH_DE)["committed"] == 1
    assert keel.stock.rebuild(write=False).differences == []
    # the joint plan is now in place: a second wave finds nothing to improve
    assert keel.orders.waves.plan(PlanWave(apply=True)).orders_changed == 0
    # the moved order carries on as usual
    done = keel.orders.fulfilment.advance(AdvanceShipment(b, 3, ShipmentStatus.PICKING))
    assert done.status == ShipmentStatus.PICKING.value


def test_orders_being_picked_stay_out_of_the_wave(sequenced: tuple[Keel, int, int]) -> None:
    keel, a, b = sequenced
    keel.orders.fulfilment.advance(AdvanceShipment(b, 1, ShipmentStatus.PICKING))
    report = keel.orders.waves.plan(PlanWave(apply=True))
    # only A is free to move, and alone it is already where it is cheapest
    assert (report.orders_considered, report.orders_changed) == (1, 0)
    assert [s.status for s in keel.orders.reads.get(a).shipments] == ["allocated"]


def test_filters_narrow_the_wave(sequenced: tuple[Keel, int, int]) -> None:
    keel, _, _ = sequenced
    assert keel.orders.waves.plan(PlanWave(country="FR")).orders_considered == 0
    assert keel.orders.waves.plan(PlanWave(limit=1)).orders_considered == 1
    assert keel.orders.waves.plan(PlanWave(channel="web-de")).orders_considered == 2


def _after_solving(monkeypatch: pytest.MonkeyPatch, meanwhile: Any) -> None:
    """Run ``meanwhile`` between the wave's planning and its writing."""
    solve = WaveOrders._solve

    def solve_then(*args: Any, **kwargs: Any) -> Any:
        found = solve(*args, **kwargs)
        meanwhile()
        return found

    monkeypatch.setattr(WaveOrders, "_solve", staticmethod(solve_then))


def test_an_order_picked_while_planning_drops_out_and_the_wave_plans_again(
    sequenced: tuple[Keel, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    keel, a, b = sequenced
    seen: list[Any] = []

    def pick_b_once() -> None:
        if not seen:
            keel.orders.fulfilment.advance(AdvanceShipment(b, 2, ShipmentStatus.PICKING))
            seen.append(snapshot(keel))

    _after_solving(monkeypatch, pick_b_once)
    report = keel.orders.waves.plan(PlanWave(apply=True))
    # the first plan is refused as a whole; the second sees only A, which is already at its cheapest
    assert (report.attempts, report.orders_considered, report.orders_changed) == (2, 1, 0)
    assert snapshot(keel) == seen[0]  # nothing after the pick was written
    assert [s.location for s in keel.orders.reads.get(a).shipments] == [WH_DE]


def test_a_second_clash_is_a_conflict_and_changes_nothing(
    sequenced: tuple[Keel, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    keel, _, _ = sequenced
    receive(keel, "SKU-9", WH_DE, 100)
    before: list[Any] = []

    def stock_moves() -> None:
        # something lands on every solve; the wave's check of its orders clashes both times
        keel.stock.apply_batch([mv(f"rcv-{len(before)}", "received", "SKU-9", WH_DE, 1)], "wms")
        before.append(snapshot(keel))

    def always_clash(*_: Any) -> None:
        raise WaveStale("order 1 changed while the wave was planned; nothing was changed, plan again")

    _after_solving(monkeypatch, stock_moves)
    monkeypatch.setattr(WaveOrders, "_check", always_clash)
    with pytest.raises(Conflict, match="changed while the wave was planned"):
        keel.orders.waves.plan(PlanWave(apply=True))
    assert len(before) == 2  # planned twice
    assert snapshot(keel) == before[-1]


def test_stock_sold_while_planning_never_goes_negative(
    sequenced: tuple[Keel, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    keel, a, _ = sequenced
    # a walk-in buys every free SKU-1 in the store; the wave only swaps units the two orders hold
    _after_solving(monkeypatch, lambda: keel.stock.apply_batch([mv("walk-in", "sold", "SKU-1", ST_DE, 4)], "pos"))
    assert keel.orders.waves.plan(PlanWave(apply=True)).applied
    store = position(keel, "SKU-1", ST_DE)
    assert (store["on_hand"], store["available"], store["committed"]) == (1, 0, 1)
    assert [s.location for s in keel.orders.reads.get(a).shipments][-1] == ST_DE
    assert keel.stock.rebuild(write=False).differences == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"country": "XX"}, "country"),
        ({"time_limit_s": 0}, "time_limit_s"),
    ],
)
def test_bad_wave_arguments_are_refused(sequenced: tuple[Keel, int, int], kwargs: dict[str, Any], field: str) -> None:
    keel, _, _ = sequenced
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as caught:
        keel.orders.waves.plan(PlanWave(apply=True, **kwargs))
    assert field in [e.field for e in caught.value.errors]
    assert snapshot(keel) == before


def test_unknown_channel_is_not_found(sequenced: tuple[Keel, int, int]) -> None:
    keel, _, _ = sequenced
    with pytest.raises(NotFound):
        keel.orders.waves.plan(PlanWave(channel="nope"))


def test_a_line_held_at_two_nodes_moves_whole(keel: Keel, world: World) -> None:
    # B's line 1 (2 x SKU-1) is split: one unit in the warehouse, one in the store
    receive(keel, "SKU-1", WH_DE, 2)
    receive(keel, "SKU-2", WH_DE, 5)
    receive(keel, "SKU-1", ST_DE, 3)
    place(keel, order("W-A", ("SKU-1", 1)))
    b, _ = place(keel, order("W-B", ("SKU-1", 2), ("SKU-2", 1)))
    assert sorted(s.location for s in b.shipments) == [ST_DE, WH_DE]
    assert keel.orders.waves.plan(PlanWave(apply=True)).orders_changed == 2
    moved = keel.orders.reads.get(b.id)
    assert [(ln.quantity, ln.committed, ln.backordered, ln.cancelled) for ln in moved.lines] == [
        (2, 2, 0, 0),
        (1, 1, 0, 0),
    ]
    assert [s.location for s in moved.shipments if s.status == "allocated"] == [WH_DE]
    assert position(keel, "SKU-1", WH_DE)["committed"] == 2
    assert position(keel, "SKU-1", ST_DE)["committed"] == 1
    assert keel.stock.rebuild(write=False).differences == []


def test_an_order_at_a_node_closed_for_today_keeps_its_plan(sequenced: tuple[Keel, int, int]) -> None:
    keel, a, b = sequenced
    keel.locations.update(WH_DE, {"daily_capacity": 0})  # the warehouse picks nothing more today
    report = keel.orders.waves.plan(PlanWave(apply=True))
    # B needs SKU-2, which only the warehouse holds: it keeps its plan there; A may still move
    assert b in report.kept and a not in report.kept
    assert [s.status for s in keel.orders.reads.get(b).shipments] == ["allocated", "allocated"]
    assert keel.stock.rebuild(write=False).differences == []
