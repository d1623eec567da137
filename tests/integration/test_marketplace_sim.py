"""The webhook connector against the marketplace simulator, over real HTTP on 127.0.0.1: signed batches land in
the marketplace's state; bad signatures, rate limits, stale versions, redeliveries and every injected fault are
seen on both sides, and the connector reports them in its result without raising."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from keel.channels.sync.model import Capabilities, OrderUpdate, PushResult, Rejected, Update, batch_key
from keel.channels.sync.webhook import WebhookConnector, sign, verify
from keel.sim.marketplace import FAULTS, Marketplace

SECRET = "s3cret"


@pytest.fixture
def market() -> Iterator[Marketplace]:
    with Marketplace(secrets={"ch01": SECRET, "ch02": "other"}) as m:
        yield m


@pytest.fixture
def connector(market: Marketplace) -> Iterator[WebhookConnector]:
    c = WebhookConnector(market.url, SECRET, Capabilities(), timeout_s=2.0)
    yield c
    c.close()


def _batch(version: int = 1, quantity: int = 5) -> list[Update]:
    return [
        Update("SKU-1", "DE", quantity, "active:aa", version, price="19.90"),
        Update("SKU-2", "DE", quantity + 1, None, version),
        Update("SKU-1", "FR", quantity + 2, "active:aa", version),
    ]


def _push(c: WebhookConnector, updates: list[Update], channel: str = "ch01") -> PushResult:
    return c.push(channel, updates, batch_key(channel, updates))


def test_an_accepted_batch_lands_in_the_marketplace_state(market: Marketplace, connector: WebhookConnector) -> None:
    before = time.time()
    result = _push(connector, _batch())
    assert result == PushResult(accepted=(("SKU-1", "DE"), ("SKU-2", "DE"), ("SKU-1", "FR")))
    assert market.state("ch01") == {
        ("SKU-1", "DE"): (5, "active:aa", 1),
        ("SKU-2", "DE"): (6, None, 1),
        ("SKU-1", "FR"): (7, "active:aa", 1),
    }
    assert market.held("ch01")[("SKU-1", "DE")].price == "19.90"
    assert market.state("ch02") == {}
    assert before <= market.accepted_at[("ch01", "SKU-2", "DE", 1)] <= time.time()
    assert market.stats.items_applied == 3 and market.refusals == []


def test_a_bad_signature_is_refused_recorded_and_reported(market: Marketplace) -> None:
    wrong = WebhookConnector(market.url, "not-the-secret", timeout_s=2.0)
    try:
        result = _push(wrong, _batch())
    finally:
        wrong.close()
    assert result.error is not None and result.error.startswith("HTTP 401")
    assert result.accepted == () and result.retry_after_s is None
    assert market.state("ch01") == {}
    assert [(r.channel, r.status) for r in market.refusals] == [("ch01", 401)]
    assert market.stats.unauthorized == 1


@pytest.mark.parametrize("case", ["missing", "old", "future", "tampered"])
def test_the_marketplace_refuses_unsigned_expired_or_tampered_requests(market: Marketplace, case: str) -> None:
    body = json.dumps(
        {
            "channel": "ch01",
            "items": [{"sku": "A", "country": "DE", "quantity": 1, "content": None, "price": None, "version": 1}],
        }
    ).encode()
    ts = str(int(time.time()) + {"old": -301, "future": 400}.get(case, 0))
    headers = {"X-Keel-Timestamp": ts, "X-Keel-Signature": sign(SECRET, ts, body), "Idempotency-Key": "k1"}
    if case == "missing":
        del headers["X-Keel-Signature"]
    sent = body.replace(b'"quantity": 1', b'"quantity": 9') if case == "tampered" else body
    response = httpx.post(f"{market.url}/channels/ch01/inventory", content=sent, headers=headers)
    assert response.status_code == 401
    assert market.state("ch01") == {} and market.stats.unauthorized == 1


def test_verify_checks_the_signature_and_the_timestamp_window() -> None:
    body, now = b'{"a":1}', 1_800_000_000.0
    good = sign(SECRET, "1800000000", body)
    assert verify(SECRET, "1800000000", body, good, now)
    assert verify(SECRET, "1800000000", body, good, now + 300)
    assert not verify(SECRET, "1800000000", body, good, now + 301)
    assert not verify("other", "1800000000", body, good, now)
    assert not verify(SECRET, "1800000000", body + b" ", good, now)
    assert not verify(SECRET, "1800000001", body, good, now)
    assert not verify(SECRET, "soon", body, good, now)
    assert not verify(SECRET, "1800000000", body, "sha256=é", now)


def test_over_the_rate_limit_the_marketplace_answers_429_and_the_connector_reports_retry_after() -> None:
    with Marketplace(secrets={"ch01": SECRET}, limits={"ch01": (2, 60.0)}, rate_limit=100) as market:
        c = WebhookConnector(market.url, SECRET, timeout_s=2.0)
        try:
            first = [_push(c, _batch(version=v)) for v in (1, 2)]
            # a client that ignores the limit: the third request arrives over it
            over = _push(c, _batch(version=3))
        finally:
            c.close()
        assert all(r.error is None for r in first)
        assert over.error == "rate limited (429)" and over.accepted == ()
        assert over.retry_after_s is not None and 1.0 <= over.retry_after_s <= 60.0
        assert market.stats.rate_limit_violations == 1
        assert {v[2] for v in market.state("ch01").values()} == {2}  # the refused version 3 was not applied


def test_the_rate_limit_is_per_channel() -> None:
    with Marketplace(secrets={"a": SECRET, "b": SECRET}, rate_limit=1, window_s=60.0) as m:
        c = WebhookConnector(m.url, SECRET, timeout_s=2.0)
        try:
            assert _push(c, _batch(), "a").error is None
            assert _push(c, _batch(), "b").error is None
            assert _push(c, _batch(2), "a").retry_after_s is not None
        finally:
            c.close()
        assert m.stats.rate_limit_violations == 1


def test_an_older_version_is_acknowledged_but_does_not_overwrite(
    market: Marketplace, connector: WebhookConnector
) -> None:
    assert _push(connector, _batch(version=5, quantity=10)).error is None
    old = _push(connector, _batch(version=4, quantity=1))
    assert old.error is None and len(old.accepted) == 3  # acknowledged: the channel holds something newer
    assert market.state("ch01")[("SKU-1", "DE")] == (10, "active:aa", 5)
    assert market.stats.stale == 3 and market.stats.items_applied == 3
    assert ("ch01", "SKU-1", "DE", 4) not in market.accepted_at


def test_a_redelivered_key_gets_the_same_answer_and_is_not_applied_twice(
    market: Marketplace, connector: WebhookConnector
) -> None:
    updates = _batch()
    first = connector.push("ch01", updates, "key-1")
    applied_at = dict(market.accepted_at)
    # the same key with different content: a replay is answered from the record, not re-read
    again = connector.push("ch01", _batch(version=9, quantity=99), "key-1")
    assert again == first
    assert market.stats.duplicates == 1 and market.stats.pushes == 1 and market.stats.items_applied == 3
    assert market.state("ch01")[("SKU-1", "DE")] == (5, "active:aa", 1)
    assert market.accepted_at == applied_at


def test_a_permanent_item_refusal_is_reported_per_item(market: Marketplace, connector: WebhookConnector) -> None:
    updates = [Update("SKU-1", "DE", -1, None, 1), Update("SKU-2", "DE", 3, None, 1)]
    result = _push(connector, updates)
    assert result.accepted == (("SKU-2", "DE"),)
    assert result.rejected == (Rejected("SKU-1", "DE", "quantity must not be negative", retry=False),)
    assert market.state("ch01") == {("SKU-2", "DE"): (3, None, 1)}


def _faulty(fault: str) -> Marketplace:
    return Marketplace(secrets={"ch01": SECRET}, fault_rate=1.0, faults=(fault,), seed=3, stall_s=0.6)


@pytest.mark.parametrize(
    ("fault", "error", "applied"),
    [
        ("error", "HTTP 503", False),
        ("timeout", "timeout", True),  # the marketplace took it; the connector could not know
        ("drop", "connection error", False),
        ("malformed", "malformed response", True),
    ],
)
def test_each_whole_batch_fault_is_a_push_error_never_an_exception(fault: str, error: str, applied: bool) -> None:
    with _faulty(fault) as market:
        c = WebhookConnector(market.url, SECRET, timeout_s=0.3)
        try:
            result = _push(c, _batch())
        finally:
            c.close()
        assert result.error is not None and result.error.startswith(error), result.error
        assert result.accepted == () and result.rejected == ()
        assert market.stats.faults_injected == {fault: 1}
        assert (market.state("ch01") != {}) is applied


def test_a_batch_applied_under_a_fault_is_recognised_when_redelivered() -> None:
    # given a timeout after the marketplace applied the batch
    with _faulty("timeout") as market:
        c = WebhookConnector(market.url, SECRET, timeout_s=0.3)
        try:
            assert _push(c, _batch()).error == "timeout"
            market.fault_rate = 0.0
            # when the engine retries under the same key, then it gets the real answer and nothing is re-applied
            retried = _push(c, _batch())
        finally:
            c.close()
        assert retried.error is None and len(retried.accepted) == 3
        assert market.stats.duplicates == 1 and market.stats.items_applied == 3


def test_partial_success_rejects_some_items_for_a_retry_and_the_retry_is_processed_anew() -> None:
    with _faulty("partial") as market:
        c = WebhookConnector(market.url, SECRET, timeout_s=2.0)
        try:
            updates = _batch()
            result = _push(c, updates)
            assert result.error is None and result.rejected and result.accepted
            assert all(r.retry and r.error == "temporarily unavailable" for r in result.rejected)
            refused = {(r.sku, r.country) for r in result.rejected}
            assert set(market.state("ch01")) == set(result.accepted)
            market.fault_rate = 0.0
            again = _push(c, updates)  # a partial answer is not remembered: the refused items go in now
        finally:
            c.close()
        assert set(again.accepted) == {(u.sku, u.country) for u in updates} and again.rejected == ()
        assert refused <= set(market.state("ch01")) and market.stats.duplicates == 0


def test_faults_are_drawn_reproducibly_at_the_configured_rate() -> None:
    def run() -> dict[str, int]:
        with Marketplace(secrets={"ch01": SECRET}, fault_rate=0.5, faults=("error", "partial"), seed=11) as m:
            c = WebhookConnector(m.url, SECRET, timeout_s=2.0)
            try:
                results = [_push(c, _batch(version=v)) for v in range(1, 41)]
            finally:
                c.close()
            assert sum(r.error is not None for r in results) == m.stats.faults_injected.get("error", 0)
            return m.stats.faults_injected

    counts = run()
    assert counts == run()
    assert 10 <= sum(counts.values()) <= 30 and set(counts) == {"error", "partial"}


def test_unknown_faults_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="faults must be among"):
        Marketplace(secrets={"ch01": SECRET}, faults=("meteor",))
    assert set(FAULTS) == {"error", "timeout", "drop", "malformed", "partial"}


def test_read_back_returns_the_held_state(market: Marketplace, connector: WebhookConnector) -> None:
    _push(connector, _batch(version=2))
    ts = str(int(time.time()))
    response = httpx.get(
        f"{market.url}/channels/ch01/inventory",
        headers={"X-Keel-Timestamp": ts, "X-Keel-Signature": sign(SECRET, ts, b"")},
    )
    assert response.status_code == 200
    assert response.json() == [
        {"sku": "SKU-1", "country": "DE", "quantity": 5, "content": "active:aa", "price": "19.90", "version": 2},
        {"sku": "SKU-1", "country": "FR", "quantity": 7, "content": "active:aa", "price": None, "version": 2},
        {"sku": "SKU-2", "country": "DE", "quantity": 6, "content": None, "price": None, "version": 2},
    ]
    unsigned = httpx.get(f"{market.url}/channels/ch01/inventory")
    assert unsigned.status_code == 401


def test_the_window_slides_a_request_is_admitted_once_the_oldest_leaves_it() -> None:
    clock = [100.0]
    with Marketplace(secrets={"ch01": SECRET}, rate_limit=2, window_s=10.0, monotonic=lambda: clock[0]) as market:
        c = WebhookConnector(market.url, SECRET, timeout_s=2.0)
        try:
            results = []
            for t, version in ((100.0, 1), (104.0, 2), (109.9, 3), (110.0, 4), (113.9, 5), (114.0, 6)):
                clock[0] = t
                results.append(_push(c, _batch(version=version)))
        finally:
            c.close()
        # the 100.0 request leaves at 110.0, the 104.0 one at 114.0
        assert [r.error is None for r in results] == [True, True, False, True, False, True]
        assert [r.retry_after_s for r in results] == [None, None, 1.0, None, 1.0, None]
        assert market.stats.rate_limit_violations == 2


@pytest.mark.parametrize(
    ("path", "body", "key", "status"),
    [
        ("/channels/nope/inventory", b"{}", "k", 404),
        ("/channels/ch01/other", b"{}", "k", 404),
        ("/channels/ch01/inventory", b"not json", "k", 400),
        ("/channels/ch01/inventory", b'{"channel": "ch02", "items": []}', "k", 400),
        ("/channels/ch01/inventory", b'{"channel": "ch01", "items": [{"sku": "A"}]}', "k", 400),
        (
            "/channels/ch01/inventory",
            b'{"channel": "ch01", "items": [{"sku": "A", "country": "DE", "quantity": true, '
            b'"content": null, "price": null, "version": 1}]}',
            "k",
            400,
        ),
        (
            "/channels/ch01/inventory",
            b'{"channel": "ch01", "items": [{"sku": "A", "country": "DE", "quantity": 1, '
            b'"content": null, "price": null, "version": 1}]}',
            "",
            400,
        ),
    ],
)
def test_a_malformed_request_is_refused_and_changes_nothing(
    market: Marketplace, path: str, body: bytes, key: str, status: int
) -> None:
    ts = str(int(time.time()))
    headers = {"X-Keel-Timestamp": ts, "X-Keel-Signature": sign(SECRET, ts, body), "Idempotency-Key": key}
    response = httpx.post(f"{market.url}{path}", content=body, headers=headers)
    assert response.status_code == status
    assert market.state("ch01") == {} and market.accepted_at == {} and market.stats.pushes == 0
    assert [r.status for r in market.refusals] == ([400] if status == 400 else [])


def _sold(market: Marketplace, external_id: str) -> None:
    market.orders.sell(
        "ch01", {"external_id": external_id, "lines": [{"sku": "A", "quantity": 2, "unit_price": "9.90"}]}
    )


def test_order_updates_are_applied_once_and_refused_for_good_when_they_cannot_be(
    market: Marketplace, connector: WebhookConnector
) -> None:
    _sold(market, "O-1")
    _sold(market, "O-2")
    ship = OrderUpdate("O-1", "shipped", (("A", 2),), "shipped:O-1:1", "DHL", "00340434161094")
    unknown = OrderUpdate("O-9", "cancelled", (), "cancelled:O-9:5")
    too_many = OrderUpdate("O-2", "shipped", (("A", 3),), "shipped:O-2:1", "DHL", "1")
    unknown_line = OrderUpdate("O-2", "cancelled", (("B", 1),), "cancelled:O-2:7")
    result = connector.send("ch01", [ship, unknown, too_many, unknown_line])
    assert result.accepted == (("O-1", "shipped"),)
    assert {(r.sku, r.country, r.error, r.retry) for r in result.rejected} == {
        ("O-9", "cancelled", "no such order", False),
        ("O-2", "shipped", "lines the order does not have", False),
        ("O-2", "cancelled", "lines the order does not have", False),
    }
    # the same update again, alone (a new request): applied once all the same
    assert connector.send("ch01", [ship]).accepted == (("O-1", "shipped"),)
    held = market.orders.order("ch01", "O-1")
    assert held is not None and held.status == "shipped" and len(held.shipments) == 1
    # a shipped order is not cancelled afterwards; a refund still is taken
    late = connector.send("ch01", [OrderUpdate("O-1", "cancelled", (), "cancelled:O-1:9")])
    assert late.rejected == (Rejected("O-1", "cancelled", "the order has shipped", False),)
    refund = OrderUpdate("O-1", "refunded", (("A", 1),), "refunded:O-1:RMA-1", amount="9.90")
    assert connector.send("ch01", [refund]).accepted == (("O-1", "refunded"),)
    assert held.refunds == ["9.90"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"channel": "ch01", "updates": []}',
        b'{"channel": "ch02", "updates": [{"external_id": "O-1"}]}',
        b'{"channel": "ch01", "updates": [{"external_id": "O-1", "kind": "lost", "key": "k", "lines": []}]}',
        json.dumps(
            {
                "channel": "ch01",
                "updates": [
                    {"external_id": "O-1", "kind": "shipped", "key": "k", "lines": [{"sku": "A", "quantity": True}]}
                ],
            }
        ).encode(),
    ],
)
def test_a_malformed_order_updates_request_is_a_400_and_changes_nothing(market: Marketplace, body: bytes) -> None:
    _sold(market, "O-1")
    stamp = str(int(time.time()))
    headers = {"X-Keel-Timestamp": stamp, "X-Keel-Signature": sign(SECRET, stamp, body), "Idempotency-Key": "k1"}
    answer = httpx.post(f"{market.url}/channels/ch01/orders/updates", content=body, headers=headers)
    assert answer.status_code == 400
    unsigned = httpx.post(f"{market.url}/channels/ch01/orders/updates", content=body, headers={"Idempotency-Key": "k2"})
    assert unsigned.status_code == 401
    held = market.orders.order("ch01", "O-1")
    assert held is not None and (held.status, held.shipments) == ("unshipped", [])
