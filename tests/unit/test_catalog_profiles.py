"""Every rule of every shipped compliance profile, passing and failing; profiles as data; completeness."""

from __future__ import annotations

from typing import Any

import pytest

from keel.catalog.model import parse_family, parse_product
from keel.catalog.model.profiles import Listing, Rule, check_rule, evaluate, parse_profile
from keel.catalog.service import shipped_profiles

PROFILES = shipped_profiles()
RULES = [(p.code, r) for p in PROFILES.values() for r in p.rules]
# Pattern rules need an example of each side; every other check's sides follow from its parameters.
PATTERNS = {
    "textile-fibre-format": ("80% cotton, 20% polyester", "cotton and some polyester"),
    "cosmetics-cpnp-format": ("1234567", "CPNP-12"),
    "sku-format": ("TEE-S", "TEE S!"),
}


class Fields(Listing):
    """A listing whose fields are given as they are, to put each rule on its own."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields

    def get(self, name: str, *, direct: bool = False) -> Any:
        return self.fields.get(name)


def sides(rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fields that pass ``rule`` and fields that fail it (its ``when`` met on both sides)."""
    f = rule.field
    match rule.check:
        case "required":
            good, bad = {f: "x"}, {}
        case "any_of":
            good, bad = {rule.fields[-1]: "x"}, {}
        case "length":
            good, bad = {f: "x" * (rule.min or 1)}, {f: "x" * ((rule.max or 0) + 1)}
        case "one_of":
            good, bad = {f: rule.values[0]}, {f: "something else"}
        case "pattern":
            good, bad = {f: PATTERNS[rule.id][0]}, {f: PATTERNS[rule.id][1]}
        case "url":
            good, bad = {f: "https://shop.example/p/1"}, {f: "shop.example/p 1"}
        case "gtin":
            good, bad = {f: "4006381333931"}, {f: "4006381333932"}
        case "gtin_tradable":
            good, bad = {f: "4006381333931"}, {f: "2012345000001"}
        case "positive":
            good, bad = {f: {"amount": "0.01", "currency": "EUR"}}, {f: {"amount": "0", "currency": "EUR"}}
        case "equals":
            good, bad = {f: rule.value}, {f: not rule.value}
        case "percent_total":
            good, bad = {f: "60% cotton, 40% wool"}, {f: "60% cotton, 30% wool"}
        case _:
            raise AssertionError(f"no sides for check {rule.check}")
    if rule.when_field is not None:
        good[rule.when_field] = bad[rule.when_field] = rule.when_in[0]
    return good, bad


def test_four_profiles_are_shipped() -> None:
    assert sorted(PROFILES) == ["eu-product-law", "google-merchant", "marketplace-listings", "web-store"]
    assert all(p.shipped for p in PROFILES.values())


@pytest.mark.parametrize(("profile", "rule"), RULES, ids=[f"{p}:{r.id}" for p, r in RULES])
def test_every_shipped_rule_passes_and_fails(profile: str, rule: Rule) -> None:
    good, bad = sides(rule)
    assert check_rule(rule, Fields(good)) is True
    assert check_rule(rule, Fields(bad)) is False
    assert rule.message.strip() and rule.message != "ok"
    if rule.when_field is not None:  # a conditional rule says nothing about listings outside its condition
        assert check_rule(rule, Fields({**bad, rule.when_field: "something else"})) is None


def test_google_merchant_asks_a_preorder_for_its_date_only() -> None:
    rule = next(r for r in PROFILES["google-merchant"].rules if r.id == "availability_date-required")
    assert check_rule(rule, Fields({"availability": "in_stock"})) is None
    assert check_rule(rule, Fields({"availability": "backorder"})) is False
    assert check_rule(rule, Fields({"availability": "preorder", "availability_date": "2026-12-24"})) is True


FAMILY = {
    "code": "apparel",
    "label": "Apparel",
    "attributes": [
        {"code": "title", "type": "text", "localised": True},
        {"code": "description", "type": "text", "localised": True},
        {"code": "link", "type": "url"},
        {"code": "price", "type": "money"},
        {"code": "availability", "type": "enum", "options": ["in_stock", "out_of_stock", "preorder", "backorder"]},
        {"code": "availability_date", "type": "text"},
        {"code": "condition", "type": "enum", "options": ["new", "used", "refurbished"]},
        {"code": "regulated_category", "type": "enum", "options": ["textile", "cosmetic", "toy"]},
        {"code": "fibre_composition", "type": "text", "localised": True},
        {"code": "manufacturer", "type": "text"},
    ],
    "required": {"*": ["title"], "google": ["link"]},
}


