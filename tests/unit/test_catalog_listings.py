"""Syndication in the pure model: payloads through a channel's mapping, transforms, validation shared between
channels whose payloads are equal."""

from __future__ import annotations

from typing import Any

import pytest

from keel.catalog.model import parse_family, parse_product, syndicate
from keel.catalog.model.listings import ListingState, parse_target
from keel.catalog.model.syndicate import build_payload, listing_states
from keel.catalog.service import shipped_profiles

PROFILES = shipped_profiles()


def family_doc() -> dict[str, Any]:
    return {
        "code": "apparel",
        "label": "Apparel",
        "attributes": [
            {"code": "title", "type": "text", "localised": True},
            {"code": "description", "type": "text", "localised": True},
            {"code": "price", "type": "money"},
            {"code": "weight", "type": "number", "units": ["g", "kg"]},
        ],
        "required": {"*": ["title"]},
    }


FAMILY, _ = parse_family(family_doc())


def product(**values: Any) -> Any:
    doc = {
        "code": "TEE",
        "family": "apparel",
        "values": [
            {"attribute": "title", "locale": "de", "value": values.get("title", "T-Shirt aus Baumwolle")},
            {"attribute": "description", "locale": "de", "value": "Weich."},
            {"attribute": "price", "value": {"amount": "19.90", "currency": "EUR"}},
            {"attribute": "weight", "value": {"amount": "180", "unit": "g"}},
            *values.get("extra", []),
        ],
        "variants": [{"sku": "TEE-S"}, {"sku": "TEE-M"}],
        "media": [{"url": "https://cdn.example/tee.jpg"}],
    }
    assert FAMILY is not None
    parsed, errors = parse_product(doc, {"apparel": FAMILY})
    assert errors == []
    return parsed


def target(channel: str, doc: dict[str, Any]) -> Any:
    found, errors = parse_target(channel, doc, PROFILES)
    assert errors == []
    return found


def test_a_mapping_converts_units_and_truncates_where_the_profile_allows() -> None:
    shop = target(
        "shop", {"profile": "web-store", "locale": "de", "mapping": {
            "title": {"source": "title", "truncate": 7},
            "shipping_weight": {"source": "weight", "unit": "kg"},
        }},
    )  # fmt: skip
    payload = build_payload(shop, PROFILES["web-store"], product(), product().variants[0], FAMILY)
    assert payload["title"] == "T-Shirt"
    assert payload["shipping_weight"] == {"amount": "0.18", "unit": "kg"}
    assert payload["sku"] == "TEE-S" and payload["image"] == "https://cdn.example/tee.jpg"


@pytest.mark.parametrize(
    ("doc", "field", "reason"),
    [
        ({"profile": "google-merchant", "mapping": {"title": {"source": "title", "truncate": 10}}},
         "mapping.title.truncate", "profile google-merchant does not let title be truncated"),
        ({"profile": "nope"}, "profile", "unknown profile 'nope'"),
        ({"profile": "web-store", "mapping": {"w": {"source": "weight", "unit": "stone"}}}, "mapping.w.unit", "one of"),
        ({"profile": "web-store", "locale": "German"}, "locale", "a locale"),
    ],
)  # fmt: skip
def test_a_bad_target_names_the_field(doc: dict[str, Any], field: str, reason: str) -> None:
    found, errors = parse_target("shop", doc, PROFILES)
    assert found is None
    assert any(f == field and reason in r for f, r in errors), errors


def test_channels_with_equal_targets_share_one_listing_built_and_validated_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = syndicate.plan

    def counting(target: Any, profile: Any, family: Any, channel: Any, *keys: Any) -> Any:
        calls.append(profile.code)
        return real(target, profile, family, channel, *keys)

    monkeypatch.setattr(syndicate, "plan", counting)
    shop_de = target("shop-de", {"profile": "web-store", "locale": "de"})
    shop_at = target("shop-at", {"profile": "web-store", "locale": "de"})
    google = target("google-de", {"profile": "google-merchant", "locale": "de"})
    assert shop_de.group == shop_at.group != google.group
    rows = listing_states(product(), FAMILY, [shop_de, shop_at, google], PROFILES)
    states = {(r.group, r.channel, r.sku): r.state for r in rows}
    assert states == {
        (shop_de.group, "", "TEE-S"): ListingState.READY,
        (shop_de.group, "", "TEE-M"): ListingState.READY,
        (google.group, "", "TEE-S"): ListingState.BLOCKED,
        (google.group, "", "TEE-M"): ListingState.BLOCKED,
    }
    # one plan per listing group (the shops share theirs), each building both variants' listings
    assert sorted(calls) == ["google-merchant", "web-store"]
    blocked = next(r for r in rows if r.group == google.group)
    assert {r.rule for r in blocked.reasons} >= {"link-required", "availability-required", "gtin-or-mpn"}


