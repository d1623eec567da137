"""The commands of docs/sync.md, run as written (the channel and the URL swapped for this test's), against a
marketplace simulator: configure, status, items, updates, pause, resume, retry,
resync."""

from __future__ import annotations

import json
import re
from pathlib import Path

from keel.channels import FEEDER
from keel.sim.marketplace import Marketplace
from tests.e2e.conftest import Run
from tests.support import WEB_DE, WH_DE, build_world, open_keel, receive

DOC = Path(__file__).resolve().parents[2] / "docs" / "sync.md"


def documented() -> tuple[dict[str, object], list[list[str]]]:
    """The configuration document of 'Configuring a channel' and the commands of 'Operating it'."""
    text = DOC.read_text()
    settings = json.loads(re.search(r"<<'EOF'\n(.*?)\nEOF", text, re.S).group(1))  # type: ignore[union-attr]
    block = text.split("## Operating it", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.strip().splitlines():
        words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        assert words[:3] == ["keel", "channels", "sync"], line
        commands.append([WEB_DE if w == "market-de" else w for w in words[1:]])
    return settings, commands


def test_the_documented_commands_run_against_a_channel(db_url: str, run: Run, tmp_path: Path) -> None:
    settings, commands = documented()
    assert [c[2] for c in commands] == ["status", "items", "updates", "pause", "resume", "retry", "resync"]
    keel = open_keel(db_url)
    build_world(keel)
    receive(keel, "SKU-1", WH_DE, 7)
    keel.availability.catch_up()
    with Marketplace({WEB_DE: str(settings["secret"])}) as market:
        path = tmp_path / "market-de.json"
        path.write_text(json.dumps(settings | {"url": market.url}))
        configured = run("channels", "sync", "configure", WEB_DE, str(path))
        assert configured.exit_code == 0, configured.output
        assert "(1 value owed)" in configured.output
        keel.consumers.get(FEEDER).step(100)
        keel.sync.run_pass()
        outputs = {}
        for command in commands:
            result = run(*command, *(["--json"] if command[2] in ("status", "items", "updates") else []))
            assert result.exit_code == 0, (command, result.output)
            outputs[command[2]] = result.output
    keel.close()
    (status,) = json.loads(outputs["status"])
    assert (status["channel"], status["synced"], status["pending"], status["dead"]) == (WEB_DE, 1, 0, 0)
    assert json.loads(outputs["items"]) == []  # no dead letters
    assert json.loads(outputs["updates"]) == {"items": [], "total": 0}  # no order update refused
    assert "paused (1 changed)" in outputs["pause"]
    assert "resumed (1 changed)" in outputs["resume"]
    assert "dead letters retried (0 changed)" in outputs["retry"]
    assert "every value owed again (1 changed)" in outputs["resync"]
    assert market.state(WEB_DE) == {("SKU-1", "DE"): (7, None, 1)}


def test_a_refused_configuration_names_its_fields(db_url: str, run: Run, tmp_path: Path) -> None:
    keel = open_keel(db_url)
    build_world(keel)
    keel.close()
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"url": "ftp://x", "secret": "short", "rate_limit": 0}))
    result = run("channels", "sync", "configure", WEB_DE, str(path))
    assert result.exit_code != 0
    for field in ("url", "secret", "rate_limit"):
        assert field in result.output
    missing = run("channels", "sync", "pause", "nope")
    assert missing.exit_code != 0 and "no sync configuration" in missing.output
