"""``keel orders ...`` (typer CliRunner) against a SQLite file: capture, list, show, ship and cancel."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from keel.bootstrap import Keel
from keel.orders import AdvanceShipment
from keel.platform.vocabulary import ShipmentStatus
from tests.support import ST_DE, WEB_DE, WH_DE, build_world, open_keel, position, receive, snapshot

Run = Callable[..., Result]


@pytest.fixture
def keel(db_url: str) -> Iterator[Keel]:
    """The small world with 10 x SKU-1 in the Berlin warehouse and 5 x SKU-2 in the Munich store."""
    keel = open_keel(db_url)
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", ST_DE, 5)
    keel.availability.catch_up()
    yield keel
    keel.close()


def order_file(tmp_path: Path, name: str = "order.json", **extra: Any) -> Path:
    document: dict[str, Any] = {
        "channel": WEB_DE,
        "external_id": "W-1",
        "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "12.50"}],
        "customer": {"name": "Ann", "email": "ann@example.com"},
        "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10115", "latitude": 52.5, "longitude": 13.4},
        **extra,
    }
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def table_rows(stdout: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("│ ").split("│")] for line in stdout.splitlines() if line.startswith("│")]


def test_capture_then_recapture_is_idempotent(run: Run, keel: Keel, tmp_path: Path) -> None:
    path = order_file(tmp_path)
    result = run("orders", "capture", str(path))
    assert (result.exit_code, result.stdout) == (0, "captured order 1 (allocated), routed to WH-DE-1\n")
    assert (position(keel, "SKU-1", WH_DE)["available"], position(keel, "SKU-1", WH_DE)["committed"]) == (8, 2)
    before = snapshot(keel)
    again = run("orders", "capture", str(path))
    assert (again.exit_code, again.stdout) == (0, "already captured: order 1 (allocated), routed to WH-DE-1\n")
    assert snapshot(keel) == before


def test_recapture_with_other_content_is_refused(run: Run, keel: Keel, tmp_path: Path) -> None:
    assert run("orders", "capture", str(order_file(tmp_path))).exit_code == 0
    before = snapshot(keel)
    other = order_file(tmp_path, "other.json", lines=[{"sku": "SKU-1", "quantity": 3, "unit_price": "12.50"}])
    result = run("orders", "capture", str(other))
    assert result.exit_code == 2
    assert "order 'W-1' of channel 'web-de' was already captured with other content" in result.stderr
    assert snapshot(keel) == before


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"lines": [{"sku": "SKU-1", "quantity": 0, "unit_price": "12.50"}]},
         ["invalid order", "line 1  quantity: a whole number from 1 to 100000"]),
        ({"lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "12.505"}]},
         ["line 1  unit_price: a decimal string with at most 2 decimals"]),
        ({"channel": "nope"}, ["channel: unknown channel 'nope'"]),
        ({"lines": [{"sku": "GHOST", "quantity": 1, "unit_price": "1.00"}]},
         ["line 1  sku: unknown SKU 'GHOST': no location holds it"]),
        ({"ship_to": None}, ["ship_to: required for a ship_standard order"]),
        ({"lines": [{"sku": "SKU-1", "quantity": 11, "unit_price": "12.50"}]},
         ["channel 'web-de' may not sell that much in DE: SKU-1 (11 > 10)"]),
    ],
    ids=["zero-quantity", "bad-price", "unknown-channel", "unknown-sku", "no-address", "insufficient-stock"],
)  # fmt: skip
def test_a_bad_capture_file_exits_2_and_writes_nothing(
    run: Run, keel: Keel, tmp_path: Path, extra: dict[str, Any], expected: list[str]
) -> None:
    before = snapshot(keel)
    result = run("orders", "capture", str(order_file(tmp_path, **extra)))
    assert result.exit_code == 2
    for text in expected:
        assert text in result.stderr
    assert snapshot(keel) == before


def test_a_file_that_is_not_json_exits_2(run: Run, keel: Keel, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"channel": ')
    before = snapshot(keel)
    result = run("orders", "capture", str(path))
    assert result.exit_code == 2
    assert f"{path}: not JSON" in result.stderr
    assert snapshot(keel) == before
    array = tmp_path / "array.json"
    array.write_text("[]")
    not_an_object = run("orders", "capture", str(array))
    assert (not_an_object.exit_code, f"{array}: an order is a JSON object" in not_an_object.stderr) == (2, True)
    missing = run("orders", "capture", str(tmp_path / "absent.json"))
    assert missing.exit_code == 2  # typer: the file must exist
    assert snapshot(keel) == before


def test_list_shows_orders_and_rates(run: Run, keel: Keel, tmp_path: Path) -> None:
    assert run("orders", "capture", str(order_file(tmp_path))).exit_code == 0
    split = order_file(
        tmp_path,
        "split.json",
        external_id="W-2",
        lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": "5"}, {"sku": "SKU-2", "quantity": 1, "unit_price": "7"}],
    )
    assert run("orders", "capture", str(split)).stdout == "captured order 2 (allocated), routed to WH-DE-1, ST-DE-1\n"
    result = run("orders", "list")
    assert result.exit_code == 0
    assert "2 orders" in result.stdout
    assert table_rows(result.stdout) == [
        ["2", WEB_DE, "W-2", "allocated", "ship_standard", "2", "WH-DE-1,ST-DE-1"],
        ["1", WEB_DE, "W-1", "allocated", "ship_standard", "2", "WH-DE-1"],
    ]
    assert "split 50.0% · on time - · same day -" in result.stdout
    filtered = run("orders", "list", "--channel", "market-eu")
    assert "0 orders" in filtered.stdout
    assert "split - · on time - · same day -" in filtered.stdout


def test_show_prints_lines_shipments_timeline_and_routing(run: Run, keel: Keel, tmp_path: Path) -> None:
    assert run("orders", "capture", str(order_file(tmp_path))).exit_code == 0
    result = run("orders", "show", "1")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("order 1 web-de/W-1 allocated\n")
    assert "  line 1: 2 x SKU-1 at 12.50 (committed 2, shipped 0, cancelled 0, backordered 0)\n" in out
    assert "  shipment 1 from WH-DE-1: allocated (2 x SKU-1)\n" in out
    assert "captured: captured from web-de as W-1\n" in out
    assert "routed: routed to WH-DE-1\n" in out
    assert "  routing (capture): WH-DE-1 cost " in out
    assert "    #1 WH-DE-1 splits=0 cost=" in out
    missing = run("orders", "show", "99")
    assert (missing.exit_code, missing.stderr) == (3, "order 99 does not exist\n")


def test_ship_needs_a_packed_shipment_or_walk(run: Run, keel: Keel, tmp_path: Path) -> None:
    assert run("orders", "capture", str(order_file(tmp_path))).exit_code == 0
    before = snapshot(keel)
    early = run("orders", "ship", "1", "1", "--carrier", "DHL", "--tracking", "JJD1")
    assert early.exit_code == 2
    assert "shipment is allocated, it cannot become shipped; the next step is picking" in early.stderr
    assert snapshot(keel) == before
    shipped = run("orders", "ship", "1", "1", "--carrier", "DHL", "--tracking", "JJD1", "--walk")
    assert (shipped.exit_code, shipped.stdout) == (0, "order 1 shipment 1 shipped with DHL (JJD1); order is shipped\n")
    p = position(keel, "SKU-1", WH_DE)
    assert (p["on_hand"], p["available"], p["committed"]) == (8, 8, 0)
    order = keel.orders.reads.get(1)
    assert [t.kind for t in order.timeline] == ["captured", "routed", "picking", "packed", "shipped"]
    assert (order.shipments[0].carrier, order.shipments[0].tracking_number) == ("DHL", "JJD1")
    again = run("orders", "ship", "1", "1", "--carrier", "DHL", "--tracking", "JJD1", "--walk")
    assert again.exit_code == 2
    assert "shipment is shipped, it cannot become shipped; the next step is delivered" in again.stderr
    nowhere = run("orders", "ship", "1", "7", "--carrier", "DHL", "--tracking", "X", "--walk")
    assert (nowhere.exit_code, nowhere.stderr) == (3, "order 1 has no shipment 7\n")


def test_ship_without_walk_after_pick_and_pack(run: Run, keel: Keel, tmp_path: Path) -> None:
    assert run("orders", "capture", str(order_file(tmp_path))).exit_code == 0
    keel.orders.fulfilment.advance(AdvanceShipment(1, 1, ShipmentStatus.PICKING))
    keel.orders.fulfilment.advance(AdvanceShipment(1, 1, ShipmentStatus.PACKED))
    result = run("orders", "ship", "1", "1", "--carrier", "UPS", "--tracking", "1Z")
    assert result.exit_code == 0
    assert keel.orders.reads.get(1).status == "shipped"


def test_cancel_part_of_a_line_then_the_rest(run: Run, keel: Keel, tmp_path: Path) -> None:
    assert run("orders", "capture", str(order_file(tmp_path))).exit_code == 0
    part = run("orders", "cancel", "1", "--line", "1", "--quantity", "1", "--reason", "customer changed mind")
    assert (part.exit_code, part.stdout) == (0, "order 1 is allocated\n")
    assert position(keel, "SKU-1", WH_DE)["available"] == 9
    rest = run("orders", "cancel", "1")
    assert (rest.exit_code, rest.stdout) == (0, "order 1 is cancelled\n")
    p = position(keel, "SKU-1", WH_DE)
    assert (p["available"], p["committed"]) == (10, 0)
    order = keel.orders.reads.get(1)
    assert order.lines[0].cancelled == 2
    assert order.shipments[0].status == "cancelled"
    assert "1 units cancelled: customer changed mind" in [t.message for t in order.timeline]
    before = snapshot(keel)
    nothing = run("orders", "cancel", "1")
    assert nothing.exit_code == 2
    assert "order 1 has nothing left to cancel" in nothing.stderr
    assert snapshot(keel) == before


def test_cancel_refuses_bad_arguments(run: Run, keel: Keel, tmp_path: Path) -> None:
    assert run("orders", "capture", str(order_file(tmp_path))).exit_code == 0
    before = snapshot(keel)
    half = run("orders", "cancel", "1", "--line", "1")
    assert (half.exit_code, half.stderr) == (2, "give --line and --quantity together, or neither\n")
    too_many = run("orders", "cancel", "1", "--line", "1", "--quantity", "3")
    assert too_many.exit_code == 2
    assert "line 1: 3 asked, 2 cancellable" in too_many.stderr
    no_line = run("orders", "cancel", "1", "--line", "4", "--quantity", "1")
    assert no_line.exit_code == 2
    assert "line 1  line_no: order 1 has no line 4" in no_line.stderr
    unknown = run("orders", "cancel", "42")
    assert (unknown.exit_code, unknown.stderr) == (3, "order 42 does not exist\n")
    assert snapshot(keel) == before
