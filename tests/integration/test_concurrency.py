"""Concurrency never oversells (DESIGN section 8): threads racing on both databases."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from keel.bootstrap import Keel
from keel.platform.errors import InsufficientStock, ValidationFailed
from tests.support import WH_DE, World, build_world, mv, position, receive


def race(workers: int, task: Callable[[int], str]) -> Counter[str]:
    """Run ``task(i)`` for i in range(workers) on as many threads, released together; count the outcomes."""
    barrier = threading.Barrier(workers)

    def run(i: int) -> str:
        barrier.wait(timeout=60)
        return task(i)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        # .result() re-raises anything unexpected (an IntegrityError, a deadlock) and fails the test
        return Counter(f.result() for f in [pool.submit(run, i) for i in range(workers)])


def test_fifty_reservations_for_ten_units_exactly_ten_succeed(keel: Keel, world: World) -> None:
    # given exactly 10 available
    receive(keel, "SKU-1", WH_DE, 10)

    # when 50 shoppers each try to hold one at the same moment
    def reserve(i: int) -> str:
        try:
            keel.stock.reserve("SKU-1", WH_DE, 1, 600, f"cart-{i}")
        except InsufficientStock:
            return "insufficient"
        return "reserved"

    outcomes = race(50, reserve)
    # then exactly 10 holds exist and nothing was oversold
    assert outcomes == Counter(reserved=10, insufficient=40)
    p = position(keel, "SKU-1", WH_DE)
    assert (p["on_hand"], p["available"], p["reserved"]) == (10, 0, 10)
    assert len(keel.queries.ledger(kind="reserved")) == 10  # type: ignore[arg-type]
    assert keel.stock.rebuild(write=False).differences == []


def test_concurrent_sales_batches_never_drive_available_negative(keel: Keel, world: World) -> None:
    # given 20 of each of two SKUs
    keel.stock.apply_batch([mv("a", "received", "SKU-1", WH_DE, 20), mv("b", "received", "SKU-2", WH_DE, 20)])

    # when 40 batches each sell one of both, half of them naming the SKUs in the opposite order
    def sell(i: int) -> str:
        rows: list[dict[str, Any]] = [
            mv(f"s{i}-1", "sold", "SKU-1", WH_DE, 1),
            mv(f"s{i}-2", "sold", "SKU-2", WH_DE, 1),
        ]
        try:
            keel.stock.apply_batch(rows[:: 1 if i % 2 else -1])
        except ValidationFailed:
            return "refused"
        return "sold"

    outcomes = race(40, sell)
    # then exactly 20 sold, the rest were refused whole, and no position went below zero
    assert outcomes == Counter(sold=20, refused=20)
    for sku in ("SKU-1", "SKU-2"):
        p = position(keel, sku, WH_DE)
        assert (p["on_hand"], p["available"]) == (0, 0)
    assert len(keel.queries.ledger(limit=1000)) == 2 + 40
    assert keel.stock.rebuild(write=False).differences == []


def test_a_batch_retried_concurrently_is_applied_once(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 5)
    batch = [mv("order-7", "sold", "SKU-1", WH_DE, 2)]

    def send(_: int) -> str:
        result = keel.stock.apply_batch(batch)
        return "applied" if result.accepted else "duplicate"

    assert race(10, send) == Counter(applied=1, duplicate=9)
    assert position(keel, "SKU-1", WH_DE)["available"] == 3


def test_a_reservation_retried_concurrently_is_held_once(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 5)

    def reserve(_: int) -> str:
        return str(keel.stock.reserve("SKU-1", WH_DE, 2, 600, "cart-1").status)

    assert race(8, reserve) == Counter(active=8)
    p = position(keel, "SKU-1", WH_DE)
    assert (p["available"], p["reserved"]) == (3, 2)


def test_a_count_retried_concurrently_is_recorded_once(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 5)

    def count(_: int) -> str:
        return str(keel.stock.record_count("SKU-1", WH_DE, 4, "count-1").variance)

    assert race(8, count) == Counter({"-1": 8})
    assert position(keel, "SKU-1", WH_DE)["on_hand"] == 4


def test_batches_reservations_and_counts_on_one_position_do_not_deadlock(keel: Keel, world: World) -> None:
    # given stock on one position that batches, holds and counts all touch
    receive(keel, "SKU-1", WH_DE, 1000)

    # when receipts, reservations (and their release) and counts run at the same moment
    def work(i: int) -> str:
        if i % 3 == 0:
            keel.stock.apply_batch([mv(f"in-{i}", "received", "SKU-1", WH_DE, 2)])
            return "batch"
        if i % 3 == 1:
            keel.stock.reserve("SKU-1", WH_DE, 1, 600, f"hold-{i}")
            keel.stock.release(f"hold-{i}")
            return "hold"
        keel.stock.record_count("SKU-1", WH_DE, 5000, f"count-{i}")
        return "count"

    outcomes = race(30, work)  # a deadlock or lock error re-raises here and fails the test
    # then every operation succeeded and the projection still equals the ledger
    assert outcomes == Counter(batch=10, hold=10, count=10)
    assert position(keel, "SKU-1", WH_DE)["reserved"] == 0
    assert keel.stock.rebuild(write=False).differences == []


def test_multi_chunk_imports_and_expiry_sweeps_do_not_deadlock(keel_factory: Callable[..., Keel]) -> None:
    # given a Keel whose imports are split into chunks of 2, with stock and holds that are about to expire
    keel = keel_factory(max_batch=2)
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 100)
    receive(keel, "SKU-2", WH_DE, 100)
    for i in range(6):
        keel.stock.reserve("SKU-1" if i % 2 else "SKU-2", WH_DE, 1, 0.01, f"short-{i}")

    # when imports touching both SKUs in opposite orders race with expiry sweeps and new holds
    def work(i: int) -> str:
        if i % 3 == 0:
            skus = ["SKU-1", "SKU-2"] if i % 2 else ["SKU-2", "SKU-1"]
            rows = [mv(f"imp-{i}-{n}", "received", sku, WH_DE, 1) for n, sku in enumerate(skus * 2)]
            keel.stock.apply_many(rows)
            return "import"
        if i % 3 == 1:
            keel.stock.expire_due()
            return "sweep"
        keel.stock.reserve("SKU-2" if i % 2 else "SKU-1", WH_DE, 1, 600, f"long-{i}")
        return "hold"

    outcomes = race(24, work)  # a deadlock re-raises here
    # then everything ran and the projection still equals the ledger
    assert outcomes == Counter({"import": 8, "sweep": 8, "hold": 8})
    assert keel.stock.rebuild(write=False).differences == []
