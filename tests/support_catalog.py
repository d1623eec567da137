"""Catalog fixtures' data: a family, a category and product documents the catalog tests share."""

from __future__ import annotations

import copy
from typing import Any

from keel.bootstrap import Keel
from keel.catalog import Category
from keel.channels import CreateChannel

FAMILY: dict[str, Any] = {
    "code": "apparel",
    "label": "Apparel",
    "attributes": [
        {"code": "title", "type": "text", "localised": True, "max_length": 150},
        {"code": "description", "type": "text", "localised": True},
        {"code": "weight", "type": "number", "units": ["g", "kg"]},
        {"code": "price", "type": "money"},
        {"code": "link", "type": "url"},
        {"code": "size", "type": "enum", "options": ["S", "M", "L"], "variant": True},
    ],
    "required": {"*": ["title"], "google": ["price", "link"]},
}


def tee(code: str = "TEE", title: str = "T-Shirt", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "code": code,
        "family": "apparel",
        "brand": "Acme",
        "categories": ["tops"],
        "values": [
            {"attribute": "title", "locale": "de", "value": title},
            {"attribute": "price", "value": {"amount": "19.90", "currency": "EUR"}},
        ],
        "variants": [
            {"sku": f"{code}-S", "gtin": "4006381333931", "values": [{"attribute": "size", "value": "S"}]},
            {"sku": f"{code}-M", "values": [{"attribute": "size", "value": "M"}]},
        ],
        "media": [],
    }
    doc.update(copy.deepcopy(changes))
    return doc


def seed(keel: Keel) -> None:
    """The apparel family and the ``tops`` category under ``clothing``."""
    keel.catalog.put_family(FAMILY, source="test")
    keel.catalog.put_category(Category("clothing", "Clothing"), source="test")
    keel.catalog.put_category(Category("tops", "Tops", "clothing"), source="test")


def channels(keel: Keel, *codes: str) -> None:
    """Register bare channels (a web store in DE, no stock sources) so the catalog may set targets on them."""
    for code in codes:
        keel.channels.create(CreateChannel(code, f"Channel {code}", "web_store", ("DE",), "EUR"))


def shelf(keel: Keel, web: str, market: str) -> None:
    """Products for the catalog pages and feeds: TEE complete for a web store and for Google but for the
    availability a feed fills in (two revisions: its German title changed), CAP without a description or a
    condition, both listed on ``web`` (web-store, de) and ``market`` (google-merchant, de)."""
    seed(keel)
    attributes = [*FAMILY["attributes"], {"code": "condition", "type": "enum", "options": ["new", "used"]}]
    keel.catalog.put_family({**FAMILY, "attributes": attributes}, source="test")
    image = [{"url": "https://cdn.example/tee.jpg", "kind": "image", "alt": "front"}]
    values = [
        {"attribute": "title", "locale": "de", "value": "T-Shirt"},
        {"attribute": "title", "locale": "en", "value": "Tee"},
        {"attribute": "description", "locale": "de", "value": "Weiches Baumwoll-T-Shirt."},
        {"attribute": "price", "value": {"amount": "19.90", "currency": "EUR"}},
        {"attribute": "link", "value": "https://shop.example/tee"},
        {"attribute": "weight", "value": {"amount": "180", "unit": "g"}},
        {"attribute": "condition", "value": "new"},
    ]
    variants = [
        {"sku": "TEE-S", "gtin": "4006381333931", "values": [{"attribute": "size", "value": "S"}]},
        {"sku": "TEE-M", "mpn": "T-100-M", "values": [{"attribute": "size", "value": "M"}]},
    ]
    keel.catalog.put_product(tee(values=values, media=image, variants=variants), source="test")
    edited = copy.deepcopy(values)
    edited[0]["value"] = "Bio-T-Shirt"
    keel.catalog.put_product(tee(values=edited, media=image, variants=variants), source="test")
    cap = tee("CAP", "Kappe", media=image, brand="Brimco")
    cap["variants"] = [{"sku": "CAP-1", "gtin": "5901234123457", "values": [{"attribute": "size", "value": "M"}]}]
    keel.catalog.put_product(cap, source="test")
    keel.catalog.put_target(web, {"profile": "web-store", "locale": "de"}, source="test")
    keel.catalog.put_target(market, {"profile": "google-merchant", "locale": "de"}, source="test")
