"""``keel media ...`` on the command line: the setup from a JSON batch or a CSV per level, accounts and
campaigns as tables and ``--json`` documents (the HTTP API's shapes), rules from files, a rules pass and a
send, approvals, drift resolved and a dead letter retried, performance imported and totalled, savings, and
one-line refusals with the CLI's exit statuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from keel.access import Role
from keel.bootstrap import Keel
from keel.media import Level
from keel.media.store import outbox
from keel.platform.clock import utcnow
from tests.e2e.conftest import Run
from tests.support import WEB_DE, WH_DE, build_world, mv, open_keel
from tests.support_media import ACCOUNT, PAUSE_RULE, media_world, setup_batch

SHIFT_RULE = {"trigger": "schedule", "then": {"action": "shift_budget", "to": "same_category", "share_pct": 50}}


@pytest.fixture
def keel(db_url: str) -> Iterator[Keel]:
    keel = open_keel(db_url)
    build_world(keel)
    media_world(keel)
    yield keel
    keel.close()


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def document(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def sell_out(keel: Keel, *skus: str) -> None:
    """Sell the stock of ``skus`` and let availability (not the media watcher) catch up."""
    keel.stock.apply_batch([mv(f"sale-{sku}", "sold", sku, WH_DE, 3) for sku in skus])
    keel.availability.catch_up()


def test_the_setup_accounts_and_campaigns_from_the_command_line(run: Run, keel: Keel, tmp_path: Path) -> None:
    # a JSON batch with one budget changed: saved, one state owed
    batch = setup_batch("http://127.0.0.1:9/google")
    batch["campaigns"][0]["daily_budget"] = 6000
    saved = run("media", "setup", write(tmp_path, "setup.json", batch))
    assert saved.exit_code == 0, saved.output
    assert "saved 1 accounts, 2 campaigns, 2 ad groups, 3 ads; 1 changed (owed to their platforms)" in saved.stdout
    # nothing answers at the account's API: the change is refused, to be retried after a backoff
    sent = run("media", "send")
    assert sent.stdout == "g-de: 0 accepted, 1 refused (0 dead), 0 throttled, 1 requests\n", sent.output
    owed = document(run("media", "states", "--only", "owed", "--json"))["items"]
    assert [(s["code"], s["attempts"], s["dead"], s["error"] is not None) for s in owed] == [("c-tee", 1, False, True)]
    # a CSV of campaigns (money as whole minor units)
    rows = "code,account,name,country,daily_budget\nc-new,g-de,New,DE,700\n"
    csv_saved = run("media", "setup", write(tmp_path, "campaigns.csv", rows), "--level", "campaigns")
    assert "saved 0 accounts, 1 campaigns, 0 ad groups, 0 ads; 0 changed" in csv_saved.stdout, csv_saved.output
    bad = run("media", "setup", write(tmp_path, "bad.csv", rows.replace("700", "-7")), "--level", "campaigns")
    assert bad.exit_code == 2
    assert "row 1  campaigns.daily_budget: a whole number of minor units from 0 to" in bad.stderr
    assert run("media", "setup", write(tmp_path, "x.csv", rows), "--level", "budgets").exit_code == 2
    ads = "code,ad_group,skus,bid\na-both,g-tee,TEE-S|TEE-M,45\n"
    assert "0 ad groups, 1 ads" in run("media", "setup", write(tmp_path, "ads.csv", ads), "--level", "ads").stdout
    assert run("media", "setup", write(tmp_path, "list.json", [])).exit_code == 2
    # accounts, never with their token
    accounts = document(run("media", "accounts", "--json"))
    assert [(a["code"], a["channel"], a["currency"], a["url"]) for a in accounts] == [
        (ACCOUNT, WEB_DE, "EUR", "http://127.0.0.1:9/google")
    ]
    table = run("media", "accounts")
    assert ACCOUNT in table.stdout and "tok-" not in table.stdout + json.dumps(accounts)
    # campaigns, paged and filtered, and one in detail
    page = document(run("media", "campaigns", "--json", "--country", "DE", "--limit", "2"))
    assert ([c["code"] for c in page["items"]], page["total"]) == (["c-cap", "c-new"], 3)
    assert document(run("media", "campaigns", "--json", "--status", "paused"))["total"] == 0
    assert run("media", "campaigns", "--status", "off").exit_code == 2
    assert "c-tee" in run("media", "campaigns").stdout
    detail = document(run("media", "campaign", "c-tee", "--json"))
    assert (detail["campaign"]["daily_budget"], detail["state"]["budget"], detail["state"]["owed"]) == (
        6000,
        6000,
        True,
    )
    assert [(a["code"], a["skus"], a["sellable"]) for a in detail["ads"]] == [
        ("a-both", ["TEE-M", "TEE-S"], None),
        ("a-tee-m", ["TEE-M"], None),
        ("a-tee-s", ["TEE-S"], None),
    ]
    assert "a-tee-s" in run("media", "campaign", "c-tee").stdout
    missing = run("media", "campaign", "nope")
    assert (missing.exit_code, missing.stderr.strip()) == (3, "campaign 'nope' does not exist")


def test_rules_a_pass_a_send_and_approvals_from_the_command_line(run: Run, keel: Keel, tmp_path: Path) -> None:
    # rules from files; a bad one names its path
    saved = run("media", "rule-set", "pause when out", write(tmp_path, "pause.json", PAUSE_RULE))
    assert "rule pause when out saved (version 1)" in saved.stdout, saved.output
    assert run("media", "rule-set", "shift", write(tmp_path, "shift.json", SHIFT_RULE)).exit_code == 0
    bad = run("media", "rule-set", "x", write(tmp_path, "bad.json", {"then": {"action": "explode"}}))
    assert (bad.exit_code, "then.action: one of pause, bid_ladder, shift_budget, boost" in bad.stderr) == (2, True)
    assert [r["name"] for r in document(run("media", "rules", "--json"))] == ["pause when out", "shift"]
    assert "pause when out" in run("media", "rules").stdout
    keel.media.save_guardrails({"approval_above": 100})
    # when both tees sell out and the rules run once / then their ads pause
    sell_out(keel, "TEE-S", "TEE-M")
    passed = run("media", "run-rules")
    assert "3 ads checked, 2 decisions, 2 applied" in passed.stdout, passed.output
    states = document(run("media", "states", "--json", "--account", ACCOUNT))["items"]
    assert [
        (s["code"], s["status"], s["held_by"], s["version"], s["sent_version"]) for s in states if s["level"] == "ad"
    ] == [
        ("a-cap", "enabled", [], 1, 1),
        ("a-tee-m", "paused", ["pause when out"], 2, 2),
        ("a-tee-s", "paused", ["pause when out"], 2, 2),
    ]  # sent by the pass, before the command ended
    assert "a-tee-s" in run("media", "states").stdout
    # the next pass sees a campaign whose ads are all paused: its budget shift waits for a person
    shifted = run("media", "run-rules")
    assert "3 ads checked, 2 decisions, 0 applied" in shifted.stdout, shifted.output
    waiting = document(run("media", "actions", "--mode", "approval", "--json"))["items"]
    assert [(a["code"], a["after"]["budget"]) for a in waiting] == [("c-cap", 3900), ("c-tee", 4100)]
    log = run("media", "actions", "--code", "a-tee-s")
    assert "pause when out" in log.stdout and "applied" in log.stdout
    assert run("media", "actions", "--mode", "deleted").exit_code == 2
    assert run("media", "actions", "--since", "2026-03-02T00:00:00").exit_code == 2
    # approve one, reject the other, each once
    donor, recipient = waiting[1]["id"], waiting[0]["id"]
    approved = run("media", "approve", str(donor))
    assert f"action {donor} (campaign c-tee) approved" in approved.stdout, approved.output
    again = run("media", "approve", str(donor))
    assert (again.exit_code, again.stderr.strip()) == (2, f"action {donor} is approved, not waiting for approval")
    assert f"action {recipient} (campaign c-cap) rejected" in run("media", "reject", str(recipient)).stdout
    decided = {a["id"]: (a["mode"], a["decided_by"]) for a in document(run("media", "actions", "--json"))["items"]}
    assert (decided[donor], decided[recipient]) == (("approved", "local-operator"), ("rejected", "local-operator"))
    assert run("media", "approve", "999999").exit_code == 3
    # a rule deleted once
    assert "rule shift deleted" in run("media", "rule-delete", "shift").stdout
    assert run("media", "rule-delete", "shift").exit_code == 3


def test_drift_and_dead_letters_from_the_command_line(run: Run, keel: Keel) -> None:
    # given a drifted campaign and a dead letter
    with keel.db.write() as conn:
        outbox.set_drift(conn, Level.CAMPAIGN, "c-tee", {"status": "enabled", "bid": None, "budget": 9000})
        outbox.refused(conn, [(Level.AD, "a-tee-s", 1, 8, utcnow(), "refused for good", True)])
    assert [s["code"] for s in document(run("media", "states", "--only", "dead", "--json"))["items"]] == ["a-tee-s"]
    # the platform's budget adopted; Keel's again is refused (no drift left)
    kept = run("media", "resolve", "campaign", "c-tee", "--keep", "platform")
    assert "campaign c-tee: drift resolved, platform's state kept (version 2)" in kept.stdout, kept.output
    assert keel.media.states_of(Level.CAMPAIGN, ["c-tee"])["c-tee"].state.budget == 9000
    again = run("media", "resolve", "campaign", "c-tee", "--keep", "keel")
    assert (again.exit_code, again.stderr.strip()) == (2, "campaign 'c-tee' has no drift to resolve")
    assert run("media", "resolve", "campaign", "c-tee", "--keep", "both").exit_code == 2
    assert run("media", "resolve", "keyword", "c-tee", "--keep", "keel").exit_code == 2
    # the dead letter owed again; a live state is no dead letter
    assert "ad a-tee-s: owed again (version 2)" in run("media", "retry", "ad", "a-tee-s").stdout
    assert keel.media.states_of(Level.AD, ["a-tee-s"])["a-tee-s"].dead is False
    not_dead = run("media", "retry", "ad", "a-tee-m")
    assert (not_dead.exit_code, not_dead.stderr.strip()) == (2, "ad a-tee-m is not a dead letter")
    assert run("media", "retry", "ad", "nope").exit_code == 3


def test_performance_and_savings_from_the_command_line(run: Run, keel: Keel, tmp_path: Path) -> None:
    csv_file = "date,hour,ad,impressions,clicks,cost,sales_7d\n2026-03-02,9,a-tee-s,100,4,2.00,8.00\n" \
               "2026-03-02,9,a-cap,50,1,1.00,0\n"  # fmt: skip
    imported = run("media", "import-performance", write(tmp_path, "perf.csv", csv_file))
    assert "2 performance rows imported: 1 days, 2 ads" in imported.stdout, imported.output
    bad = run("media", "import-performance", write(tmp_path, "bad.csv", csv_file.replace("2.00", "-2")))
    assert (bad.exit_code, "row 1  cost: an amount of at least 0" in bad.stderr) == (2, True)
    by_sku = document(run("media", "performance", "--by", "sku", "--json"))
    assert by_sku["by"] == "sku" and by_sku["total"] == 2
    assert [(i["key"], i["cost"], i["sales_7d"], i["roas_7d"]) for i in by_sku["items"]] == [
        ("TEE-S", 200, 800, 4.0),
        ("CAP-S", 100, 0, 0.0),
    ]
    one = document(run("media", "performance", "--by", "day", "--since", "2026-03-03", "--json"))
    assert one["items"] == []
    assert "c-tee" in run("media", "performance").stdout
    assert run("media", "performance", "--by", "brand").exit_code == 2
    assert run("media", "performance", "--since", "March").exit_code == 2
    # savings over a window, and the refusals
    found = document(run("media", "savings", "--since", "2026-03-02T00:00:00Z", "--until", "2026-03-03T00:00:00Z",
                         "--json"))  # fmt: skip
    assert (found["since"], found["until"]) == ("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")
    assert [(f["currency"], f["wasted_spend"], f["paused_hours"]) for f in found["total"]] == [("EUR", 0, 0.0)]
    assert "by rule" in run("media", "savings").stdout
    assert run("media", "savings", "--since", "2026-03-02").exit_code == 2
    late = run("media", "savings", "--since", "2026-03-02T00:00:00Z", "--until", "2026-03-01T00:00:00Z")
    assert (late.exit_code, late.stderr.strip()) == (2, "until: after since")


def test_a_token_without_media_write_is_refused(run: Run, keel: Keel, tmp_path: Path) -> None:
    keel.access.add_service("ana", Role.ANALYST)
    env = {"KEEL_TOKEN": keel.access.create_token("ana", "cli").secret}
    assert document(run("media", "rules", "--json", env=env)) == []
    refused = run("media", "rule-set", "x", write(tmp_path, "r.json", PAUSE_RULE), env=env)
    assert (refused.exit_code, refused.stderr.strip()) == (2, "ana (role analyst) lacks the permission media.write")
