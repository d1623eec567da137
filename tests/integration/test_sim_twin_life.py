"""The twin's captured orders live their lives, it shares the stock with other writers without complaint,
prices each channel in its own currency, and keeps its own history bounded. Through the real services."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from keel.bootstrap import Keel
from keel.inventory import store
from keel.platform.vocabulary import ShipmentStatus
from keel.sim.catalog import generate_catalog
from keel.sim.fx import TWIN_RATES, twin_rate_table
from keel.sim.load import load_world
from keel.sim.stream import HOUR, Stream
from keel.sim.world import Scale, generate
from keel.worker import run_once
from tests.support import open_keel

WORLD = generate(3, Scale(skus=150, locations=90, channels=30))
ANCHOR = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the orders' clock starts on a Monday morning


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Keel, Stream]]:
    """Five simulated days with many captured orders (one online order in ten), the worker caught up daily."""
    keel = open_keel(f"sqlite:///{tmp_path_factory.mktemp('life') / 'keel.db'}")
    load_world(keel, WORLD)
    stream = Stream(keel, WORLD, seed=4, capture_every=10, anchor=ANCHOR)
    for _ in range(5):
        stream.step(24 * HOUR)
        run_once(keel)
    yield keel, stream
    keel.close()


def test_captured_orders_are_picked_packed_shipped_and_delivered_some_late(lived: tuple[Keel, Stream]) -> None:
    keel, stream = lived
    totals = stream.totals
    assert totals["order_captured"] > 100
    for kind in ("order_picking", "order_packed", "order_shipped", "order_delivered"):
        assert totals[kind] > 0, kind
    metrics = keel.orders.reads.metrics()
    assert metrics.delivered > 50
    assert metrics.on_time_rate is not None and 0.7 < metrics.on_time_rate < 1.0  # most on time, some late
    assert metrics.same_day_rate is not None and metrics.same_day_rate > 0  # same-day orders delivered that day
    page = keel.orders.reads.list(limit=1000)
    fulfilments = {o.fulfilment for o in page.items}
    assert {"ship_standard", "ship_express", "same_day"} <= fulfilments
    delivered = [o for o in page.items if o.status == "delivered"]
    order = keel.orders.reads.get(delivered[0].id)
    (shipment,) = order.live_shipments
    assert shipment.status is ShipmentStatus.DELIVERED and shipment.carrier and shipment.tracking_number
    assert shipment.shipped_at is not None and shipment.delivered_at is not None
    # stamped with the twin's clock: 1 simulated hour a second from the anchor, whatever the machine's pace
    assert ANCHOR <= order.created_at < shipment.shipped_at < shipment.delivered_at <= ANCHOR + timedelta(hours=1)
    # and still open ones for the orders pages (captured within the last days of the run)
    assert {"allocated", "picking", "packed", "shipped"} & {o.status for o in page.items}


def test_the_shadow_follows_the_shipments_and_the_ledger_replays(lived: tuple[Keel, Stream]) -> None:
    keel, stream = lived
    items, _ = keel.queries.positions(limit=10_000)
    db = {(p.sku, p.location): (p.available, p.on_hand) for p in items}
    shadow = {key: (stream.available[key], stream.on_hand[key]) for key in db if key in stream.available}
    assert shadow == {key: db[key] for key in shadow}
    assert keel.stock.rebuild(write=False).differences == []


def test_each_channel_sells_in_its_currency_at_local_price_points(lived: tuple[Keel, Stream]) -> None:
    keel, stream = lived
    rates = twin_rate_table()
    base = {p.sku: p.price for p in generate_catalog(WORLD.skus, WORLD.seed)}
    currency = {c["code"]: c["currency"] for c in WORLD.channels}
    kind = {c["code"]: c["kind"] for c in WORLD.channels}
    seen: set[str] = set()
    for summary in keel.orders.reads.list(limit=1000).items:
        line = keel.orders.reads.get(summary.id).lines[0]
        cur = currency[summary.channel]
        seen.add(cur)
        price = Decimal(line.unit_price)
        fair = rates.convert(base[line.sku], "EUR", cur, stream.start.date())
        if kind[summary.channel] == "web_store":
            # a web checkout charges the cart's price: the published price (margin floor, parity, ending)
            # less its promotions, never above about the local shelf price
            assert 0 < price <= fair * Decimal("1.1") + 10, line
            continue
        assert abs(price - fair) <= max(Decimal("0.02") * fair, Decimal(10) if cur == "JPY" else Decimal(5)), line
        if cur == "JPY":
            assert price == price.to_integral_value() and price % 10 == 0  # whole yen, in tens
        elif cur in ("SEK", "NOK", "DKK", "CZK"):
            assert price % 10 == 9
        elif cur != "EUR":
            assert str(price).endswith(".90" if cur == "CHF" else ".99")
    assert len(seen) >= 3
    # the twin's rate table is in the database, for the tower's conversions
    _, total = keel.fx.rates()
    assert total == sum(len(days) for days, _ in rates.series.values()) == 11 * (TWIN_RATES.count("\n") - 1)


def test_stock_moved_by_others_is_normal_traffic(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    keel = open_keel(f"sqlite:///{tmp_path / 'shared.db'}")
    load_world(keel, WORLD)
    stream = Stream(keel, WORLD, seed=5, capture_every=50)
    stream.step(12 * HOUR)
    # when someone else empties the twin's busiest shelves (the twin's shadow does not know)
    items, _ = keel.queries.positions(limit=10_000)
    busiest = sorted((p for p in items if p.available > 0), key=lambda p: p.sku)[:60]
    rows = [
        {"id": f"other-{i}", "kind": "sold", "sku": p.sku, "location": p.location, "quantity": p.available}
        for i, p in enumerate(busiest)
    ]
    keel.stock.apply_batch(rows, source="pos")
    # then the stream carries on without a warning: refused rows dropped and counted, the shadow read back
    with caplog.at_level(logging.DEBUG, logger="keel.sim"):
        first = stream.step(24 * HOUR)
        second = stream.step(24 * HOUR)
    assert first["refused"] > 0 and Stream.events(first) > 300
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any("refused" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    # and it adapted: where it wrote again, its shadow is the database's, so the refusals die out
    assert second["refused"] < first["refused"] / 2
    assert keel.stock.rebuild(write=False).differences == []
    keel.close()


# -- bounded disk use -------------------------------------------------------------------------------------
def used_bytes(path: Path) -> int:
    """Bytes of the SQLite file in use (pages minus the free list), after a checkpoint of its WAL."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, free, size = (
            conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size")
        )
    return int((pages - free) * size)


