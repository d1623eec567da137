"""Retry pacing shared by every outbox that talks to a remote system (channel sync, ad connectors)."""

from __future__ import annotations

import random


def backoff_s(attempt: int, rng: random.Random, base_s: float = 0.5, cap_s: float = 300.0) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^attempt)], so workers that
    failed together do not retry together. (The attempt count lives in the database across processes and
    restarts, so an in-process retry library does not fit; this is the whole formula.)"""
    return rng.uniform(0.0, min(cap_s, base_s * 2 ** min(attempt, 30)))
