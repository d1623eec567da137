"""Sourcing policies as data on both databases: stored per channel or as the default, used at once."""

from __future__ import annotations

from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.orders.sourcing.spec import default_sourcing, to_document
from keel.platform.errors import InsufficientStock, NotFound, ValidationFailed
from tests.integration.test_orders import order
from tests.support import MARKET, ST_DE, WEB_DE, WH_DE, World, events_after, last_seq, place, receive, snapshot

NEAR_ONLY = {"filters": [{"kind": "same_country"}, {"kind": "max_distance", "km": 100}]}


@pytest.fixture
def stocked(keel: Keel, world: World) -> Keel:
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", ST_DE, 5)  # Munich: about 500 km from a Berlin customer
    return keel


def test_the_built_in_policy_applies_until_one_is_stored(stocked: Keel) -> None:
    found = stocked.orders.policies.get(WEB_DE)
    assert (found.source, found.document) == ("built-in", None)
    assert found.effective == to_document(default_sourcing())
    placed, _ = place(stocked, order("P-1", ("SKU-2", 1)))
    assert [s.location for s in placed.shipments] == [ST_DE]


def test_a_channel_policy_changes_the_next_order(stocked: Keel) -> None:
    seq = last_seq(stocked)
    saved = stocked.orders.policies.set(WEB_DE, NEAR_ONLY)
    assert (saved.source, saved.document) == ("channel", NEAR_ONLY)
    assert [e.type for e in events_after(stocked, seq, {"sourcing.policy_set"})] == ["sourcing.policy_set"]
    before = snapshot(stocked)
    with pytest.raises(InsufficientStock) as caught:
        place(stocked, order("P-2", ("SKU-2", 1)))
    assert caught.value.extra["rejections"] == [f"{ST_DE}: 504 km away, limit 100 km for ship_standard"]
    assert snapshot(stocked) == before
    # a nearby warehouse is still fine, and the routing explanation names the filter that said no
    placed, _ = place(stocked, order("P-3", ("SKU-1", 1)))
    assert [s.location for s in placed.shipments] == [WH_DE]
    stocked.orders.policies.delete(WEB_DE)
    again, _ = place(stocked, order("P-4", ("SKU-2", 1)))
    assert [s.location for s in again.shipments] == [ST_DE]


def test_the_default_applies_to_channels_without_their_own(stocked: Keel) -> None:
    stocked.orders.policies.set("*", {"filters": [{"kind": "store_protection", "min_units": 5}]})
    assert stocked.orders.policies.get(MARKET).source == "default"
    with pytest.raises(InsufficientStock):  # the store keeps all 5 units now
        place(stocked, order("D-1", ("SKU-2", 1)))
    stocked.orders.policies.set(WEB_DE, {})  # its own: the built-in filters
    placed, _ = place(stocked, order("D-2", ("SKU-2", 1)))
    assert [s.location for s in placed.shipments] == [ST_DE]
    listed = stocked.orders.policies.list()
    assert [p.channel for p in listed] == ["*", WEB_DE]


def test_channel_weights_reach_the_cost_model(stocked: Keel) -> None:
    stocked.orders.policies.set(WEB_DE, {"weights": {"handling": 0, "shipping": 0}})
    placed, _ = place(stocked, order("W-1", ("SKU-1", 1)))
    cost = placed.routing[0]["cost"]
    assert (cost["shipping"], cost["handling"]) == (0, 0)


@pytest.mark.parametrize(
    ("doc", "field"),
    [({"filters": [{"kind": "teleport"}]}, "filters[1].kind"), ({"max_nodes": 50}, "max_nodes"), ("x", "")],
)
def test_a_bad_document_is_refused_and_changes_nothing(stocked: Keel, doc: Any, field: str) -> None:
    before = snapshot(stocked)
    with pytest.raises(ValidationFailed) as caught:
        stocked.orders.policies.set(WEB_DE, doc)
    assert field in [e.field for e in caught.value.errors]
    assert snapshot(stocked) == before


def test_unknown_channels_and_missing_policies(stocked: Keel) -> None:
    with pytest.raises(NotFound):
        stocked.orders.policies.set("nope", {})
    with pytest.raises(NotFound):
        stocked.orders.policies.get("nope")
    with pytest.raises(NotFound, match="no sourcing policy of its own"):
        stocked.orders.policies.delete(WEB_DE)


def test_a_locations_daily_capacity_limits_what_it_is_given(stocked: Keel) -> None:
    stocked.locations.update(WH_DE, {"daily_capacity": 1})
    before = snapshot(stocked)
    with pytest.raises(InsufficientStock):  # the warehouse may pick one unit today; nobody else has SKU-1
        place(stocked, order("C-1", ("SKU-1", 2)))
    assert snapshot(stocked) == before
    place(stocked, order("C-2", ("SKU-1", 1)))
    with pytest.raises(InsufficientStock) as caught:
        place(stocked, order("C-3", ("SKU-1", 1)))
    assert caught.value.extra["rejections"] == [f"{WH_DE}: used 1 of 1 units today (headroom 0)"]
    stocked.locations.update(WH_DE, {"daily_capacity": None})  # back to the warehouse default
    place(stocked, order("C-4", ("SKU-1", 1)))


def test_saving_reports_left_out_filters_and_checks_excluded_codes(stocked: Keel) -> None:
    saved = stocked.orders.policies.set(WEB_DE, {"filters": [{"kind": "same_country"}]})
    assert [w.split(" ")[0] for w in saved.warnings] == ["max_distance", "store_protection", "capacity"]
    before = snapshot(stocked)
    with pytest.raises(ValidationFailed) as caught:
        stocked.orders.policies.set(WEB_DE, {"filters": [{"kind": "excluded", "nodes": [ST_DE, "ST-XX-9"]}]})
    assert [(e.field, e.reason) for e in caught.value.errors] == [("filters[1].nodes", "unknown locations: ST-XX-9")]
    assert snapshot(stocked) == before
    stocked.orders.policies.set("*", {})
    assert stocked.orders.policies.get("*").source == "default"


def test_a_stored_document_that_no_longer_parses_falls_back_to_the_built_in_policy(stocked: Keel) -> None:
    from keel.orders.store import tables as store

    stocked.orders.policies.set(WEB_DE, NEAR_ONLY)
    with stocked.db.write() as conn:  # as if a later version had tightened validation
        conn.execute(store.sourcing_policies.update().values(document={"objective": "retired"}))
    placed, _ = place(stocked, order("F-1", ("SKU-2", 1)))  # built-in policy: Munich is allowed
    assert [s.location for s in placed.shipments] == [ST_DE]


def test_a_channels_prices_decide_between_nodes(stocked: Keel) -> None:
    receive(stocked, "SKU-1", ST_DE, 10)
    # built-in prices: the Berlin warehouse beats the Munich store for a Berlin customer
    first, _ = place(stocked, order("PR-1", ("SKU-1", 1)))
    assert [s.location for s in first.shipments] == [WH_DE]
    # this channel's contract makes warehouse handling dear and store handling cheap
    prices = {"handling": {"warehouse": {"package": 9.0, "unit": 1.0}, "store": {"package": 0.1, "unit": 0.1}}}
    stocked.orders.policies.set(WEB_DE, {"prices": prices})
    second, _ = place(stocked, order("PR-2", ("SKU-1", 1)))
    assert [s.location for s in second.shipments] == [ST_DE]
    assert second.routing[0]["cost"]["handling"] == pytest.approx(0.2)
    assert stocked.orders.policies.get(WEB_DE).effective["prices"]["handling"]["store"] == {
        "package": 0.1,
        "unit": 0.1,
    }
