"""Importing demand history over HTTP (a CSV body) and on the command line: stored once, refused whole with
its rows, the wrong content type and a reader without planning.write refused, and the history read back."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from keel.access import Role
from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from tests.e2e.conftest import Run
from tests.e2e.test_planning_http_cli import cli_keel, planned, problem
from tests.support import ST_DE, snapshot
from tests.support_planning import SKU

__all__ = ["cli_keel", "planned"]  # fixtures
CSV = {"content-type": "text/csv"}


def history_csv(days: int, first_ago: int = 90) -> str:
    """``days`` days of SKU-PL at the Munich store, from ``first_ago`` days back: before the seeded sales."""
    first = utcnow().date() - timedelta(days=first_ago)
    rows = [f"{first + timedelta(days=i)},{SKU},{ST_DE},{2 + i % 3}" for i in range(days)]
    return "date,sku,location,units\n" + "\n".join(rows) + "\n"


def test_history_is_imported_over_http_once_and_read_back(planned: Keel, make_client: object) -> None:
    client = make_client(planned)  # type: ignore[operator]
    body = history_csv(20)
    done = client.post("/planning/history", content=body, headers=CSV)
    assert done.status_code == 200, done.text
    report = done.json()
    assert (report["rows"], report["series"], report["changed"]) == (20, 1, 20)
    assert report["first_day"] == (utcnow().date() - timedelta(days=90)).isoformat()
    assert client.post("/planning/history", content=body, headers=CSV).json()["changed"] == 0
    read = client.get("/planning/history", params={"sku": SKU, "location": ST_DE, "days": 90}).json()
    assert read["units"][:20] == [2 + i % 3 for i in range(20)]


def test_a_bad_body_is_refused_with_its_rows_and_nothing_written(planned: Keel, make_client: object) -> None:
    client = make_client(planned)  # type: ignore[operator]
    before = snapshot(planned)
    bad = history_csv(3).replace(f",{ST_DE},3\n", ",NOWHERE,3\n") + "2026-02-30,SKU-PL,ST-DE-1,1\n"
    found = problem(client.post("/planning/history", content=bad, headers=CSV), 422)
    assert {(e["row"], e["field"]) for e in found["errors"]} >= {(4, "date")}
    problem(client.post("/planning/history", content=history_csv(3), headers={"content-type": "application/json"}), 415)
    problem(client.post("/planning/history", content="date,sku\n\x00\n", headers=CSV), 422)
    problem(client.post("/planning/history", content=b"\xff\xfe", headers=CSV), 422)
    problem(client.post("/planning/history", content="", headers=CSV), 422)
    assert snapshot(planned) == before


def test_a_reader_without_planning_write_may_not_import(planned: Keel, make_client: object) -> None:
    planned.access.add_service("ana", Role.ANALYST)
    token = planned.access.create_token("ana", "http").secret
    with make_client(planned, as_admin=False) as anon:  # type: ignore[operator]
        headers = {**CSV, "Authorization": f"Bearer {token}"}
        problem(anon.post("/planning/history", content=history_csv(3), headers=headers), 403)


def test_the_command_line_imports_a_file(run: Run, cli_keel: Keel, tmp_path: Path) -> None:
    path = tmp_path / "erp.csv"
    path.write_text(history_csv(10), encoding="utf-8")
    report = json.loads(run("planning", "import-history", str(path), "--json").stdout)
    assert (report["rows"], report["changed"]) == (10, 10)
    again = run("planning", "import-history", str(path))
    assert again.exit_code == 0 and "10 days of 1 series" in again.stdout and "0 new or changed" in again.stdout
    path.write_text("date,sku,location,units\n2026-05-01,SKU-PL,ST-DE-1,-2\n", encoding="utf-8")
    bad = run("planning", "import-history", str(path))
    assert bad.exit_code == 2 and "row 1  units: not negative" in bad.stderr
