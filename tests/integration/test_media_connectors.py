"""The three ad connectors (Amazon-Ads-, Google-Ads- and Meta-style) against the local ad platforms simulator:
a batch applied and read back, the batch limits checked before sending, per-item results (for good or to
retry), the rate paced and its refusal mapped, Google's daily quota, lost answers and failures as results
(a resend is harmless), drift read back, and convergence under 10% injected faults with no limit broken."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from keel.media.connectors import AmazonAdsConnector, GoogleAdsConnector, MetaAdsConnector, connector_for
from keel.media.connectors._http import HttpConnector
from keel.media.model import AdState, Change, ItemResult, Level, Platform, Remote, Sent, Status
from keel.sim.adplatform import FAULTS, AdPlatforms

ACCOUNT = "acct-1"
TOKENS = {Platform.AMAZON: "tok-amazon", Platform.GOOGLE: "tok-google", Platform.META: "tok-meta"}
KINDS: dict[Platform, type[HttpConnector]] = {
    Platform.AMAZON: AmazonAdsConnector,
    Platform.GOOGLE: GoogleAdsConnector,
    Platform.META: MetaAdsConnector,
}
FAST = 1000.0  # requests a second, for tests that are not about the rate
PLATFORMS = pytest.mark.parametrize("platform", list(Platform))
Connect = Callable[..., HttpConnector]


def simulator(rates: dict[Platform, float] | None = None, **kwargs: object) -> AdPlatforms:
    tokens = {token: (platform, ACCOUNT) for platform, token in TOKENS.items()}
    return AdPlatforms(tokens, rates=dict.fromkeys(Platform, FAST) | (rates or {}), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def sim() -> Iterator[AdPlatforms]:
    with simulator() as s:
        yield s


@pytest.fixture
def connect() -> Iterator[Connect]:
    """``connect(sim, platform, rate=FAST, timeout_s=2.0, token=None)``: a connector, closed afterwards."""
    made: list[HttpConnector] = []

    def make(s: AdPlatforms, platform: Platform, rate: float = FAST, timeout_s: float = 2.0,
             token: str | None = None) -> HttpConnector:  # fmt: skip
        kind = KINDS[platform]
        limits = replace(kind.DEFAULT_LIMITS, requests_per_s=rate)
        c = kind(s.url(platform), token or TOKENS[platform], timeout_s=timeout_s, limits=limits)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def initial(level: Level) -> AdState:
    if level is Level.CAMPAIGN:
        return AdState(Status.ENABLED, budget=1000)
    return AdState(Status.ENABLED, bid=50 if level is Level.AD_GROUP else None)


def desired(level: Level, i: int) -> AdState:
    if level is Level.CAMPAIGN:
        return AdState(Status.PAUSED, budget=1500 + i)
    return AdState(Status.ENABLED if level is Level.AD_GROUP else Status.PAUSED, bid=60 + i)


def seed(s: AdPlatforms, platform: Platform, n: int) -> dict[tuple[Level, str], AdState]:
    """``n`` objects of each level, in their initial states; the state the simulator holds."""
    for level in Level:
        for i in range(n):
            s.seed(platform, ACCOUNT, level, f"{level}-{i}", initial(level))
    return s.state(platform, ACCOUNT)


def changes(n: int, version: int = 2) -> list[Change]:
    return [Change(level, f"{level}-{i}", desired(level, i), version) for level in Level for i in range(n)]


def ok(c: Change) -> ItemResult:
    return ItemResult(c.level, c.code, True)


@PLATFORMS
def test_a_batch_is_applied_and_read_back_equal(sim: AdPlatforms, connect: Connect, platform: Platform) -> None:
    # given two objects of each level on the platform
    seed(sim, platform, 2)
    c, batch = connect(sim, platform), changes(2)
    # when their new states are sent
    sent = c.send(ACCOUNT, batch)
    # then every item is accepted, the platform holds exactly them and reads them back
    assert sent == Sent(tuple(ok(ch) for ch in batch), operations=6 if platform is Platform.GOOGLE else 0)
    assert sim.state(platform, ACCOUNT) == {(ch.level, ch.code): ch.state for ch in batch}
    for level in Level:
        codes = [ch.code for ch in batch if ch.level is level]
        assert c.read(ACCOUNT, level, [*codes, "unknown"]) == [Remote(level, code, desired(level, i))
                                                               for i, code in enumerate(codes)]  # fmt: skip
    assert [(a.platform, a.level, a.code, a.state) for a in sim.accepted_log] == [
        (platform, ch.level, ch.code, ch.state) for ch in batch
    ]
    assert sim.violations == 0


@PLATFORMS
def test_an_oversized_batch_is_refused_before_any_request(
    sim: AdPlatforms, connect: Connect, platform: Platform
) -> None:
    c = connect(sim, platform)
    size = c.limits.batch_size
    assert size == {Platform.AMAZON: 1000, Platform.GOOGLE: 10_000, Platform.META: 50}[platform]
    too_many = [Change(Level.AD, f"ad-{i}", AdState(Status.PAUSED), 1) for i in range(size + 1)]
    with pytest.raises(ValueError, match=f"at most {size}"):
        c.send(ACCOUNT, too_many)
    assert sim.requests == 0
    assert c.stats.requests == 0


@PLATFORMS
def test_a_full_batch_goes_in_one_request(sim: AdPlatforms, connect: Connect, platform: Platform) -> None:
    c = connect(sim, platform)
    size = c.limits.batch_size
    for i in range(size):
        sim.seed(platform, ACCOUNT, Level.AD, f"ad-{i}", initial(Level.AD))
    batch = [Change(Level.AD, f"ad-{i}", AdState(Status.PAUSED, bid=i), 1) for i in range(size)]
    sent = c.send(ACCOUNT, batch)
    assert sent.items == tuple(ok(ch) for ch in batch)
    assert sim.requests == 1
    assert sim.violations == 0


@PLATFORMS
def test_items_refused_for_good_are_told_apart_and_the_rest_lands(
    sim: AdPlatforms, connect: Connect, platform: Platform
) -> None:
    # given one known campaign
    sim.seed(platform, ACCOUNT, Level.CAMPAIGN, "known", initial(Level.CAMPAIGN))
    c = connect(sim, platform)
    good = Change(Level.CAMPAIGN, "known", AdState(Status.PAUSED, budget=700), 3)
    unknown = Change(Level.CAMPAIGN, "ghost", AdState(Status.PAUSED, budget=700), 3)
    unknown_group = Change(Level.AD_GROUP, "ghost-group", AdState(Status.PAUSED, bid=5), 3)
    unfit = Change(Level.CAMPAIGN, "known", AdState(Status.PAUSED, bid=5), 4)  # a campaign has no bid
    # when they go out together
    sent = c.send(ACCOUNT, [good, unknown, unknown_group, unfit])
    # then the known one lands, the unknown ones are refused for good by the platform, the unfit one locally
    assert {(i.level, i.code, i.ok, i.retry) for i in sent.items} == {
        (Level.CAMPAIGN, "known", True, True),
        (Level.CAMPAIGN, "ghost", False, False),
        (Level.AD_GROUP, "ghost-group", False, False),
        (Level.CAMPAIGN, "known", False, False),
    }
    assert ItemResult(Level.CAMPAIGN, "known", False, False, "a campaign has no bid") in sent.items
    assert sim.state(platform, ACCOUNT) == {(Level.CAMPAIGN, "known"): AdState(Status.PAUSED, budget=700)}
    assert sent.error is None and sent.retry_after_s is None


@PLATFORMS
def test_transient_item_errors_are_retryable_and_not_applied(connect: Connect, platform: Platform) -> None:
    with simulator(fault_rate=1.0, faults=("item",), seed=3) as s:
        before = seed(s, platform, 4)
        batch = changes(4)
        sent = connect(s, platform).send(ACCOUNT, batch)
        after = s.state(platform, ACCOUNT)
    failed = {(i.level, i.code) for i in sent.items if not i.ok}
    assert {(i.level, i.code) for i in sent.items} == {(ch.level, ch.code) for ch in batch}
    assert all(i.retry for i in sent.items if not i.ok)
    assert 0 < len(failed) < len(batch)
    assert {k for k, v in after.items() if v == before[k]} == failed  # a failed item changed nothing


@pytest.mark.parametrize(("platform", "wait"), [(Platform.AMAZON, 1.0), (Platform.GOOGLE, None), (Platform.META, 1.0)])
def test_a_request_over_the_rate_is_refused_with_the_wait(
    connect: Connect, platform: Platform, wait: float | None
) -> None:
    # given a platform that takes one request a second and a connector declaring ten times more
    with simulator(rates={platform: 1.0}) as s:
        seed(s, platform, 1)
        c = connect(s, platform, rate=100.0)
        first, second = changes(1)[:1], changes(1, version=3)[1:2]
        # when it sends twice at once
        assert c.send(ACCOUNT, first).items == (ok(first[0]),)
        sent = c.send(ACCOUNT, second)
        # then the second is refused whole with the platform's wait, counted as a violation
        assert sent.items == () and sent.error is None and sent.quota_reset_at is None
        assert sent.retry_after_s is not None
        if wait is None:  # Google says the exact delay
            assert 0.9 < sent.retry_after_s <= 1.0
        else:
            assert sent.retry_after_s == wait
        assert s.violations_by_kind == {"rate": 1}
        assert c.stats.throttled == 1
        assert s.state(platform, ACCOUNT)[(Level.AD_GROUP, "ad_group-0")] == initial(Level.AD_GROUP)


@PLATFORMS
def test_a_paced_connector_keeps_to_the_rate_over_a_burst(connect: Connect, platform: Platform) -> None:
    # given a platform taking 20 requests a second (bursts of 3) and a connector declaring the same rate
    with simulator(rates={platform: 20.0}, bursts={platform: 3.0}) as s:
        seed(s, platform, 1)
        c = connect(s, platform, rate=20.0)
        results: list[Sent] = []

        # when four threads send six batches each, as fast as they can
        def burst(n: int) -> None:
            for v in range(6):
                results.append(c.send(ACCOUNT, changes(1, version=10 * n + v)[:1]))

        started = time.monotonic()
        threads = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        # then all 24 land, spread over at least 23 intervals of 50 ms, and the platform saw no violation
        assert len(results) == 24 and all(r.items and r.items[0].ok for r in results)
        assert elapsed >= 23 * 0.05 * 0.95
        assert s.violations == 0


def test_an_amazon_batch_of_several_levels_stops_at_the_refused_request(connect: Connect) -> None:
    # given a platform taking two requests at once, and a batch of three levels (a request each)
    with simulator(rates={Platform.AMAZON: 1.0}, bursts={Platform.AMAZON: 2.0}) as s:
        seed(s, Platform.AMAZON, 1)
        batch = changes(1)
        sent = connect(s, Platform.AMAZON, rate=100.0).send(ACCOUNT, batch)
        # then the campaigns and ad groups are answered, the ads were throttled and not sent
        assert sent == Sent((ok(batch[0]), ok(batch[1])), retry_after_s=1.0)
        assert s.state(Platform.AMAZON, ACCOUNT)[(Level.AD, "ad-0")] == initial(Level.AD)


def test_google_quota_exhaustion_becomes_the_reset_time(connect: Connect) -> None:
    now = [datetime(2025, 3, 10, 22, 15, tzinfo=UTC)]
    with simulator(daily_operations=5, wall=lambda: now[0]) as s:
        seed(s, Platform.GOOGLE, 2)
        c = connect(s, Platform.GOOGLE)
        # given three of the day's five operations used
        assert c.send(ACCOUNT, changes(1)).operations == 3
        # when a mutate of three more goes out
        refused = c.send(ACCOUNT, changes(2)[3:6])
        # then it is refused whole until the next UTC midnight, counted as a violation, nothing applied
        assert refused == Sent(quota_reset_at=datetime(2025, 3, 11, tzinfo=UTC))
        assert s.violations_by_kind == {"quota": 1}
        assert s.operations_used(ACCOUNT) == 3
        assert len(s.accepted_log) == 3
        # and on the next day it goes through
        now[0] = datetime(2025, 3, 11, 0, 0, 1, tzinfo=UTC)
        assert c.send(ACCOUNT, changes(2)[3:6]).operations == 3


def test_google_quota_on_a_simulated_day_resets_after_its_period(connect: Connect) -> None:
    clock, wall = [100.0], datetime(2025, 3, 10, 12, tzinfo=UTC)
    with simulator(daily_operations=1, quota_period_s=60.0, monotonic=lambda: clock[0], wall=lambda: wall) as s:
        seed(s, Platform.GOOGLE, 1)
        c = connect(s, Platform.GOOGLE)
        assert c.send(ACCOUNT, changes(1)[:1]).items[0].ok
        clock[0] = 130.0
        assert c.send(ACCOUNT, changes(1)[1:2]).quota_reset_at == datetime(2025, 3, 10, 12, 0, 30, tzinfo=UTC)
        clock[0] = 160.0
        assert c.send(ACCOUNT, changes(1)[1:2]).items[0].ok


@pytest.mark.parametrize("fault", ["drop", "stall", "error"])
@PLATFORMS
def test_a_lost_answer_or_a_failure_is_an_error_and_a_resend_is_harmless(
    connect: Connect, platform: Platform, fault: str
) -> None:
    with simulator(fault_rate=1.0, faults=(fault,), stall_s=1.0) as s:
        seed(s, platform, 2)
        c = connect(s, platform, timeout_s=0.5)
        batch = [ch for ch in changes(2) if ch.level is Level.AD_GROUP]
        # when the answer is lost (dropped, too late) or the platform fails
        sent = c.send(ACCOUNT, batch)
        # then the connector says so and names no item
        assert sent.items == () and sent.error is not None
        assert sent.error.startswith({"drop": "connection error", "stall": "timeout", "error": "HTTP 5"}[fault])
        applied = {(ch.level, ch.code): ch.state for ch in batch}
        if fault == "error":  # nothing applied
            assert s.accepted_log == []
        else:  # applied although nobody heard
            assert {k: s.state(platform, ACCOUNT)[k] for k in applied} == applied
        # when the same states are sent again, without faults
        s.fault_rate = 0.0
        again = c.send(ACCOUNT, batch)
        # then they are accepted and the platform holds them once
        assert again.items == tuple(ok(ch) for ch in batch)
        assert {k: s.state(platform, ACCOUNT)[k] for k in applied} == applied
        assert s.faults_injected == {fault: 1}
        assert s.violations == 0


@PLATFORMS
def test_a_person_changing_an_object_shows_in_the_read(sim: AdPlatforms, connect: Connect, platform: Platform) -> None:
    seed(sim, platform, 1)
    c = connect(sim, platform)
    c.send(ACCOUNT, changes(1))
    # when somebody pauses the ad group and lowers its bid on the platform
    sim.set_remote(platform, ACCOUNT, Level.AD_GROUP, "ad_group-0", AdState(Status.PAUSED, bid=10))
    # then the read shows it (drift), and the platform did not count it as accepted from Keel
    assert c.read(ACCOUNT, Level.AD_GROUP, ["ad_group-0"]) == [
        Remote(Level.AD_GROUP, "ad_group-0", AdState(Status.PAUSED, bid=10))
    ]
    assert [a.code for a in sim.accepted_log] == ["campaign-0", "ad_group-0", "ad-0"]


@PLATFORMS
def test_a_failed_read_leaves_its_objects_out_and_is_counted(connect: Connect, platform: Platform) -> None:
    with simulator(fault_rate=1.0, faults=("error",)) as s:
        seed(s, platform, 1)
        c = connect(s, platform)
        assert c.read(ACCOUNT, Level.CAMPAIGN, ["campaign-0"]) == []
        assert (c.stats.requests, c.stats.failed) == (1, 1)


@PLATFORMS
def test_a_wrong_token_is_an_error_and_changes_nothing(sim: AdPlatforms, connect: Connect, platform: Platform) -> None:
    before = seed(sim, platform, 1)
    other = next(t for p, t in TOKENS.items() if p is not platform)  # another platform's account
    for token, status in (("nope", 401), (other, 403)):
        sent = connect(sim, platform, token=token).send(ACCOUNT, changes(1))
        assert sent.items == () and sent.error is not None and sent.error.startswith(f"HTTP {status}")
    assert sim.state(platform, ACCOUNT) == before


@PLATFORMS
def test_under_ten_percent_faults_resending_converges_without_violations(connect: Connect, platform: Platform) -> None:
    # given 3 x 50 objects, a platform failing 10% of the requests (every fault kind), and a connector
    # pacing itself to the platform's rate
    with simulator(rates={platform: 200.0}, fault_rate=0.1, seed=7, stall_s=0.8) as s:
        seed(s, platform, 50)
        c = connect(s, platform, rate=200.0, timeout_s=0.5)
        want = changes(50)
        pending, rounds = list(want), 0
        # when a tiny outbox resends every item not accepted, in batches of 5, until all are
        while pending and rounds < 40:
            rounds += 1
            left: list[Change] = []
            for start in range(0, len(pending), 5):
                batch = pending[start : start + 5]
                sent = c.send(ACCOUNT, batch)
                accepted = {(i.level, i.code) for i in sent.items if i.ok}
                assert not any(not i.ok and not i.retry for i in sent.items)  # nothing is refused for good
                left.extend(ch for ch in batch if (ch.level, ch.code) not in accepted)
            pending = left
        # then the platform holds exactly the desired states, faults were met, and no limit was broken
        assert pending == []
        assert s.state(platform, ACCOUNT) == {(ch.level, ch.code): ch.state for ch in want}
        assert set(s.faults_injected) == set(FAULTS)
        assert s.violations == 0


@PLATFORMS
def test_connector_for_builds_each_platforms_connector(sim: AdPlatforms, platform: Platform) -> None:
    c = connector_for(platform, sim.url(platform), TOKENS[platform], timeout_s=1.0)
    assert isinstance(c, KINDS[platform])
    assert c.limits == KINDS[platform].DEFAULT_LIMITS
    assert (c.limits.daily_operations is not None) == (platform is Platform.GOOGLE)
    seed(sim, platform, 1)
    assert all(i.ok for i in c.send(ACCOUNT, changes(1)).items)
    c.close()
