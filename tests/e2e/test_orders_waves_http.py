"""Waves and backorder fills over HTTP and from the CLI."""

from __future__ import annotations

from starlette.testclient import TestClient

from keel.bootstrap import Keel
from tests.e2e.conftest import Run
from tests.integration.test_orders import order
from tests.support import POS_FR, ST_DE, ST_FR, WH_DE, World, build_world, open_keel, place, receive, snapshot

PROBLEM = "application/problem+json"


def _sequenced(keel: Keel) -> None:
    """Two orders whose one-at-a-time plans a joint plan beats (see test_orders_waves.py)."""
    receive(keel, "SKU-1", WH_DE, 1)
    receive(keel, "SKU-2", WH_DE, 5)
    receive(keel, "SKU-1", ST_DE, 5)
    place(keel, order("W-A", ("SKU-1", 1)))
    place(keel, order("W-B", ("SKU-1", 1), ("SKU-2", 1)))


def test_wave_over_http(client: TestClient, keel: Keel, world: World) -> None:
    _sequenced(keel)
    dry = client.post("/orders/waves", json={"country": "DE"})
    assert dry.status_code == 200, dry.text
    assert (dry.json()["applied"], dry.json()["orders_changed"]) == (False, 2)
    applied = client.post("/orders/waves", json={"apply": True}).json()
    assert applied["applied"] and applied["saving"] == dry.json()["saving"]
    bad = client.post("/orders/waves", json={"limit": 0})
    assert (bad.status_code, bad.headers["content-type"]) == (422, PROBLEM)
    assert client.post("/orders/waves", json={"channel": "nope"}).status_code == 404


def test_backorder_fill_over_http(client: TestClient, keel: Keel, world: World) -> None:
    receive(keel, "SKU-3", ST_FR, 2)
    placed, _ = place(
        keel, order("BO-1", ("SKU-3", 5), channel=POS_FR, fulfilment="pickup", ship_to=None, pickup_location=ST_FR)
    )
    receive(keel, "SKU-3", ST_FR, 3, mid="more")
    before = snapshot(keel)
    assert client.post("/orders/backorders/fill", params={"limit": 0}).status_code == 422
    assert snapshot(keel) == before
    filled = client.post("/orders/backorders/fill").json()
    assert filled["filled"] == [{"order_id": placed.id, "units": 3, "nodes": [ST_FR]}]
    assert client.get(f"/orders/{placed.id}").json()["status"] == "allocated"


def test_wave_and_fill_from_the_cli(db_url: str, run: Run) -> None:
    keel = open_keel(db_url)
    build_world(keel)
    _sequenced(keel)
    keel.close()
    dry = run("orders", "wave")
    assert dry.exit_code == 0, dry.output
    assert "would move 2" in dry.output and "add --apply" in dry.output
    done = run("orders", "wave", "--apply")
    assert "moved 2" in done.output and "splits 1 -> 0" in done.output
    assert "moved 0" in run("orders", "wave", "--apply").output
    bad = run("orders", "wave", "--limit", "0")
    assert bad.exit_code == 2 and "limit" in bad.output
    fill = run("orders", "fill-backorders")
    assert fill.exit_code == 0 and "0 orders waiting" in fill.output
