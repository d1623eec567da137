"""User mistakes on the command line get one line on stderr and exit status 2, never a traceback; a bad
import file is refused as a whole with the line at fault, and nothing is imported."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from keel.cli import app
from tests.e2e.conftest import Run

HEADER = "id,kind,sku,location,quantity\n"


def keel(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "240", "KEEL_LOG_JSON": "false"}).invoke(app, list(args), catch_exceptions=False)


def one_line(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.mark.parametrize(
    ("url", "start"),
    [
        ("postgresql://postgres@127.0.0.1:1/keel", "database unreachable: "),
        ("postgresql://postgres@127.0.0.1:abc/keel", "database URL not usable: "),
        ("mysql://root@127.0.0.1/keel", "database URL 'mysql://root@127.0.0.1/keel': unsupported scheme"),
        ("not a url", "database URL 'not a url': unsupported scheme"),
        ("sqlite:////proc/no-such-dir/keel.db", ""),
    ],
    ids=["unreachable", "malformed-port", "mysql", "garbage", "missing-file"],
)
def test_a_bad_database_url_is_one_line_and_exit_2(db_url: str, url: str, start: str) -> None:
    assert one_line(keel("orders", "list", "--database-url", url)).startswith(start)


def test_a_malformed_port_setting_is_one_line(db_url: str) -> None:
    result = CliRunner(env={"KEEL_PORT": "eighty"}).invoke(app, ["orders", "list", "--database-url", db_url])
    assert one_line(result) == "configuration: setting 'port': cannot read 'eighty' as int"


def test_an_unreadable_import_file_is_one_line(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.csv"
    path.write_text(HEADER)

    def refuse(self: Path) -> bytes:  # chmod 0 does not stop root, who runs the suite here
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert one_line(run("inventory", "import", str(path))) == f"{path}: Permission denied"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ((HEADER + "m1,received,SKU-1,WH-DE-1,5\nm2,received,Caf\xe9,WH-DE-1,1\n").encode("latin-1"),
         "row 3  : byte 0xe9 is not UTF-8 (Latin-1 or Windows-1252?); save the file as UTF-8"),
        ((HEADER + "m1,received,SKU-1,WH-DE-1,5\n").encode("utf-16"),
         "row 1  : NUL byte: the file is binary or UTF-16; save it as UTF-8 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "row 3  : NUL byte: the file is binary or UTF-16; save it as UTF-8 text"),
        ((HEADER + "m1,received,SKU-1,WH-DE-1,5\n" + "m2,received,SKU-1,WH-DE-1," + "9" * 140_000 + "\n").encode(),
         "row 3  : malformed CSV: field larger than field limit (131072)"),
        ((HEADER + 'm1,received,"SKU-1,WH-DE-1,5\nm2,received,SKU-1,WH-DE-1,1\n').encode(),
         "row 2  : malformed CSV: unexpected end of data"),
    ],
    ids=["latin-1", "utf-16", "binary", "huge-field", "unterminated-quote"],
)  # fmt: skip
def test_a_bad_import_file_is_refused_whole(run: Run, tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "movements.csv"
    path.write_bytes(content)
    result = run("inventory", "import", str(path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert reason in result.output, result.output
    assert "nothing was imported" in result.output
    assert "SKU-1" not in run("inventory", "positions").output  # nothing was imported
