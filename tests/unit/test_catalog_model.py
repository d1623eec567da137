"""The catalog's pure model: GTIN check digits and prefixes, attribute types, families, products, diffs, files."""

from __future__ import annotations

from typing import Any

import pytest

from keel.catalog.model import (
    AttributeType,
    Change,
    GtinFlag,
    check_digit,
    check_gtin,
    diff,
    outside_channels,
    override_channel,
    parse_family,
    parse_product,
    product_document,
    resolve,
)
from keel.catalog.model.files import read_csv, read_ndjson, write_csv

# Published examples: GS1's own GTIN-13 example, a UPC-A on a retail pack, ISBN-13 barcodes, a GTIN-8 and a
# GTIN-14 of a case (indicator digit 1).
VALID = {
    "4006381333931": (),  # Stabilo pen, the example on the Wikipedia EAN-13 page
    "036000291452": (),  # UPC-A of the GS1 US check-digit example
    "9780306406157": (),  # ISBN 978-0-306-40615-7 (ISBN-13 example)
    "96385074": (),  # EAN-8 example
    "10614141000415": (),  # GS1 US GTIN-14 example (case of 0614141000418)
    "0614141000418": (),
    "2012345000001": (GtinFlag.RESTRICTED,),  # in-store variable-measure number, prefix 20-29
    "0212345000007": (GtinFlag.RESTRICTED,),  # UPC number system 2 (prefix 02)
    "0412345000001": (GtinFlag.RESTRICTED,),  # prefix 04: company-internal
    "0512345000008": (GtinFlag.COUPON,),  # prefix 05: coupons
    "9812345000000": (GtinFlag.COUPON,),  # prefix 98
    "9912345000007": (GtinFlag.COUPON,),  # prefix 99
    "20123451": (GtinFlag.RESTRICTED,),  # RCN-8: GTIN-8 starting 2
}
INVALID = {
    "4006381333932": "check digit 2 is wrong; expected 1",
    "036000291453": "check digit 3 is wrong; expected 2",
    "400638133393": "check digit 3 is wrong; expected 0",  # a GTIN-13 with its check digit dropped
    "12345": "5 digits; a GTIN has 8, 12, 13 or 14",
    "400638133393A": "only digits",
    "\uff14\uff10\uff10\uff16\uff13\uff18\uff11\uff13\uff13\uff13\uff19\uff13\uff11": "only digits",  # full-width
    "": "only digits",
}


@pytest.mark.parametrize(("text", "flags"), VALID.items())
def test_valid_gtins_and_their_prefix_flags(text: str, flags: tuple[GtinFlag, ...]) -> None:
    check = check_gtin(text)
    assert (check.valid, check.reason, check.flags) == (True, None, flags)
    assert check.tradable == (flags == ())


@pytest.mark.parametrize(("text", "reason"), INVALID.items())
def test_invalid_gtins_say_why(text: str, reason: str) -> None:
    check = check_gtin(text)
    assert (check.valid, check.reason, check.tradable) == (False, reason, False)


def test_check_digit_weights_alternate_from_the_right() -> None:
    assert check_digit("400638133393") == 1
    assert check_digit("03600029145") == 2
    assert check_digit("9638507") == 4


FAMILY: dict[str, Any] = {
    "code": "apparel",
    "label": "Apparel",
    "attributes": [
        {"code": "title", "type": "text", "localised": True, "max_length": 150},
        {"code": "weight", "type": "number", "units": ["g", "kg"]},
        {"code": "organic", "type": "boolean"},
        {"code": "fit", "type": "enum", "options": ["slim", "regular"]},
        {"code": "materials", "type": "list"},
        {"code": "price", "type": "money"},
        {"code": "link", "type": "url"},
        {"code": "swatch", "type": "image"},
        {"code": "size", "type": "enum", "options": ["S", "M", "L"], "variant": True},
    ],
    "required": {"*": ["title"], "google": ["price", "link"]},
}


def family() -> Any:
    found, errors = parse_family(FAMILY)
    assert errors == []
    return found


