"""Syndication in the pure model: payloads through a channel's mapping, transforms, validation shared between
channels whose payloads are equal."""

from __future__ import annotations

from typing import Any

import pytest

from keel.catalog.model import listings as model
from keel.catalog.model import parse_family, parse_product
from keel.catalog.model.listings import ListingState, build_payload, listing_states, parse_target
from keel.catalog.service import shipped_profiles

PROFILES = shipped_profiles()
FAMILY, _ = parse_family(
    {
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
)


def product(**values: Any) -> Any:
    doc = {
        "code": "TEE",
        "family": "apparel",
        "values": [
            {"attribute": "title", "locale": "de", "value": values.get("title", "T-Shirt aus Baumwolle")},
            {"attribute": "description", "locale": "de", "value": "Weich."},
            {"attribute": "price", "value": {"amount": "19.90", "currency": "EUR"}},
            {"attribute": "weight", "value": {"amount": "180", "unit": "g"}},
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


def test_one_edit_sets_every_channels_state_and_equal_payloads_are_validated_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = model.validate

    def counting(profile: Any, payload: dict[str, Any]) -> Any:
        calls.append(profile.code)
        return real(profile, payload)

    monkeypatch.setattr(model, "validate", counting)
    targets = [
        target("shop-de", {"profile": "web-store", "locale": "de"}),
        target("shop-at", {"profile": "web-store", "locale": "de"}),
        target("google-de", {"profile": "google-merchant", "locale": "de"}),
    ]
    views = listing_states(product(), FAMILY, targets, PROFILES)
    states = {(v.channel, v.sku): v.state for v in views}
    assert states == {
        ("shop-de", "TEE-S"): ListingState.READY,
        ("shop-at", "TEE-S"): ListingState.READY,
        ("google-de", "TEE-S"): ListingState.BLOCKED,
        ("shop-de", "TEE-M"): ListingState.READY,
        ("shop-at", "TEE-M"): ListingState.READY,
        ("google-de", "TEE-M"): ListingState.BLOCKED,
    }
    # two variants x two distinct payloads (the shops share theirs: the payload names the SKU, not the channel)
    assert sorted(calls) == ["google-merchant", "google-merchant", "web-store", "web-store"]
    google = next(v for v in views if v.channel == "google-de")
    assert {r.rule for r in google.reasons} >= {"link-required", "availability-required", "gtin-or-mpn"}


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
    assert model.completeness(french, FAMILY, mapped, PROFILES["web-store"]) == 100.0
    # the family's title and the profile's seven rules: all but description-required pass
    assert model.completeness(french, FAMILY, plain, PROFILES["web-store"]) == round(100 * 7 / 8, 1)
    assert (
        model.completeness(tee, FAMILY, target("shop", {"profile": "web-store", "locale": "de"}), PROFILES["web-store"])
        == 100.0
    )
