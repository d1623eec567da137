"""A worker reading the event log from JetStream and one reading it from the database produce the same
projection: two databases live the same history (stock movements, then a channel changing its sources);
one's worker reads its ``events`` table, the other's reads what ``keel relay`` published of its log, and
catches up less often. The availability projector's listings come out identical."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.platform.bus import BusConfig, Relay
from keel.worker import run_once
from tests.conftest import postgres_database
from tests.integration.test_availability import listed
from tests.support import ST_DE, WEB_DE, World, build_world, mv, open_keel

pytestmark = pytest.mark.nats


@pytest.fixture
def second_url(keel: Keel, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Another database of the same kind as ``keel``'s."""
    if keel.db.is_sqlite:
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    admin, template = request.getfixturevalue("postgres_admin_url"), request.getfixturevalue("postgres_template")
    with postgres_database(admin, template) as url:
        yield url


def play(keel: Keel, settle: Callable[[int], None]) -> None:
    """The same history on any Keel; ``settle(round)`` lets its worker catch up (or not)."""
    world = build_world(keel)
    rng = random.Random(11)
    stock: dict[tuple[str, str], int] = {}
    for round_ in range(8):
        for batch in range(10):  # one stock.moved event per batch
            rows: list[dict[str, Any]] = []
            for i in range(6):
                sku, location = f"SKU-{rng.randrange(30)}", rng.choice(World().locations)
                held = stock.get((sku, location), 0)
                if held and rng.random() < 0.4:
                    quantity, kind = rng.randint(1, held), "sold"
                    stock[(sku, location)] = held - quantity
                else:
                    quantity, kind = rng.randint(1, 9), "received"
                    stock[(sku, location)] = held + quantity
                rows.append(mv(f"m{round_}-{batch}-{i}", kind, sku, location, quantity))
            keel.stock.apply_batch(rows)
        if round_ == 4:  # a topology change: every listing of the channel is recomputed
            keel.channels.update(WEB_DE, {"policy": {"sources": {"DE": {"locations": [ST_DE]}}, "safety_buffer": 1}})
        settle(round_)
    assert world.channels


def test_a_worker_on_jetstream_and_one_on_the_database_project_the_same_listings(
    keel: Keel, second_url: str, bus: BusConfig
) -> None:
    play(keel, lambda _: run_once(keel) and None)
    on_bus = open_keel(
        second_url, event_source="nats", nats_url=bus.url, nats_stream=bus.stream, nats_subjects=bus.subjects
    )
    try:

        def settle(round_: int) -> None:
            asyncio.run(Relay(on_bus.db, on_bus.events, bus).run(until_caught_up=True))
            if round_ % 3 == 2:  # catches up less often: bigger batches, and a channel change among them
                run_once(on_bus)

        settle(0)  # the relay creates the stream before anything reads it
        play(on_bus, settle)
        settle(2)
        assert on_bus.source.kind == "nats"
        expected = listed(keel)
        assert len(expected) > 40
        assert listed(on_bus) == expected
        with on_bus.db.read() as conn:
            assert on_bus.events.offset(conn, "availability") == on_bus.events.last_seq(conn, "stock.moved")
    finally:
        on_bus.close()