def product(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "code": "TEE",
        "family": "apparel",
        "brand": "Acme",
        "categories": ["tops"],
        "values": [
            {"attribute": "title", "locale": "de", "value": "T-Shirt"},
            {"attribute": "title", "locale": "de", "channel": "google", "value": "Baumwoll-T-Shirt"},
            {"attribute": "weight", "value": {"amount": "180", "unit": "g"}},
            {"attribute": "organic", "value": True},
            {"attribute": "fit", "value": "slim"},
            {"attribute": "materials", "value": ["cotton", "elastane"]},
            {"attribute": "price", "value": {"amount": "19.90", "currency": "EUR"}},
            {"attribute": "link", "value": "https://shop.example/tee"},
            {"attribute": "swatch", "value": "https://cdn.example/tee.png"},
        ],
        "variants": [
            {"sku": "TEE-S", "gtin": "4006381333931", "values": [{"attribute": "size", "value": "S"}]},
            {"sku": "TEE-M", "mpn": "T-100-M", "values": [{"attribute": "size", "value": "M"}]},
        ],
        "media": [{"url": "https://cdn.example/tee.jpg", "alt": "front"}],
    }
    doc.update(changes)
    return doc


def test_a_family_defines_typed_attributes_and_per_channel_requirements() -> None:
    f = family()
    assert [a.type for a in f.attributes][:8] == list(AttributeType)
    assert f.required_on("google") == ("title", "price", "link")
    assert f.required_on("amazon") == ("title",)


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"attributes": [{"code": "x", "type": "colour"}]}, "attributes[0].type", "one of text, number"),
        ({"attributes": [{"code": "x", "type": "enum"}]}, "attributes[0].options", "an enum needs its options"),
        ({"attributes": [{"code": "x", "type": "text", "units": ["cm"]}]}, "attributes[0].units", "only a number"),
        ({"required": {"*": ["nope"]}}, "required.*", "'nope' is not an attribute"),
        ({"attributes": [{"code": "x", "type": "text"}, {"code": "x", "type": "url"}]}, "attributes[1].code", "twice"),
    ],
)
def test_a_bad_family_names_the_field(change: dict[str, Any], field: str, reason: str) -> None:
    found, errors = parse_family(FAMILY | change)
    assert found is None
    assert any(f == field and reason in r for f, r in errors), errors


def test_a_product_reads_back_to_the_same_document() -> None:
    parsed, errors = parse_product(product(), {"apparel": family()}, frozenset({"tops"}))
    assert errors == [] and parsed is not None
    again, _ = parse_product(product_document(parsed), {"apparel": family()})
    assert again == parsed
    assert parsed.skus == ("TEE-S", "TEE-M")


def test_a_channel_override_wins_over_the_common_value_and_falls_back() -> None:
    parsed, _ = parse_product(product(), {"apparel": family()})
    assert parsed is not None
    title = family().attribute("title")
    assert resolve(parsed.values, title, "de", "google") == "Baumwoll-T-Shirt"
    assert resolve(parsed.values, title, "de", "amazon") == "T-Shirt"
    assert resolve(parsed.values, title, "fr", None) is None


def value(attribute: str, v: Any, **extra: Any) -> dict[str, Any]:
    return product(values=[{"attribute": attribute, "value": v, **extra}])


@pytest.mark.parametrize(
    ("doc", "field", "reason"),
    [
        (product(family="shoes"), "family", "unknown family 'shoes'"),
        (value("weight", "180g"), "values[0].value", "weight (number): a number with its unit"),
        (value("weight", {"amount": "180", "unit": "lb"}), "values[0].value", "unit: one of g, kg"),
        (value("organic", "yes"), "values[0].value", "organic (boolean): true or false"),
        (value("fit", "baggy"), "values[0].value", "one of slim, regular"),
        (value("price", {"amount": "-1", "currency": "EUR"}), "values[0].value", "not negative"),
        (value("price", {"amount": "1", "currency": "euro"}), "values[0].value", "ISO 4217"),
        (value("link", "javascript:alert(1)"), "values[0].value", "an http(s) URL"),
        (value("materials", []), "values[0].value", "a list of 1 to 200 texts"),
        (value("title", "x"), "values[0].locale", "title is localised"),
        (value("organic", True, locale="de"), "values[0].locale", "organic is not localised"),
        (value("title", "x" * 151, locale="de"), "values[0].value", "151 characters; at most 150"),
        (value("size", "S"), "values[0].attribute", "size is set on each variant"),
        (value("colour", "red"), "values[0].attribute", "not an attribute of family apparel"),
        (product(variants=[{"sku": "A", "gtin": "4006381333932"}]), "variants[0].gtin", "check digit 2 is wrong"),
        (product(variants=[{"sku": "A"}, {"sku": "A"}]), "variants[1].sku", "A is given twice"),
        (product(variants=[]), "variants", "a list of 1 to 500 variants"),
        (product(categories=["shoes"]), "categories", "unknown category 'shoes'"),
        (product(media=[{"url": "ftp://x/y.jpg"}]), "media[0]", "an http(s) url"),
        (product(colour="red"), "colour", "not a field of a product"),
    ],
)
def test_a_bad_product_names_the_field_and_the_reason(doc: dict[str, Any], field: str, reason: str) -> None:
    parsed, errors = parse_product(doc, {"apparel": family()}, frozenset({"tops"}))
    assert parsed is None
    assert any(f == field and reason in r for f, r in errors), errors


