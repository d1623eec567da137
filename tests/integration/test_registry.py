"""Locations, location groups and channels: create, read, update, deactivate and validation (both DBs)."""

from __future__ import annotations

from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.channels import CreateChannel, Sources
from keel.channels.model import policy_document
from keel.inventory import CreateLocation, LocationGroup
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from tests.support import GROUP, ST_DE, ST_FR, WH_DE, WH_FR, World, events_after, last_seq, snapshot

NEW_LOCATION = {"code": "DS-DE-1", "name": "Berlin dark store", "kind": "dark_store", "country": "de",
                "city": "Berlin", "latitude": 52.5, "longitude": 13.4,
                "capabilities": ["ship", "pickup", "ship"]}  # fmt: skip
NEW_CHANNEL = {"code": "social-de", "name": "Social DE", "kind": "social", "countries": ["de"],
               "currency": "eur", "policy": {"sources": {"DE": {"locations": [WH_DE]}}}}  # fmt: skip


def test_create_location_normalises_and_emits_an_event(keel: Keel) -> None:
    seq = last_seq(keel)
    loc = keel.locations.create(CreateLocation(**NEW_LOCATION))
    assert {k: getattr(loc, k) for k in ("code", "kind", "country", "capabilities", "active", "region")} == {
        "code": "DS-DE-1", "kind": "dark_store", "country": "DE", "capabilities": ("pickup", "ship"),
        "active": True, "region": None,
    }  # fmt: skip
    assert keel.locations.get("DS-DE-1") == loc
    [event] = events_after(keel, seq)
    assert (event.type, event.subject, event.data) == ("location.created", "DS-DE-1", {"code": "DS-DE-1"})


@pytest.mark.parametrize(
    ("change", "field"),
    [({"country": "XX"}, "country"), ({"capabilities": ["teleport"]}, "capabilities"), ({"kind": "moon"}, "kind"),
     ({"code": "bad code"}, "code"), ({"name": ""}, "name"), ({"latitude": 100.0}, "latitude"),
     ({"daily_capacity": -1}, "daily_capacity"), ({"daily_capacity": 1.5}, "daily_capacity"),
     ({"daily_capacity": True}, "daily_capacity")],
)  # fmt: skip
def test_invalid_location_is_refused_and_nothing_written(keel: Keel, change: dict[str, Any], field: str) -> None:
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as info:
        keel.locations.create(CreateLocation(**{**NEW_LOCATION, **change}))
    assert [e.field for e in info.value.errors] == [field]
    assert snapshot(keel) == before


def test_daily_capacity_is_set_changed_and_reset(keel: Keel, world: World) -> None:
    assert keel.locations.get(WH_DE).daily_capacity is None  # the default of its kind
    created = keel.locations.create(CreateLocation(**{**NEW_LOCATION, "daily_capacity": 800}))
    assert created.daily_capacity == 800
    assert keel.locations.update(WH_DE, {"daily_capacity": 50}).daily_capacity == 50
    assert keel.locations.update(WH_DE, {"daily_capacity": None}).daily_capacity is None


def test_duplicate_location_code_conflicts(keel: Keel, world: World) -> None:
    before = snapshot(keel)
    with pytest.raises(Conflict, match=f"location '{WH_DE}' already exists"):
        keel.locations.create(CreateLocation(**{**NEW_LOCATION, "code": WH_DE}))
    assert snapshot(keel) == before


def test_update_and_deactivate_location(keel: Keel, world: World) -> None:
    seq = last_seq(keel)
    updated = keel.locations.update(ST_DE, {"name": "Munich flagship", "country": "de", "code": "IGNORED"})
    assert (updated.code, updated.name, updated.country) == (ST_DE, "Munich flagship", "DE")
    assert keel.locations.deactivate(ST_DE).active is False
    assert [(e.type, e.data["fields"]) for e in events_after(keel, seq)] == [
        ("location.updated", ["country", "name"]),
        ("location.updated", ["active"]),
    ]
    assert [loc.code for loc in keel.locations.list(active=False)[0]] == [ST_DE]


def test_invalid_update_and_unknown_location(keel: Keel, world: World) -> None:
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as info:
        keel.locations.update(ST_DE, {"capabilities": ["fly"]})
    assert info.value.errors == [FieldError(None, "capabilities", "unknown: fly")]
    with pytest.raises(NotFound, match="location 'NOPE' does not exist"):
        keel.locations.update("NOPE", {"name": "x"})
    with pytest.raises(NotFound):
        keel.locations.get("NOPE")
    assert snapshot(keel) == before


def test_list_locations_filters_and_pages(keel: Keel, world: World) -> None:
    items, total = keel.locations.list(country="de", kind="warehouse")
    assert ([loc.code for loc in items], total) == ([WH_DE], 1)
    page, total = keel.locations.list(limit=2, offset=2)
    assert ([loc.code for loc in page], total) == ([ST_FR, WH_DE], 5)


