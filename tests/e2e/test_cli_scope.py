"""Under ``KEEL_TOKEN`` a command acts as the token's identity: its channel and country restrictions apply
to what it lists and shows and to what it may change, as over HTTP (docs/access.md, "Restrictions")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from keel.access import Role
from keel.bootstrap import Keel
from tests.e2e.conftest import Run
from tests.support import GROUP, MARKET, ST_DE, WEB_DE, WH_DE, WH_FR, build_world, open_keel, place, receive, snapshot


def order(channel: str, external_id: str, country: str) -> dict[str, Any]:
    return {
        "channel": channel,
        "external_id": external_id,
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "9.90"}],
        "customer": {"name": "Ann"},
        "ship_to": {"country": country, "city": "X", "postal_code": "1000", "latitude": 50.0, "longitude": 5.0},
    }


@dataclass(frozen=True)
class Tokens:
    de_planner: dict[str, str]  # an inventory planner restricted to Germany
    web_shop: dict[str, str]  # an integration restricted to the channel web-de


@pytest.fixture
def keel(db_url: str) -> Iterator[Keel]:
    """The small world with stock in Berlin and Paris and three orders: web-de to DE (1), market-eu to FR
    (2), market-eu to DE (3)."""
    keel = open_keel(db_url)
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 30)
    receive(keel, "SKU-1", WH_FR, 30)
    keel.availability.catch_up()
    for document in (order(WEB_DE, "W-1", "DE"), order(MARKET, "M-1", "FR"), order(MARKET, "M-2", "DE")):
        place(keel, document)
    keel.availability.catch_up()
    yield keel
    keel.close()


@pytest.fixture
def tokens(keel: Keel) -> Tokens:
    known = {c.code for c in keel.channels.list()[0]}
    made = []
    for name, role, channels, countries in (
        ("de-planner", Role.INVENTORY_PLANNER, None, ["DE"]),
        ("web-shop", Role.INTEGRATION, [WEB_DE], None),
    ):
        keel.access.add_service(name, role)
        keel.access.set_scope(name, channels, countries, known)
        made.append({"KEEL_TOKEN": keel.access.create_token(name, "cli").secret})
    return Tokens(*made)


def document(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(result: Result, code: int = 2) -> str:
    assert (result.exit_code, result.stdout) == (code, ""), result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_lists_show_only_the_identitys_countries_and_channels(run: Run, keel: Keel, tokens: Tokens) -> None:
    everything = document(run("orders", "list", "--json"))  # the local operator: unrestricted
    assert everything["total"] == 3
    de = document(run("orders", "list", "--json", env=tokens.de_planner))
    assert (de["total"], sorted(o["external_id"] for o in de["items"])) == (2, ["M-2", "W-1"])
    assert {o["country"] for o in de["items"]} == {"DE"}
    web = document(run("orders", "list", "--json", env=tokens.web_shop))
    assert (web["total"], [o["external_id"] for o in web["items"]]) == (1, ["W-1"])
    assert web["metrics"]["routed"] == 1  # the rates cover the same orders
    locations = document(run("locations", "list", "--json", env=tokens.de_planner))
    assert (locations["total"], {loc["country"] for loc in locations["items"]}) == (3, {"DE"})
    positions = document(run("inventory", "positions", "--json", env=tokens.de_planner))
    assert [(p["sku"], p["location"]) for p in positions["items"]] == [("SKU-1", WH_DE)]
    channels = document(run("channels", "list", "--json", env=tokens.web_shop))
    assert [c["code"] for c in channels["items"]] == [WEB_DE]
    atp = document(run("inventory", "atp", "SKU-1", "--json", env=tokens.web_shop))
    assert [(r["channel"], r["country"]) for r in atp["availability"]] == [(WEB_DE, "DE")]


def test_a_record_outside_the_restrictions_reads_as_missing(run: Run, keel: Keel, tokens: Tokens) -> None:
    assert refused(run("orders", "show", "2", env=tokens.web_shop), 3) == "order 2 does not exist"
    assert refused(run("locations", "show", WH_FR, "--json", env=tokens.de_planner), 3) == (
        f"location '{WH_FR}' does not exist"
    )
    assert refused(run("channels", "show", MARKET, env=tokens.web_shop), 3) == f"channel '{MARKET}' does not exist"
    # stock held only in France is unknown to someone who sees Germany only
    receive(keel, "SKU-FR", WH_FR, 3)
    assert refused(run("inventory", "atp", "SKU-FR", env=tokens.de_planner), 3).startswith("unknown SKU 'SKU-FR'")
    assert document(run("orders", "show", "1", "--json", env=tokens.web_shop))["external_id"] == "W-1"


def test_a_write_outside_the_restrictions_is_refused_and_changes_nothing(
    run: Run, keel: Keel, tokens: Tokens, tmp_path: Path
) -> None:
    before = snapshot(keel)
    create = run("locations", "create", "WH-FR-9", "Lyon", "warehouse", "FR", env=tokens.de_planner)
    assert refused(create) == "the country is 'FR', outside your restrictions"
    assert refused(run("inventory", "count", "SKU-1", WH_FR, "3", env=tokens.de_planner)).endswith(
        "'FR', outside your restrictions"
    )
    assert refused(run("orders", "cancel", "2", env=tokens.web_shop)) == (
        f"the channel '{MARKET}' is outside your restrictions"
    )
    other = tmp_path / "market.json"
    other.write_text(json.dumps(order(MARKET, "M-3", "DE")))
    assert refused(run("orders", "capture", str(other), env=tokens.web_shop)) == (
        f"the channel '{MARKET}' is outside your restrictions"
    )
    movements = tmp_path / "moves.csv"
    movements.write_text(f"id,kind,sku,location,quantity\na,received,SKU-1,{WH_DE},1\nb,received,SKU-1,{WH_FR},1\n")
    imported = run("inventory", "import", str(movements), env=tokens.de_planner)
    assert imported.exit_code == 2 and imported.stdout == ""
    assert imported.stderr.splitlines() == [
        "1 of 2 rows name locations outside your restrictions; nothing was applied",
        f"  row 2  location: location '{WH_FR}' is in FR, outside your restrictions",
    ]
    assert snapshot(keel) == before
    # and inside them the same identities may write
    assert run("inventory", "count", "SKU-1", ST_DE, "0", env=tokens.de_planner).exit_code == 0
    assert run("orders", "cancel", "1", env=tokens.web_shop).stdout == "order 1 is cancelled\n"


def test_groups_policies_waves_backorders_and_accuracy_honour_the_restrictions(
    run: Run, keel: Keel, tokens: Tokens, tmp_path: Path
) -> None:
    # location groups: the shared DE+FR group shows its DE member only, and cannot be changed from Germany
    groups = document(run("locations", "groups", "--json", env=tokens.de_planner))
    assert [(g["code"], g["members"]) for g in groups] == [(GROUP, [WH_DE])]
    before = snapshot(keel)
    changed = run("locations", "group", GROUP, WH_DE, env=tokens.de_planner)
    assert refused(changed) == f"the country of location '{WH_FR}' is 'FR', outside your restrictions"
    assert snapshot(keel) == before
    # accuracy: counts in France are not Germany's
    keel.stock.record_count("SKU-1", WH_FR, 30, "c-fr")
    keel.stock.record_count("SKU-1", WH_DE, 29, "c-de")
    accuracy = document(run("inventory", "accuracy", "--json", env=tokens.de_planner))
    assert [x["location"] for x in accuracy["locations"]] == [WH_DE]
    # sourcing policies: another channel's reads as missing; waves and backorder passes take the channel's orders
    keel.access.add_service("web-ops", Role.ORDER_OPERATIONS)
    keel.access.set_scope("web-ops", [WEB_DE], None, {c.code for c in keel.channels.list()[0]})
    web_ops = {"KEEL_TOKEN": keel.access.create_token("web-ops", "cli").secret}
    assert refused(run("orders", "policy", "show", MARKET, env=web_ops), 3) == f"channel '{MARKET}' does not exist"
    assert run("orders", "policy", "show", WEB_DE, env=web_ops).exit_code == 0
    wave = document(run("orders", "wave", "--json", env=web_ops))
    assert wave["orders_considered"] == 1
    assert document(run("orders", "wave", "--json"))["orders_considered"] == 3
    assert run("orders", "fill-backorders", env=web_ops).exit_code == 0