LOCALISED = ("title", "description", "fibre_composition")


def listing_product(**values: Any) -> dict[str, Any]:
    texts = {k: values.pop(k) for k in LOCALISED if k in values}
    common: dict[str, Any] = {
        "link": "https://shop.example/tee",
        "price": {"amount": "19.90", "currency": "EUR"},
        "availability": "in_stock",
        "condition": "new",
        "regulated_category": "textile",
        "manufacturer": "Acme GmbH, Hauptstr. 1, 10115 Berlin",
    } | values
    localised = {"title": "T-Shirt", "description": "Ein T-Shirt aus Baumwolle.", "fibre_composition": "100% Baumwolle"}
    items = [{"attribute": k, "value": v} for k, v in common.items() if v is not None]
    items += [{"attribute": k, "locale": "de", "value": v} for k, v in (localised | texts).items() if v is not None]
    return {
        "code": "TEE",
        "family": "apparel",
        "brand": "Acme",
        "values": items,
        "variants": [{"sku": "TEE-S", "gtin": "4006381333931"}, {"sku": "TEE-M", "mpn": "T-100-M"}],
        "media": [{"url": "https://cdn.example/tee.jpg"}],
    }


def check(profile: str, doc: dict[str, Any], channel: str | None = "google", locale: str | None = "de") -> Any:
    family, _ = parse_family(FAMILY)
    assert family is not None
    product, errors = parse_product(doc, {"apparel": family})
    assert errors == [] and product is not None
    return evaluate(PROFILES[profile], product, family, channel, locale)


def test_a_complete_product_passes_google_merchant_and_eu_law_in_its_locale() -> None:
    report = check("google-merchant", listing_product())
    assert (report.passed, report.score) == (True, 100.0), report.failures
    assert check("eu-product-law", listing_product()).passed
    # the same product in a locale it has no text for: title and description are missing on both variants
    french = check("google-merchant", listing_product(), locale="fr")
    failed = sorted({(r.rule, r.field) for r in french.failures})
    assert failed == [
        ("description-required", "description"),
        ("family:required:title", "title"),
        ("title-required", "title"),
    ]
    assert french.score == round(100 * (len(french.results) - 6) / len(french.results), 1)


def test_planted_gaps_fail_their_rules_with_field_and_message() -> None:
    report = check(
        "google-merchant",
        listing_product(availability="preorder", link=None, condition=None),
    )
    failed = {(r.sku, r.rule): r.message for r in report.failures}
    assert sorted(failed) == [
        ("TEE-M", "availability_date-required"),
        ("TEE-M", "condition-required"),
        ("TEE-M", "family:required:link"),
        ("TEE-M", "link-required"),
        ("TEE-S", "availability_date-required"),
        ("TEE-S", "condition-required"),
        ("TEE-S", "family:required:link"),
        ("TEE-S", "link-required"),
    ]
    assert failed[("TEE-S", "family:required:link")] == "The family apparel requires link on this channel."
    eu = check("eu-product-law", listing_product(fibre_composition="70% Baumwolle, 20% Polyester"))
    assert sorted({r.rule for r in eu.failures}) == ["textile-fibre-total"]


def test_a_user_profile_is_checked_like_a_shipped_one() -> None:
    doc = {
        "code": "our-shop",
        "fields": {"id": "@sku"},
        "rules": [{"id": "id-short", "field": "id", "check": "length", "max": 4, "message": "Use short SKUs."}],
    }
    profile, errors = parse_profile(doc)
    assert errors == [] and profile is not None and not profile.shipped
    bad, problems = parse_profile(doc | {"rules": [{"id": "x", "check": "length", "field": "id", "message": "m"}]})
    assert bad is None and problems == [("rules[0].max", "a length rule needs min or max")]
    nope, problems = parse_profile(doc | {"rules": [{"id": "x", "check": "spell", "field": "id", "message": "m"}]})
    assert nope is None and problems[0][0] == "rules[0].check"
