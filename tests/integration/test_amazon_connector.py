"""The Amazon-style connector against its Selling Partner API simulator: listings feeds and their reports, the
feed limits (25,000 messages, 5 feeds per 5 minutes per region), every fault kind answered as a result, feed
idempotency by client reference, orders paginated, shipments confirmed, FBA stock read; and the sync engine
pushing a channel through it."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import pytest

from keel.bootstrap import Keel
from keel.channels import FEEDER, SyncService
from keel.channels.sync.amazon import STILL_PROCESSING, AmazonConnector
from keel.channels.sync.model import OrderUpdate, PushResult, Update, amazon_region, batch_key, parse_config
from keel.channels.sync.pump import default_connector
from keel.orders.schemas import OrderCreate
from keel.sim.amazon import AmazonMarketplace
from tests.support import MARKET, World, mv

TOKEN = "amz-token-1"
SELLER = "amz-de"
TOKENS = {TOKEN: SELLER}


class Clock:
    """The simulator's clock, moved by hand (rate limit and feed processing)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def market(clock: Clock) -> Iterator[AmazonMarketplace]:
    with AmazonMarketplace(TOKENS, processing_s=0.0, monotonic=clock, stall_s=0.5) as m:
        yield m


def connector(market: AmazonMarketplace, timeout_s: float = 2.0, page_size: int = 100) -> AmazonConnector:
    return AmazonConnector(market.url("eu"), TOKEN, timeout_s=timeout_s, poll_s=0.01, page_size=page_size)


def ups(*rows: tuple[str, str, int], version: int = 1) -> list[Update]:
    return [Update(sku, country, q, None, version) for sku, country, q in rows]


def push(c: AmazonConnector, updates: list[Update]) -> PushResult:
    return c.push(SELLER, updates, batch_key(SELLER, updates))


def test_a_feed_lands_and_its_report_maps_per_message(market: AmazonMarketplace) -> None:
    c = connector(market)
    # when three quantities go out, one of them negative and one for a country outside the region
    result = push(c, ups(("SKU-1", "DE", 5), ("SKU-2", "FR", -1), ("SKU-3", "US", 2), ("SKU-4", "FR", 0)))
    c.close()
    # then the good ones land, the bad value is refused for good by the report, the US one never left
    assert result.accepted == (("SKU-1", "DE"), ("SKU-4", "FR"))
    refused = {(r.sku, r.country): (r.error.split(":")[0], r.retry) for r in result.rejected}
    assert refused == {
        ("SKU-2", "FR"): ("90220", False),
        ("SKU-3", "US"): ("no marketplace for US in region eu", False),
    }
    assert market.state(SELLER) == {("SKU-1", "DE"): (5, 1), ("SKU-4", "FR"): (0, 1)}
    assert market.feed_statuses() == ["DONE"]


def test_more_than_25000_updates_are_refused_before_any_request(market: AmazonMarketplace) -> None:
    c = connector(market)
    assert c.capabilities.batch_size == 25_000
    result = push(c, ups(*((f"SKU-{i}", "DE", 1) for i in range(25_001))))
    c.close()
    assert result.error is not None and "25,000" in result.error
    assert result.accepted == ()
    assert market.stats.requests == 0


def test_the_sixth_feed_in_five_minutes_is_throttled(market: AmazonMarketplace, clock: Clock) -> None:
    c = connector(market)
    assert (c.capabilities.rate_limit, c.capabilities.window_s) == (5, 300.0)
    for v in range(1, 6):
        assert push(c, ups(("SKU-1", "DE", v), version=v)).accepted == (("SKU-1", "DE"),)
    clock.now += 299
    throttled = push(c, ups(("SKU-1", "DE", 6), version=6))
    assert throttled.error == "rate limited (429)" and throttled.retry_after_s == 1
    assert market.state(SELLER)[("SKU-1", "DE")] == (5, 5)
    # another region has a budget of its own; this one's frees up when the window has passed
    other = AmazonConnector(market.url("na"), TOKEN, timeout_s=2.0, poll_s=0.01)
    assert push(other, ups(("SKU-1", "US", 9))).accepted == (("SKU-1", "US"),)
    clock.now += 1
    assert push(c, ups(("SKU-1", "DE", 6), version=6)).accepted == (("SKU-1", "DE"),)
    c.close()
    other.close()
    assert market.stats.rate_limit_violations == 1
    assert market.state(SELLER)[("SKU-1", "DE")] == (6, 7)


