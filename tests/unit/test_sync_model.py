"""The sync engine's pure domain: the batch idempotency key, backoff with full jitter, the sliding request window."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from keel.channels.sync.model import Update, Window, batch_key
from keel.platform.backoff import backoff_s


def _updates() -> list[Update]:
    return [
        Update("SKU-1", "DE", 5, "active:ab", 3),
        Update("SKU-2", "DE", 0, None, 7),
        Update("SKU-1", "FR", 2, "active:ab", 1),
    ]


def test_batch_key_is_stable_and_ignores_the_order_of_the_updates() -> None:
    updates = _updates()
    key = batch_key("ch01", updates)
    assert key == batch_key("ch01", list(updates))
    assert key == batch_key("ch01", list(reversed(updates)))
    assert len(key) == 32 and int(key, 16) >= 0


def test_batch_key_changes_with_a_version_the_channel_or_the_items() -> None:
    updates = _updates()
    key = batch_key("ch01", updates)
    bumped = [updates[0], Update("SKU-2", "DE", 0, None, 8), updates[2]]
    assert batch_key("ch01", bumped) != key
    assert batch_key("ch02", updates) != key
    assert batch_key("ch01", updates[:2]) != key


def test_batch_key_is_by_version_not_by_value() -> None:
    # the same version carries the same value; a redelivery rebuilt from the store must find the same key
    updates = _updates()
    same_versions = [Update(u.sku, u.country, u.quantity + 1, u.content, u.version) for u in updates]
    assert batch_key("ch01", same_versions) == batch_key("ch01", updates)


def test_backoff_stays_within_its_growing_cap() -> None:
    rng = random.Random(7)
    for attempt in range(40):
        cap = min(300.0, 0.5 * 2 ** min(attempt, 30))
        draws = [backoff_s(attempt, rng) for _ in range(200)]
        assert all(0.0 <= d <= cap for d in draws)
        if attempt >= 4:  # a wide cap is used: the draws spread beyond the previous cap
            assert max(draws) > min(300.0, 0.5 * 2 ** (attempt - 1)) * 0.5
    assert max(backoff_s(1000, rng) for _ in range(500)) <= 300.0


def test_backoff_is_jittered_and_reproducible_from_the_seed() -> None:
    a = [backoff_s(5, random.Random(1)) for _ in range(3)]
    b = [backoff_s(5, random.Random(1)) for _ in range(3)]
    assert a == b
    rng = random.Random(1)
    assert len({backoff_s(5, rng) for _ in range(50)}) == 50


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(1, 6),
    window_s=st.floats(0.5, 5.0),
    gaps=st.lists(st.floats(0.0, 2.0), min_size=1, max_size=60),
)
def test_window_never_allows_more_than_the_limit_in_any_sliding_window(
    limit: int, window_s: float, gaps: list[float]
) -> None:
    # given a sender that asks at arbitrary moments and sends as soon as the window lets it
    window = Window(limit, window_s, margin_s=0.0)
    now, sent = 0.0, []
    for gap in gaps:
        now += gap
        while (wait := window.wait(now)) > 0.0:  # float rounding may leave a sliver to wait
            now += wait
        window.take(now)
        sent.append(now)
    # then no span of window_s holds more than limit requests (to a nanosecond: a clock's resolution, and the
    # float rounding of "oldest + window" against "now - oldest" when margin_s is 0)
    for i, start in enumerate(sent):
        assert sum(1 for t in sent[i:] if t - start < window_s - 1e-9) <= limit


def test_window_lets_the_limit_through_at_once_then_waits_for_the_oldest_to_leave() -> None:
    window = Window(3, 10.0, margin_s=0.5)
    for t in (0.0, 1.0, 2.0):
        assert window.wait(t) == 0.0
        window.take(t)
    assert window.wait(3.0) == 7.5  # the first request leaves the window (plus margin) at 10.5
    assert window.wait(10.5) == 0.0
