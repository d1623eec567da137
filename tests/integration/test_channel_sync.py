"""The channel sync engine on both databases, against an in-memory connector: desired state fed from the
event log, coalescing, versions, backoff and dead letters, the channel's own wait, pause/resume/resync and
workers sharing channels."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from keel.bootstrap import Keel
from keel.channels import FEEDER, Capabilities, PushResult, Rejected, SyncConfig, SyncService, Update
from keel.platform.errors import NotFound, ValidationFailed
from tests.support import MARKET, WEB_DE, WH_DE, World, receive

CONFIG = {"url": "http://127.0.0.1:9/hook", "secret": "s3cret-s3cret", "batch_size": 2, "rate_limit": 1000}


@dataclass
class FakeChannel:
    """A connector that records what it was sent and answers as told."""

    answer: Callable[[list[Update]], PushResult] | None = None
    pushes: list[list[Update]] = field(default_factory=list)
    kind: str = "fake"
    capabilities: Capabilities = field(default_factory=Capabilities)

    def push(self, channel: str, updates: list[Update], key: str) -> PushResult:
        self.pushes.append(updates)
        if self.answer is not None:
            return self.answer(updates)
        return PushResult(accepted=tuple((u.sku, u.country) for u in updates))

    def close(self) -> None:
        return None

    def sent(self) -> list[tuple[str, str, int, int]]:
        return [(u.sku, u.country, u.quantity, u.version) for batch in self.pushes for u in batch]


def engine(keel: Keel, fake: FakeChannel, **options: object) -> SyncService:
    def connect(config: SyncConfig) -> FakeChannel:
        return fake

    return SyncService(keel.db, keel.channels.exists, keel.availability.listed_of, connect, **options)  # type: ignore[arg-type]


def feed(keel: Keel) -> None:
    keel.availability.catch_up()
    keel.consumers.get(FEEDER).step(1000)


def state(sync: SyncService, channel: str = WEB_DE) -> dict[str, tuple[int, int, int, str, int]]:
    """sku -> (quantity, version, pushed_version, state, attempts) of the channel's DE rows."""
    return {
        i.sku: (i.quantity, i.version, i.pushed_version, i.state, i.attempts)
        for i in sync.items(channel, limit=1000)
        if i.country == "DE"
    }


def test_a_new_channel_is_owed_what_it_lists_and_gets_it(keel: Keel, world: World) -> None:
    # given stock listed on web-de before its sync is configured
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", WH_DE, 4)
    feed(keel)
    fake = FakeChannel()
    sync = engine(keel, fake)
    # when it is configured and the pump runs
    status = sync.configure(WEB_DE, CONFIG)
    assert (status.pending, status.synced) == (2, 0)
    sync.run_pass()
    # then both values went out, in batches of at most 2, and are recorded as the channel's
    assert sorted(fake.sent()) == [("SKU-1", "DE", 10, 1), ("SKU-2", "DE", 4, 1)]
    assert state(sync) == {"SKU-1": (10, 1, 1, "synced", 0), "SKU-2": (4, 1, 1, "synced", 0)}
    after = sync.channel(WEB_DE)
    assert (after.pending, after.synced, after.dead, after.requests, after.errors) == (0, 2, 0, 1, 0)
    assert after.lag_p50_s is not None and after.lag_p99_s is not None
    # and nothing is sent again while nothing changes
    sync.run_pass()
    assert len(fake.pushes) == 1


def test_a_burst_of_changes_is_sent_as_its_latest_value(keel: Keel, world: World) -> None:
    fake = FakeChannel()
    sync = engine(keel, fake)
    sync.configure(WEB_DE, CONFIG)
    # when five receipts land before the pump runs
    for i in range(5):
        receive(keel, "SKU-1", WH_DE, 1, mid=f"r{i}")
        feed(keel)
    sync.run_pass()
    # then the channel gets one value, the latest, at the row's latest version
    assert fake.sent() == [("SKU-1", "DE", 5, 5)]


