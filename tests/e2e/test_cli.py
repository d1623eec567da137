"""The ``keel`` command line (typer CliRunner) against a SQLite file: schema, locations, import, ATP, counts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result

from keel.bootstrap import Keel
from tests.e2e.conftest import Invoke
from tests.support import MARKET, WH_DE, WH_FR, build_world, open_keel, position, receive, snapshot

Run = Callable[..., Result]
CSV_HEADER = "id,kind,sku,location,quantity,reason\n"


@pytest.fixture
def keel(db_url: str) -> Iterator[Keel]:
    """The same database opened through the services (to set up and to check), with the small world."""
    keel = open_keel(db_url)
    build_world(keel)
    yield keel
    keel.close()


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_db_upgrade_creates_the_schema(invoke: Invoke, bare_url: str) -> None:
    result = invoke(bare_url, "db", "upgrade")
    assert result.exit_code == 0
    assert result.stderr == f"database at head: {bare_url}\n"
    tables = set(sa.inspect(sa.create_engine(bare_url)).get_table_names())
    assert {"alembic_version", "movements", "positions", "events", "channels"} <= tables
    assert invoke(bare_url, "db", "upgrade").exit_code == 0  # idempotent


def test_locations_create_and_list(run: Run) -> None:
    result = run("locations", "create", "WH-DE-9", "Berlin", "warehouse", "de", "--city", "Berlin",
                 "--capability", "ship", "--capability", "pickup")  # fmt: skip
    assert (result.exit_code, result.stdout) == (0, "created location WH-DE-9 (#1)\n")
    listed = run("locations", "list")
    assert listed.exit_code == 0
    assert "1 locations" in listed.stdout
    [row] = [line for line in listed.stdout.splitlines() if "WH-DE-9" in line]
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
        "WH-DE-9", "Berlin", "warehouse", "DE", "Berlin", "pickup,ship", "True"
    ]  # fmt: skip


def test_locations_create_refuses_bad_input(run: Run) -> None:
    run("locations", "create", "WH-DE-9", "Berlin", "warehouse", "DE")
    bad = run("locations", "create", "X-1", "X", "warehouse", "XX")
    assert bad.exit_code == 2
    assert "country: not an ISO 3166-1 alpha-2 code: 'XX'" in bad.stderr
    duplicate = run("locations", "create", "WH-DE-9", "Again", "store", "DE")
    assert duplicate.exit_code == 2
    assert "location 'WH-DE-9' already exists" in duplicate.stderr
    assert "1 locations" in run("locations", "list").stdout


def test_import_csv_then_reimport_is_idempotent(run: Run, keel: Keel, tmp_path: Path) -> None:
    path = write(tmp_path / "moves.csv", CSV_HEADER + "a,received,SKU-1,WH-DE-1,10,\nb,sold,SKU-1,WH-DE-1,3,\n"
                 "c,adjusted_out,SKU-1,WH-DE-1,1,broken\n")  # fmt: skip
    result = run("inventory", "import", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"imported 3 movements (0 already recorded) from {path}\n"
    assert position(keel, "SKU-1", WH_DE)["available"] == 6
    # the projector ran: channels already list the new stock
    assert [r.quantity for r in keel.availability.projected(["SKU-1"], channel="web-de")["SKU-1"]] == [6]
    before = snapshot(keel)
    again = run("inventory", "import", str(path))
    assert (again.exit_code, again.stdout) == (0, f"imported 0 movements (3 already recorded) from {path}\n")
    assert snapshot(keel) == before


def test_import_jsonl(run: Run, keel: Keel, tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [
        {"id": "j1", "kind": "received", "sku": "SKU-2", "location": WH_FR, "quantity": 4},
        {"id": "j2", "kind": "returned_qc", "sku": "SKU-2", "location": WH_FR, "quantity": 1,
         "occurred_at": "2026-02-01T09:00:00Z"},
    ]  # fmt: skip
    path = write(tmp_path / "moves.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    result = run("inventory", "import", str(path))
    assert (result.exit_code, result.stdout) == (0, f"imported 2 movements (0 already recorded) from {path}\n")
    p = position(keel, "SKU-2", WH_FR)
    assert (p["on_hand"], p["available"], p["quality_control"]) == (5, 4, 1)


@pytest.mark.parametrize(
    ("name", "text", "problems"),
    [
        ("extra-field.csv", CSV_HEADER + "a,received,SKU-1,WH-DE-1,1,\nb,received,SKU-1,WH-DE-1,1,,extra\n",
         ["row 3  : wrong number of fields"]),
        ("short-row.csv", CSV_HEADER + "a,received,SKU-1,WH-DE-1,1,\nb,received\n",
         ["row 3  : wrong number of fields"]),
        ("no-header.csv", "a,received,SKU-1,WH-DE-1,1\n", ["row 1  header: missing columns: "]),
        ("bad-values.csv", CSV_HEADER + "a,received,SKU-1,WH-DE-1,1,\nb,received,SKU-1,NOWHERE,0,\n",
         ["row 2  location: unknown or inactive location 'NOWHERE'", "row 2  quantity: must be > 0, got 0"]),
        ("broken.jsonl", '{"id": "a", "kind": "received", "sku": "S", "location": "WH-DE-1", "quantity": 1}\n{"id":\n',
         ["row 2  : invalid JSON: "]),
    ],
    ids=["extra-field", "short-row", "no-header", "bad-values", "broken-jsonl"],
)  # fmt: skip
def test_a_malformed_file_exits_2_and_imports_nothing(
    run: Run, keel: Keel, tmp_path: Path, name: str, text: str, problems: list[str]
) -> None:
    before = snapshot(keel)
    result = run("inventory", "import", str(write(tmp_path / name, text)))
    assert result.exit_code == 2
    assert "nothing was imported" in result.stderr
    for problem in problems:
        assert f"  {problem}" in result.stderr
    assert snapshot(keel) == before


def test_an_unsupported_file_type_is_a_usage_error(run: Run, keel: Keel, tmp_path: Path) -> None:
    before = snapshot(keel)
    result = run("inventory", "import", str(write(tmp_path / "moves.xlsx", "whatever")))
    assert result.exit_code == 2
    assert "FILE must end in .csv, .jsonl or .ndjson" in result.output
    assert snapshot(keel) == before


def test_import_in_several_batches(run: Run, keel: Keel, tmp_path: Path) -> None:
    lines = "".join(f"m{i},received,SKU-1,WH-DE-1,1,\n" for i in range(5))
    path = write(tmp_path / "many.csv", CSV_HEADER + lines)
    result = run("inventory", "import", str(path), env={"KEEL_MAX_BATCH": "2"})
    assert (result.exit_code, result.stdout) == (0, f"imported 5 movements (0 already recorded) from {path}\n")
    assert len(keel.queries.ledger()) == 5
    with keel.db.read() as conn:
        assert [e.subject for e in keel.events.read(conn, 0, {"stock.moved"})] == [
            "movements/1-2",
            "movements/3-4",
            "movements/5-5",
        ]


def test_an_oversell_in_a_later_batch_imports_nothing(run: Run, keel: Keel, tmp_path: Path) -> None:
    path = write(
        tmp_path / "oversell.csv", CSV_HEADER + "a,received,S,WH-DE-1,1,\nb,sold,S,WH-DE-1,1,\nc,sold,S,WH-DE-1,5,\n"
    )
    before = snapshot(keel)
    result = run("inventory", "import", str(path), env={"KEEL_MAX_BATCH": "2"})
    assert result.exit_code == 2
    assert "  row 3  quantity: sold of 5 would leave on_hand at -5" in result.stderr
    assert snapshot(keel) == before


def test_rebuild_check(run: Run, keel: Keel) -> None:
    receive(keel, "SKU-1", WH_DE, 5)
    ok = run("inventory", "rebuild", "--check")
    assert ok.exit_code == 0
    assert "replayed 1 movements into 1 positions; 0 differences" in ok.stdout
    with keel.db.write() as conn:
        conn.execute(sa.text("UPDATE positions SET available = 99"))
    drifted = run("inventory", "rebuild", "--check")
    assert drifted.exit_code == 1
    assert "1 differences" in drifted.stdout
    repaired = run("inventory", "rebuild")
    assert (repaired.exit_code, "positions replaced" in repaired.stdout) == (0, True)
    assert position(keel, "SKU-1", WH_DE)["available"] == 5
    assert run("inventory", "rebuild", "--check").exit_code == 0


def test_atp_explain(run: Run, keel: Keel) -> None:
    receive(keel, "SKU-1", WH_DE, 30)
    receive(keel, "SKU-1", WH_FR, 4)
    keel.availability.catch_up()
    result = run("inventory", "atp", "SKU-1", "--explain", "--channel", MARKET, "--country", "DE")
    assert result.exit_code == 0
    [row] = [line for line in result.stdout.splitlines() if MARKET in line]
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells == [
        MARKET, "DE", "16", "16", "False",
        "pooled from source locations: -0 -> 34; safety buffer 2: -2 -> 32; allocation 50%: -16 -> 16; "
        "maximum listed 20: -0 -> 16",
    ]  # fmt: skip
    summary = run("inventory", "atp", "SKU-1")
    assert summary.exit_code == 0
    assert [line.split("│")[1].strip() for line in summary.stdout.splitlines() if line.startswith("│")] == [
        "web-de", "market-eu", "market-eu", "pos-fr"
    ]  # fmt: skip
    unknown = run("inventory", "atp", "SKU-1", "--channel", "ghost")
    assert unknown.exit_code == 3
    assert "channel 'ghost'" in unknown.stderr


def test_count_and_accuracy(run: Run, keel: Keel) -> None:
    receive(keel, "SKU-1", WH_DE, 100)
    receive(keel, "SKU-2", WH_DE, 10)
    counted = run("inventory", "count", "SKU-1", WH_DE, "99")
    assert counted.exit_code == 0
    assert "SKU-1 at WH-DE-1 book 100, counted 99, variance -1 (within 2% tolerance)" in counted.stdout
    assert run("inventory", "count", "SKU-2", WH_DE, "7").exit_code == 0
    assert position(keel, "SKU-2", WH_DE)["on_hand"] == 7
    report = run("inventory", "accuracy")
    assert report.exit_code == 0
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:5]]
            for line in report.stdout.splitlines() if line.startswith("│")}  # fmt: skip
    assert rows == {WH_DE: ["2", "1", "50.0%"], "OVERALL": ["2", "1", "50.0%"]}
    assert "tolerance 2.0%" in report.stdout
    wide = run("inventory", "accuracy", "--tolerance-pct", "50")
    assert "100.0%" in wide.stdout
    bad = run("inventory", "count", "SKU-1", "NOWHERE", "1")
    assert bad.exit_code == 2
    assert "unknown or inactive location 'NOWHERE'" in bad.stderr


def test_location_show_and_groups(run: Run, keel: Keel) -> None:
    shown = run("locations", "show", WH_DE)
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[1].split() == ["code", WH_DE]
    created = run("locations", "group", "cli-group", WH_DE, WH_FR, "--name", "CLI group")
    assert (created.exit_code, created.stdout.strip()) == (0, "location group cli-group: 2 members")
    replaced = run("locations", "group", "cli-group", WH_FR)
    assert replaced.exit_code == 0
    assert {g.code: g.members for g in keel.locations.groups()}["cli-group"] == (WH_FR,)
    missing = run("locations", "group", "bad-group", "NOPE")
    assert missing.exit_code == 2
    assert "unknown location 'NOPE'" in missing.stderr
    assert "bad-group" not in {g.code for g in keel.locations.groups()}


def test_location_daily_capacity_set_and_dropped(run: Run, keel: Keel) -> None:
    assert run("locations", "update", WH_DE, "--daily-capacity", "40").exit_code == 0
    assert keel.locations.get(WH_DE).daily_capacity == 40
    both = run("locations", "update", WH_DE, "--daily-capacity", "5", "--default-capacity")
    assert both.exit_code == 2 and keel.locations.get(WH_DE).daily_capacity == 40
    assert run("locations", "update", WH_DE, "--default-capacity").exit_code == 0
    assert keel.locations.get(WH_DE).daily_capacity is None
    refused = run("locations", "update", WH_DE, "--daily-capacity", "-3")
    assert refused.exit_code == 2 and "daily_capacity" in refused.stderr


def test_channel_create_and_deactivate(run: Run, keel: Keel, tmp_path: Path) -> None:
    document = {"code": "cli-web", "name": "CLI web", "kind": "web_store", "countries": ["DE"], "currency": "EUR",
                "policy": {"sources": {"DE": {"locations": [WH_DE]}}}}  # fmt: skip
    good = write(tmp_path / "channel.json", json.dumps(document))
    assert run("channels", "create", str(good)).exit_code == 0
    assert keel.channels.get("cli-web").active is True
    bad = write(tmp_path / "bad.json", json.dumps({**document, "code": "cli-bad", "currency": "XXY"}))
    refused = run("channels", "create", str(bad))
    assert refused.exit_code == 2
    assert "currency: not an ISO 4217 code: 'XXY'" in refused.stderr
    assert run("channels", "deactivate", "cli-web").exit_code == 0
    assert keel.channels.get("cli-web").active is False


def test_demo_loads_the_twin_once(invoke: Invoke, bare_url: str) -> None:
    first = invoke(bare_url, "demo", "--no-serve", "--no-stream", "--skus", "200")  # creates the database
    assert first.exit_code == 0, first.stderr
    assert "retail twin loaded into" in first.stderr
    keel = open_keel(bare_url)
    try:
        assert keel.locations.list(limit=1)[1] >= 290
        assert keel.channels.list(limit=1)[1] == 50
        assert keel.queries.positions(limit=1)[1] > 0
        assert keel.availability.projected(["SKU-000001"])["SKU-000001"]  # projected after loading
        assert keel.catalog.products(limit=1)[1] == 200  # the twin's catalogue, listed on every channel
        assert keel.catalog.listings(limit=1)[1] == 200 * 50
    finally:
        keel.close()
    again = invoke(bare_url, "demo", "--no-serve", "--no-stream", "--skus", "200")
    assert (again.exit_code, "already holds data" in again.stderr) == (0, True)


def test_a_demo_resumed_without_the_catalogue_loads_it(invoke: Invoke, bare_url: str) -> None:
    # given a database the twin was loaded into before it brought its catalogue
    from keel.sim.load import load_world
    from keel.sim.world import Scale, generate

    keel = open_keel(bare_url)
    try:
        load_world(keel, generate(42, Scale(skus=100)), catalog=False)
        assert keel.catalog.products(limit=1)[1] == 0
    finally:
        keel.close()
    # when the demo resumes on it / then the catalogue is loaded, the rest is not
    again = invoke(bare_url, "demo", "--no-serve", "--no-stream", "--skus", "100")
    assert (again.exit_code, "already holds data" in again.stderr) == (0, True)
    keel = open_keel(bare_url)
    try:
        assert keel.catalog.products(limit=1)[1] == 100
        assert keel.locations.list(limit=1)[1] >= 290
    finally:
        keel.close()


def test_a_command_that_writes_gets_an_audit_entry_linked_to_its_events(run: Run, db_url: str) -> None:
    from keel.audit import AuditQuery
    from tests.support import open_keel

    assert run("locations", "create", "WH-DE-9", "Berlin", "warehouse", "de").exit_code == 0
    assert run("locations", "list").exit_code == 0  # a read: no entry
    keel = open_keel(db_url)
    try:
        entries = keel.audit.entries(AuditQuery()).items
        assert [(e.actor, e.actor_name, e.via, e.action, e.method, e.status) for e in entries] == [
            ("0", "local-operator", "cli", "locations create", "CLI", 0)
        ]
        assert entries[0].target.startswith("keel locations create code=WH-DE-9 name=Berlin kind=warehouse")
        caused = keel.audit.trail(entries[0].seq).events
        assert [(e.type, e.via, e.actor) for e in caused] == [("location.created", "cli", "0")]
    finally:
        keel.close()
