"""Sourcing policies over HTTP and from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from keel.bootstrap import Keel
from tests.e2e.conftest import Run
from tests.support import WEB_DE, World, build_world, open_keel, snapshot

PROBLEM = "application/problem+json"
POLICY = {"filters": [{"kind": "max_distance", "km": 300}], "objective": "lowest_cost", "weights": {"split": 2}}


def test_policies_over_http(client: TestClient, keel: Keel, world: World) -> None:
    assert client.get(f"/sourcing-policies/{WEB_DE}").json()["source"] == "built-in"
    saved = client.put(f"/sourcing-policies/{WEB_DE}", json=POLICY)
    assert saved.status_code == 200, saved.text
    effective = saved.json()["effective"]
    assert effective["filters"] == [{"kind": "max_distance", "km": 300.0, "same_day_km": 60.0}]
    assert (effective["objective"], effective["weights"]["split"]) == ("lowest_cost", 2.0)
    assert [p["channel"] for p in client.get("/sourcing-policies").json()] == [WEB_DE]
    before = snapshot(keel)
    bad = client.put(f"/sourcing-policies/{WEB_DE}", json={"filters": [{"kind": "capacity", "headroom": -3}]})
    assert (bad.status_code, bad.headers["content-type"]) == (422, PROBLEM)
    assert [e["field"] for e in bad.json()["errors"]] == ["filters[1].headroom"]
    assert snapshot(keel) == before
    assert client.put("/sourcing-policies/nope", json={}).status_code == 404
    assert client.delete(f"/sourcing-policies/{WEB_DE}").status_code == 204
    assert client.delete(f"/sourcing-policies/{WEB_DE}").status_code == 404
    assert client.get(f"/sourcing-policies/{WEB_DE}").json()["source"] == "built-in"


def test_policies_from_the_cli(db_url: str, run: Run, tmp_path: Path) -> None:
    keel = open_keel(db_url)
    build_world(keel)
    keel.close()
    (tmp_path / "policy.json").write_text(json.dumps(POLICY))
    (tmp_path / "bad.json").write_text(json.dumps({"max_nodes": 0}))
    saved = run("orders", "policy", "set", WEB_DE, str(tmp_path / "policy.json"))
    assert saved.exit_code == 0 and "saved" in saved.output
    shown = run("orders", "policy", "show", WEB_DE)
    assert "channel policy" in shown.output and '"km": 300.0' in shown.output
    bad = run("orders", "policy", "set", WEB_DE, str(tmp_path / "bad.json"))
    assert bad.exit_code == 2 and "max_nodes" in bad.output
    assert run("orders", "policy", "reset", WEB_DE).exit_code == 0
    assert "built-in policy" in run("orders", "policy", "show", WEB_DE).output