def test_a_fatal_feed_is_an_error_and_nothing_lands(clock: Clock) -> None:
    with AmazonMarketplace(TOKENS, processing_s=0.0, monotonic=clock, fault_rate=1.0, faults=("fatal",)) as market:
        c = connector(market)
        result = push(c, ups(("SKU-1", "DE", 3)))
        c.close()
        assert result.error is not None and result.error.endswith("ended FATAL")
        assert result.accepted == ()
        assert market.state(SELLER) == {}
        # a FATAL feed forgets its reference: the same batch sent again is a new feed
        market.fault_rate = 0.0
        c = connector(market)
        assert push(c, ups(("SKU-1", "DE", 3))).accepted == (("SKU-1", "DE"),)
        c.close()
        assert market.stats.feeds == 2


@pytest.mark.parametrize("op", ["document", "upload", "create", "feed", "report", "download"])
@pytest.mark.parametrize("fault", ["error", "timeout", "drop", "malformed"])
def test_every_fault_on_every_step_is_a_result_never_an_exception(clock: Clock, fault: str, op: str) -> None:
    with AmazonMarketplace(
        TOKENS, processing_s=0.0, monotonic=clock, fault_rate=1.0, faults=(fault,), fault_ops=(op,), stall_s=0.5
    ) as market:
        c = connector(market, timeout_s=0.2)
        result = push(c, ups(("SKU-1", "DE", 3), ("SKU-2", "DE", 4)))
        c.close()
        assert market.stats.faults_injected == {fault: 1}
    if (fault, op) == ("malformed", "upload"):  # the upload's answer body is never read: the feed goes on
        assert result.accepted == (("SKU-1", "DE"), ("SKU-2", "DE"))
    else:
        assert result.error is not None and result.accepted == ()


def test_partial_message_errors_are_retried(clock: Clock) -> None:
    with AmazonMarketplace(TOKENS, processing_s=0.0, monotonic=clock, fault_rate=1.0, faults=("partial",)) as market:
        c = connector(market)
        result = push(c, ups(*((f"SKU-{i}", "DE", i) for i in range(6))))
        c.close()
        held = market.state(SELLER)
    assert len(result.rejected) == 3 and all(r.retry for r in result.rejected)
    assert set(held) == set(result.accepted)
    assert len(result.accepted) == 3


def test_a_resubmitted_batch_key_is_applied_once(clock: Clock) -> None:
    with AmazonMarketplace(
        TOKENS,
        processing_s=10.0,
        monotonic=clock,
        fault_rate=1.0,
        faults=("timeout",),
        fault_ops=("create",),
        stall_s=0.5,
    ) as market:
        c = connector(market, timeout_s=0.2)
        batch = ups(("SKU-1", "DE", 7), ("SKU-2", "FR", 1), ("SKU-0", "DE", -1))
        # when createFeed is answered too late, then the feed does not finish within the budget
        assert push(c, batch).error == "timeout"
        market.fault_rate = 0.0
        assert push(c, batch).error == STILL_PROCESSING
        clock.now += 10
        # then the third delivery of the same key, in another order, finds the one feed, done, and its report
        # still speaks of the right updates
        third = push(c, batch[::-1])
        assert third.accepted == (("SKU-1", "DE"), ("SKU-2", "FR"))
        assert [(r.sku, r.error[:5]) for r in third.rejected] == [("SKU-0", "90220")]
        c.close()
        stats = market.stats
        assert (stats.feeds, stats.duplicate_feeds, stats.items_applied) == (1, 2, 2)
        assert [row[2:4] for row in market.applied] == [("SKU-1", 7), ("SKU-2", 1)]


