"""The twin's catalogue as catalog documents (keel.sim.content): every document valid, and each planted gap
blocking the channels it should, for the reasons it should, while clean products are ready everywhere."""

from __future__ import annotations

from keel.catalog import check_gtin, profile_document
from keel.catalog.model import check_category, parse_family, parse_product
from keel.catalog.model.listings import ListingRow, ListingState, Target, parse_target
from keel.catalog.model.profiles import parse_profile
from keel.catalog.model.syndicate import listing_states
from keel.catalog.service import shipped_profiles
from keel.sim import content
from keel.sim.catalog import issues
from keel.sim.world import REGION_BLOCS, Scale, generate

WORLD = generate(5, Scale(skus=600, channels=50))
EU = set(REGION_BLOCS["EU"])


def test_every_document_is_valid() -> None:
    # given the twin's catalogue / then its families, categories, profile, targets and products all parse
    families = {}
    for doc in content.families(WORLD):
        family, problems = parse_family(doc)
        assert problems == [] and family is not None
        families[family.code] = family
    seen: set[str] = set()
    for category in content.categories():
        assert check_category(category.code, category.label, category.parent) == []
        assert category.parent is None or category.parent in seen  # parents first: they load in this order
        seen.add(category.code)
    profile, problems = parse_profile(
        content.marketplace_profile(profile_document(shipped_profiles()["marketplace-listings"]))
    )
    assert problems == [] and profile is not None
    profiles = shipped_profiles() | {profile.code: profile}
    targets = content.targets(WORLD)
    assert sorted(targets) == sorted(ch["code"] for ch in WORLD.channels)
    for channel, doc in targets.items():
        assert parse_target(channel, doc, profiles)[1] == []
    docs = content.products(WORLD)
    assert len(docs) == len(WORLD.skus) and [d["variants"][0]["sku"] for d in docs] == WORLD.skus
    for doc in docs:
        assert parse_product(doc, families, frozenset(seen))[1] == []


def test_channels_share_targets_by_kind_and_language() -> None:
    targets = content.targets(WORLD)
    kinds = {ch["code"]: ch["kind"] for ch in WORLD.channels}
    assert {targets[c]["profile"] for c in targets if kinds[c] == "marketplace"} == {content.MARKETPLACE_PROFILE}
    assert targets["web-de"] == targets["web-at"] == targets["web-ch"]  # same profile, locale and mapping
    assert targets["web-jp"]["locale"] == "ja" and targets["social-1"]["locale"] == "en"
    assert targets["b2b-eu"]["profile"] == "eu-product-law" and targets["social-2"]["profile"] == "google-merchant"
    distinct = {(t["profile"], t["locale"], str(t["mapping"])) for t in targets.values()}
    assert len(distinct) < len(targets) / 2


def _expected(problem: str, top: str, kind: str, eu: bool) -> set[str] | None:
    """The rules a listing must fail for one planted problem on a channel of ``kind``; None: it must pass."""
    gtin_rule = {"marketplace": "identifier-tradable", "social": "gtin-tradable"}
    if problem == "gtin":
        return {gtin_rule[kind]} if kind in gtin_rule else None
    if problem == "no_image":
        rule = {"marketplace": "main_image-required", "social": "image_link-required", "b2b": None}
        return None if kind == "b2b" else {rule.get(kind) or "image-required"}
    what, attr = problem.split(":")
    attr = content.RENAMED.get(attr, attr)
    if what == "regulated":
        if not eu:
            return None
        law = {"fibre_composition": "textile-fibre-required", "cpnp_number": "cosmetics-cpnp-required"}
        return {f"family:required:{attr}"} | ({law.get(attr, "ce-marking-required")} if kind == "b2b" else set())
    if attr == "brand":
        return {"brand-required"} if kind in ("marketplace", "social") else None
    if attr == "gtin":
        if kind == "marketplace":
            return {"identifier-required"}
        return {"gtin-or-mpn"} if kind == "social" and top != "Electronics" else None
    return {f"family:required:{attr}"}


def test_planted_gaps_block_the_right_channels_for_the_right_reasons() -> None:
    # given every product's listing on every channel, built and checked as the catalog does
    families = {f.code: f for f in (parse_family(d)[0] for d in content.families(WORLD)) if f is not None}
    profile = parse_profile(content.marketplace_profile(profile_document(shipped_profiles()["marketplace-listings"])))[
        0
    ]
    assert profile is not None
    profiles = shipped_profiles() | {profile.code: profile}
    targets = [parse_target(c, d, profiles)[0] for c, d in content.targets(WORLD).items()]
    channels = {ch["code"]: ch for ch in WORLD.channels}
    seen: set[str] = set()
    for twin, doc, image in zip(
        content.twin_products(WORLD), content.products(WORLD), content.images(WORLD), strict=True
    ):
        product, _ = parse_product(doc, families)
        assert product is not None
        problems = issues(twin) + ([] if image else ["no_image"])
        if "gtin" in problems:  # an invalid GTIN cannot enter the catalog: it is planted as an in-store number
            gtin = doc["variants"][0]["gtin"]
            assert check_gtin(gtin).valid and check_gtin(gtin).flags
        rows = listing_states(product, families[product.family], [t for t in targets if t], profiles)
        for channel, view in per_channel(rows, [t for t in targets if t]):
            ch = channels[channel]
            eu = bool(EU & set(ch["countries"]))
            wanted = [_expected(p, twin.category[0], ch["kind"], eu) for p in problems]
            reasons = {r.rule for r in view.reasons}
            if all(w is None for w in wanted):
                assert view.state is ListingState.READY, (doc["code"], channel, reasons)
            else:
                assert view.state is ListingState.BLOCKED
                for w in wanted:
                    assert w is None or w <= reasons, (doc["code"], channel, w, reasons)
                seen |= reasons
    # then every kind of planted gap showed up somewhere
    for rule in ("family:required:fibre_composition", "identifier-tradable", "image-required", "brand-required"):
        assert rule in seen


def per_channel(rows: list[ListingRow], targets: list[Target]) -> list[tuple[str, ListingRow]]:
    """Each channel's listing of each SKU, as the store reads them: the channel's own row when the product has
    one there, else its listing group's."""
    own = {(r.channel, r.sku): r for r in rows if r.channel}
    shared = {(r.group, r.sku): r for r in rows if not r.channel}
    out = []
    for t in targets:
        mine = [r for (c, _), r in own.items() if c == t.channel]
        out += [(t.channel, r) for r in mine] or [(t.channel, r) for (g, _), r in shared.items() if g == t.group]
    return out
