"""Where the ledger write spends its time: wraps its steps with timers (benchmarks only, never in serving)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from keel.inventory import store
from keel.inventory.service import ledger


@contextmanager
def ledger_phase_timers() -> Iterator[dict[str, float]]:
    """Seconds spent in each step of ``StockService.apply_batch`` while the block runs, by step name."""
    totals: dict[str, float] = {}
    originals: list[tuple[Any, str, Any]] = []

    def wrap(module: Any, name: str) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[name] = totals.get(name, 0.0) + time.perf_counter() - start

        originals.append((module, name, original))
        setattr(module, name, timed)

    # The ledger service reaches these through the module attributes, so wrapping them there times every call.
    for name in ("insert_movements", "load_positions", "save_positions"):
        wrap(store, name)
    for name in ("validate_batch", "plan_batch"):
        wrap(ledger, name)
    try:
        yield totals
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