def test_random_faults_converge_with_versions_never_going_backwards() -> None:
    faults = ("error", "timeout", "drop", "malformed", "fatal", "partial")
    with AmazonMarketplace(TOKENS, feed_limit=10_000, processing_s=0.0, fault_rate=0.3, seed=1, stall_s=0.6) as market:
        c = connector(market, timeout_s=0.5)
        rng = random.Random(1)
        want: dict[tuple[str, str], int] = {}
        owed: dict[tuple[str, str], Update] = {}
        for version in range(1, 61):
            for _ in range(3):
                sku, country = f"SKU-{rng.randrange(6)}", rng.choice(["DE", "FR"])
                want[(sku, country)] = q = rng.randrange(50)
                owed[(sku, country)] = Update(sku, country, q, None, version)
            batch = list(owed.values())
            result = c.push(SELLER, batch, batch_key(SELLER, batch))  # never raises
            for key in result.accepted:
                owed.pop(key)
        for _ in range(200):
            if not owed:
                break
            batch = list(owed.values())
            for key in c.push(SELLER, batch, batch_key(SELLER, batch)).accepted:
                owed.pop(key)
        c.close()
        assert not owed
        assert {k: v[0] for k, v in market.state(SELLER).items()} == want
        stats = market.stats
    # (each kind on each step is pinned down above; here they only need to be many and mixed)
    assert set(stats.faults_injected) <= set(faults) and len(stats.faults_injected) >= 4
    assert sum(stats.faults_injected.values()) >= 20
    seqs: dict[tuple[str, str], int] = {}
    for _, country, sku, _, seq in market.applied:
        assert seqs.get((sku, country), 0) <= seq
        seqs[(sku, country)] = seq


def test_orders_paginate_without_duplicates_and_map_to_capture_documents(market: AmazonMarketplace) -> None:
    c = connector(market, page_size=2)
    first = [market.add_order(SELLER, "DE", [("SKU-1", 2, "12.50"), ("SKU-2", 3, "1.99")]) for _ in range(5)]
    market.add_order("someone-else", "DE", [("SKU-1", 1, "1.00")])
    seen: list[dict[str, object]] = []
    cursor: str | None = None

    def drain() -> None:
        nonlocal cursor
        for _ in range(20):
            page = c.orders(SELLER, cursor)
            assert page.error is None
            seen.extend(page.orders)
            cursor = page.cursor
            if not page.orders and cursor is not None and cursor.startswith("after:"):
                return

    drain()
    # when an unpaid order comes in between two others, and a cancelled one after them
    pending = market.add_order(
        SELLER, "FR", [("SKU-3", 1, "9.99")], city="Paris", postal_code="75001", status="Pending"
    )
    after = market.add_order(SELLER, "DE", [("SKU-1", 1, "5.00")])
    market.add_order(SELLER, "DE", [("SKU-1", 1, "5.00")], status="Canceled")
    drain()
    held_back = [o["external_id"] for o in seen]
    market.set_order_status(pending, "Unshipped")
    drain()
    c.close()
    # then the unpaid one held the cursor until it was paid, the cancelled one never came, and none came twice
    assert held_back == first
    ids = [o["external_id"] for o in seen]
    assert ids == [*first, pending, after]
    assert seen[0] == {
        "channel": SELLER,
        "external_id": first[0],
        "lines": [
            {"sku": "SKU-1", "quantity": 2, "unit_price": "12.50"},
            {"sku": "SKU-2", "quantity": 3, "unit_price": "1.99"},
        ],
        "customer": {"name": "Ann Buyer"},
        "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10117"},
    }
    for order in seen:
        OrderCreate.model_validate(order)


def test_shipments_and_cancellations_are_confirmed_once(market: AmazonMarketplace) -> None:
    c = connector(market)
    shipped = market.add_order(SELLER, "DE", [("SKU-1", 2, "5.00"), ("SKU-2", 1, "4.00")])
    cancelled = market.add_order(SELLER, "DE", [("SKU-1", 1, "5.00")])
    updates = [
        OrderUpdate(shipped, "shipped", (("SKU-1", 2), ("SKU-2", 1)), "ship-1", carrier="DHL", tracking="00340434"),
        OrderUpdate(cancelled, "cancelled", (("SKU-1", 1),), "cancel-1"),
        OrderUpdate(shipped, "refunded", (("SKU-1", 1),), "refund-1", amount="5.00"),
        OrderUpdate("302-9999999-0000000", "shipped", (("SKU-1", 1),), "ship-2", carrier="DHL", tracking="1"),
        OrderUpdate(shipped, "cancelled", (), "cancel-2"),
    ]
    result = c.send(SELLER, updates)
    again = c.send(SELLER, updates[:2])  # redelivered: nothing new is recorded
    c.close()
    assert result.accepted == ((shipped, "shipped"), (cancelled, "cancelled"))
    assert [(r.sku, r.country, r.retry) for r in result.rejected] == [
        (shipped, "refunded", False),
        ("302-9999999-0000000", "shipped", False),
        (shipped, "cancelled", False),
    ]
    assert again.accepted == result.accepted
    [confirmation] = market.confirmations
    assert (confirmation.order_id, confirmation.carrier, confirmation.tracking) == (shipped, "DHL", "00340434")
    assert confirmation.items == ((f"{shipped}-1", 2), (f"{shipped}-2", 1))
    assert market.cancellations == [(SELLER, cancelled)]
    assert (market.order_status(shipped), market.order_status(cancelled)) == ("Shipped", "Canceled")


