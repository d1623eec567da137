"""``--json`` on every command that reads: one JSON document on stdout and nothing else there; and what the
commands say for something that does not exist (one line on stderr, exit status 3)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from keel.access import COMMANDS
from keel.bootstrap import Keel
from keel.cli import app
from keel.cli_support import every_command
from tests.e2e.conftest import Run
from tests.support import MARKET, ST_DE, WEB_DE, WH_DE, WH_FR, build_world, mv, open_keel, place, receive, snapshot

ORDER: dict[str, Any] = {
    "channel": WEB_DE,
    "external_id": "W-1",
    "lines": [{"sku": "SKU-1", "quantity": 2, "unit_price": "12.50"}],
    "customer": {"name": "Ann", "email": "ann@example.com"},
    "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10115", "latitude": 52.5, "longitude": 13.4},
}


@pytest.fixture
def keel(db_url: str) -> Iterator[Keel]:
    """The small world, 30 x SKU-1 in Berlin, 5 x SKU-2 in Munich, one count and one order on web-de."""
    keel = open_keel(db_url)
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 30)
    receive(keel, "SKU-2", ST_DE, 5)
    keel.stock.record_count("SKU-2", ST_DE, 4)
    keel.availability.catch_up()
    place(keel, ORDER)
    keel.availability.catch_up()
    yield keel
    keel.close()


def document(result: Result) -> Any:
    """The one JSON document a --json command printed (and it exited with 0)."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # fails on anything else on stdout: a table, a second document, a note


def not_found(result: Result) -> str:
    """The one line a command that named something unknown printed on stderr (exit 3, nothing on stdout)."""
    assert (result.exit_code, result.stdout) == (3, ""), result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_every_read_command_has_json() -> None:
    reads = {words for words, permission in COMMANDS.items() if permission.endswith(".read")}
    reads |= {"users list", "tokens list"}  # the access admin's reads
    with_json = {
        words for words, info in every_command(app) if "json_out" in inspect.signature(info.callback).parameters
    }
    assert reads - with_json == set()


def test_positions_json_is_a_page(run: Run, keel: Keel) -> None:
    listed = document(run("inventory", "positions", "--json", "--limit", "1"))
    assert (listed["total"], listed["limit"], listed["offset"], len(listed["items"])) == (2, 1, 0, 1)
    first = listed["items"][0]
    assert (first["sku"], first["location"], first["country"]) == ("SKU-1", WH_DE, "DE")
    assert (first["on_hand"], first["available"], first["committed"]) == (30, 28, 2)
    assert first["updated_at"].endswith("Z")  # a UTC instant as ISO 8601 text, as the HTTP API writes it
    second = document(run("inventory", "positions", "--json", "--offset", "1"))
    assert [(p["sku"], p["location"], p["on_hand"]) for p in second["items"]] == [("SKU-2", ST_DE, 4)]
    one = document(run("inventory", "positions", "--json", "--sku", "SKU-2", "--location", ST_DE))
    assert (one["total"], one["items"][0]["available"]) == (1, 4)


def test_atp_json_lists_every_listing_with_its_breakdown(run: Run, keel: Keel) -> None:
    found = document(run("inventory", "atp", "SKU-1", "--json"))
    assert found["sku"] == "SKU-1"
    listings = {(r["channel"], r["country"]): r for r in found["availability"]}
    assert set(listings) == {(WEB_DE, "DE"), (MARKET, "DE"), (MARKET, "FR"), ("pos-fr", "FR")}
    web = listings[(WEB_DE, "DE")]
    assert (web["quantity"], web["projected"], web["backorder"]) == (28, 28, False)
    assert {c["location"]: c["available"] for c in web["contributions"]}[WH_DE] == 28
    assert listings[(MARKET, "DE")]["steps"][0]["rule"] == "pooled from source locations"
    narrowed = document(run("inventory", "atp", "SKU-1", "--json", "--channel", MARKET, "--country", "FR"))
    assert [(r["channel"], r["country"], r["quantity"]) for r in narrowed["availability"]] == [(MARKET, "FR", 0)]


def test_accuracy_and_rebuild_json(run: Run, keel: Keel) -> None:
    report = document(run("inventory", "accuracy", "--json"))
    assert report["overall"] == {"counted": 1, "within_tolerance": 0, "accuracy": 0.0}
    assert report["locations"] == [{"location": ST_DE, "counted": 1, "within_tolerance": 0, "accuracy": 0.0}]
    assert report["tolerance_pct"] == 2.0
    checked = document(run("inventory", "rebuild", "--check", "--json"))
    assert (checked["positions"], checked["differences"], checked["applied"]) == (2, [], False)


