"""The control tower's alert rules, as data, and their evaluation over a snapshot's metrics (standard library
only, no I/O): a rule fires for each subject whose metric compares to its threshold."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

# -- alerts -----------------------------------------------------------------------------------------------
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class AlertRule:
    """A declarative rule: fire when ``metric`` (for any subject) compares ``op`` to ``threshold``.

    ``message`` is formatted with ``subject``, ``value`` and ``threshold``.
    """

    name: str
    metric: str
    op: str
    threshold: float
    severity: str  # "warn" or "bad"
    message: str

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"unknown operator {self.op!r}; use one of {', '.join(_OPS)}")
        if self.severity not in ("warn", "bad"):
            raise ValueError(f"severity must be warn or bad, not {self.severity!r}")


@dataclass(frozen=True)
class Alert:
    rule: str
    severity: str
    subject: str
    value: float
    message: str


DEFAULT_RULES: tuple[AlertRule, ...] = (
    AlertRule(
        "projector-lag",
        "sync_lag_events",
        ">",
        1000,
        "bad",
        "Channel sync is {value:,.0f} stock events behind (limit {threshold:,.0f}).",
    ),
    AlertRule(
        "sync-delay",
        "sync_lag_seconds",
        ">",
        60,
        "warn",
        "The oldest unsynced stock event is {value:,.0f} s old (limit {threshold:,.0f} s).",
    ),
    AlertRule(
        "channel-sync-lag",
        "channel_sync_p99_s",
        ">",
        60,
        "warn",
        "Channel {subject} accepts changes {value:,.1f} s after Keel makes them (p99, limit {threshold:,.0f} s).",
    ),
    AlertRule(  # a synced channel's seller standards (docs/sync.md); the subject is "<channel> <metric>"
        "channel-seller-standards",
        "seller_standards",
        ">=",
        0,
        "bad",
        "Channel {subject} is {value:.1f}%: outside its seller standard, or projected to be before its window ends.",
    ),
    AlertRule(
        "silent-source",
        "source_age_minutes",
        ">",
        30,
        "warn",
        "Source {subject} has not been heard from for {value:,.0f} min (limit {threshold:,.0f}).",
    ),
    AlertRule(
        "stockouts",
        "stockout_pct",
        ">",
        10,
        "bad",
        "{value:.1f}% of stocked listings show zero (limit {threshold:g}%).",
    ),
    AlertRule(
        "accuracy",
        "accuracy_pct",
        "<",
        95,
        "warn",
        "Inventory accuracy is {value:.1f}% (target {threshold:g}%).",
    ),
)


def evaluate(rules: Iterable[AlertRule], metrics: Mapping[str, Mapping[str, float | None]]) -> list[Alert]:
    """Alerts for every (rule, subject) whose value breaks the rule; unknown metrics and None values never fire.

    ``metrics`` maps a metric name to its value per subject ("" for a global figure).
    """
    out: list[Alert] = []
    for rule in rules:
        for subject, value in sorted(metrics.get(rule.metric, {}).items()):
            if value is not None and _OPS[rule.op](value, rule.threshold):
                text = rule.message.format(subject=subject, value=value, threshold=rule.threshold)
                out.append(Alert(rule.name, rule.severity, subject, value, text))
    return sorted(out, key=lambda a: (a.severity != "bad", a.rule, a.subject))