def test_fba_stock_is_read_per_marketplace_across_pages(clock: Clock) -> None:
    with AmazonMarketplace(TOKENS, page_size=2, monotonic=clock) as market:
        for i in range(5):
            market.add_fba_stock(SELLER, "DE", f"SKU-{i}", 10 + i)
        market.add_fba_stock(SELLER, "FR", "SKU-0", 3)
        market.add_fba_stock("someone-else", "DE", "SKU-9", 99)
        c = connector(market)
        home, both, wrong = (
            c.fulfilled_stock(SELLER),
            c.fulfilled_stock(SELLER, ["DE", "FR"]),
            c.fulfilled_stock(SELLER, ["US"]),
        )
        c.close()
    assert home.values == {(f"SKU-{i}", "DE"): 10 + i for i in range(5)}
    assert both.values == home.values | {("SKU-0", "FR"): 3}
    assert wrong.error == "no marketplace for US in region eu"


def test_a_wrong_token_is_an_error(market: AmazonMarketplace) -> None:
    c = AmazonConnector(market.url("eu"), "not-the-token", timeout_s=2.0)
    result = push(c, ups(("SKU-1", "DE", 1)))
    page = c.orders(SELLER, None)
    c.close()
    assert result.error is not None and result.error.startswith("HTTP 403")
    assert page.error is not None and page.error.startswith("HTTP 403")
    assert market.state(SELLER) == {}


def test_configuration_names_a_region_and_takes_amazons_limits() -> None:
    assert amazon_region("https://sellingpartnerapi-fe.amazon.com") == "fe"
    assert amazon_region("http://127.0.0.1:8080/na/") == "na"
    assert amazon_region("https://sellingpartnerapi-xx.amazon.com/") is None
    config, problems = parse_config(
        MARKET, {"connector": "amazon", "url": "https://sellingpartnerapi-eu.amazon.com", "secret": TOKEN}
    )
    assert problems == [] and config is not None
    caps = config.capabilities
    assert (caps.batch_size, caps.rate_limit, caps.window_s, caps.orders, caps.shipments) == (
        25_000,
        5,
        300.0,
        True,
        True,
    )
    built = default_connector(config)
    assert isinstance(built, AmazonConnector) and built.region == "eu"
    built.close()
    none, problems = parse_config(
        MARKET, {"connector": "amazon", "url": "http://127.0.0.1:9/somewhere", "secret": TOKEN}
    )
    assert none is None and [field for field, _ in problems] == ["url"]


def test_the_engine_pushes_a_channel_through_the_amazon_connector(keel: Keel, world: World) -> None:
    with AmazonMarketplace({TOKEN: MARKET}) as market:
        sync = SyncService(keel.db, keel.channels.exists, keel.availability.listed_of, worker="w")
        sync.configure(MARKET, {"connector": "amazon", "url": market.url("eu"), "secret": TOKEN})
        keel.stock.apply_batch([mv(f"in-{i}", "received", f"SKU-{i}", "WH-FR-1", 10 + i) for i in range(4)])
        keel.availability.catch_up()
        keel.consumers.get(FEEDER).step(1000)
        for _ in itertools.repeat(None, 3):
            sync.run_pass()
        sync.close()
        with keel.db.read() as conn:
            desired = {(sku, c): q for c, sku, q in keel.availability.listed_of(conn, MARKET)}
        assert desired
        assert {k: v[0] for k, v in market.state(MARKET).items()} == desired
        assert market.stats.feeds <= 5
