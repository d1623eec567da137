"""The Shopify-style connector against the shop simulator, over real HTTP on 127.0.0.1: quantities land with
compare-and-set, a quantity the shop sold meanwhile is read and set again in the same push, the cost bucket's
throttling becomes a wait, user errors become rejections, faults never raise and the shop converges, orders
come in page by page without a duplicate, and the shop's values read back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keel.channels.sync.model import Capabilities, PushResult, ReadResult, Rejected, Update, batch_key, parse_config
from keel.channels.sync.pump import default_connector
from keel.channels.sync.shopify import ShopifyConnector
from keel.orders.service.capture import capture_command
from keel.sim.shopify import Shopify

TOKEN = "shpat_test_token_1"
SHOP = "shop-de"


class Clock:
    """The shop's rate limit clock, moved by hand (no timed assertions)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def shop() -> Iterator[Shopify]:
    with Shopify({SHOP: TOKEN, "other": "shpat_other_token"}) as s:
        yield s


@pytest.fixture
def connector(shop: Shopify) -> Iterator[ShopifyConnector]:
    c = ShopifyConnector(shop.url, TOKEN, timeout_s=2.0)
    yield c
    c.close()


def _push(c: ShopifyConnector, updates: list[Update]) -> PushResult:
    return c.push(SHOP, updates, batch_key(SHOP, updates))


def test_a_first_push_sets_the_quantities_on_the_shop(shop: Shopify, connector: ShopifyConnector) -> None:
    result = _push(connector, [Update("SKU-1", "DE", 5, None, 1), Update("SKU/2", "FR", 0, None, 1)])
    assert result == PushResult(accepted=(("SKU-1", "DE"), ("SKU/2", "FR")))
    assert shop.levels(SHOP) == {("SKU-1", "DE"): 5, ("SKU/2", "FR"): 0}
    assert shop.levels("other") == {}
    assert shop.stats.mutations == 1 and shop.stats.items_set == 2


def test_a_push_with_the_previous_quantity_replaces_it(shop: Shopify, connector: ShopifyConnector) -> None:
    _push(connector, [Update("SKU-1", "DE", 5, None, 1)])
    result = _push(connector, [Update("SKU-1", "DE", 3, None, 2, previous=5)])
    assert result == PushResult(accepted=(("SKU-1", "DE"),))
    assert shop.levels(SHOP) == {("SKU-1", "DE"): 3}
    assert shop.stats.stale == 0


def test_a_stale_quantity_is_read_and_set_again_in_the_same_push(shop: Shopify, connector: ShopifyConnector) -> None:
    _push(connector, [Update("SKU-1", "DE", 5, None, 1), Update("SKU-2", "DE", 7, None, 1)])
    shop.sell(SHOP, "SKU-1", "DE", 2)  # the shop sold two on its own: it shows 3, Keel thinks 5
    result = _push(
        connector, [Update("SKU-1", "DE", 9, None, 2, previous=5), Update("SKU-2", "DE", 6, None, 2, previous=7)]
    )
    assert result == PushResult(accepted=(("SKU-1", "DE"), ("SKU-2", "DE")))
    assert shop.levels(SHOP) == {("SKU-1", "DE"): 9, ("SKU-2", "DE"): 6}
    stats = shop.stats
    # the first mutation was refused whole (one adjustment group), the level read, the second one applied
    assert (stats.stale, stats.mutations, stats.items_set, stats.requests) == (1, 2, 4, 4)


def test_a_level_the_shop_lost_is_set_outright_after_the_read(shop: Shopify, connector: ShopifyConnector) -> None:
    # Keel believes it pushed 4, the shop holds nothing: stale (0 != 4), the read finds no level
    result = _push(connector, [Update("SKU-1", "DE", 2, None, 3, previous=4)])
    assert result == PushResult(accepted=(("SKU-1", "DE"),))
    assert shop.levels(SHOP) == {("SKU-1", "DE"): 2}