def test_a_channel_gets_its_own_listing_where_the_product_differs_there() -> None:
    shop_de = target("shop-de", {"profile": "web-store", "locale": "de"})
    shop_at = target("shop-at", {"profile": "web-store", "locale": "de"})
    tee = product(extra=[{"attribute": "title", "locale": "de", "channel": "shop-at", "value": "T-Shirt (AT)"}])
    rows = listing_states(tee, FAMILY, [shop_de, shop_at], PROFILES)
    assert sorted((r.channel, r.sku, r.payload["title"]) for r in rows) == [
        ("", "TEE-M", "T-Shirt aus Baumwolle"),
        ("", "TEE-S", "T-Shirt aus Baumwolle"),
        ("shop-at", "TEE-M", "T-Shirt (AT)"),
        ("shop-at", "TEE-S", "T-Shirt (AT)"),
    ]
    # a family that requires more on one channel gives that channel its own listing, blocked for it alone
    strict, errors = parse_family({**family_doc(), "required": {"*": ["title"], "shop-de": ["weight", "description"]}})
    assert errors == []
    title = {"attribute": "title", "locale": "de", "value": "X"}
    bare = parse_product({"code": "X", "family": "apparel", "values": [title], "variants": [{"sku": "X-1"}]},
                         {"apparel": strict})[0]  # fmt: skip
    rows = listing_states(bare, strict, [shop_de, shop_at], PROFILES)
    own = [r for r in rows if r.channel == "shop-de"]
    assert [r.rule for r in own[0].reasons if r.rule.startswith("family:")] == [
        "family:required:weight",
        "family:required:description",
    ]
    assert not any(r.rule.startswith("family:") for r in next(r for r in rows if r.channel == "").reasons)
    # a product that has what the channel requires shares its group's listing there
    weight = {"attribute": "weight", "value": {"amount": "180", "unit": "g"}}
    description = {"attribute": "description", "locale": "de", "value": "Weich."}
    full = parse_product({"code": "X", "family": "apparel", "values": [title, weight, description],
                          "variants": [{"sku": "X-1"}]}, {"apparel": strict})[0]  # fmt: skip
    assert {r.channel for r in listing_states(full, strict, [shop_de, shop_at], PROFILES)} == {""}


def test_completeness_reads_the_fields_through_the_targets_mapping() -> None:
    # given a web store that takes its "description" from the title / then the product, without a description
    # of its own in that locale, is complete there as the channel receives it; without the mapping it is not
    tee = product()
    assert FAMILY is not None
    mapped = target("shop", {"profile": "web-store", "locale": "fr", "mapping": {"description": "title"}})
    plain = target("shop", {"profile": "web-store", "locale": "fr"})
    french = parse_product(
        {
            "code": "TEE",
            "family": "apparel",
            "values": [
                {"attribute": "title", "locale": "fr", "value": "T-shirt"},
                {"attribute": "price", "value": {"amount": "19.90", "currency": "EUR"}},
            ],
            "variants": [{"sku": "TEE-S"}],
            "media": [{"url": "https://cdn.example/tee.jpg"}],
        },
        {"apparel": FAMILY},
    )[0]
    assert french is not None
    assert syndicate.completeness(french, FAMILY, mapped, PROFILES["web-store"]) == 100.0
    # the family's title and the profile's seven rules: all but description-required pass
    assert syndicate.completeness(french, FAMILY, plain, PROFILES["web-store"]) == round(100 * 7 / 8, 1)
    assert (
        syndicate.completeness(
            tee, FAMILY, target("shop", {"profile": "web-store", "locale": "de"}), PROFILES["web-store"]
        )
        == 100.0
    )
