"""Prices reach the channels: the pricing engine's price.changed events become new versions of the synced
listings, pushed with their price by the sync engine (the marketplace simulator holds it); on both databases."""

from __future__ import annotations

from keel.bootstrap import Keel
from keel.channels import FEEDER
from keel.sim.marketplace import Marketplace
from tests.support import WEB_DE, WH_DE, World, receive

SECRET = "prices-to-channels-1"


def sync(keel: Keel) -> None:
    keel.consumers.get(FEEDER).step(10_000)
    keel.sync.run_pass()


def test_a_price_change_is_pushed_to_the_channel_with_the_quantity(keel: Keel, world: World) -> None:
    with Marketplace({WEB_DE: SECRET}, rate_limit=1000, window_s=1.0) as market:
        keel.sync.configure(WEB_DE, {"url": market.url, "secret": SECRET, "rate_limit": 1000, "window_s": 1.0})
        receive(keel, "SKU-1", WH_DE, 7)
        receive(keel, "SKU-2", WH_DE, 3)
        keel.availability.catch_up()
        sync(keel)
        assert {k: h.price for k, h in market.held(WEB_DE).items()} == {("SKU-1", "DE"): None, ("SKU-2", "DE"): None}
        # when the pricing engine prices both
        document = {
            "currency": "EUR",
            "prices": [{"sku": "SKU-1", "amount": "20.00"}, {"sku": "SKU-2", "amount": "5.00"}],
        }
        keel.pricing.save_list("base-eur", document)
        sync(keel)
        held = market.held(WEB_DE)
        assert {k: (h.quantity, h.price) for k, h in held.items()} == {
            ("SKU-1", "DE"): (7, "19.99"),
            ("SKU-2", "DE"): (3, "4.99"),
        }
        # a new price of one SKU is a new version of that listing only
        versions = {k: h.version for k, h in held.items()}
        document["prices"] = [{"sku": "SKU-1", "amount": "25.00"}, {"sku": "SKU-2", "amount": "5.00"}]
        keel.pricing.save_list("base-eur", document)
        sync(keel)
        after = market.held(WEB_DE)
        assert (
            after[("SKU-1", "DE")].price == "24.99" and after[("SKU-1", "DE")].version == versions[("SKU-1", "DE")] + 1
        )
        assert after[("SKU-2", "DE")].version == versions[("SKU-2", "DE")]
        # and a price the engine no longer gives is pushed as none
        document["prices"] = [{"sku": "SKU-1", "amount": "25.00"}]
        keel.pricing.save_list("base-eur", document)
        sync(keel)
        assert market.held(WEB_DE)[("SKU-2", "DE")].price is None


def test_a_channel_configured_after_its_prices_gets_them_with_its_first_values(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 4)
    keel.availability.catch_up()
    keel.pricing.save_list("base-eur", {"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "12.00"}]})
    keel.consumers.get(FEEDER).step(10_000)  # the price.changed went by before the channel was configured
    with Marketplace({WEB_DE: SECRET}, rate_limit=1000, window_s=1.0) as market:
        keel.sync.configure(WEB_DE, {"url": market.url, "secret": SECRET, "rate_limit": 1000, "window_s": 1.0})
        sync(keel)
        assert {k: (h.quantity, h.price) for k, h in market.held(WEB_DE).items()} == {("SKU-1", "DE"): (4, "11.99")}
        # and a full resync owes both again, unchanged
        assert keel.sync.resync(WEB_DE) == 1
        sync(keel)
        assert market.held(WEB_DE)[("SKU-1", "DE")].price == "11.99"
