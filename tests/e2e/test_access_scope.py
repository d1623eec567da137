"""Restrictions by channel and country over HTTP, on both databases: a restricted identity's lists hold only
its channels' and countries' data, single reads of other data answer 404 (as if it did not exist), writes
to it answer 403 naming the channel or country and change nothing; an unrestricted identity sees all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from keel.access import Role
from keel.bootstrap import Keel
from keel.platform.errors import ValidationFailed
from tests.e2e.conftest import Run
from tests.support import MARKET, ST_DE, TPL_DE, WEB_DE, WH_DE, WH_FR, World, mv, open_keel, receive, snapshot

Make = Callable[..., TestClient]


def order(channel: str, external_id: str, country: str) -> dict[str, Any]:
    where = {"DE": (52.5, 13.4, "10115"), "FR": (48.85, 2.35, "75001")}[country]
    return {
        "channel": channel,
        "external_id": external_id,
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "12.50"}],
        "customer": {"name": "Ann"},
        "ship_to": {"country": country, "postal_code": where[2], "latitude": where[0], "longitude": where[1]},
    }


@pytest.fixture
def setup(keel: Keel, world: World, make_client: Make) -> tuple[TestClient, TestClient, int, int]:
    """(admin, restricted to web-de and DE, the DE order on web-de, the FR order on market-eu)."""
    receive(keel, "SKU-1", WH_DE, 20)
    receive(keel, "SKU-1", WH_FR, 20)
    keel.availability.catch_up()
    admin = make_client(keel)
    mine = admin.post("/orders", json=order(WEB_DE, "D-1", "DE"))
    other = admin.post("/orders", json=order(MARKET, "F-1", "FR"))
    assert (mine.status_code, other.status_code) == (201, 201), (mine.text, other.text)
    keel.access.add_service("de-ops", Role.ADMIN)
    keel.access.set_scope("de-ops", [WEB_DE], ["de"], set(world.channels))
    token = keel.access.create_token("de-ops", "ops").secret
    restricted = make_client(keel, as_admin=False)
    restricted.headers["Authorization"] = f"Bearer {token}"
    return admin, restricted, mine.json()["id"], other.json()["id"]


def test_lists_hold_only_the_restricted_channels_and_countries(
    keel: Keel, setup: tuple[TestClient, TestClient, int, int]
) -> None:
    admin, restricted, mine, _ = setup
    assert [o["id"] for o in restricted.get("/orders").json()["items"]] == [mine]
    assert restricted.get("/orders", params={"channel": MARKET}).json()["total"] == 0
    assert [c["code"] for c in restricted.get("/channels").json()["items"]] == [WEB_DE]
    assert {x["code"] for x in restricted.get("/locations").json()["items"]} == {WH_DE, ST_DE, TPL_DE}
    assert {p["location"] for p in restricted.get("/inventory/positions").json()["items"]} == {WH_DE}
    assert {m["location"] for m in restricted.get("/inventory/movements").json()["items"]} == {WH_DE}
    listed = restricted.get("/availability/SKU-1").json()["availability"]
    assert {(x["channel"], x["country"]) for x in listed} == {(WEB_DE, "DE")}
    explained = restricted.get("/availability/SKU-1", params={"explain": "true"}).json()["availability"]
    assert {(x["channel"], x["country"]) for x in explained} == {(WEB_DE, "DE")}
    batch = restricted.post("/availability/query", json={"skus": ["SKU-1"]}).json()["items"]["SKU-1"]
    assert {(x["channel"], x["country"]) for x in batch} == {(WEB_DE, "DE")}
    # the same lists, unrestricted
    assert admin.get("/orders").json()["total"] == 2
    assert admin.get("/channels").json()["total"] == 3
    assert admin.get("/locations").json()["total"] == 5
    assert {p["location"] for p in admin.get("/inventory/positions").json()["items"]} == {WH_DE, WH_FR}
    assert len({x["channel"] for x in admin.get("/availability/SKU-1").json()["availability"]}) > 1


def test_single_reads_outside_the_restrictions_are_404(
    keel: Keel, setup: tuple[TestClient, TestClient, int, int]
) -> None:
    admin, restricted, mine, other = setup
    held = admin.post("/inventory/reservations", json={"sku": "SKU-1", "location": WH_FR, "quantity": 1})
    assert held.status_code == 201, held.text
    assert restricted.get(f"/orders/{mine}").status_code == 200
    for path in (
        f"/orders/{other}",
        f"/channels/{MARKET}",
        f"/locations/{WH_FR}",
        f"/inventory/reservations/{held.json()['id']}",
        f"/availability/SKU-1?channel={MARKET}",
    ):
        answer = restricted.get(path)
        assert answer.status_code == 404, (path, answer.text)
        assert admin.get(path).status_code == 200, path
    # the same answer as a record that does not exist
    assert restricted.get(f"/orders/{other}").json()["detail"] == f"order {other} does not exist"


def test_writes_outside_the_restrictions_are_403_and_change_nothing(
    keel: Keel, setup: tuple[TestClient, TestClient, int, int]
) -> None:
    admin, restricted, _, other = setup
    held = admin.post("/inventory/reservations", json={"sku": "SKU-1", "location": WH_FR, "quantity": 1}).json()
    before = snapshot(keel)
    for method, path, body, named in (
        ("POST", "/orders", order(MARKET, "F-2", "FR"), {"channel": MARKET}),
        ("POST", "/orders", order(WEB_DE, "F-3", "FR"), {"country": "FR"}),
        ("POST", f"/orders/{other}/cancel", None, {"channel": MARKET}),
        ("POST", f"/orders/{other}/allocations/1/pick", None, {"channel": MARKET}),
        ("POST", f"/orders/{other}/returns", {"lines": [{"line_no": 1, "quantity": 1}]}, {"channel": MARKET}),
        ("PATCH", f"/channels/{MARKET}", {"name": "Mine now"}, {"channel": MARKET}),
        ("DELETE", f"/channels/{MARKET}", None, {"channel": MARKET}),
        ("PATCH", f"/locations/{WH_FR}", {"name": "Mine now"}, {"country": "FR"}),
        ("POST", "/inventory/counts", {"sku": "SKU-1", "location": WH_FR, "counted": 3}, {"country": "FR"}),
        ("POST", "/inventory/reservations", {"sku": "SKU-1", "location": WH_FR, "quantity": 1}, {"country": "FR"}),
        ("POST", f"/inventory/reservations/{held['id']}/release", None, {"country": "FR"}),
        ("POST", f"/inventory/reservations/{held['id']}/commit", None, {"country": "FR"}),
    ):
        answer = restricted.request(method, path, json=body)
        assert answer.status_code == 403, (method, path, answer.text)
        problem = answer.json()
        assert problem["type"].endswith("/out-of-scope") and "outside your restrictions" in problem["detail"]
        assert {k: problem[k] for k in named} == named, (path, problem)
    assert snapshot(keel) == before


def test_a_movements_batch_with_one_row_outside_is_refused_whole(
    keel: Keel, setup: tuple[TestClient, TestClient, int, int]
) -> None:
    _, restricted, _, _ = setup
    before = snapshot(keel)
    rows = [mv("in-1", "received", "SKU-2", WH_DE, 5), mv("in-2", "received", "SKU-2", WH_FR, 5)]
    answer = restricted.post("/inventory/movements", json=rows)
    assert answer.status_code == 403, answer.text
    assert answer.json()["errors"] == [
        {"row": 2, "field": "location", "reason": f"location {WH_FR!r} is in FR, outside your restrictions"}
    ]
    assert snapshot(keel) == before
    # inside the restrictions, the same feed works
    assert restricted.post("/inventory/movements", json=rows[:1]).status_code == 200


def test_writes_inside_the_restrictions_work(keel: Keel, setup: tuple[TestClient, TestClient, int, int]) -> None:
    _, restricted, mine, _ = setup
    assert restricted.post("/orders", json=order(WEB_DE, "D-2", "DE")).status_code == 201
    assert restricted.post(f"/orders/{mine}/allocations/1/pick").status_code == 200
    assert restricted.patch(f"/channels/{WEB_DE}", json={"name": "Web DE"}).status_code == 200
    assert restricted.post(
        "/inventory/counts", json={"sku": "SKU-1", "location": WH_DE, "counted": 20}
    ).status_code in (
        200,
        201,
    )


def test_restrictions_name_known_codes_only(keel: Keel, world: World) -> None:
    keel.access.add_service("shop", Role.INTEGRATION)
    for channels, countries, message in (
        (["nope"], None, "unknown channel 'nope'"),
        (None, ["XX"], "unknown country 'XX'"),
    ):
        with pytest.raises(ValidationFailed, match=message):
            keel.access.set_scope("shop", channels, countries, set(world.channels))
    assert keel.access.get("shop").channels is None


def test_users_set_scope_command(run: Run, db_url: str) -> None:
    assert run("users", "add", "shop-de", "--role", "integration", "--service").exit_code == 0
    keel = open_keel(db_url)
    keel.channels.list()
    bad = run("users", "set-scope", "shop-de", "--channel", "nope")
    assert (bad.exit_code, "unknown channel 'nope'" in bad.stderr) == (2, True), bad.output
    good = run("users", "set-scope", "shop-de", "--country", "de", "--country", "AT")
    assert good.exit_code == 0 and "every channel and countries AT, DE" in good.stdout, good.stdout
    assert keel.access.get("shop-de").countries == ("AT", "DE")
    assert run("users", "set-scope", "shop-de").exit_code == 0
    assert keel.access.get("shop-de").countries is None
    keel.close()
