"""The README's Quickstart runs as written against a live demo, twin stream included.

The test starts ``keel demo`` (a small twin, its live stream on) in a temporary directory, so ``.keel/`` lands
there, on a free port. It reads the Quickstart section of README.md, takes each ```sh block and the output
block right after it, runs the blocks in order in one bash session in that directory (as a newcomer pastes
them into one terminal: variables such as ``$ORDER`` carry over), and compares every output with the
documented one once volatile values are masked (see ``MASKS``).

Conventions the README follows, enforced here:
- a ```sh block followed (only blank lines between) by a ```json or plain ``` block: that block is its
  output; a ```sh block without one must print nothing;
- an output block not right after a ```sh block is an error (no illustrative outputs that never run);
- ``<!-- walkthrough: skip -->`` on the line before a ```sh block leaves it (and its output) out; none do
  today, and each use should say why next to it.

To check the walkthrough against a demo of your own (``make demo``, say), set ``KEEL_WALKTHROUGH_URL``
(``http://127.0.0.1:8000``) and ``KEEL_WALKTHROUGH_DIR`` (the directory holding its ``.keel/``). On a
mismatch the test writes the README with the outputs it got next to it (``README.actual.md`` in the test's
``tmp_path``) and names that file in the failure.
"""

from __future__ import annotations

import difflib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import service_unavailable

README = Path(__file__).resolve().parents[2] / "README.md"
DOCUMENTED_URL = "http://127.0.0.1:8000"
SKIP = "<!-- walkthrough: skip -->"
AUTH = "Authorization: Bearer $(cat .keel/admin-token)"  # left out of failure messages, for their width
OUTPUT_LANGS = {"", "json", "text"}
BLOCK_TIMEOUT_S = 60.0
DEMO_SKUS = "500"  # a small twin loads in a few seconds; the walkthrough's own SKUs and locations are the same

# (pattern, replacement): applied to the documented and the actual output alike.
MASKS: list[tuple[re.Pattern[str], str]] = [
    # ISO 8601 timestamps: created_at, expires_at, counted_at, updated_at...
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"), "<time>"),
    # ledger sequence numbers: the twin writes its own movements between ours
    (re.compile(r'"(seq|first_seq|last_seq|next_after_seq)":\d+'), r'"\1":<seq>'),
    # generated numeric ids (locations, channels, orders), and order numbers in messages and references
    (re.compile(r'"(id|order_id)":\d+'), r'"\1":<id>'),
    (re.compile(r"\border \d+\b"), "order <id>"),
    # generated ids of CLI counts
    (re.compile(r"\b[0-9a-f]{32}\b"), "<uuid>"),
    # whole-database totals: the twin's ledger grows all the time
    (re.compile(r"replayed \d+ movements into \d+ positions"), "replayed <n> movements into <n> positions"),
    (re.compile(r"(━+ )\d+/\?"), r"\1<n>/?"),
    # jq 1.6 prints 1.0 as 1, jq 1.7 keeps 1.0
    (re.compile(r"(?<![\d.])(\d+)\.0(?![\d.])"), r"\1"),
]


