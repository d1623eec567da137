"""``/planning/...`` over HTTP and ``keel planning ...`` on the command line, on both databases: policies,
a run, suggestions accepted, rejected and received, history, who may call what, and hostile input refused
with a 4xx problem and nothing written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from keel.access import Role
from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from tests.e2e.conftest import Run
from tests.support import ST_DE, WH_DE, build_world, open_keel, position, snapshot
from tests.support_planning import SKU, SLOW_STORE, seed_sales, seed_slow_store

DEEP: Any = 1  # 20 levels: past a document's 16, within the HTTP guard's 32
for _ in range(20):
    DEEP = [DEEP]
DEEPER: Any = DEEP
for _ in range(20):
    DEEPER = [DEEPER]


@pytest.fixture
def planned(keel: Keel) -> Keel:
    build_world(keel)
    seed_sales(keel, utcnow().date())
    return keel


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()  # type: ignore[no-any-return]


def test_a_run_and_its_suggestions_over_http(planned: Keel, client: TestClient) -> None:
    # given a policy row, then a run of DE for today (every default policy orders every day)
    saved = client.put("/planning/policies", json={"rows": [{"location": ST_DE, "pack_size": 2}]})
    assert saved.json() == {"rows": 1, "changed": 1}
    run = client.post("/planning/runs", json={"country": "DE"})
    assert run.status_code == 201, run.text
    assert run.json()["series"] == 2 and run.json()["transfers"] == 1
    # then the transfer is listed with its arithmetic, in whole packs of 2
    page = client.get("/planning/suggestions", params={"kind": "transfer"}).json()
    assert page["total"] == 1
    (item,) = page["items"]
    assert (item["sku"], item["source"], item["location"], item["status"]) == (SKU, WH_DE, ST_DE, "proposed")
    assert item["quantity"] % 2 == 0 and item["explanation"]["position"] == 2
    # when accepted: the ledger holds the two movements; accepting again answers the same
    accepted = client.post(f"/planning/suggestions/{item['id']}/accept").json()
    assert accepted["status"] == "accepted" and accepted["decided_by"]
    assert client.post(f"/planning/suggestions/{item['id']}/accept").json()["status"] == "accepted"
    assert position(planned, SKU, ST_DE)["incoming"] == item["quantity"]
    assert client.post(f"/planning/suggestions/{item['id']}/reject").status_code == 409
    assert client.post(f"/planning/suggestions/{item['id']}/receive").json()["status"] == "received"
    assert position(planned, SKU, ST_DE)["available"] == 2 + item["quantity"]
    # and the history shows four a day
    history = client.get("/planning/history", params={"sku": SKU, "location": ST_DE, "days": 7}).json()
    assert history["units"] == [4] * 7 and len(history["stockout"]) == 7
    # and its forecast: about four a day for each of the 10 days ahead, the quantiles above the median
    found = client.get("/planning/forecast", params={"sku": SKU, "location": ST_DE, "days": 28, "horizon": 10}).json()
    assert found["history"]["units"][-7:] == [4] * 7 and found["note"] == "" and found["service_level"] == 0.95
    assert len(found["mean"]) == 10 and all(3.0 <= v <= 5.0 for v in found["mean"])
    assert sorted(found["quantiles"]) == ["q50", "q80", "q90", "q95", "q99"]
    assert all(lo <= hi for lo, hi in zip(found["quantiles"]["q50"], found["quantiles"]["q95"], strict=True))
    assert (
        found["first_day_ahead"] == (date.fromisoformat(found["history"]["first_day"]) + timedelta(days=28)).isoformat()
    )
    runs = client.get("/planning/runs").json()
    assert runs[0]["run_id"] == run.json()["run_id"]
    assert client.get("/planning/policies").json()["items"] == [
        {"kind": None, "location": ST_DE, "sku": None, "fields": {"pack_size": 2}}
    ]


def test_a_rebalancing_run_over_http(planned: Keel, client: TestClient) -> None:
    # given a second DE store with SKU-RB to spare while Munich runs out
    seed_slow_store(planned, "SKU-RB", utcnow().date())
    # when DE is rebalanced
    run = client.post("/planning/runs", json={"mode": "rebalance", "country": "DE"})
    assert run.status_code == 201, run.text
    assert (run.json()["mode"], run.json()["country"], run.json()["purchases"]) == ("rebalance", "DE", 0)
    # then the transfer from Augsburg to Munich is listed with its numbers, and accepting it moves the stock
    listed = client.get("/planning/suggestions", params={"kind": "rebalance"}).json()
    [item] = [i for i in listed["items"] if i["sku"] == "SKU-RB"]
    assert (item["source"], item["location"], item["run_id"]) == (SLOW_STORE, ST_DE, run.json()["run_id"])
    assert item["explanation"]["lost_before"] > item["explanation"]["lost_after"] >= 0
    assert item["explanation"]["value"] > 0
    assert client.post(f"/planning/suggestions/{item['id']}/accept").json()["status"] == "accepted"
    assert position(planned, "SKU-RB", SLOW_STORE)["on_hand"] == 60 - item["quantity"]
    assert client.get("/planning/runs").json()[0]["mode"] == "rebalance"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PUT", "/planning/policies", {"rows": [{"location": ST_DE, "service_level": 2}]}, 422),
        ("PUT", "/planning/policies", {"rows": [{"location": "ST\x00X"}]}, 422),
        ("PUT", "/planning/policies", {"rows": [{"location": ST_DE, "moq": 2**63}]}, 422),
        ("PUT", "/planning/policies", {"rows": [{"location": ST_DE, "colour": "red"}]}, 422),
        ("PUT", "/planning/policies", {"rows": [{"kind": "store", "x": DEEP}]}, 422),
        ("PUT", "/planning/policies", {"rows": [{"kind": "store", "x": DEEPER}]}, 400),
        ("PUT", "/planning/policies", {"rows": [{"kind": "store"}], "extra": 1}, 422),
        ("PUT", "/planning/policies", {"rows": [{"kind": "store"}] * 10_001}, 422),
        ("POST", "/planning/runs", {"country": "de"}, 422),
        ("POST", "/planning/runs", {"top": 2**63}, 422),
        ("POST", "/planning/runs", {"skus": ["x" * 65]}, 422),
        ("POST", "/planning/runs", {"color": "red"}, 422),
        ("POST", "/planning/runs", {"today": "0001-01-01"}, 422),  # its history window would start before year 1
        ("POST", "/planning/runs", {"mode": "shuffle", "country": "DE"}, 422),
        ("POST", "/planning/runs", {"mode": "rebalance"}, 422),  # transfers never cross a border: one country
        ("PUT", "/planning/policies", {"rows": [{"location": ST_DE, "unit_margin": -1}]}, 422),
        ("PUT", "/planning/policies", {"rows": [{"location": ST_DE, "transfer_cost": 2**63}]}, 422),
        ("PUT", "/planning/policies", {"rows": [{"location": ST_DE, "min_transfer": 0}]}, 422),
        ("GET", "/planning/suggestions?kind=teleport", None, 422),
        ("POST", "/planning/suggestions/9223372036854775808/accept", None, 422),
        ("POST", "/planning/suggestions/2147483648/accept", None, 422),
        ("POST", "/planning/suggestions/7/accept", None, 404),
        ("GET", "/planning/suggestions/0", None, 422),
        ("GET", "/planning/suggestions?status=lost", None, 422),
        ("GET", "/planning/suggestions?limit=100000", None, 422),
        ("GET", "/planning/history?sku=SKU-PL&location=NOWHERE", None, 404),
        ("GET", "/planning/history?sku=SKU-PL&location=ST-DE-1&days=100000", None, 422),
        ("GET", "/planning/history?sku=NOPE&location=ST-DE-1", None, 404),
        ("GET", "/planning/forecast?sku=SKU-PL&location=NOWHERE", None, 404),
        ("GET", "/planning/forecast?sku=NOPE&location=ST-DE-1", None, 404),
        ("GET", "/planning/forecast?sku=SKU-PL&location=ST-DE-1&days=13", None, 422),
        ("GET", "/planning/forecast?sku=SKU-PL&location=ST-DE-1&horizon=57", None, 422),
        ("GET", "/planning/forecast?sku=SKU-PL&location=ST-DE-1&horizon=9223372036854775808", None, 422),
        ("GET", "/planning/forecast?sku=SKU-PL%00&location=ST-DE-1", None, 400),
        ("GET", "/planning/forecast?location=ST-DE-1", None, 422),
    ],
)
def test_hostile_input_is_refused_with_a_problem_and_nothing_written(
    planned: Keel, client: TestClient, method: str, path: str, body: Any, status: int
) -> None:
    before = snapshot(planned)
    problem(client.request(method, path, json=body), status)
    assert snapshot(planned) == before


def test_a_body_that_is_not_json_is_refused(planned: Keel, client: TestClient) -> None:
    before = snapshot(planned)
    response = client.put("/planning/policies", content=b"rows=1", headers={"content-type": "text/plain"})
    assert 400 <= response.status_code < 500
    assert snapshot(planned) == before


def test_an_analyst_reads_but_may_not_plan_or_decide(planned: Keel, make_client: Any) -> None:
    planned.access.add_service("ana", Role.ANALYST)
    token = planned.access.create_token("ana", "http").secret
    with make_client(planned, as_admin=False) as anon:
        headers = {"Authorization": f"Bearer {token}"}
        assert anon.get("/planning/suggestions", headers=headers).status_code == 200
        problem(anon.post("/planning/runs", json={}, headers=headers), 403)
        problem(anon.get("/planning/suggestions"), 401)


@pytest.fixture
def cli_keel(db_url: str) -> Iterator[Keel]:
    keel = open_keel(db_url)
    build_world(keel)
    seed_sales(keel, utcnow().date())
    yield keel
    keel.close()


def test_the_command_line_plans_lists_explains_and_decides(run: Run, cli_keel: Keel, tmp_path: Path) -> None:
    rows = tmp_path / "policies.json"
    rows.write_text(json.dumps([{"kind": "warehouse", "moq": 50}]))
    assert run("planning", "set-policies", str(rows)).exit_code == 0
    assert json.loads(run("planning", "policies", "--json").stdout)["items"][0]["fields"] == {"moq": 50}
    report = json.loads(run("planning", "plan", "--country", "DE", "--json").stdout)
    assert report["series"] == 2
    listed = json.loads(run("planning", "suggestions", "--json").stdout)
    by_kind = {s["kind"]: s for s in listed["items"]}
    assert by_kind["purchase"]["location"] == WH_DE and by_kind["purchase"]["quantity"] >= 50  # the MOQ
    explained = run("planning", "suggestion", str(by_kind["transfer"]["id"]))
    assert "order-up-to" in explained.stdout and "position = available 2" in explained.stdout
    accepted = run("planning", "accept", str(by_kind["transfer"]["id"]))
    assert accepted.exit_code == 0 and "accepted" in accepted.stdout
    rejected = run("planning", "reject", str(by_kind["purchase"]["id"]))
    assert rejected.exit_code == 0 and "rejected" in rejected.stdout
    again = run("planning", "accept", str(by_kind["purchase"]["id"]))
    assert again.exit_code != 0 and "rejected" in again.stderr
    history = json.loads(run("planning", "history", SKU, ST_DE, "--days", "3", "--json").stdout)
    assert history["units"] == [4, 4, 4]
    outlook = json.loads(run("planning", "outlook", SKU, ST_DE, "--horizon", "5", "--json").stdout)
    assert len(outlook["mean"]) == 5 and all(3.0 <= v <= 5.0 for v in outlook["mean"]) and outlook["note"] == ""
    shown = run("planning", "outlook", SKU, ST_DE, "--horizon", "3").stdout
    assert "forecast, 3 days ahead" in shown and "q95" in shown and "service level 0.95" in shown
    assert run("planning", "outlook", SKU, ST_DE, "--days", "7").exit_code == 2  # too little history to learn from
    assert run("planning", "outlook", SKU, "NOWHERE").exit_code != 0
    runs = json.loads(run("planning", "runs", "--json").stdout)
    assert runs[0]["run_id"] == report["run_id"]
    assert run("planning", "suggestions", "--status", "lost").exit_code == 2
    # rebalancing DE: Augsburg spares SKU-RB for Munich
    seed_slow_store(cli_keel, "SKU-RB", utcnow().date())
    rebalanced = json.loads(run("planning", "rebalance", "--country", "de", "--json").stdout)
    assert (rebalanced["mode"], rebalanced["country"]) == ("rebalance", "DE") and rebalanced["transfers"] >= 1
    moves = json.loads(run("planning", "suggestions", "--kind", "rebalance", "--json").stdout)["items"]
    assert {(m["source"], m["location"]) for m in moves if m["sku"] == "SKU-RB"} == {(SLOW_STORE, ST_DE)}
    table = run("planning", "runs").stdout
    assert "rebalance" in table and "replenish" in table
    assert run("planning", "rebalance").exit_code == 2  # --country is required
    # SKU-RB in all of DE: the country's forecast is its two stores' sum
    country = json.loads(run("planning", "country-outlook", "SKU-RB", "de", "--horizon", "4", "--json").stdout)
    assert set(country["locations"]) == {ST_DE, SLOW_STORE} and len(country["mean"]) == 4
    assert all(abs(t - sum(v[i] for v in country["locations"].values())) < 0.01 for i, t in enumerate(country["mean"]))
    shown = run("planning", "country-outlook", "SKU-RB", "DE", "--horizon", "3").stdout
    assert "forecast, 3 days ahead, reconciled by" in shown and SLOW_STORE in shown and "own forecast" in shown
    assert run("planning", "country-outlook", "SKU-RB", "FR").exit_code != 0
    bad = run("planning", "rebalance", "--country", "DEU")
    assert bad.exit_code != 0 and "two-letter" in bad.stderr


def test_a_token_without_planning_write_is_refused_on_the_command_line(run: Run, cli_keel: Keel) -> None:
    cli_keel.access.add_service("ana", Role.ANALYST)
    env = {"KEEL_TOKEN": cli_keel.access.create_token("ana", "cli").secret}
    assert run("planning", "suggestions", "--json", env=env).exit_code == 0
    assert run("planning", "rebalance", "--country", "DE", env=env).exit_code == 2
    refused = run("planning", "plan", env=env)
    assert (refused.exit_code, refused.stderr.strip()) == (2, "ana (role analyst) lacks the permission planning.write")