def test_groups_create_list_and_replace_members(keel: Keel, world: World) -> None:
    created = keel.locations.create_group("de-all", "All DE", [WH_DE, ST_DE])
    assert created == LocationGroup("de-all", "All DE", (ST_DE, WH_DE))
    assert keel.locations.set_group_members(GROUP, [WH_FR]) == LocationGroup(GROUP, "Fulfilment EU", (WH_FR,))
    assert keel.locations.groups() == [
        LocationGroup("de-all", "All DE", (ST_DE, WH_DE)),
        LocationGroup(GROUP, "Fulfilment EU", (WH_FR,)),
    ]


def test_group_errors_change_nothing(keel: Keel, world: World) -> None:
    before = snapshot(keel)
    with pytest.raises(Conflict):
        keel.locations.create_group(GROUP, "again", [])
    with pytest.raises(ValidationFailed) as info:
        keel.locations.create_group("g2", "G2", [WH_DE, "NOPE", "ALSO-NOPE"])
    assert info.value.errors == [
        FieldError(None, "members", "unknown location 'ALSO-NOPE'"),
        FieldError(None, "members", "unknown location 'NOPE'"),
    ]
    with pytest.raises(NotFound):
        keel.locations.set_group_members("ghost", [])
    with pytest.raises(ValidationFailed):
        keel.locations.set_group_members(GROUP, ["NOPE"])
    assert snapshot(keel) == before


# -- channels --------------------------------------------------------------------------------------------
def test_create_channel_normalises_and_emits_an_event(keel: Keel, world: World) -> None:
    seq = last_seq(keel)
    channel = keel.channels.create(CreateChannel(**NEW_CHANNEL))
    assert (channel.countries, channel.currency, channel.active) == (("DE",), "EUR", True)
    assert policy_document(channel.policy) == {
        "sources": {"DE": {"locations": [WH_DE], "groups": []}}, "safety_buffer": 0, "allocation_pct": 100.0,
        "max_listed": None, "zero_below": 0, "backorder": False,
    }  # fmt: skip
    assert keel.channels.get("social-de") == channel
    assert [(e.type, e.subject) for e in events_after(keel, seq)] == [("channel.created", "social-de")]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"countries": ["DE", "XX"]}, [("countries", "not an ISO 3166-1 alpha-2 code: 'XX'")]),
        ({"countries": []}, [("countries", "name at least one country"),
                             ("policy.sources.DE", "not one of the channel's countries")]),
        ({"currency": "EURO"}, [("currency", "not an ISO 4217 code: 'EURO'")]),
        ({"kind": "fax"}, [("kind", "one of marketplace, web_store, pos, social, b2b")]),
        ({"name": " "}, [("name", "must not be empty")]),
        ({"code": "-x"}, [("code", "1-64 letters, digits or ._- starting alphanumeric")]),
        ({"policy": {"sources": {"DE": {"locations": ["NOPE"], "groups": ["ghost"]}}}},
         [("policy.sources.DE.locations", "unknown location 'NOPE'"),
          ("policy.sources.DE.groups", "unknown location group 'ghost'")]),
        ({"policy": {"sources": {"DE": {"locations": [WH_DE]}}, "allocation_pct": 120}},
         [("policy.allocation_pct", "must be a number from 0 to 100")]),
    ],
    ids=["country", "no-countries", "currency", "kind", "name", "code", "unknown-sources", "pct"],
)  # fmt: skip
def test_invalid_channel_is_refused_and_nothing_written(
    keel: Keel, world: World, change: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as info:
        keel.channels.create(CreateChannel(**{**NEW_CHANNEL, **change}))
    assert [(e.field, e.reason) for e in info.value.errors] == errors
    assert snapshot(keel) == before


def test_channel_update_list_and_deactivate(keel: Keel, world: World) -> None:
    seq = last_seq(keel)
    updated = keel.channels.update(
        "pos-fr", {"name": "Boutiques FR", "policy": {"sources": {"FR": {"locations": [WH_FR]}}}}
    )
    assert updated.name == "Boutiques FR"
    assert updated.policy.sources == {"FR": Sources((WH_FR,), ())}
    assert keel.channels.deactivate("pos-fr").active is False
    assert [(e.type, e.data["fields"]) for e in events_after(keel, seq)] == [
        ("channel.updated", ["name", "policy"]),
        ("channel.updated", ["active"]),
    ]
    assert [c.code for c in keel.channels.list(active=True)[0]] == ["market-eu", "web-de"]
    assert [c.code for c in keel.channels.list(country="fr")[0]] == ["market-eu", "pos-fr"]
    assert keel.channels.list(kind="marketplace")[1] == 1
    assert [c.code for c in keel.channels.list(limit=1, offset=1)[0]] == ["pos-fr"]


def test_channel_update_errors_change_nothing(keel: Keel, world: World) -> None:
    before = snapshot(keel)
    with pytest.raises(ValidationFailed):
        keel.channels.update("web-de", {"countries": ["FR"]})  # the DE source no longer fits
    with pytest.raises(ValidationFailed) as info:
        keel.channels.update("web-de", {"active": "yes"})
    assert info.value.errors == [FieldError(None, "active", "must be true or false")]
    with pytest.raises(NotFound, match="channel 'ghost' does not exist"):
        keel.channels.update("ghost", {"name": "x"})
    with pytest.raises(Conflict):
        keel.channels.create(CreateChannel(**{**NEW_CHANNEL, "code": "web-de"}))
    assert snapshot(keel) == before
