"""Load a generated world into a Keel installation through its services (the same paths users take)."""

from __future__ import annotations

from collections.abc import Callable

from keel.bootstrap import Keel
from keel.catalog import profile_document
from keel.channels import CreateChannel
from keel.inventory import CreateLocation
from keel.sim import content
from keel.sim.fx import load_rates
from keel.sim.media import has_media, load_media
from keel.sim.pricing import load_pricing
from keel.sim.world import World

__all__ = [
    "has_catalog",
    "has_media",
    "has_prices",
    "is_empty",
    "load_catalog",
    "load_media",
    "load_pricing",
    "load_world",
]
Progress = Callable[[str, int, int], None]
# Products per catalog transaction: large enough to amortise a batch, small enough that the demo's pages and
# the progress bar are not held up by one long write.
CATALOG_BATCH = 500


def load_world(keel: Keel, world: World, progress: Progress | None = None, *, catalog: bool = True) -> None:
    """Create locations, groups, channels, postal codes, exchange rates and the opening stock, then project
    channel availability and the control tower's projections; then, with ``catalog``, the twin's catalogue
    (``load_catalog``), prices (``keel.sim.pricing``) and ad setup with its rules (``keel.sim.media``). The
    benches that measure stock and orders leave them out."""
    report = progress or (lambda _stage, _done, _total: None)
    for i, loc in enumerate(world.locations, start=1):
        keel.locations.create(CreateLocation(**{**loc, "capabilities": tuple(loc["capabilities"])}))
        report("locations", i, len(world.locations))
    for g in world.groups:
        keel.locations.create_group(g["code"], g["name"], g["members"])
    for i, ch in enumerate(world.channels, start=1):
        keel.channels.create(CreateChannel(**{**ch, "countries": tuple(ch["countries"])}))
        report("channels", i, len(world.channels))
    if world.postal_codes:
        keel.postcodes.load(world.postal_codes, source="sim")
        report("postal codes", len(world.postal_codes), len(world.postal_codes))
    # The projectors catch up on the network before any stock exists: each location, group or channel
    # event recomputes every listing of the stock it sees, which, after the opening stock, is all of it
    # (at 10x: 1.2 million positions for each of some twenty event batches).
    keel.availability.catch_up()
    keel.insights.projector.catch_up()
    rates = load_rates(keel)
    report("exchange rates", rates.rates, rates.rates)
    size = keel.settings.max_batch
    rows = world.opening_stock
    for start in range(0, len(rows), size):
        keel.stock.apply_batch(rows[start : start + size], source="sim")
        report("opening stock", min(start + size, len(rows)), len(rows))
    report("channel availability", 0, 1)
    keel.availability.catch_up()
    report("channel availability", 1, 1)
    report("control tower", 0, 1)
    keel.insights.projector.catch_up()
    report("control tower", 1, 1)
    if catalog:
        load_catalog(keel, world, report)
        load_pricing(keel, world, report)
        report("ads", 0, 1)
        load_media(keel, world)
        report("ads", 1, 1)


def load_catalog(keel: Keel, world: World, progress: Progress | None = None) -> None:
    """The twin's catalogue through ``keel.catalog``: its marketplace profile, a family per top category, the
    category tree and a target per channel, then its products in batches (each batch one transaction with
    its revisions and every channel's listing states). Products already stored as they are make no revision,
    so loading again changes nothing."""
    report = progress or (lambda _stage, _done, _total: None)
    shipped = profile_document(keel.catalog.profile("marketplace-listings"))
    keel.catalog.put_profile(content.marketplace_profile(shipped), source="sim")
    for family in content.families(world):
        keel.catalog.put_family(family, source="sim")
    for category in content.categories():
        keel.catalog.put_category(category, source="sim")
    for channel, target in content.targets(world).items():
        keel.catalog.put_target(channel, target, source="sim")
    docs = content.products(world)
    size = min(keel.catalog.max_batch, CATALOG_BATCH)
    report("catalog", 0, len(docs))
    for start in range(0, len(docs), size):
        keel.catalog.save_batch(docs[start : start + size], source="sim")
        report("catalog", min(start + size, len(docs)), len(docs))


def has_catalog(keel: Keel) -> bool:
    """Whether the catalog holds any product (a demo database loaded before the twin brought its catalogue
    holds none)."""
    return keel.catalog.products(limit=1)[1] > 0


def has_prices(keel: Keel) -> bool:
    """Whether the pricing engine holds any price list (a demo database loaded before the twin brought its
    prices holds none)."""
    return bool(keel.pricing.lists())


def is_empty(keel: Keel) -> bool:
    _, total = keel.locations.list(limit=1)
    return total == 0
