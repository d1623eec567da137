"""The benchmark command runs end to end at a small scale and prints its figures in the promised shape.

Speed is never asserted here (benchmarks measure, tests check behaviour); only that every figure exists
and is a positive number, so a refactor cannot silently break `keel bench inventory`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

KEYS = {
    "movements_per_s",
    "raw_executemany_per_s",
    "ratio",
    "offered_load_per_s",
    "freshness_p50_s",
    "freshness_p99_s",
    "atp_reads_per_s",
}


def test_bench_inventory_prints_one_json_object_last(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["bench", "inventory", "--json", "--skus", "300", "--seconds", "2"]
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) == KEYS
    assert all(isinstance(v, int | float) and v > 0 for v in figures.values()), figures
    # the ratio is computed before the rates are rounded for printing
    assert abs(figures["ratio"] - figures["movements_per_s"] / figures["raw_executemany_per_s"]) < 0.002


def test_bench_audit_prints_its_figures_and_checks_what_it_wrote(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    result = subprocess.run(
        [sys.executable, "-m", "keel", "bench", "audit", "--json", "--n", "20"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["database"], figures["n"], figures["export_rows"]) == ("sqlite", 20, 40)
    timings = {k: v for k, v in figures.items() if k.endswith("_ms")}
    assert set(timings) == {"write_ms", "audit_entry_ms", "http_write_ms", "page_of_100_ms", "export_ms"}
    assert all(v > 0 for v in timings.values()), figures
    # computed before the timings are rounded for printing
    assert abs(figures["overhead_ratio"] - figures["audit_entry_ms"] / figures["write_ms"]) < 0.01


RELAY_KEYS = {
    "database", "events", "append_per_s", "relay_publish_per_s", "relay_kills", "relay_restart_s", "stream_messages",
    "stream_exact", "consume_nats_per_s", "consume_db_per_s", "consume_ratio", "exactly_once",
}  # fmt: skip


@pytest.mark.nats
def test_bench_relay_kills_the_relay_once_and_checks_the_stream_and_both_consumers(
    tmp_path: Path, nats_url: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    result = subprocess.run(
        [sys.executable, "-m", "keel", "bench", "relay", "--json", "--events", "5000", "--nats-url", nats_url],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) == RELAY_KEYS
    assert (figures["database"], figures["events"], figures["relay_kills"]) == ("sqlite", 5000, 1)
    assert (figures["stream_messages"], figures["stream_exact"], figures["exactly_once"]) == (5000, True, True)
    rates = [figures[k] for k in ("append_per_s", "relay_publish_per_s", "consume_nats_per_s", "consume_db_per_s")]
    assert all(isinstance(v, int) and v > 0 for v in rates), figures
    assert "relay killed (-9) after event" in result.stderr


def test_bench_orders_captures_real_orders_beside_plain_sql(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["bench", "orders", "--json", "--orders", "60", "--wave", "30", "--capture-orders", "20", "--skus", "300"]
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    capture = {k: v for k, v in figures.items() if k.startswith("capture_")}
    assert set(capture) == {
        "capture_per_s",
        "capture_p50_ms",
        "capture_p99_ms",
        "capture_raw_per_s",
        "capture_ratio",
        "capture_1_line_per_s",
        "capture_3_line_per_s",
    }
    assert all(isinstance(v, int | float) and v > 0 for v in capture.values()), capture
    assert figures["capture_p50_ms"] <= figures["capture_p99_ms"]
    # the ratio is computed before the rates are rounded for printing
    assert abs(capture["capture_ratio"] - capture["capture_per_s"] / capture["capture_raw_per_s"]) < 0.01


def test_bench_catalog_imports_lists_and_edits_and_prints_the_issue_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["bench", "catalog", "--json", "--products", "40", "--channels", "5", "--edits", "10", "--batch", "15"]
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["products"], figures["variants"], figures["channels"], figures["listings"]) == (40, 80, 5, 400)
    assert figures["ready"] + figures["blocked"] == 400 and figures["blocked"] > 0  # the planted gaps block some
    for key in ("seconds", "products_per_s", "raw_insert_per_s", "edit_p50_ms", "edit_p99_ms"):
        assert figures[key] > 0, key
    assert figures["edit_p99_ms"] >= figures["edit_p50_ms"]


def test_bench_sync_pushes_through_the_simulator_and_prints_the_issue_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["bench", "sync", "--json", "--channels", "4", "--skus", "50", "--warehouses", "2", "--changes", "40"]
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args, "--seconds", "2", "--fault-rate", "0.3"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["channels"], figures["skus"]) == (4, 50)
    for key in ("changes_per_s", "p50_s", "p99_s", "pushes_per_s", "coalescing_ratio", "request_p50_s"):
        assert figures[key] > 0, key
    assert figures["p50_s"] <= figures["p99_s"]
    # every value arrived, the simulator's limit held, and after the faults it holds exactly Keel's state
    assert (figures["undelivered"], figures["rate_limit_violations"], figures["final_state_mismatches"]) == (0, 0, 0)
    assert figures["drained"] and figures["faults_drained"]
    assert figures["orders_in_per_s"] > 0 and figures["orders_refused"] == 0


def test_bench_forecast_scores_keel_beside_its_baselines_and_prints_the_issue_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["bench", "forecast", "--dataset", "tourism", "--json", "--limit", "8", "--threads", "1"]
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["dataset"], figures["series"]) == ("tourism", 24)  # 8 of each of its three frequencies
    for method in ("", "_snaive", "_ets"):
        for error in ("smape", "mape", "mase"):
            assert 0 < figures[f"{error}{method}"] < 200, (error, method)
    assert figures["seconds"] > 0 and 0 <= figures["coverage_80"] <= figures["coverage_95"] <= 1
    # the baselines are other methods, not Keel's forecasts printed twice
    assert figures["smape"] != figures["smape_snaive"] and figures["smape"] != figures["smape_ets"]


def test_bench_rebalance_compares_the_milp_with_the_greedy_rule_on_the_same_stores(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["bench", "rebalance", "--json", "--skus", "12", "--locations", "6"]
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["skus"], figures["locations"]) == (12, 6)
    # both planners move stock and cut the expected lost sales; the MILP's plan is worth at least the greedy one's
    for name in ("greedy", "milp"):
        assert figures[f"transfers_{name}"] > 0 and figures[f"units_{name}"] > 0
        assert figures[f"lost_units_after_{name}"] < figures["lost_units_before"]
    assert figures["value_milp"] >= figures["value_greedy"] > 0
    assert figures["value_ratio"] >= 1 and 0 <= figures["proven_optimal_share"] <= 1


def test_bench_automation_replans_what_moved_beside_a_full_replan(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["bench", "automation", "--json", "--skus", "300", "--locations", "20", "--planned", "20"]
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    # the first run plans every planned series; after a few sales only theirs, while the baseline plans all again
    assert figures["series_first"] == figures["series_full"] > figures["series_incremental"] > 0
    assert 0 < figures["moved_skus"] < figures["planned"]
    ratio = figures["seconds_full"] / figures["seconds_incremental"]
    assert figures["seconds_full"] > 0 and abs(figures["speedup"] - ratio) <= 0.02 * ratio + 0.01
    # the guardrails decided every suggestion of the first run: accepted within the value limit, the rest held
    assert figures["accepted"] + figures["held"] + figures["failed"] > 0
    assert 0 <= figures["accepted_value"] <= 5000 and sum(figures["held_by"].values()) == figures["held"]


def test_bench_forecast_twin_scores_keel_and_baselines_against_the_true_demand(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["bench", "forecast", "--dataset", "twin", "--json", "--skus", "6", "--stores", "2", "--weeks", "8",
            "--horizon", "14", "--threads", "1", "--dask"]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["dataset"], figures["series"], figures["history_days"], figures["horizon"]) == ("twin", 36, 56, 14)
    # the same forecast again on a local Dask cluster of two workers: equal
    assert figures["dask_workers"] == 2 and figures["seconds_dask"] > 0 and figures["max_difference_dask"] == 0.0
    for suffix in ("", "_snaive", "_ma4"):  # an error is never smaller than its bias, at either level
        for level in ("day", "week"):
            assert figures[f"wape_{level}{suffix}"] >= abs(figures[f"bias_{level}{suffix}"]) >= 0
    assert figures["seconds"] > 0
    assert figures["yearly"] == [] and "wape_day_no_yearly" not in figures  # 8 weeks: no year to learn from


def test_bench_forecast_twin_with_a_year_of_history_reports_the_yearly_season_beside_its_absence(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["bench", "forecast", "--dataset", "twin", "--json", "--skus", "6", "--stores", "2", "--weeks", "58",
            "--start", "2027-10-04", "--horizon", "14", "--threads", "1"]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["first_day"], figures["history_days"], figures["series"]) == ("2027-10-04", 406, 36)
    assert set(figures["yearly"]) <= {"smooth", "sparse"}
    for level in ("day", "week"):  # the same forecaster without the season, in the same run
        assert figures[f"wape_{level}_no_yearly"] >= abs(figures[f"bias_{level}_no_yearly"]) >= 0
    assert figures["seconds_no_yearly"] > 0
    bad = subprocess.run([sys.executable, "-m", "keel", *args[:-4], "--start", "2027-13-01"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and "--start: an ISO date" in bad.stderr


def test_bench_planning_runs_the_closed_loop_three_times_on_the_same_demand(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["bench", "planning", "--json", "--days", "3", "--skus", "300", "--locations", "20", "--planned", "4",
            "--service-level", "0.9"]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "keel", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["days"], figures["skus"], figures["service_level"]) == (3, 4, 0.9) and figures["series"] >= figures[
        "locations"
    ] > 0
    for run in ("baseline", "keel", "rebalance"):  # the issue's keys, each a share, a duration or a sum
        assert 0 <= figures[f"stockout_rate_{run}"] <= 1 and 0 < figures[f"fill_rate_{run}"] <= 1
        assert figures[f"avg_inventory_days_{run}"] > 0 and figures[f"lost_sales_value_{run}"] >= 0
    # with demand met in full, nothing is lost; a stockout day always loses something
    for run in ("baseline", "keel", "rebalance"):
        assert (figures[f"fill_rate_{run}"] == 1) == (figures[f"lost_sales_value_{run}"] == 0)
    assert 0 <= figures["transfers"] <= figures["transfers_rebalance"]
    assert figures["seconds"] >= figures["plan_seconds"] > 0