def test_an_answer_for_an_older_version_never_marks_a_newer_one_synced(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    feed(keel)

    def meanwhile(updates: list[Update]) -> PushResult:
        if len(fake.pushes) == 1:  # while the first push is on the wire, the stock moves again
            receive(keel, "SKU-1", WH_DE, 5, mid="late")
            feed(keel)
        return PushResult(accepted=tuple((u.sku, u.country) for u in updates))

    fake = FakeChannel(meanwhile)
    sync = engine(keel, fake)
    sync.configure(WEB_DE, CONFIG)
    sync.run_pass()
    # then the first answer recorded version 1 only; the row still owes version 2, which the next request sends
    assert fake.sent() == [("SKU-1", "DE", 10, 1), ("SKU-1", "DE", 15, 2)]
    assert state(sync) == {"SKU-1": (15, 2, 2, "synced", 0)}


def test_failures_back_off_then_become_dead_letters_that_an_operator_retries(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    feed(keel)
    fake = FakeChannel(lambda updates: PushResult(error="HTTP 503"))
    # a seeded jitter and a 60 s base: the channel's first backoff is tens of seconds, not a lucky few ms
    sync = engine(keel, fake, backoff_base_s=60.0, rng=random.Random(0))
    sync.configure(WEB_DE, {**CONFIG, "max_attempts": 2})
    sync.run_pass()
    # one failed request: the item waits (backoff) and the channel holds further requests
    (item,) = sync.items(WEB_DE, "pending")
    assert (item.attempts, item.last_error) == (1, "HTTP 503")
    status = sync.channel(WEB_DE)
    assert (status.errors, status.last_error) == (1, "HTTP 503")
    assert status.retry_at is not None
    # when the backoff is over and it fails again, the item is dead (max_attempts 2)
    with keel.db.write() as conn:
        conn.exec_driver_sql("UPDATE sync_items SET due_at = 0")
        conn.exec_driver_sql("UPDATE sync_channels SET not_before = NULL")
    sync.run_pass()
    assert [(i.sku, i.attempts, i.last_error) for i in sync.items(WEB_DE, "dead")] == [("SKU-1", 2, "HTTP 503")]
    sync.run_pass()
    assert len(fake.pushes) == 2  # a dead letter is not sent again on its own
    # then an operator retries once the channel is back
    fake.answer = None
    with keel.db.write() as conn:
        conn.exec_driver_sql("UPDATE sync_channels SET not_before = NULL")
    assert sync.retry_dead(WEB_DE) == 1
    sync.run_pass()
    assert state(sync) == {"SKU-1": (10, 1, 1, "synced", 0)}


def test_a_value_the_channel_refuses_for_good_is_a_dead_letter_at_once(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", WH_DE, 3)
    feed(keel)

    def refuse_one(updates: list[Update]) -> PushResult:
        ok = tuple((u.sku, u.country) for u in updates if u.sku != "SKU-2")
        return PushResult(ok, (Rejected("SKU-2", "DE", "unknown listing", retry=False),))

    sync = engine(keel, FakeChannel(refuse_one))
    sync.configure(WEB_DE, CONFIG)
    sync.run_pass()
    assert state(sync) == {"SKU-1": (10, 1, 1, "synced", 0), "SKU-2": (3, 1, 0, "dead", 1)}
    assert [i.last_error for i in sync.items(WEB_DE, "dead")] == ["unknown listing"]


def test_the_channels_own_wait_is_kept_and_is_not_an_items_failure(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    feed(keel)
    fake = FakeChannel(lambda updates: PushResult(error="HTTP 429", retry_after_s=30))
    sync = engine(keel, fake)
    sync.configure(WEB_DE, CONFIG)
    sync.run_pass()
    sync.run_pass()
    # one request, then nothing until the channel's Retry-After is over; the item's attempts are untouched
    assert len(fake.pushes) == 1
    assert state(sync) == {"SKU-1": (10, 1, 0, "pending", 0)}
    retry_at = sync.channel(WEB_DE).retry_at
    assert retry_at is not None


def test_the_request_rate_stays_within_the_channels_limit(keel: Keel, world: World) -> None:
    for i in range(6):
        receive(keel, f"SKU-{i}", WH_DE, 1)
    feed(keel)
    fake = FakeChannel()
    sync = engine(keel, fake)
    sync.configure(WEB_DE, {**CONFIG, "batch_size": 1, "rate_limit": 2, "window_s": 3600})
    sync.run_pass()
    sync.run_pass()
    # 6 values owed, 1 per request, 2 requests per hour: 2 requests were sent, the rest wait
    assert len(fake.pushes) == 2
    assert sync.channel(WEB_DE).pending == 4


def test_pause_holds_pushes_and_resume_sends_the_latest(keel: Keel, world: World) -> None:
    fake = FakeChannel()
    sync = engine(keel, fake)
    sync.configure(WEB_DE, CONFIG)
    assert sync.pause(WEB_DE) is True
    assert sync.pause(WEB_DE) is False
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-1", WH_DE, 2, mid="again")
    feed(keel)
    sync.run_pass()
    assert fake.pushes == []
    assert sync.channel(WEB_DE).paused
    assert sync.resume(WEB_DE) is True
    sync.run_pass()
    assert fake.sent() == [("SKU-1", "DE", 12, 1)]


def test_a_resync_sends_every_value_again(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    feed(keel)
    fake = FakeChannel()
    sync = engine(keel, fake)
    sync.configure(WEB_DE, CONFIG)
    sync.run_pass()
    assert sync.resync(WEB_DE) == 1
    sync.run_pass()
    assert fake.sent() == [("SKU-1", "DE", 10, 1), ("SKU-1", "DE", 10, 1)]
    assert state(sync) == {"SKU-1": (10, 1, 1, "synced", 0)}


def test_two_workers_share_the_channels_and_one_takes_over_when_the_other_stops(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    feed(keel)
    first, second = FakeChannel(), FakeChannel()
    a = engine(keel, first, worker="a", lease_s=0.5)
    b = engine(keel, second, worker="b", lease_s=0.5)
    a.configure(WEB_DE, CONFIG)
    a.configure(MARKET, CONFIG)
    renewal = 0.5 / 3 + 0.02  # a worker renews its leases (and rebalances) every third of a lease
    a.run_pass()  # alone: a takes both
    b.run_pass()  # b announces itself but both channels are leased to a
    time.sleep(renewal)
    a.run_pass()  # a sees two workers and lets one go
    b.run_pass()
    owners = {s.channel: s.owner for s in a.status()}
    assert sorted(owners.values()) == ["a", "b"]
    # each channel got its values from exactly one worker
    pushed = {u.sku for batch in first.pushes + second.pushes for u in batch}
    assert pushed == {"SKU-1"}
    assert len(first.pushes) + len(second.pushes) == 2
    # when a stops (its lease runs out), b takes every channel
    time.sleep(0.6)
    b.run_pass()
    assert {s.owner for s in b.status()} == {"b"}


def test_configurations_are_checked(keel: Keel, world: World) -> None:
    sync = engine(keel, FakeChannel())
    with pytest.raises(NotFound):
        sync.configure("nope", CONFIG)
    with pytest.raises(ValidationFailed) as refused:
        sync.configure(WEB_DE, {"url": "ftp://x", "secret": "short", "batch_size": 0, "rate_limit": True, "x": 1})
    assert sorted(e.field for e in refused.value.errors) == ["batch_size", "rate_limit", "secret", "url", "x"]
    with pytest.raises(NotFound):
        sync.pause(WEB_DE)  # not configured yet
    assert sync.status() == []