def test_locations_json(run: Run, keel: Keel) -> None:
    listed = document(run("locations", "list", "--json", "--country", "fr"))
    assert listed["total"] == 2
    assert [loc["code"] for loc in listed["items"]] == ["ST-FR-1", WH_FR]
    shown = document(run("locations", "show", WH_DE, "--json"))
    assert (shown["code"], shown["kind"], shown["city"], shown["capabilities"]) == (
        WH_DE,
        "warehouse",
        "Berlin",
        ["ship"],
    )
    assert (shown["latitude"], shown["active"]) == (52.52, True)
    groups = document(run("locations", "groups", "--json"))
    assert groups == [{"code": "fulfilment-eu", "name": "Fulfilment EU", "members": [WH_DE, WH_FR]}]


def test_channels_json(run: Run, keel: Keel) -> None:
    listed = document(run("channels", "list", "--json"))
    assert (listed["total"], [c["code"] for c in listed["items"]]) == (3, [MARKET, "pos-fr", WEB_DE])
    shown = document(run("channels", "show", MARKET, "--json"))
    assert (shown["countries"], shown["currency"]) == (["DE", "FR"], "EUR")
    # the policy as the document the API takes and answers, not the parsed rules
    assert shown["policy"]["sources"] == {
        "DE": {"locations": [], "groups": ["fulfilment-eu"]},
        "FR": {"locations": [WH_FR], "groups": []},
    }
    assert shown["policy"]["allocation_pct"] == 50


def test_orders_json(run: Run, keel: Keel) -> None:
    listed = document(run("orders", "list", "--json"))
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 50, 0)
    [order] = listed["items"]
    assert (order["id"], order["channel"], order["status"], order["units"], order["nodes"]) == (
        1, WEB_DE, "allocated", 2, [WH_DE]
    )  # fmt: skip
    assert listed["metrics"]["routed"] == 1 and listed["metrics"]["split_rate"] == 0.0
    assert document(run("orders", "list", "--json", "--channel", MARKET))["total"] == 0
    shown = document(run("orders", "show", "1", "--json"))
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in shown["lines"]] == [("SKU-1", 2, "12.50")]
    assert [(s["number"], s["location"], s["status"]) for s in shown["shipments"]] == [(1, WH_DE, "allocated")]
    assert [t["kind"] for t in shown["timeline"]] == ["captured", "routed"]
    policy = document(run("orders", "policy", "show", WEB_DE, "--json"))
    assert (policy["channel"], policy["source"], policy["document"]) == (WEB_DE, "built-in", None)
    assert policy["effective"]["filters"]


def test_geo_postcode_json(run: Run, keel: Keel, tmp_path: Path) -> None:
    csv = tmp_path / "codes.csv"
    csv.write_text("country,postal_code,place,latitude,longitude\nDE,10115,Berlin Mitte,52.5323,13.3846\n")
    assert run("geo", "import-postcodes", str(csv)).exit_code == 0
    found = document(run("geo", "postcode", "DE", "10115", "--json"))
    assert found == {
        "country": "DE", "postal_code": "10115", "display": "10115", "place": "Berlin Mitte",
        "latitude": 52.5323, "longitude": 13.3846, "source_rows": 1, "exact": True,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("inventory", "atp", "NOPE-1"), "unknown SKU 'NOPE-1': no location holds it or has held it"),
        (("inventory", "atp", "NOPE-1", "--json"), "unknown SKU 'NOPE-1': no location holds it or has held it"),
        (("inventory", "positions", "--sku", "NOPE-1"), "unknown SKU 'NOPE-1': no location holds it or has held it"),
        (("inventory", "positions", "--location", "NOPE"), "location 'NOPE' does not exist"),
        (("locations", "show", "NOPE", "--json"), "location 'NOPE' does not exist"),
        (("locations", "update", "NOPE", "--name", "x"), "location 'NOPE' does not exist"),
        (("channels", "show", "nope"), "channel 'nope' does not exist"),
        (("channels", "deactivate", "nope"), "channel 'nope' does not exist"),
        (("orders", "list", "--channel", "nope", "--json"), "channel 'nope' does not exist"),
        (("orders", "show", "99", "--json"), "order 99 does not exist"),
        (("orders", "cancel", "99"), "order 99 does not exist"),
        (("orders", "policy", "show", "nope"), "channel 'nope' does not exist"),
        (("geo", "postcode", "DE", "99999", "--json"), "no centroid is known for postal code '99999' in 'DE'"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, tuple) else None,
)
def test_something_unknown_is_one_line_and_exit_3(run: Run, keel: Keel, args: tuple[str, ...], message: str) -> None:
    before = snapshot(keel)
    assert not_found(run(*args)).startswith(message)
    assert snapshot(keel) == before


def test_a_sku_whose_stock_all_left_is_still_known(run: Run, keel: Keel) -> None:
    keel.stock.apply_batch([mv("in", "received", "SKU-9", WH_FR, 1), mv("out", "sold", "SKU-9", WH_FR, 1)])
    found = document(run("inventory", "atp", "SKU-9", "--json"))
    assert {r["quantity"] for r in found["availability"]} == {0}


def test_a_wrong_order_status_is_a_user_mistake(run: Run, keel: Keel) -> None:
    result = run("orders", "list", "--status", "lost", "--json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("unknown order status 'lost'; one of allocated, picking, packed")