def grow(path: Path, keep_hours: float | None, days: int) -> tuple[list[int], Keel, Stream]:
    keel = open_keel(f"sqlite:///{path}")
    load_world(keel, WORLD)
    stream = Stream(keel, WORLD, seed=4, capture_every=100, keep_hours=keep_hours, retain_every=6)
    sizes = []
    for _ in range(days):
        stream.step(24 * HOUR)
        run_once(keel)  # the worker: projector and backorder filler consume, so retention may go on
        sizes.append(used_bytes(path))
    return sizes, keel, stream


def test_retention_keeps_growth_per_simulated_day_bounded(tmp_path: Path) -> None:
    # given the same week simulated twice, once keeping everything and once a day of the twin's own history
    days = 6
    full, keel_all, _ = grow(tmp_path / "all.db", None, days)
    kept, keel, stream = grow(tmp_path / "kept.db", 24, days)
    keel_all.close()
    # then after the first days the database stops growing with the simulated time (orders, counts and
    # audit entries still add a little), while the unbounded one grows every day by hundreds of KB
    per_day_all = (full[-1] - full[2]) / (days - 3)
    per_day_kept = (kept[-1] - kept[2]) / (days - 3)
    assert per_day_all > 200_000
    assert per_day_kept < 0.2 * per_day_all
    assert stream.totals["movements_folded"] > 3_000 and stream.totals["events_pruned"] > 100
    # and nothing the invariants need is gone: positions replay exactly from the checkpoint
    report = keel.stock.rebuild(write=False)
    assert report.differences == [] and report.checkpoint_seq > 0
    with keel.db.read() as conn:
        m = store.movements
        twins = conn.execute(sa.select(sa.func.min(m.c.seq)).where(m.c.id.like(f"{stream.prefix}-%"))).scalar_one()
        assert twins > report.checkpoint_seq  # the twin's folded rows are gone, newer ones kept
        kept_history = conn.execute(sa.select(sa.func.count()).where(m.c.id.like("open:%"))).scalar_one()
        assert kept_history == len(WORLD.opening_stock)  # others' movements stay
        audit = conn.execute(sa.text("SELECT COUNT(*) FROM audit_log")).scalar_one()
    assert audit >= stream.totals["order_captured"]  # audit entries are never pruned
    keel.close()