def mask(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


@dataclass
class Step:
    """A command block of the walkthrough and the output documented for it."""

    line: int  # of the command's opening fence in README.md, from 1
    command: str
    expected: str
    output_span: tuple[int, int] | None  # README line indexes (from 0) of the output block's body, or None


def quickstart(lines: list[str]) -> tuple[int, int]:
    """Line indexes of the Quickstart section: from its heading to the next level-2 heading."""
    start = lines.index("## Quickstart")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return start, end


def parse(text: str) -> list[Step]:
    """The Quickstart's command blocks with their documented outputs, in order."""
    lines = text.splitlines()
    start, end = quickstart(lines)
    blocks: list[tuple[str, int, int]] = []  # (language, opening fence index, closing fence index)
    i = start
    while i < end:
        if lines[i].startswith("```"):
            close = next((j for j in range(i + 1, end) if lines[j] == "```"), None)
            assert close is not None, f"README.md:{i + 1}: unclosed code block"
            blocks.append((lines[i][3:].strip(), i, close))
            i = close + 1
        else:
            i += 1
    steps: list[Step] = []
    for n, (lang, open_, close) in enumerate(blocks):
        body = "\n".join(lines[open_ + 1 : close])
        if lang == "sh":
            if lines[open_ - 1].strip() == SKIP:
                continue
            nxt = blocks[n + 1] if n + 1 < len(blocks) else None
            adjacent = nxt is not None and nxt[0] in OUTPUT_LANGS and not "".join(lines[close + 1 : nxt[1]]).strip()
            if nxt is not None and adjacent:
                expected, span = "\n".join(lines[nxt[1] + 1 : nxt[2]]), (nxt[1] + 1, nxt[2])
            else:
                expected, span = "", None
            steps.append(Step(open_ + 1, body, expected, span))
        elif lang in OUTPUT_LANGS:
            previous = blocks[n - 1] if n else None
            owned = previous is not None and previous[0] == "sh" and not "".join(lines[previous[2] + 1 : open_]).strip()
            assert owned, f"README.md:{open_ + 1}: an output block that no command block produces"
        else:
            raise AssertionError(f"README.md:{open_ + 1}: unexpected ```{lang} block in the walkthrough")
    return steps


class Shell:
    """One bash session: each block is sourced in turn, so variables and the working directory carry over."""

    MARK = "__walkthrough_block_done__"

    def __init__(self, cwd: Path, scripts: Path, env: dict[str, str]) -> None:
        self.scripts = scripts  # apart from cwd: a demo of your own keeps its directory clean
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # what a terminal shows: both streams, interleaved
        )
        self.n = 0

    def run(self, command: str, timeout: float = BLOCK_TIMEOUT_S) -> tuple[str, int]:
        """Run ``command``; its output (stdout and stderr) and exit status."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.n += 1
        script = self.scripts / f"block-{self.n}.sh"
        script.write_text(command + "\n")
        # stdin from /dev/null: a command reading its input must not swallow the session's next lines
        self.proc.stdin.write(f"source {script} </dev/null; printf '\\n{self.MARK} %s\\n' $?\n".encode())
        self.proc.stdin.flush()
        out = b""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while (found := re.search(rb"\n" + self.MARK.encode() + rb" (\d+)\n", out)) is None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise AssertionError(f"block timed out after {timeout:g} s; output so far:\n{out.decode()}")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"bash exited; output so far:\n{out.decode()}")
            out += chunk
        return out[: found.start()].decode(), int(found.group(1))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The developer's environment without Keel settings or forced colours; keel from this venv first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_") and k not in {"FORCE_COLOR", "NO_COLOR"}}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "120"  # the README's tables are 120 columns wide
    env["PYTHONIOENCODING"] = "utf-8"
    return env


@dataclass
class Demo:
    url: str
    cwd: Path


def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None, log: Path | None, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            detail = log.read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"keel demo exited with {proc.returncode}:\n{detail}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url}/healthz did not answer within {timeout:g} s")


def projector_idle(url: str, timeout: float = 10.0) -> None:
    """Wait until the availability projector has applied every event so far (or ``timeout`` passes).

    A newcomer reads the prose between two blocks; the projector, a few milliseconds behind the ledger,
    has long caught up by then. Blocks sent back to back need this pause to read what the README says they
    read. When it does not come, the next comparison says so."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/healthz", timeout=5).json()["availability_lag_events"] == 0:
            return
        time.sleep(0.05)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """A live ``keel demo`` with the twin's stream, or the demo named by ``KEEL_WALKTHROUGH_URL``."""
    for tool in ("bash", "curl", "jq", "date"):
        if shutil.which(tool) is None:
            service_unavailable(f"the README walkthrough needs {tool} on PATH")
    if url := os.environ.get("KEEL_WALKTHROUGH_URL"):
        yield Demo(url.rstrip("/"), Path(os.environ.get("KEEL_WALKTHROUGH_DIR", ".")).resolve())
        return
    work = tmp_path / "demo"
    work.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "demo.log"
    keel = Path(sys.executable).parent / "keel"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(keel), "demo", "--skus", DEMO_SKUS, "--port", str(port)],
            cwd=work,
            env=clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(url, proc, log)
        yield Demo(url, work)
    finally:
        proc.send_signal(signal.SIGINT)  # uvicorn's graceful stop, as Ctrl-C
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def regenerated(text: str, steps: list[Step], outputs: list[str]) -> str:
    """README.md with each command's documented output replaced by ``outputs`` (for copying, after review)."""
    lines = text.splitlines()
    for step, output in sorted(zip(steps, outputs, strict=True), key=lambda p: -p[0].line):
        body = [line.rstrip() for line in output.strip("\n").splitlines()]
        if step.output_span is not None:
            lines[step.output_span[0] : step.output_span[1]] = body
        elif body:
            close = next(j for j in range(step.line, len(lines)) if lines[j] == "```")
            lang = "json" if body[0].startswith(("{", "[")) else ""
            lines[close + 1 : close + 1] = [f"```{lang}", *body, "```"]
    return "\n".join(lines) + "\n"


