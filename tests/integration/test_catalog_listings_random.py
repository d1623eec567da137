"""Random sequences of catalog writes (targets joining and leaving listing groups, products with and without
channel overrides, batches, families with channel requirements, profile changes, the 0014 schema round trip)
checked after every step against an independent build of every channel's listing one by one: the stored
listings, the ``listing.changed`` events, the readiness counts and the feeds must all agree with it."""

from __future__ import annotations

import random
from typing import Any

import pytest
from alembic import command

from keel.bootstrap import Keel
from keel.catalog.model import parse_product
from keel.catalog.model.listings import validate
from keel.catalog.model.profiles import family_results
from keel.catalog.model.syndicate import build_payload
from keel.platform import migrate
from tests.support import events_after, last_seq
from tests.support_catalog import FAMILY, channels, seed

CHANNELS = ["c1", "c2", "c3", "c4"]
TARGETS = [
    {"profile": "web-store", "locale": "de"},
    {"profile": "web-store", "locale": "en"},
    {"profile": "google-merchant", "locale": "de"},
    {"profile": "strict", "locale": "de", "mapping": {"title": {"source": "title", "truncate": 6}, "size2": "size"}},
    {"profile": "web-store", "locale": "de", "mapping": {"title": {"source": "title", "truncate": 3}}},
]
RULES = [
    {"id": "title-required", "field": "title", "check": "required", "message": "t"},
    {"id": "size-required", "field": "size", "check": "required", "message": "s"},
    {"id": "size2-one", "field": "size2", "check": "one_of", "values": ["S"], "message": "s2"},
    {"id": "gtin-required", "field": "gtin", "check": "required", "message": "g"},
    {"id": "title-short", "field": "title", "check": "length", "max": 4, "message": "l"},
    {"id": "link-url", "field": "link", "check": "required", "message": "u"},
]
Listed = dict[tuple[str, str], tuple[str, tuple[tuple[str, str, str], ...], dict[str, Any]]]


def profile(rng: random.Random) -> dict[str, Any]:
    rules = rng.sample(RULES, k=rng.randint(1, len(RULES)))
    return {"code": "strict", "label": "Strict", "fields": {"gtin": "@gtin"}, "truncatable": ["title"], "rules": rules}


def product(rng: random.Random, code: str) -> dict[str, Any]:
    values: list[dict[str, Any]] = [{"attribute": "title", "locale": "de", "value": rng.choice(["T-Shirt", "Hemd"])}]
    if rng.random() < 0.5:
        values.append({"attribute": "title", "locale": "en", "value": "Tee"})
    values.append({"attribute": "price", "value": {"amount": "19.90", "currency": "EUR"}})
    values.append({"attribute": "description", "locale": "de", "value": "Weich."})
    if rng.random() < 0.5:
        values.append({"attribute": "link", "value": "https://shop.example/x"})
    for c in CHANNELS:
        if rng.random() < 0.2:
            values.append({"attribute": "title", "locale": rng.choice(["de", "en"]), "channel": c, "value": f"T {c}"})
    variants: list[dict[str, Any]] = [{"sku": f"{code}-S", "values": [{"attribute": "size", "value": "S"}]}]
    if rng.random() < 0.3:
        variants[0]["values"].append({"attribute": "size", "channel": rng.choice(CHANNELS), "value": "L"})
    if code == "P1" and rng.random() < 0.5:
        variants[0]["gtin"] = "4006381333931"
    if rng.random() < 0.7:
        sized = [{"attribute": "size", "value": "M"}] if rng.random() < 0.6 else []
        variants.append({"sku": f"{code}-M", "values": sized})
    media = [{"url": "https://cdn.example/x.jpg"}] if rng.random() < 0.7 else []
    return {"code": code, "family": "apparel", "brand": "Acme", "categories": ["tops"], "values": values,
            "variants": variants, "media": media}  # fmt: skip


