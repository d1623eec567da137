"""Load a generated world into a Keel installation through its services (the same paths users take)."""

from __future__ import annotations

from collections.abc import Callable

from keel.bootstrap import Keel
from keel.channels import CreateChannel
from keel.inventory import CreateLocation
from keel.sim.fx import load_rates
from keel.sim.world import World

Progress = Callable[[str, int, int], None]


def load_world(keel: Keel, world: World, progress: Progress | None = None) -> None:
    """Create locations, groups, channels, postal codes, exchange rates and the opening stock, then project
    channel availability and the control tower's projections."""
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


def is_empty(keel: Keel) -> bool:
    _, total = keel.locations.list(limit=1)
    return total == 0
