"""``/planning/automation...`` over HTTP and ``keel planning automation ...`` on the command line, on both
databases: a rule set, run and logged; who may call what; hostile input refused with a 4xx problem and nothing
written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from keel.access import Role
from keel.bootstrap import Keel
from tests.e2e.conftest import Run
from tests.e2e.test_planning_http_cli import cli_keel, planned, problem
from tests.support import WH_DE, snapshot

__all__ = ["cli_keel", "planned"]  # fixtures shared with test_planning_http_cli: its world, seeded with sales

RULE = {"enabled": True, "every_minutes": 60, "accept_kinds": ["transfer"], "max_units": 100,
        "max_value_per_day": 1000}  # fmt: skip


def test_a_rule_set_run_and_logged_over_http(planned: Keel, client: TestClient) -> None:
    assert client.get("/planning/automation").json() == []
    assert client.get("/planning/automation/DE").json()["enabled"] is False  # the default, not stored
    saved = client.put("/planning/automation/DE", json=RULE)
    assert saved.status_code == 200 and saved.json()["changed"] is True
    assert saved.json()["rule"]["rebalance"] is False and saved.json()["rule"]["accept_kinds"] == ["transfer"]
    assert client.put("/planning/automation/DE", json=RULE).json()["changed"] is False
    [listed] = client.get("/planning/automation").json()
    assert listed == saved.json()["rule"]
    ran = client.post("/planning/automation/DE/runs")
    assert ran.status_code == 201, ran.text
    body = ran.json()
    assert (body["skipped"], body["moved_skus"], body["accepted"], body["held"]) == (False, None, 1, 1)
    assert [r["mode"] for r in body["runs"]] == ["replenish"] and body["accepted_value"] > 0
    log = client.get("/planning/automation-actions", params={"country": "DE"}).json()
    assert log["total"] == 3 and {a["action"] for a in log["items"]} == {"planned", "accepted", "held"}
    held = client.get("/planning/automation-actions", params={"action": "held"}).json()["items"]
    assert held[0]["reason"] == "purchase suggestions are not accepted automatically in DE"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PUT", "/planning/automation/de", RULE, 422),
        ("PUT", "/planning/automation/DEU", RULE, 422),
        ("PUT", "/planning/automation/DE", {**RULE, "colour": "red"}, 422),
        ("PUT", "/planning/automation/DE", {**RULE, "max_units": 2**63}, 422),
        ("PUT", "/planning/automation/DE", {**RULE, "max_value_per_day": -1}, 422),
        ("PUT", "/planning/automation/DE", {**RULE, "every_minutes": 0}, 422),
        ("PUT", "/planning/automation/DE", {**RULE, "accept_kinds": ["gift"]}, 422),
        ("PUT", "/planning/automation/DE", {**RULE, "excluded_locations": ["WH-FR-1"]}, 422),
        ("PUT", "/planning/automation/DE", {**RULE, "excluded_locations": ["ST\x00X"]}, 422),
        ("PUT", "/planning/automation/DE", {**RULE, "excluded_locations": ["x" * 65]}, 422),
        ("PUT", "/planning/automation/DE", {**RULE, "excluded_locations": [[["deep"]]]}, 422),
        ("PUT", "/planning/automation/DE", {"enabled": True, "replenish": False}, 422),
        ("PUT", "/planning/automation/DE", [RULE], 422),
        ("POST", "/planning/automation/XY1/runs", None, 422),
        ("GET", "/planning/automation-actions?action=exploded", None, 422),
        ("GET", "/planning/automation-actions?country=germany", None, 422),
        ("GET", "/planning/automation-actions?limit=100000", None, 422),
    ],
)
def test_hostile_input_is_refused_with_a_problem_and_nothing_written(
    planned: Keel, client: TestClient, method: str, path: str, body: Any, status: int
) -> None:
    before = snapshot(planned)
    problem(client.request(method, path, json=body), status)
    assert snapshot(planned) == before and planned.automation.rules() == []


def test_a_body_that_is_not_json_is_refused(planned: Keel, client: TestClient) -> None:
    response = client.put("/planning/automation/DE", content=b"enabled=1", headers={"content-type": "text/plain"})
    assert 400 <= response.status_code < 500 and planned.automation.rules() == []


def test_readers_and_other_countries_may_not_change_or_run(planned: Keel, make_client: Any) -> None:
    planned.access.add_service("ana", Role.ANALYST)
    planned.access.add_service("fr-planner", Role.INVENTORY_PLANNER)
    planned.access.set_scope("fr-planner", None, ["FR"], {c.code for c in planned.channels.list(limit=100)[0]})
    ana, french = ({"Authorization": f"Bearer {planned.access.create_token(n, 'h').secret}"}
                   for n in ("ana", "fr-planner"))  # fmt: skip
    with make_client(planned, as_admin=False) as anon:
        assert anon.get("/planning/automation", headers=ana).status_code == 200
        problem(anon.put("/planning/automation/DE", json=RULE, headers=ana), 403)
        problem(anon.post("/planning/automation/DE/runs", headers=ana), 403)
        problem(anon.put("/planning/automation/DE", json=RULE, headers=french), 403)
        problem(anon.post("/planning/automation/DE/runs", headers=french), 403)
        problem(anon.get("/planning/automation/DE", headers=french), 403)
        assert anon.put("/planning/automation/FR", json={"enabled": True}, headers=french).status_code == 200
        problem(anon.get("/planning/automation"), 401)
    assert [r.country for r in planned.automation.rules()] == ["FR"]


def test_the_command_line_sets_runs_and_lists(run: Run, cli_keel: Keel, tmp_path: Path) -> None:
    assert "no automation rule yet" in run("planning", "automation", "show").stdout
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps({**RULE, "excluded_locations": [WH_DE]}))
    saved = run("planning", "automation", "set", "de", str(rule))
    assert saved.exit_code == 0 and f"never {WH_DE}" in saved.stdout
    assert json.loads(run("planning", "automation", "show", "DE", "--json").stdout)["every_minutes"] == 60
    ran = json.loads(run("planning", "automation", "run", "DE", "--json").stdout)
    assert ran["accepted"] == 0 and ran["held"] == 2  # the DC is excluded: its transfer is held too
    log = json.loads(run("planning", "automation", "actions", "--action", "held", "--json").stdout)
    assert f"location {WH_DE} is excluded from automation" in {a["reason"] for a in log["items"]}
    assert "held" in run("planning", "automation", "actions").stdout
    again = run("planning", "automation", "run", "DE")
    assert again.exit_code == 0 and "nothing moved since the last run" in again.stdout
    # refusals: a bad file, a bad field, a bad filter; the rule stays as it was
    rule.write_text("[1]")
    assert run("planning", "automation", "set", "DE", str(rule)).exit_code == 2
    rule.write_text(json.dumps({"max_units": -1}))
    bad = run("planning", "automation", "set", "DE", str(rule))
    assert bad.exit_code != 0 and "max_units" in bad.stderr
    assert run("planning", "automation", "actions", "--action", "exploded").exit_code == 2
    assert cli_keel.automation.rule("DE").excluded_locations == (WH_DE,)


def test_a_token_without_planning_write_is_refused_on_the_command_line(run: Run, cli_keel: Keel) -> None:
    cli_keel.access.add_service("ana", Role.ANALYST)
    env = {"KEEL_TOKEN": cli_keel.access.create_token("ana", "cli").secret}
    assert run("planning", "automation", "actions", "--json", env=env).exit_code == 0
    refused = run("planning", "automation", "run", "DE", env=env)
    assert (refused.exit_code, refused.stderr.strip()) == (2, "ana (role analyst) lacks the permission planning.write")