def expected(keel: Keel) -> Listed:
    """Every channel's listing of every SKU, built one by one without listing groups."""
    with keel.db.read() as conn:
        syndication = keel.catalog._syndication(conn)
    families = {f.code: f for f in keel.catalog.families()}
    out: Listed = {}
    for view in keel.catalog.products(limit=1000)[0]:
        found, _ = parse_product(view.document, families)
        assert found is not None
        family = families[found.family]
        for t in syndication.targets:
            checked = syndication.profiles[t.profile]
            for v in found.variants:
                payload = build_payload(t, checked, found, v, family)
                failed = family_results(found, v, family, t.channel, t.locale)
                reasons = [(r.rule, r.field, r.message) for r in failed if not r.passed]
                reasons += [(r.rule, r.field, r.message) for r in validate(checked, payload)]
                out[(t.channel, v.sku)] = ("blocked" if reasons else "ready", tuple(reasons), payload)
    return out


def stored(keel: Keel) -> Listed:
    views, total = keel.catalog.listings(limit=100_000)
    assert total == len(views)
    return {
        (v.channel, v.sku): (v.state.value, tuple((r.rule, r.field, r.message) for r in v.reasons), v.payload)
        for v in views
    }


def step(keel: Keel, rng: random.Random) -> tuple[Any, ...]:
    """One random write; returns what it was (for the failure message)."""
    op = rng.choice(["target", "product", "batch", "product", "family", "profile", "migrate"])
    if op == "target":
        channel, doc = rng.choice(CHANNELS), rng.choice(TARGETS)
        keel.catalog.put_target(channel, doc)
        return ("target", channel, doc)
    if op == "product":
        doc = product(rng, rng.choice(["P1", "P2", "P3"]))
        keel.catalog.put_product(doc, source="test")
        return ("product", doc["code"])
    if op == "batch":
        keel.catalog.save_batch([product(rng, c) for c in ("P1", "P2", "P3")], source="test")
        return ("batch",)
    if op == "migrate":  # down to one row per channel and SKU and up again: listings kept as channels' own
        cfg = migrate._config(keel.db)
        with keel.db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0013")
        migrate.upgrade(keel.db)
        return ("migrate",)
    if op == "profile":
        keel.catalog.put_profile(profile(rng))
        return ("profile",)
    required: dict[str, list[str]] = {"*": ["title"]}
    for c in CHANNELS:
        if rng.random() < 0.3:
            required[c] = rng.sample(["link", "size", "weight"], k=rng.randint(1, 2))
    keel.catalog.put_family(FAMILY | {"required": required})
    return ("family", required)


@pytest.mark.parametrize("seed_", [1, 2, 3])
def test_random_writes_keep_every_channels_listing_events_counts_and_feed_exact(keel: Keel, seed_: int) -> None:
    rng = random.Random(seed_)
    seed(keel)
    channels(keel, *CHANNELS)
    keel.catalog.put_profile(profile(rng))
    for n in range(30):
        before, seq = stored(keel), last_seq(keel)
        what = step(keel, rng)
        now = stored(keel)
        assert now == expected(keel), (n, what)
        changed = {
            k: now[k][0] if k in now else "removed" for k in before.keys() | now.keys() if before.get(k) != now.get(k)
        }
        announced = {
            (c, x["sku"]): x["state"]
            for e in events_after(keel, seq, {"listing.changed"})
            for x in e.data["listings"]
            for c in x["channels"]
        }
        assert announced == changed, (n, what)
        for board in keel.catalog.readiness():
            states = [s for (c, _), (s, _, _) in now.items() if c == board.channel]
            assert (board.ready, board.blocked) == (states.count("ready"), states.count("blocked")), (n, what)
            feed = keel.catalog.feed(board.channel, keel.availability, page=2)
            assert (feed.listings, feed.blocked) == (len(states), board.blocked), (n, what)
            for _ in feed.items:
                pass
            assert (feed.stats.listings, feed.stats.ready) == (len(states), board.ready), (n, what)
