"""``keel bench media`` runs end to end at a tiny scale and prints its figures in the promised shape.

No timing is asserted (benchmarks measure, tests check behaviour): only that every figure is there and sane, that
the faults were injected and retried to the end (no mismatch, no violation), and that the wasted shares order
as their definitions say."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

KEYS = {
    "campaigns", "skus", "stock_events", "pause_p50_s", "pause_p99_s", "resume_p99_s", "wasted_share_keel",
    "wasted_share_6h", "wasted_share_none", "rate_limit_violations", "faults_injected", "final_state_mismatches",
    "seconds", "baseline_6h_pause_p50_s", "request_p50_s",
}  # fmt: skip


def test_bench_media_pauses_every_stock_out_and_ends_in_keels_state(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["bench", "media", "--json", "--skus", "200", "--campaigns", "40", "--events", "8", "--per-s", "4"]
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) >= KEYS
    assert (figures["skus"], figures["campaigns"], figures["stock_events"]) == (200, 40, 8)
    # every stock-out's ads were paused on the platform and resumed after the restock
    assert figures["pauses_missing"] == 0 and figures["resumes_missing"] == 0 and figures["paused_ads"] >= 4
    assert 0 < figures["pause_p50_s"] <= figures["pause_p99_s"] and figures["resume_p99_s"] > 0
    # faults were injected, retried to the end, and no limit was broken
    assert figures["faults_injected"] > 0
    assert (figures["final_state_mismatches"], figures["rate_limit_violations"], figures["dead_letters"]) == (0, 0, 0)
    # no rules waste the most, rules every 6 hours less, pauses within seconds least
    assert 0 <= figures["wasted_share_keel"] < figures["wasted_share_6h"] < figures["wasted_share_none"] < 1
    assert figures["baseline_6h_pause_p50_s"] > 3600
