"""Health of a channel's sync against thresholds: ok, breach, projected (the trend from the window's first half
to its second crosses the threshold half a window on), no data; thresholds documents checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from keel.channels.sync.health import (
    BACKLOG_AGE,
    BREACH,
    DEFAULTS,
    ERROR_RATE,
    LAG_P99,
    NO_DATA,
    OK,
    PROJECTED,
    Request,
    health,
    problems,
    thresholds_of,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
EARLY, LATE = NOW - timedelta(minutes=12), NOW - timedelta(minutes=3)


def by_metric(
    requests: list[Request], oldest: datetime | None = None, **limits: float
) -> dict[str, tuple[float | None, float, str, float | None]]:
    found = health(requests, oldest, NOW, WINDOW, thresholds_of(limits))
    return {h.metric: (h.value, h.threshold, h.status, h.projected) for h in found}


def test_a_quiet_healthy_channel_is_ok_and_steady() -> None:
    got = by_metric([Request(EARLY, False, [1000, 2000]), Request(LATE, False, [1000, 2000])])
    assert got[LAG_P99] == (2.0, 60.0, OK, 2.0)
    assert got[ERROR_RATE] == (0.0, 0.05, OK, 0.0)
    assert got[BACKLOG_AGE] == (0.0, 300.0, OK, None)


def test_over_the_threshold_is_a_breach() -> None:
    got = by_metric([Request(LATE, False, [90_000]), Request(LATE, True, [])])
    assert got[LAG_P99][2] == BREACH
    assert got[ERROR_RATE][:3] == (0.5, 0.05, BREACH)


def test_a_rising_trend_is_projected_to_breach_before_the_window_ends() -> None:
    # lag p99 20 s in the first half, 45 s in the second: within 60 s now, 70 s half a window on
    rising = [Request(EARLY, False, [20_000]), Request(LATE, False, [45_000])]
    got = by_metric(rising)
    assert got[LAG_P99] == (45.0, 60.0, PROJECTED, 70.0)
    # the same trend with a higher threshold stays ok
    assert by_metric(rising, lag_p99_s=80)[LAG_P99][2] == OK
    # a falling trend is never projected
    assert (
        by_metric(list(reversed([Request(LATE, False, [20_000]), Request(EARLY, False, [45_000])])))[LAG_P99][2] == OK
    )


def test_a_backlog_that_does_not_move_is_projected_one_that_moves_is_not() -> None:
    oldest = NOW - timedelta(seconds=100)
    stuck = by_metric([Request(EARLY, False, [500])], oldest)
    assert stuck[BACKLOG_AGE] == (100.0, 300.0, PROJECTED, 550.0)
    moving = by_metric([Request(LATE, False, [500])], oldest)
    assert moving[BACKLOG_AGE] == (100.0, 300.0, OK, None)
    assert by_metric([], NOW - timedelta(seconds=400))[BACKLOG_AGE][2] == BREACH


def test_no_request_in_the_window_is_no_data() -> None:
    got = by_metric([])
    assert got[LAG_P99][2] == got[ERROR_RATE][2] == NO_DATA


def test_thresholds_documents() -> None:
    assert thresholds_of({"error_rate": 0.1}) == {**DEFAULTS, "error_rate": 0.1}
    assert problems({"error_rate": 0.1, "lag_p99_s": 5}) == []
    assert problems({"cancellation_rate": 0.02, "valid_tracking_rate": 1, "lag_p99_s": 5}) == []
    assert problems({"orders": 1, "error_rate": "high", "lag_p99_s": True, "order_defect_rate": 1.5}) == [
        ("orders", f"must be one of {', '.join(DEFAULTS)}"),
        ("error_rate", "must be a number between 0 and 1"),
        ("lag_p99_s", "must be a number between 0 and 1e9"),
        ("order_defect_rate", "must be a number between 0 and 1"),
    ]
    assert problems({"on_time_delivery_rate": -0.1, "cancellation_rate": float("nan")}) == [
        ("on_time_delivery_rate", "must be a number between 0 and 1"),
        ("cancellation_rate", "must be a number between 0 and 1"),
    ]
    assert problems([]) == [("", "must be an object")]
