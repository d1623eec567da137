"""``keel users``, ``keel tokens``, the CLI's identity (local operator or KEEL_TOKEN) and the demo admin."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import typer
from starlette.testclient import TestClient

from keel.access import COMMANDS
from keel.api import create_app
from keel.cli import app
from keel.platform.actor import current_actor
from tests.e2e.conftest import Run
from tests.support import open_keel, snapshot


def test_users_add_list_set_role_and_disable(run: Run) -> None:
    assert run("users", "add", "ana", "--role", "analyst", "--password", "a long password").exit_code == 0
    assert run("users", "add", "shop-de", "--role", "integration", "--service").exit_code == 0
    listed = json.loads(run("users", "list", "--json").stdout)
    assert [(u["name"], u["kind"], u["role"], u["disabled"]) for u in listed] == [
        ("ana", "human", "analyst", False),
        ("shop-de", "service", "integration", False),
    ]
    assert run("users", "set-role", "ana", "pricing").exit_code == 0
    assert run("users", "disable", "shop-de").exit_code == 0
    listed = json.loads(run("users", "list", "--json").stdout)
    assert [(u["role"], u["disabled"]) for u in listed] == [("pricing", False), ("integration", True)]


def test_users_refuse_bad_roles_names_and_short_passwords(run: Run, db_url: str) -> None:
    keel = open_keel(db_url)
    before = snapshot(keel)
    for args, code, message in (
        (("users", "add", "bob", "--role", "root", "--password", "a long password"), 2, "role 'root' is unknown"),
        (("users", "add", "Bob!", "--role", "analyst", "--password", "a long password"), 2, "is not valid"),
        (("users", "add", "bob", "--role", "analyst", "--password", "short"), 2, "password must be 12 to"),
        (("users", "set-role", "nobody", "analyst"), 3, "There is no identity 'nobody'."),
    ):
        result = run(*args)
        assert (result.exit_code, message in result.stderr) == (code, True), result.output
    assert snapshot(keel) == before
    keel.close()


def test_a_token_is_printed_once_works_over_http_and_revoked_stops(run: Run, db_url: str) -> None:
    run("users", "add", "wms", "--role", "inventory_planner", "--service")
    created = run("tokens", "create", "wms", "--name", "feed")
    assert created.exit_code == 0
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("keel_")
    listed = run("tokens", "list", "--json")
    assert secret not in listed.stdout  # never shown again
    (token,) = json.loads(listed.stdout)
    assert (token["identity"], token["name"], token["scopes"], token["revoked_at"]) == ("wms", "feed", None, None)
    keel = open_keel(db_url)
    with TestClient(create_app(keel), headers={"Authorization": f"Bearer {secret}"}) as client:
        assert client.get("/access/me").json()["role"] == "inventory_planner"
        assert run("tokens", "revoke", token["id"]).exit_code == 0
        assert client.get("/access/me").status_code == 401
    keel.close()


def test_scopes_outside_the_role_are_refused(run: Run) -> None:
    run("users", "add", "ana", "--role", "analyst", "--password", "a long password")
    result = run("tokens", "create", "ana", "--name", "x", "--scope", "inventory.write")
    assert result.exit_code == 2 and "not granted to role analyst: inventory.write" in result.stderr


def test_keel_token_enforces_its_role_on_commands(run: Run) -> None:
    # given an analyst's token (made by the local operator, who is admin)
    run("users", "add", "ana", "--role", "analyst", "--service")
    secret = run("tokens", "create", "ana", "--name", "cli").stdout.strip().splitlines()[-1]
    env = {"KEEL_TOKEN": secret}
    # then reads run and writes are refused with one line
    assert run("locations", "list", env=env).exit_code == 0
    refused = run("locations", "create", "WH-DE-9", "Berlin", "warehouse", "DE", env=env)
    assert refused.exit_code == 2
    assert "ana (role analyst) lacks the permission locations.write" in refused.output
    assert "0 locations" in run("locations", "list").stdout
    bad = run("locations", "list", env={"KEEL_TOKEN": "keel_000000000000_nope"})
    assert bad.exit_code == 2 and "KEEL_TOKEN is unknown, expired or revoked" in bad.output
    assert current_actor.get().via == "system"  # a command names its actor for its own run only


def _words(group: typer.Typer, prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = [
        (prefix + (c.name or (c.callback.__name__ if c.callback else "").replace("_", "-")), c.callback)
        for c in group.registered_commands
    ]
    for g in group.registered_groups:
        assert g.typer_instance is not None
        out += _words(g.typer_instance, f"{prefix}{g.name} " if isinstance(g.name, str) else prefix)
    return out


def test_every_command_declares_its_permission() -> None:
    commands = _words(app)
    assert len(commands) == len(COMMANDS)
    assert {w: getattr(cb, "keel_permission", None) for w, cb in commands} == COMMANDS


def test_demo_creates_an_admin_and_a_private_token_file(run: Run, tmp_path: Path) -> None:
    first = run("demo", "--skus", "50", "--no-serve")
    assert first.exit_code == 0, first.output
    assert "user admin  password " in first.output
    token_file = tmp_path / ".keel" / "admin-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    # a second run keeps the password and the still valid token
    second = run("demo", "--skus", "50", "--no-serve")
    assert "password (unchanged" in second.output
    assert token_file.read_text().strip() == token
