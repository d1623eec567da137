"""Restrictions on the surfaces beyond the records themselves, on both databases: location groups, sourcing
policies, waves and backorder passes, inventory accuracy, the permissions a restricted identity never holds
(user administration, the audit log, metrics) and the control-tower pages, which show only its data."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from keel.bootstrap import Keel
from tests.e2e.test_access_scope import order, setup
from tests.support import GROUP, MARKET, WEB_DE, WH_DE, WH_FR, snapshot

__all__ = ["setup"]  # the fixture shared with test_access_scope

Setup = tuple[TestClient, TestClient, int, int]


def test_location_groups_show_and_take_only_locations_in_the_restricted_countries(keel: Keel, setup: Setup) -> None:
    admin, restricted, _, _ = setup
    # the shared group (DE + FR) shows with its DE member only; the admin sees both
    assert restricted.get("/location-groups").json() == [{"code": GROUP, "name": "Fulfilment EU", "members": [WH_DE]}]
    assert admin.get("/location-groups").json()[0]["members"] == [WH_DE, WH_FR]
    before = snapshot(keel)
    # a group spanning another country cannot be changed, nor can a new one name a location there
    changed = restricted.put(f"/location-groups/{GROUP}/members", json={"members": [WH_DE]})
    assert changed.status_code == 403 and changed.json()["country"] == "FR", changed.text
    created = restricted.post("/location-groups", json={"code": "mixed", "name": "Mixed", "members": [WH_DE, WH_FR]})
    assert created.status_code == 403 and created.json()["country"] == "FR", created.text
    assert snapshot(keel) == before
    # a group wholly inside works, and a group wholly outside does not exist for the restricted identity
    assert restricted.post("/location-groups", json={"code": "de", "name": "DE", "members": [WH_DE]}).status_code == 201
    assert admin.post("/location-groups", json={"code": "fr", "name": "FR", "members": [WH_FR]}).status_code == 201
    assert "fr" not in {g["code"] for g in restricted.get("/location-groups").json()}
    hidden = restricted.put("/location-groups/fr/members", json={"members": [WH_DE]})
    assert hidden.status_code == 404, hidden.text


def test_sourcing_policies_of_other_channels_are_hidden_and_closed(keel: Keel, setup: Setup) -> None:
    admin, restricted, _, _ = setup
    policy = {"filters": [{"kind": "same_country"}]}
    for channel in (MARKET, "*"):
        assert admin.put(f"/sourcing-policies/{channel}", json=policy).status_code == 200
    assert {p["channel"] for p in restricted.get("/sourcing-policies").json()} == {"*"}
    assert restricted.get(f"/sourcing-policies/{MARKET}").status_code == 404
    assert restricted.get("/sourcing-policies/*").status_code == 200  # the default its channels may use
    before = snapshot(keel)
    assert restricted.put(f"/sourcing-policies/{MARKET}", json=policy).status_code == 404
    assert restricted.delete(f"/sourcing-policies/{MARKET}").status_code == 404
    refused = restricted.put("/sourcing-policies/*", json=policy)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/out-of-scope"), refused.text
    # its own channel's policy applies in every country the channel sells to: a country restriction refuses it
    own = restricted.put(f"/sourcing-policies/{WEB_DE}", json=policy)
    assert own.status_code == 403 and "every country" in own.json()["detail"], own.text
    assert snapshot(keel) == before


def test_sourcing_policy_of_its_channel_is_open_to_a_channel_only_restriction(keel: Keel, setup: Setup) -> None:
    admin, _, _, _ = setup
    keel.access.set_scope("de-ops", [WEB_DE], None, {WEB_DE, MARKET})
    channel_only = TestClient(admin.app)
    channel_only.headers["Authorization"] = f"Bearer {keel.access.create_token('de-ops', 'web').secret}"
    assert channel_only.put(f"/sourcing-policies/{WEB_DE}", json={"max_nodes": 2}).status_code == 200
    assert channel_only.delete(f"/sourcing-policies/{WEB_DE}").status_code == 204


def test_waves_and_backorder_passes_take_only_the_restricted_orders(keel: Keel, setup: Setup) -> None:
    admin, restricted, _, _ = setup
    wave = restricted.post("/orders/waves", json={"limit": 50}).json()
    assert wave["orders_considered"] == 1, wave
    assert admin.post("/orders/waves", json={"limit": 50}).json()["orders_considered"] == 2
    # backorders: both channels may backorder; one order on each side waits for 11 units of SKU-1
    for channel, country, source in ((WEB_DE, "DE", WH_DE), (MARKET, "FR", WH_FR)):
        policy = {"sources": {country: {"locations": [source]}}, "backorder": True}
        assert admin.patch(f"/channels/{channel}", json={"policy": policy}).status_code == 200
        doc = order(channel, f"{country}-30", country)
        doc["lines"][0]["quantity"] = 30
        placed = admin.post("/orders", json=doc)
        assert placed.status_code == 201 and placed.json()["status"] == "partially_backordered", placed.text
    rows = [
        {"id": f"r-{loc}", "kind": "received", "sku": "SKU-1", "location": loc, "quantity": 20}
        for loc in (WH_DE, WH_FR)
    ]
    assert admin.post("/inventory/movements", json=rows).status_code == 200
    keel.availability.catch_up()
    filled = restricted.post("/orders/backorders/fill").json()
    assert filled["orders_filled"] == 1, filled
    waiting = admin.get("/orders", params={"status": "partially_backordered"}).json()["items"]
    assert [o["channel"] for o in waiting] == [MARKET]


def test_accuracy_counts_only_locations_in_the_restricted_countries(keel: Keel, setup: Setup) -> None:
    admin, restricted, _, _ = setup
    for loc in (WH_DE, WH_FR):
        assert admin.post("/inventory/counts", json={"sku": "SKU-1", "location": loc, "counted": 20}).status_code == 201
    assert [x["location"] for x in restricted.get("/inventory/accuracy").json()["locations"]] == [WH_DE]
    assert restricted.get("/inventory/accuracy").json()["overall"]["counted"] == 1
    assert admin.get("/inventory/accuracy").json()["overall"]["counted"] == 2


def test_a_restricted_admin_holds_no_permission_that_spans_everything(setup: Setup) -> None:
    _, restricted, _, _ = setup
    for path in ("/access/identities", "/access/tokens", "/audit", "/audit/export.csv", "/metrics"):
        answer = restricted.get(path)
        assert answer.status_code == 403, (path, answer.text)
        assert "restricted to some channels or countries" in answer.json()["detail"]
    me = restricted.get("/access/me").json()
    assert "access.admin" not in me["permissions"] and "orders.write" in me["permissions"]


def test_tower_pages_show_only_the_restricted_data(keel: Keel, setup: Setup) -> None:
    admin, restricted, mine, other = setup
    keel.insights.ttl = 0  # every render reads afresh
    banner = "Restricted view: every figure on this page counts only channels web-de and countries DE."
    orders = restricted.get("/ui/orders")
    assert orders.status_code == 200 and banner in _text(orders.text)
    assert f"/ui/orders/{mine}" in orders.text and f"/ui/orders/{other}" not in orders.text
    assert f"/ui/orders/{other}" in admin.get("/ui/orders").text
    assert restricted.get(f"/ui/orders/{other}").status_code == 404
    assert restricted.get(f"/ui/orders/{mine}").status_code == 200
    home = _text(restricted.get("/").text)
    assert WEB_DE in home and MARKET not in home
    assert MARKET in _text(admin.get("/").text)
    stock = _text(restricted.get("/ui/stock").text)
    assert "DE" in stock and "FR" not in stock
    assert restricted.get("/ui/stock", params={"location": WH_FR}).status_code == 404
    locations = restricted.get("/ui/locations").text
    assert WH_DE in locations and WH_FR not in locations
    assert MARKET not in restricted.get("/ui/channels").text
    assert restricted.get(f"/ui/availability/SKU-1?channel={MARKET}").status_code == 404
    explained = restricted.get("/ui/availability/SKU-1").text
    assert WEB_DE in explained and MARKET not in explained
    inventory = restricted.get("/ui/inventory").text
    assert WH_DE in inventory and WH_FR not in inventory
    # the audit log is not theirs to read, and the navigation does not offer it
    assert restricted.get("/ui/audit").status_code == 403
    assert 'href="/ui/audit"' not in orders.text and 'href="/ui/audit"' in admin.get("/ui/orders").text


def _text(html: str) -> str:
    """The page's words without tags, whitespace folded (what a reader sees)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