def test_throttling_becomes_a_wait_computed_from_the_bucket() -> None:
    clock = Clock()
    with Shopify({SHOP: TOKEN}, maximum=25, restore_rate=50, mutation_cost=10, monotonic=clock) as shop:
        c = ShopifyConnector(shop.url, TOKEN)
        assert _push(c, [Update("A", "DE", 1, None, 1)]).accepted == (("A", "DE"),)
        assert _push(c, [Update("B", "DE", 1, None, 1)]).accepted == (("B", "DE"),)
        result = _push(c, [Update("C", "DE", 1, None, 1)])
        # 5 points left, 10 asked, 50 restored a second
        assert (result.accepted, result.error) == ((), "throttled")
        assert result.retry_after_s == pytest.approx(0.1)
        assert shop.levels(SHOP) == {("A", "DE"): 1, ("B", "DE"): 1}
        assert shop.stats.throttled == 1
        clock.now += 0.05  # half the wait: still short of 10 points
        assert _push(c, [Update("C", "DE", 1, None, 1)]).retry_after_s == pytest.approx(0.05)
        clock.now += 0.06
        assert _push(c, [Update("C", "DE", 1, None, 1)]).accepted == (("C", "DE"),)
        c.close()


def test_user_errors_reject_their_quantities_for_good_and_the_rest_lands() -> None:
    with Shopify({SHOP: TOKEN}, locations={"DE"}, items={"A", "B", "C"}) as shop:
        c = ShopifyConnector(shop.url, TOKEN)
        updates = [
            Update("A", "DE", -1, None, 1),
            Update("B", "FR", 3, None, 1),
            Update("C", "DE", 4, None, 1),
            Update("Z", "DE", 4, None, 1),
        ]
        result = _push(c, updates)
        c.close()
        assert result == PushResult(
            accepted=(("C", "DE"),),
            rejected=(
                Rejected("A", "DE", "INVALID_QUANTITY_NEGATIVE: The quantity can't be negative.", retry=False),
                Rejected("B", "FR", "INVALID_LOCATION: The specified location could not be found.", retry=False),
                Rejected("Z", "DE", "INVALID_INVENTORY_ITEM: The specified inventory item could not be found.", False),
            ),
        )
        assert shop.levels(SHOP) == {("C", "DE"): 4}


def test_a_redelivered_push_is_answered_from_the_shops_idempotency_record(
    shop: Shopify, connector: ShopifyConnector
) -> None:
    updates = [Update("SKU-1", "DE", 5, None, 1)]
    assert _push(connector, updates) == _push(connector, updates) == PushResult(accepted=(("SKU-1", "DE"),))
    assert shop.stats.duplicates == 1 and shop.stats.mutations == 1
    assert len(shop.applied) == 1


def test_a_wrong_token_is_an_error_and_changes_nothing(shop: Shopify) -> None:
    c = ShopifyConnector(shop.url, "shpat_wrong")
    result = _push(c, [Update("SKU-1", "DE", 5, None, 1)])
    assert c.read(SHOP, [("SKU-1", "DE")]).error is not None
    assert c.orders(SHOP, None).error is not None
    c.close()
    assert result.accepted == () and result.error is not None and result.error.startswith("HTTP 401")
    assert shop.levels(SHOP) == {} and shop.stats.unauthorized == 3


@pytest.mark.parametrize("fault", ["error", "timeout", "drop", "malformed"])
def test_every_fault_is_a_result_and_the_shop_converges(fault: str) -> None:
    with Shopify({SHOP: TOKEN}, fault_rate=0.5, faults=(fault,), seed=7, stall_s=0.3) as shop:
        c = ShopifyConnector(shop.url, TOKEN, timeout_s=0.15)
        desired = {(f"SKU-{i}", country): 10 + i for i in range(6) for country in ("DE", "FR")}
        accepted: dict[tuple[str, str], int] = {}  # what the engine records: the previous of the next push
        for round_ in range(40):
            if round_ == 10:
                desired = {k: v - 3 for k, v in desired.items()}
            owed = [Update(k[0], k[1], q, None, round_ + 1, previous=accepted.get(k)) for k, q in desired.items()]
            owed = [u for u in owed if accepted.get((u.sku, u.country)) != u.quantity]
            if not owed:
                if round_ > 10:
                    break
                continue
            result = _push(c, owed)  # raises nothing, whatever the shop does
            assert result.error is not None or result.accepted
            for key in result.accepted:
                accepted[key] = desired[key]
        c.close()
        assert shop.levels(SHOP) == desired
        assert shop.stats.faults_injected[fault] > 0
        if fault in ("timeout", "malformed"):  # applied, but Keel never heard: found stale next time, and set again
            assert shop.stats.stale > 0