def test_parse_pairs_commands_with_outputs() -> None:
    text = "\n".join(
        [
            "## Quickstart",
            "```sh",
            "echo a",
            "```",
            "```json",
            '{"a": 1}',
            "```",
            "prose",
            "```sh",
            "true",
            "```",
            "",
            SKIP,
            "```sh",
            "make demo",
            "```",
            "```",
            "illustrative",
            "```",
            "## Next",
            "```",
            "not the walkthrough",
            "```",
        ]
    )
    steps = parse(text)
    assert [(s.line, s.command, s.expected) for s in steps] == [(2, "echo a", '{"a": 1}'), (9, "true", "")]
    with pytest.raises(AssertionError, match="no command block produces"):
        parse("## Quickstart\nprose\n```json\n{}\n```\n")


def test_mask_hides_volatile_values_only() -> None:
    documented = '{"first_seq":120001,"id":2,"created_at":"2026-11-22T06:26:03.418344Z","accuracy":1.0,"quantity":13}'
    actual = '{"first_seq":6079,"id":7,"created_at":"2026-11-30T09:21:00.866493Z","accuracy":1,"quantity":13}'
    assert mask(documented) == mask(actual)
    assert mask(documented) != mask(actual.replace('"quantity":13', '"quantity":12'))


def test_readme_walkthrough_runs_against_a_live_demo(demo: Demo, tmp_path: Path) -> None:
    text = README.read_text()
    steps = parse(text)
    assert len(steps) >= 20, "the Quickstart lost its command blocks"
    scripts = tmp_path / "blocks"
    scripts.mkdir()
    shell = Shell(demo.cwd, scripts, clean_env())
    outputs: list[str] = []
    failures: list[str] = []
    try:
        for step in steps:
            projector_idle(demo.url)
            output, status = shell.run(step.command.replace(DOCUMENTED_URL, demo.url))
            outputs.append(output)
            first = step.command.splitlines()[0].replace(f'-H "{AUTH}" ', "")[:120]
            if status != 0:
                failures.append(f"README.md:{step.line}: `{first}` exited with {status}:\n{output}")
                continue
            want, got = mask(step.expected), mask(output)
            if want != got:
                diff = difflib.unified_diff(
                    want.splitlines(), got.splitlines(), "README.md (masked)", "live demo (masked)", lineterm=""
                )
                failures.append(f"README.md:{step.line}: `{first}`\n" + "\n".join(diff))
    finally:
        shell.close()
    if failures:
        actual = tmp_path / "README.actual.md"
        actual.write_text(regenerated(text, steps[: len(outputs)], outputs))
        pytest.fail(
            f"{len(failures)} of {len(steps)} walkthrough blocks differ from README.md "
            f"(the README with the live outputs: {actual}):\n\n" + "\n\n".join(failures),
            pytrace=False,
        )