def test_a_diff_names_each_changed_path() -> None:
    before = product()
    after = product(brand="Acme Co")
    after["values"] = [v for v in after["values"] if v["attribute"] != "fit"]
    after["variants"] = [*after["variants"][:1], {"sku": "TEE-L", "values": [{"attribute": "size", "value": "L"}]}]
    changes = {c.path: (c.before, c.after) for c in diff(before, after)}
    assert changes == {
        "brand": ("Acme", "Acme Co"),
        "values.fit": ("slim", None),
        "variants.TEE-M": (1, None),
        "variants.TEE-M.mpn": ("T-100-M", None),
        "variants.TEE-M.values.size": ("M", None),
        "variants.TEE-L": (None, 1),
        "variants.TEE-L.values.size": (None, "L"),
    }
    assert diff(before, before) == ()


CSV_HEADER = "product,family,sku,brand,categories,gtin,mpn,media,title@de,title@de#google,weight,organic,size\n"


def test_csv_rows_become_one_document_per_product() -> None:
    text = CSV_HEADER + (
        "TEE,apparel,TEE-S,Acme,tops,4006381333931,,https://cdn.example/a.jpg,T-Shirt,Shirt,180 g,yes,S\n"
        "TEE,apparel,TEE-M,Acme,tops,,T-100-M,https://cdn.example/a.jpg,T-Shirt,Shirt,180 g,yes,M\n"
    )
    rows, errors = read_csv(text, {"apparel": family()})
    assert errors == []
    assert [(row, doc["code"], [v["sku"] for v in doc["variants"]]) for row, doc in rows] == [
        (2, "TEE", ["TEE-S", "TEE-M"])
    ]
    parsed, problems = parse_product(rows[0][1], {"apparel": family()})
    assert problems == [] and parsed is not None
    back, _ = read_csv("".join(write_csv([product_document(parsed)])), {"apparel": family()})
    assert parse_product(back[0][1], {"apparel": family()})[0] == parsed


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('TEE,apparel,TEE-S,,,,,,"unclosed,,,,\n', (2, "", "broken CSV")),
        ("TEE,apparel,TEE-S,,,,,,x,,,maybe,S\n", (2, "organic", "true or false")),
        ("TEE,shoes,TEE-S,,,,,,,,,,S\n", (2, "family", "unknown family 'shoes'")),
        ("TEE,apparel,TEE-S,,,,,," + "x" * 70_000 + ",,,,S\n", (2, "title@de", "a cell over 65536 characters")),
        ("TEE,apparel,TEE-S,,,,,,x,,,\n", (2, "", "12 cells; the header has 13")),
        ("TEE,apparel,TEE-S,A,,,,,x,,,,S\nTEE,apparel,TEE-M,B,,,,,x,,,,M\n", (3, "product", "differ from row 2")),
    ],
)
def test_bad_csv_rows_are_named(body: str, problem: tuple[int, str, str]) -> None:
    _, errors = read_csv(CSV_HEADER + body, {"apparel": family()})
    assert any(e[:2] == problem[:2] and problem[2] in e[2] for e in errors), errors


def test_ndjson_lines_that_are_not_json_are_named() -> None:
    docs, errors = read_ndjson('{"code": "A"}\n\n{"code": \n')
    assert [row for row, _ in docs] == [1]
    assert [(row, field) for row, field, _ in errors] == [(3, "")]


def test_only_values_overridden_for_the_callers_channels_are_theirs_to_change() -> None:
    assert override_channel("values.title@de#shop") == "shop"
    assert override_channel("variants.TEE-M.values.size#shop") == "shop"
    for path in ("values.title@de", "brand", "media", "variants.TEE-M", "variants.TEE-M.gtin", "variants.A#B"):
        assert override_channel(path) is None, path
    changes = tuple(
        Change(p, None, 1)
        for p in (
            "brand",
            "values.title@de",
            "values.title@de#google",
            "values.title@de#shop",
            "variants.S.values.size#shop",
        )
    )
    assert outside_channels(changes, frozenset({"shop"})) == [
        ("brand", "shows on every channel"),
        ("values.title@de", "shows on every channel"),
        ("values.title@de#google", "the override for channel google, outside your restrictions"),
    ]
    assert outside_channels(changes, frozenset({"shop", "google"})) == [
        ("brand", "shows on every channel"),
        ("values.title@de", "shows on every channel"),
    ]
