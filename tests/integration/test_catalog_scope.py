"""Product writes under a channel restriction, on both databases: a caller restricted to some channels changes
only the values overridden for those channels; anything that shows on every channel (common values, brand,
media, categories, variants, a new product) is refused whole, through every write path (one product, a
batch, a file, a revert), and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.platform.scope import OutOfScope, Scope
from tests.support import snapshot
from tests.support_catalog import channels, seed, tee

SHOP = Scope.of(["shop"], None)  # a merchandiser restricted to the channel shop


def shop_title(shop: str, common: str = "T-Shirt", **changes: Any) -> dict[str, Any]:
    """TEE with its German title ``common``, overridden for shop (``shop``) and for google."""
    doc = tee(title=common, **changes)
    doc["values"] += [
        {"attribute": "title", "locale": "de", "channel": "google", "value": "T-Shirt bei Google"},
        {"attribute": "title", "locale": "de", "channel": "shop", "value": shop},
    ]
    return doc


def errors(exc: pytest.ExceptionInfo[OutOfScope]) -> list[tuple[Any, str, str]]:
    return [(e["row"], e["field"], e["reason"]) for e in exc.value.extra["errors"]]


@pytest.fixture
def shelf(keel: Keel) -> Keel:
    """TEE with overrides for shop and google, both channels registered and listing it."""
    seed(keel)
    channels(keel, "shop", "google")
    keel.catalog.put_target("shop", {"profile": "web-store", "locale": "de"})
    keel.catalog.put_target("google", {"profile": "web-store", "locale": "de"})
    keel.catalog.put_product(shop_title("Shop-Shirt"), source="test")
    return keel


def test_a_restricted_caller_changes_their_channels_overrides_and_only_their_listings(shelf: Keel) -> None:
    keel = shelf
    google_before = keel.catalog.listings("google")[0]
    # a product-level and a variant-level override for shop
    doc = shop_title("Neues Shop-Shirt")
    doc["variants"][1]["values"].append({"attribute": "size", "channel": "shop", "value": "L"})
    saved = keel.catalog.put_product(doc, source="api", scope=SHOP)
    assert (saved.revision, saved.changed) == (2, True)
    assert [(c.path, c.before, c.after) for c in saved.changes] == [
        ("values.title@de#shop", "Shop-Shirt", "Neues Shop-Shirt"),
        ("variants.TEE-M.values.size#shop", None, "L"),
    ]
    assert keel.catalog.listings("google")[0] == google_before  # the other channel's listings are untouched
    shop = {v.sku: v.payload["title"] for v in keel.catalog.listings("shop")[0]}
    assert shop == {"TEE-M": "Neues Shop-Shirt", "TEE-S": "Neues Shop-Shirt"}
    # the same document again is no change, so no refusal either
    assert keel.catalog.put_product(doc, source="api", scope=SHOP).changed is False
    # an override removed is a change of that channel's value too
    assert keel.catalog.put_product(shop_title("Neues Shop-Shirt"), scope=SHOP).changes[0].path == (
        "variants.TEE-M.values.size#shop"
    )


@pytest.mark.parametrize(
    ("case", "doc", "expected"),
    [
        ("common value", shop_title("Shop-Shirt", "Shirt"), [("values.title@de", "TEE: shows on every channel")]),
        ("brand", shop_title("Shop-Shirt", brand="Other"), [("brand", "TEE: shows on every channel")]),
        (
            "media",
            shop_title("Shop-Shirt", media=[{"url": "https://cdn.example/x.jpg"}]),
            [("media", "TEE: shows on every channel")],
        ),
        (
            "categories",
            shop_title("Shop-Shirt", categories=["clothing"]),
            [("categories", "TEE: shows on every channel")],
        ),
        (
            "variant",
            shop_title("Shop-Shirt", variants=tee()["variants"][:1]),
            [
                ("variants.TEE-M", "TEE: shows on every channel"),
                ("variants.TEE-M.values.size", "TEE: shows on every channel"),
            ],
        ),
        ("new product", tee("HAT"), [("code", "HAT is a new product, which shows on every channel")]),
    ],
)
def test_anything_that_shows_on_every_channel_is_refused_and_changes_nothing(
    shelf: Keel, case: str, doc: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    before = snapshot(shelf)
    with pytest.raises(OutOfScope) as refused:
        shelf.catalog.put_product(doc, source="api", scope=SHOP)
    assert errors(refused) == [(None, field, reason) for field, reason in expected], case
    assert refused.value.status == 403
    assert str(refused.value).startswith("your restrictions (channels shop) let you change only values overridden")
    assert snapshot(shelf) == before


def test_another_channels_override_is_refused(shelf: Keel) -> None:
    doc = shop_title("Shop-Shirt")
    doc["values"][2]["value"] = "Google-Shirt"
    before = snapshot(shelf)
    with pytest.raises(OutOfScope) as refused:
        shelf.catalog.put_product(doc, scope=SHOP)
    assert errors(refused) == [
        (None, "values.title@de#google", "TEE: the override for channel google, outside your restrictions")
    ]
    assert snapshot(shelf) == before


def test_a_batch_and_a_file_are_refused_whole_with_their_rows(shelf: Keel) -> None:
    cap = tee("CAP", variants=[{"sku": "CAP-1", "values": [{"attribute": "size", "value": "M"}]}])
    shelf.catalog.put_product(cap, source="test")
    before = snapshot(shelf)
    allowed = shop_title("Anders")
    with pytest.raises(OutOfScope) as refused:
        shelf.catalog.save_batch([allowed, tee("HAT")], source="import", scope=SHOP)
    assert errors(refused) == [(2, "code", "HAT is a new product, which shows on every channel")]
    text = "\n".join(json.dumps(d) for d in (allowed, cap | {"brand": "Other"}))
    with pytest.raises(OutOfScope) as refused:
        shelf.catalog.import_file(text, "ndjson", scope=SHOP)
    assert errors(refused) == [(2, "brand", "CAP: shows on every channel")]
    assert snapshot(shelf) == before
    # the file with only the override changed goes in
    report = shelf.catalog.import_file(json.dumps(allowed), "ndjson", scope=SHOP)
    assert (report.updated, shelf.catalog.product("TEE").revision) == (1, 2)


def test_a_revert_is_refused_when_it_touches_what_every_channel_shows(shelf: Keel) -> None:
    keel = shelf
    keel.catalog.put_product(shop_title("Zweites Shop-Shirt"), source="test")  # revision 2: shop's override
    keel.catalog.put_product(shop_title("Zweites Shop-Shirt", brand="Acme Co"), source="test")  # 3: the brand
    before = snapshot(keel)
    with pytest.raises(OutOfScope) as refused:
        keel.catalog.revert("TEE", 1, scope=SHOP)
    assert errors(refused) == [(None, "brand", "TEE: shows on every channel")]
    assert snapshot(keel) == before
    keel.catalog.put_product(shop_title("Zweites Shop-Shirt"), source="test")  # 4: the brand back
    reverted = keel.catalog.revert("TEE", 1, scope=SHOP)  # only shop's override differs from revision 1
    assert (reverted.revision, [c.path for c in reverted.changes]) == (5, ["values.title@de#shop"])


def test_a_country_restriction_does_not_cut_products(keel: Keel) -> None:
    seed(keel)
    saved = keel.catalog.put_product(tee(), source="api", scope=Scope.of(None, ["DE"]))
    assert (saved.revision, saved.changed) == (1, True)
