"""The feed writers on awkward values: tabs and line breaks in a TSV cell, markup in RSS, availability from a
listed quantity, and values laid out for the catalog pages."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

from keel.catalog import FeedItem, show, write_csv, write_rss, write_tsv
from keel.catalog.model.feeds import availability, lasting_rules, with_availability
from keel.catalog.model.overview import title_of, value_rows
from keel.catalog.service import shipped_profiles

ITEM = FeedItem(
    "google",
    "TEE-S",
    "TEE",
    3,
    {"title": "Tee <b>&</b>", "description": "line one\nline\ttwo", "price": {"amount": "9.50", "currency": "EUR"}},
)


def test_tsv_cells_hold_no_tab_or_line_break() -> None:
    lines = "".join(write_tsv([ITEM])).splitlines()
    assert len(lines) == 2
    row = dict(zip(lines[0].split("\t"), lines[1].split("\t"), strict=True))
    assert (row["id"], row["item_group_id"], row["description"], row["price"]) == (
        "TEE-S",
        "TEE",
        "line one line two",
        "9.50 EUR",
    )


def test_rss_escapes_markup_and_csv_quotes() -> None:
    root = ET.fromstring("".join(write_rss("a&b", "/feed", [ITEM])))
    assert root.findtext("channel/title") == "a&b"
    assert root.findtext("channel/item/{http://base.google.com/ns/1.0}title") == "Tee <b>&</b>"
    rows = list(csv.DictReader(io.StringIO("".join(write_csv([ITEM])))))
    assert (rows[0]["quantity"], rows[0]["title"]) == ("3", "Tee <b>&</b>")
    assert list(csv.DictReader(io.StringIO("".join(write_csv([]))))) == []


def test_availability_follows_the_listed_quantity() -> None:
    assert [availability(2, False), availability(0, True), availability(0, False)] == [
        "in_stock",
        "backorder",
        "out_of_stock",
    ]
    assert with_availability({"availability": "preorder"}, 0, False) == {"availability": "out_of_stock", "quantity": 0}


def test_values_per_locale_and_readable_values() -> None:
    doc = {
        "values": [
            {"attribute": "title", "locale": "de", "value": "Hemd"},
            {"attribute": "title", "locale": "fr", "value": "Chemise"},
            {"attribute": "title", "locale": "de", "channel": "google", "value": "Bio-Hemd"},
            {"attribute": "weight", "value": {"amount": "0.2", "unit": "kg"}},
        ],
        "variants": [{"sku": "H-1", "values": [{"attribute": "organic", "value": True}]}],
    }
    locales, rows = value_rows(doc)
    assert locales == ("de", "fr")
    assert [(r.attribute, r.level, r.values, r.overrides) for r in rows] == [
        ("title", "product", {"de": "Hemd", "fr": "Chemise"}, (("google", "de", "Bio-Hemd"),)),
        ("weight", "product", {"": "0.2 kg"}, ()),
        ("organic", "H-1", {"": "yes"}, ()),
    ]
    assert (title_of(doc, "fr"), title_of(doc, "ja"), title_of({}, "de")) == ("Chemise", "Hemd", None)
    assert (show(["a", "b"]), show(None), show({"amount": "5", "currency": "EUR"})) == ("a, b", "\N{EN DASH}", "5 EUR")


def test_only_reasons_no_availability_can_lift_count_as_left_out_before_streaming() -> None:
    google = shipped_profiles()["google-merchant"]
    stored = [
        ["availability-required", "availability", "Say whether ..."],  # the feed fills availability in
        ["availability_date-required", "availability_date", "A preorder ..."],  # applies only on availability
        ["description-required", "description", "Add a description."],
        ["family:required:price", "price", "Add a price."],
        ["retired-rule", "title", "a rule the profile no longer has"],
    ]
    assert lasting_rules(stored, google) == ["description-required", "family:required:price"]
    assert lasting_rules(stored[:2], google) == []
