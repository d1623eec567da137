"""The catalog's use cases on both databases: revisions with every write, history, diff, revert, as-of reads,
bulk files all or nothing, and refusals that change nothing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from keel.bootstrap import Keel
from keel.catalog import PRODUCT_CHANGED, Category, ListingState
from keel.platform.actor import Actor, acting_as
from keel.platform.errors import NotFound, PayloadTooLarge, ValidationFailed
from tests.support import events_after, last_seq, snapshot
from tests.support_catalog import FAMILY, channels, seed, tee


def reasons(exc: ValidationFailed) -> list[tuple[int | None, str, str]]:
    return [(e.row, e.field, e.reason) for e in exc.errors]


def test_every_change_makes_a_revision_with_its_author_source_diff_and_event(keel: Keel) -> None:
    seed(keel)
    seq = last_seq(keel)
    with acting_as(Actor("merch-1", "Merch", "api", request_id="req-1")):
        first = keel.catalog.put_product(tee(), source="api")
        second = keel.catalog.put_product(tee(title="T-Shirt Bio"), source="cli")
        same = keel.catalog.put_product(tee(title="T-Shirt Bio"), source="api")
    assert (first.revision, first.changed, second.revision, second.changed) == (1, True, 2, True)
    assert (same.revision, same.changed, same.changes) == (2, False, ())
    assert [(c.path, c.before, c.after) for c in second.changes] == [("values.title@de", "T-Shirt", "T-Shirt Bio")]
    history, total = keel.catalog.history("TEE")
    assert total == 2
    assert [(r.number, r.author, r.via, r.source) for r in history] == [
        (2, "merch-1", "api", "cli"),
        (1, "merch-1", "api", "api"),
    ]
    assert history[0].changes == second.changes
    events = events_after(keel, seq, {PRODUCT_CHANGED})
    assert [(e.subject, e.data["revision"], e.data["changed"], e.actor) for e in events] == [
        ("catalog/products/TEE", 1, [c.path for c in first.changes], "merch-1"),
        ("catalog/products/TEE", 2, ["values.title@de"], "merch-1"),
    ]
    assert events[0].data["skus"] == ["TEE-S", "TEE-M"]


def test_diff_revert_and_reading_as_of_a_time(keel: Keel) -> None:
    seed(keel)
    keel.catalog.put_product(tee(), source="api")
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    keel.catalog.put_product(tee(title="Shirt", brand="Acme Co"), source="api")
    assert {c.path: (c.before, c.after) for c in keel.catalog.diff("TEE", 1, 2)} == {
        "brand": ("Acme", "Acme Co"),
        "values.title@de": ("T-Shirt", "Shirt"),
    }
    assert {c.path: c.after for c in keel.catalog.diff("TEE", 2, 1)} == {"brand": "Acme", "values.title@de": "T-Shirt"}
    then = keel.catalog.product("TEE", as_of=between)
    assert (then.revision, then.document["brand"]) == (1, "Acme")
    assert keel.catalog.product("TEE").document["brand"] == "Acme Co"
    with pytest.raises(NotFound, match="did not exist"):
        keel.catalog.product("TEE", as_of=datetime(2000, 1, 1, tzinfo=UTC))
    reverted = keel.catalog.revert("TEE", 1, source="api")
    assert (reverted.revision, reverted.changed) == (3, True)
    assert keel.catalog.product("TEE").document == keel.catalog.revision("TEE", 1).document
    assert keel.catalog.history("TEE")[0][0].source == "revert:1"
    assert keel.catalog.revert("TEE", 1).changed is False  # already so: no revision
    with pytest.raises(NotFound):
        keel.catalog.diff("TEE", 1, 9)


def test_a_sku_belongs_to_one_product(keel: Keel) -> None:
    seed(keel)
    keel.catalog.put_product(tee(), source="api")
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as refused:
        keel.catalog.put_product(tee("POLO", variants=[{"sku": "TEE-S"}]), source="api")
    assert reasons(refused.value) == [(None, "variants", "SKU TEE-S belongs to TEE")]
    assert snapshot(keel) == before
    # a variant moves once its product lets go of it
    keel.catalog.put_product(tee(variants=[{"sku": "TEE-M"}]), source="api")
    assert keel.catalog.put_product(tee("POLO", variants=[{"sku": "TEE-S"}]), source="api").revision == 1


def test_a_family_change_that_would_break_stored_products_is_refused(keel: Keel) -> None:
    seed(keel)
    keel.catalog.put_product(tee(), source="api")
    narrower = FAMILY | {"attributes": [a for a in FAMILY["attributes"] if a["code"] != "price"]}
    narrower["required"] = {"*": ["title"]}
    with pytest.raises(ValidationFailed) as refused:
        keel.catalog.put_family(narrower)
    assert reasons(refused.value)[0][1:] == ("TEE.values[0].attribute", "not an attribute of family apparel")
    assert keel.catalog.put_family(FAMILY) == keel.catalog.family("apparel")  # the same again: a no-op


def test_categories_form_a_tree_without_cycles(keel: Keel) -> None:
    seed(keel)
    with pytest.raises(ValidationFailed, match="cycle"):
        keel.catalog.put_category(Category("clothing", "Clothing", "tops"))
    with pytest.raises(ValidationFailed, match="unknown parent"):
        keel.catalog.put_category(Category("shoes", "Shoes", "nowhere"))
    assert [(c.code, c.parent) for c in keel.catalog.categories()] == [("clothing", None), ("tops", "clothing")]


CSV = (
    "product,family,sku,brand,categories,gtin,title@de,price,size\n"
    "TEE,apparel,TEE-S,Acme,tops,4006381333931,T-Shirt,19.90 EUR,S\n"
    "TEE,apparel,TEE-M,Acme,tops,,T-Shirt,19.90 EUR,M\n"
    "POLO,apparel,POLO-M,Acme,tops,,Polo,29 EUR,M\n"
)


def test_a_csv_import_is_idempotent_and_a_changed_row_makes_one_revision(keel: Keel) -> None:
    seed(keel)
    seen: list[tuple[int, int]] = []
    first = keel.catalog.import_file(CSV, "csv", progress=lambda done, total: seen.append((done, total)))
    assert (first.rows, first.products, first.created, first.updated, first.unchanged) == (3, 2, 2, 0, 0)
    assert seen == [(2, 2)]
    seq = last_seq(keel)
    again = keel.catalog.import_file(CSV, "csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert last_seq(keel) == seq  # no revision, no event
    changed = keel.catalog.import_file(CSV.replace("Polo,29 EUR", "Polo Shirt,29 EUR"), "csv")
    assert (changed.updated, changed.unchanged) == (1, 1)
    assert [r.source for r in keel.catalog.history("POLO")[0]] == ["import", "import"]
    exported = "".join(keel.catalog.export_file("ndjson"))
    assert [json.loads(line)["code"] for line in exported.splitlines()] == ["POLO", "TEE"]
    assert keel.catalog.import_file(exported, "ndjson").unchanged == 2
    assert keel.catalog.import_file("".join(keel.catalog.export_file("csv")), "csv").unchanged == 2


HOSTILE = {
    "unknown family": ("csv", CSV.replace("POLO,apparel", "POLO,shoes"), (4, "family", "unknown family 'shoes'")),
    "wrong type": ("csv", CSV.replace("29 EUR", "cheap"), (4, "values[1].value", "price (money)")),
    "invalid gtin": ("csv", CSV.replace("4006381333931", "4006381333932"), (2, "variants[0].gtin", "check digit")),
    "duplicate sku": ("csv", CSV.replace("POLO-M", "TEE-M"), (4, "variants", "SKU TEE-M is also in row 2")),
    "broken quoting": ("csv", CSV.replace("Polo,", '"Polo,'), (4, "", "broken CSV")),
    "1 MB value": ("csv", CSV.replace("Polo,", "P" * 1_000_000 + ","), (4, "", "a cell over 65536")),
    "1 MB ndjson value": (
        "ndjson",
        json.dumps(tee(title="T" * 1_000_000)) + "\n",
        (1, "values[0].value", "title (text): 1000000 characters; at most 150"),
    ),
    "NUL": ("ndjson", json.dumps(tee(title="T\x00")) + "\n", (1, "", "must not contain NUL characters")),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_file_is_refused_with_its_row_and_changes_nothing(keel: Keel, case: str) -> None:
    seed(keel)
    keel.catalog.import_file(CSV, "csv")
    before = snapshot(keel)
    fmt, text, (row, field, reason) = HOSTILE[case]
    with pytest.raises(ValidationFailed) as refused:
        keel.catalog.import_file(text, fmt)
    assert any(e.row == row and e.field == field and reason in e.reason for e in refused.value.errors), reasons(
        refused.value
    )
    assert "nothing was saved" in refused.value.detail
    assert snapshot(keel) == before


def test_a_batch_over_the_limit_is_refused(keel_factory: object) -> None:
    small = keel_factory(max_batch=1)  # type: ignore[operator]
    seed(small)
    with pytest.raises(PayloadTooLarge):
        small.catalog.import_file(CSV, "csv")


def test_one_edit_updates_every_channels_listing_state_in_its_transaction(keel: Keel) -> None:
    seed(keel)
    channels(keel, "shop", "google")
    keel.catalog.put_product(tee(), source="api")
    seq = last_seq(keel)
    keel.catalog.put_target("shop", {"profile": "web-store", "locale": "de"})
    keel.catalog.put_target("google", {"profile": "google-merchant", "locale": "de"})
    listed, total = keel.catalog.listings()
    assert total == 4
    assert {(v.channel, v.sku, v.state.value) for v in listed} == {
        ("google", "TEE-S", "blocked"),
        ("google", "TEE-M", "blocked"),
        ("shop", "TEE-S", "blocked"),
        ("shop", "TEE-M", "blocked"),
    }
    shop = next(v for v in listed if v.channel == "shop")
    assert {r.rule for r in shop.reasons} == {"description-required", "image-required"}
    assert [e.type for e in events_after(keel, seq)].count("listing.changed") == 2  # one per target set
    seq = last_seq(keel)
    fixed = tee(media=[{"url": "https://cdn.example/tee.jpg"}])
    fixed["values"].append({"attribute": "description", "locale": "de", "value": "Weich und fair."})
    keel.catalog.put_product(fixed, source="api")
    ready, _ = keel.catalog.listings("shop", ListingState.READY)
    assert [(v.sku, v.revision) for v in ready] == [("TEE-M", 2), ("TEE-S", 2)]
    changed = events_after(keel, seq, {"listing.changed"})
    assert [e.data["listings"] for e in changed] == [
        [
            {"sku": "TEE-M", "state": "blocked", "channels": ["google"]},
            {"sku": "TEE-M", "state": "ready", "channels": ["shop"]},
            {"sku": "TEE-S", "state": "blocked", "channels": ["google"]},
            {"sku": "TEE-S", "state": "ready", "channels": ["shop"]},
        ]
    ]
    board = {r.channel: r for r in keel.catalog.readiness()}
    assert (board["shop"].ready, board["shop"].blocked) == (2, 0)
    assert (board["google"].ready, board["google"].blocked) == (0, 2)
    assert board["google"].top_reasons[0][1] == 2
    # a variant dropped from the product leaves every channel
    keel.catalog.put_product(fixed | {"variants": fixed["variants"][:1]}, source="api")
    assert {(v.channel, v.sku) for v in keel.catalog.listings()[0]} == {("google", "TEE-S"), ("shop", "TEE-S")}
    # a re-sent document changes no listing and announces nothing
    seq = last_seq(keel)
    keel.catalog.put_product(fixed | {"variants": fixed["variants"][:1]}, source="api")
    assert last_seq(keel) == seq


def test_channels_with_equal_targets_share_listings_and_a_channel_differs_only_where_the_product_does(
    keel: Keel,
) -> None:
    seed(keel)
    channels(keel, "shop", "shop-at")
    fixed = tee(media=[{"url": "https://cdn.example/tee.jpg"}])
    fixed["values"].append({"attribute": "description", "locale": "de", "value": "Weich und fair."})
    keel.catalog.put_product(fixed, source="api")
    keel.catalog.put_target("shop", {"profile": "web-store", "locale": "de"})
    seq = last_seq(keel)
    # a second channel with the same target joins the listing group: it lists what the first one does
    keel.catalog.put_target("shop-at", {"profile": "web-store", "locale": "de"})
    [joined] = events_after(keel, seq, {"listing.changed"})
    assert joined.data["listings"] == [
        {"sku": "TEE-M", "state": "ready", "channels": ["shop-at"]},
        {"sku": "TEE-S", "state": "ready", "channels": ["shop-at"]},
    ]
    listed = {(v.channel, v.sku): v for v in keel.catalog.listings(limit=10)[0]}
    assert set(listed) == {("shop", "TEE-M"), ("shop", "TEE-S"), ("shop-at", "TEE-M"), ("shop-at", "TEE-S")}
    assert listed["shop", "TEE-S"].payload == listed["shop-at", "TEE-S"].payload
    # an override for one channel changes that channel's listing alone, and only that channel is announced
    seq = last_seq(keel)
    fixed["values"].append({"attribute": "title", "locale": "de", "channel": "shop-at", "value": "Shirt (AT)"})
    keel.catalog.put_product(fixed, source="api")
    [edit] = events_after(keel, seq, {"listing.changed"})
    assert [x["channels"] for x in edit.data["listings"]] == [["shop-at"], ["shop-at"]]
    at = {v.sku: v.payload["title"] for v in keel.catalog.listings("shop-at")[0]}
    de = {v.sku: v.payload["title"] for v in keel.catalog.listings("shop")[0]}
    assert at == {"TEE-M": "Shirt (AT)", "TEE-S": "Shirt (AT)"} and de["TEE-S"] != "Shirt (AT)"
    assert keel.catalog.detail("TEE").listings[2].payload["title"] == "Shirt (AT)"  # by channel: shop-at second
    # counts and the feed read per channel: each of the two sees two listings
    board = {r.channel: (r.ready, r.blocked) for r in keel.catalog.readiness()}
    assert board == {"shop": (2, 0), "shop-at": (2, 0)}
    # moving a channel to another target rebuilds it alone; the group it left keeps its other channel
    seq = last_seq(keel)
    keel.catalog.put_target("shop", {"profile": "google-merchant", "locale": "de"})
    [moved] = events_after(keel, seq, {"listing.changed"})
    assert {(x["sku"], x["state"]) for x in moved.data["listings"]} == {("TEE-M", "blocked"), ("TEE-S", "blocked")}
    assert {x for e in moved.data["listings"] for x in e["channels"]} == {"shop"}
    board = {r.channel: (r.ready, r.blocked) for r in keel.catalog.readiness()}
    assert board == {"shop": (0, 2), "shop-at": (2, 0)}
    # the override removed: shop-at shows its group's listing again
    fixed["values"].pop()
    keel.catalog.put_product(fixed, source="api")
    assert {v.payload["title"] for v in keel.catalog.listings("shop-at")[0]} == {"T-Shirt"}


def test_a_family_or_profile_change_rebuilds_the_listings_it_affects(keel: Keel) -> None:
    seed(keel)
    channels(keel, "shop", "feed")
    fixed = tee(media=[{"url": "https://cdn.example/tee.jpg"}])
    fixed["values"].append({"attribute": "description", "locale": "de", "value": "Weich und fair."})
    keel.catalog.put_product(fixed, source="api")
    keel.catalog.put_target("shop", {"profile": "web-store", "locale": "de"})
    assert {v.state for v in keel.catalog.listings("shop")[0]} == {ListingState.READY}
    # a family that now requires the weight blocks the listings of its products, in the same transaction
    seq = last_seq(keel)
    keel.catalog.put_family(FAMILY | {"required": {"*": ["title", "weight"], "google": ["price", "link"]}})
    blocked = keel.catalog.listings("shop")[0]
    assert {v.state for v in blocked} == {ListingState.BLOCKED}
    assert {r.rule for v in blocked for r in v.reasons} == {"family:required:weight"}
    assert [e.type for e in events_after(keel, seq)] == ["catalog.family_changed", "listing.changed"]
    # a user-defined profile's rules, changed, re-check the channels that use it
    rule = {"id": "link-required", "field": "link", "check": "required", "message": "A link to the product."}
    keel.catalog.put_profile({"code": "strict", "label": "Strict", "rules": [rule]})
    keel.catalog.put_target("feed", {"profile": "strict", "locale": "de"})
    assert {r.rule for v in keel.catalog.listings("feed")[0] for r in v.reasons} >= {"link-required"}
    lenient = {"id": "title-required", "field": "title", "check": "required", "message": "A title."}
    keel.catalog.put_profile({"code": "strict", "label": "Strict", "rules": [lenient]})
    assert {r.rule for v in keel.catalog.listings("feed")[0] for r in v.reasons} == {"family:required:weight"}
    assert {v.state for v in keel.catalog.listings("shop")[0]} == {ListingState.BLOCKED}  # untouched


def test_a_profile_change_that_would_break_a_target_is_refused(keel: Keel) -> None:
    seed(keel)
    channels(keel, "shop")
    rule = {"id": "title-required", "field": "title", "check": "required", "message": "A title."}
    keel.catalog.put_profile({"code": "short", "label": "Short", "rules": [rule], "truncatable": ["title"]})
    cut = {"title": {"source": "title", "truncate": 10}}
    keel.catalog.put_target("shop", {"profile": "short", "locale": "de", "mapping": cut})
    with pytest.raises(ValidationFailed) as refused:
        keel.catalog.put_profile({"code": "short", "label": "Short", "rules": [rule]})
    assert [(e.field, e.reason) for e in refused.value.errors] == [
        ("targets.shop.mapping.title.truncate", "profile short does not let title be truncated")
    ]
    assert keel.catalog.profile("short").truncatable == ("title",)  # unchanged