def test_orders_come_in_page_by_page_without_duplicates(shop: Shopify, connector: ShopifyConnector) -> None:
    ids = [shop.add_order(SHOP, [(f"SKU-{i % 3}", 1 + i % 2, "12.5")]) for i in range(120)]
    shop.add_order("other", [("SKU-9", 1, "1.00")])
    seen: list[str] = []
    pages: list[int] = []
    cursor: str | None = None
    while True:
        page = connector.orders(SHOP, cursor)
        assert page.error is None
        if not page.orders:
            assert page.cursor == cursor  # an empty page keeps the place
            break
        pages.append(len(page.orders))
        seen += [o["external_id"] for o in page.orders]
        cursor = page.cursor
    assert pages == [50, 50, 20]
    assert seen == ids and len(set(seen)) == 120
    # later orders are found from the last cursor, and only they
    later = [shop.add_order(SHOP, [("SKU-1", 1, "3.00")]), shop.add_order(SHOP, [("SKU-2", 2, "4.00")])]
    page = connector.orders(SHOP, cursor)
    assert [o["external_id"] for o in page.orders] == later


def test_an_order_is_keels_capture_document(shop: Shopify, connector: ShopifyConnector) -> None:
    number = shop.add_order(SHOP, [("SKU-1", 2, "12.5"), ("SKU-2", 1, "3")], customer="Ann", ship_to=("DE", "10117"))
    guest = shop.add_order(SHOP, [("SKU-1", 1, "9.99")], customer=None, ship_to=None)
    first, second = connector.orders(SHOP, None).orders
    assert first == {
        "channel": SHOP,
        "external_id": number,
        "lines": [
            {"sku": "SKU-1", "quantity": 2, "unit_price": "12.50"},
            {"sku": "SKU-2", "quantity": 1, "unit_price": "3.00"},
        ],
        "customer": {"name": "Ann"},
        "ship_to": {"country": "DE", "postal_code": "10117"},
    }
    assert second == {
        "channel": SHOP,
        "external_id": guest,
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "9.99"}],
        "customer": {"name": f"Shopify order #{guest}"},
    }
    capture = capture_command(first)  # what POST /orders takes
    assert capture.external_id == number


def test_read_back_gives_the_shops_quantities(shop: Shopify, connector: ShopifyConnector) -> None:
    updates = [Update(f"SKU-{i}", "DE", i, None, 1) for i in range(260)]
    _push(connector, updates[:250])
    _push(connector, updates[250:])
    shop.sell(SHOP, "SKU-7", "DE", 1)
    keys = [(f"SKU-{i}", "DE") for i in range(262)]  # two the shop never held
    assert connector.read(SHOP, keys) == ReadResult(values={(f"SKU-{i}", "DE"): i - (i == 7) for i in range(260)})


def test_the_configuration_builds_a_shopify_connector(shop: Shopify) -> None:
    config, problems = parse_config(SHOP, {"connector": "shopify", "url": shop.url, "secret": TOKEN})
    assert problems == [] and config is not None
    assert (config.capabilities.batch_size, config.capabilities.rate_limit, config.capabilities.window_s) == (
        250,
        4,
        1.0,
    )
    connector = default_connector(config)
    assert isinstance(connector, ShopifyConnector)
    assert _push(connector, [Update("SKU-1", "DE", 1, None, 1)]).accepted == (("SKU-1", "DE"),)
    connector.close()
    _, problems = parse_config(SHOP, {"connector": "shopify", "url": shop.url, "secret": TOKEN, "batch_size": 251})
    assert problems == [("batch_size", "must be between 1 and 250 for shopify")]
    assert Capabilities().batch_size == 500  # other kinds keep the general default
