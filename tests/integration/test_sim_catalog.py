"""The twin's catalogue in the catalog, through the services: loaded with its planted gaps as blocked listings,
and the live stream's content edits leaving revisions and listing changes."""

from __future__ import annotations

import pytest

from keel.bootstrap import Keel
from keel.catalog import ListingState, ListingView
from keel.sim import content, edits
from keel.sim.catalog import issues
from keel.sim.load import load_catalog, load_world
from keel.sim.stream import HOUR, Stream
from keel.sim.world import Scale, generate
from tests.support import events_after, last_seq

WORLD = generate(5, Scale(skus=150, channels=50))
CODES = [content.product_code(sku) for sku in WORLD.skus]


def listings(keel: Keel) -> dict[tuple[str, str], ListingView]:
    found: dict[tuple[str, str], ListingView] = {}
    while True:
        page, total = keel.catalog.listings(limit=1000, offset=len(found))
        found |= {(v.channel, v.sku): v for v in page}
        if not page or len(found) >= total:
            return found


def test_loading_the_twin_lists_its_products_with_the_planted_gaps(keel: Keel) -> None:
    # given the twin loaded / then every SKU is a product listed on every channel
    stages: list[str] = []
    load_world(keel, WORLD, lambda stage, _done, _total: stages.append(stage))
    assert "catalog" in stages
    assert keel.catalog.products(limit=1)[1] == len(WORLD.skus)
    found = listings(keel)
    assert len(found) == len(WORLD.skus) * len(WORLD.channels)
    board = keel.catalog.readiness()
    assert sum(r.ready + r.blocked for r in board) == len(found)
    blocked = sum(r.blocked for r in board)
    assert 0 < blocked < len(found) / 4  # the planted share, not the whole catalogue
    # and each planted gap blocks where it should, for its reason; clean products are ready everywhere
    twin, images = content.twin_products(WORLD), content.images(WORLD)
    cases = {"clean": 0, "fibre": 0, "in-store gtin": 0, "missing": 0}
    for p, image in zip(twin, images, strict=True):
        problems = issues(p)
        states = {ch: found[(ch, p.sku)] for ch in (c["code"] for c in WORLD.channels)}
        reasons = {ch: {r.rule for r in v.reasons} for ch, v in states.items()}
        if not problems and image:
            cases["clean"] += 1
            assert all(v.state is ListingState.READY for v in states.values())
        elif problems == ["regulated:fibre_composition"] and image:
            cases["fibre"] += 1
            assert reasons["web-de"] == {"family:required:fibre_composition"}
            assert {"family:required:fibre_composition", "textile-fibre-required"} <= reasons["b2b-eu"]
            assert states["web-us"].state is ListingState.READY and states["market-jp"].state is ListingState.READY
        elif problems == ["gtin"] and image:
            cases["in-store gtin"] += 1
            assert reasons["market-de"] == {"identifier-tradable"} and reasons["social-2"] == {"gtin-tradable"}
            assert states["web-de"].state is ListingState.READY
        elif len(problems) == 1 and problems[0].startswith("missing:") and image:
            attr = content.RENAMED.get(problems[0][8:], problems[0][8:])
            if attr not in ("brand", "gtin"):  # the product's own fields: the profiles ask for them
                cases["missing"] += 1
                assert all(f"family:required:{attr}" in r for r in reasons.values())
    assert all(cases.values()), cases


def test_loading_the_catalogue_again_changes_nothing(keel: Keel) -> None:
    load_world(keel, WORLD)
    seq = last_seq(keel)
    load_catalog(keel, WORLD)
    assert events_after(keel, seq) == []
    assert all(v.revision == 1 for v in keel.catalog.products(limit=len(CODES))[0])


def edited(keel: Keel) -> dict[str, int]:
    return {v.code: v.revision for v in keel.catalog.products(limit=len(CODES))[0] if v.revision > 1}


def test_stream_content_edits_make_revisions_and_turn_listings(keel: Keel, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the loaded twin and a stream editing often
    load_world(keel, WORLD)
    stream = Stream(keel, WORLD, seed=2, capture_every=50)
    stream.edit_rate = 30.0  # edits per simulated hour
    seq = last_seq(keel)
    # when it only fixes gaps / then the fixed products' listings are all ready, each change a revision by the
    # twin (source sim) with its events
    monkeypatch.setattr(edits, "EDIT_MIX", (("fix", 1.0),))
    counts = stream.step(HOUR)
    fixed = counts["content_fixed"]
    assert fixed > 0
    revised = edited(keel)
    # once no gap is left to fix, a fix becomes a new title
    assert sum(n - 1 for n in revised.values()) == fixed + counts["content_title"]
    found = listings(keel)
    for code in revised:
        sku = WORLD.skus[CODES.index(code)]
        assert all(found[(ch["code"], sku)].state is ListingState.READY for ch in WORLD.channels)
        history, _ = keel.catalog.history(code)
        assert history[0].source == "sim" and history[0].author == "twin"
    assert len(events_after(keel, seq, {"catalog.product_changed"})) == fixed + counts["content_title"]
    assert events_after(keel, seq, {"listing.changed"})
    # when it only opens gaps / then a description is gone in one locale and that locale's channels block
    monkeypatch.setattr(edits, "EDIT_MIX", (("gap", 1.0),))
    before = edited(keel)
    gaps = stream.step(HOUR)["content_gap"]
    assert gaps > 0
    found = listings(keel)
    for code, revision in edited(keel).items():
        if revision == before.get(code, 1):
            continue
        sku = WORLD.skus[CODES.index(code)]
        blocked = [v for (ch, s), v in found.items() if s == sku and v.state is ListingState.BLOCKED]
        rules = {r.rule for v in blocked for r in v.reasons}
        assert rules & {"description-required", "bullet_point-required"}
    # when it retitles and reprices / then revisions come in; the counts are events of the step
    monkeypatch.setattr(edits, "EDIT_MIX", (("title", 0.5), ("price", 0.5)))
    counts = stream.step(HOUR)
    assert counts["content_title"] + counts["content_price"] > 0
    assert Stream.events(counts) >= counts["content_title"] + counts["content_price"]


def test_edits_skip_a_world_without_catalogue(keel: Keel) -> None:
    # given the twin loaded without its catalogue / when the stream runs / then no edit is tried
    load_world(keel, WORLD, catalog=False)
    stream = Stream(keel, WORLD, seed=2, capture_every=50)
    stream.edit_rate = 30.0
    counts = stream.step(HOUR)
    assert not any(counts[k] for k in edits.EDIT_KINDS.values()) and counts["content_refused"] == 0
