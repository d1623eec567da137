"""``keel geo`` end to end (typer CliRunner on a SQLite file) and ``GET /geo/postal-codes`` over HTTP."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from starlette.testclient import TestClient

from keel.bootstrap import Keel
from tests.support import open_keel, snapshot

Run = Callable[..., Result]
PROBLEM = "application/problem+json"
GEONAMES = (
    "DE\t10115\tBerlin\tBerlin\tBE\t\t00\tBerlin, Stadt\t11000000\t52.5323\t13.3846\t4\n"
    "DE\t10117\tBerlin\tBerlin\tBE\t\t00\tBerlin, Stadt\t11000000\t52.517\t13.3872\t4\n"
    "DE\t10117\tBerlin Mitte\tBerlin\tBE\t\t00\tBerlin, Stadt\t11000000\t52.519\t13.3892\t4\n"
    "FR\t75001\tParis 01\tIle-de-France\t11\tParis\t75\tParis\t751\t48.8592\t2.3417\t5\n"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_a_geonames_dump_then_look_a_code_up(run: Run, tmp_path: Path) -> None:
    dump = write(tmp_path / "DE.txt", GEONAMES)
    first = run("geo", "import-postcodes", str(dump))
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        f"imported 3 postal codes (DE, FR) from 4 rows of {dump}: 3 new or changed, 0 unchanged;"
        " 1 averaged from several rows\n"
    )
    again = run("geo", "import-postcodes", str(dump))
    assert "0 new or changed, 3 unchanged" in again.stdout
    shown = run("geo", "postcode", "de", "101 17")
    assert shown.stdout == "DE 10117 Berlin: 52.51800, 13.38820 (the average of 2 rows)\n"
    missing = run("geo", "postcode", "DE", "99999")
    assert missing.exit_code == 3
    assert "no centroid is known for postal code '99999' in 'DE'" in missing.stderr


def test_import_one_country_from_the_downloaded_zip(run: Run, tmp_path: Path, db_url: str) -> None:
    archive = tmp_path / "allCountries.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("allCountries.txt", GEONAMES)
        z.writestr("readme.txt", "GeoNames postal codes")
    result = run("geo", "import-postcodes", str(archive), "--country", "fr")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("imported 1 postal codes (FR) from 1 rows of")
    assert result.stdout.endswith("; 3 rows of other countries skipped\n")
    keel = open_keel(db_url)
    try:
        assert keel.postcodes.count() == 1
    finally:
        keel.close()


def test_import_a_csv(run: Run, tmp_path: Path) -> None:
    csv = write(tmp_path / "codes.csv", "country,postal_code,place,latitude,longitude\nGB,SW1A,London,51.501,-0.1416\n")
    assert run("geo", "import-postcodes", str(csv)).exit_code == 0
    shown = run("geo", "postcode", "GB", "SW1A 1AA")
    assert shown.stdout == "GB SW1A London: 51.50100, -0.14160 (outward part only)\n"


def test_a_bad_file_is_refused_row_by_row_and_writes_nothing(run: Run, tmp_path: Path, db_url: str) -> None:
    assert run("geo", "import-postcodes", str(write(tmp_path / "ok.txt", GEONAMES))).exit_code == 0
    keel = open_keel(db_url)
    before = snapshot(keel)
    bad = write(
        tmp_path / "bad.csv",
        "country,postal_code,place,latitude,longitude\nDE,10115,Berlin,95,13\nXX,,Nowhere,1,1\nDE,20095,Hamburg,53.55,10\n",
    )
    result = run("geo", "import-postcodes", str(bad))
    assert result.exit_code == 2
    assert [line for line in result.stderr.splitlines() if line] == [  # blank: where the progress bar was
        f"{bad}: 3 problems; nothing was imported",
        "  row 2  latitude: 95 is outside [-90, 90]",
        "  row 3  country: unknown ISO 3166 country code 'XX'",
        "  row 3  postal_code: required",
    ]
    assert snapshot(keel) == before
    unknown = run("geo", "import-postcodes", str(bad), "--country", "ZZ")
    assert (unknown.exit_code, unknown.stderr) == (2, "country: unknown ISO 3166 country code 'ZZ'\n")
    keel.close()


def test_postal_code_endpoint(sqlite_keel: Keel, make_client: Callable[[Keel], TestClient]) -> None:
    client = make_client(sqlite_keel)
    sqlite_keel.postcodes.load(
        [{"country": "NL", "postal_code": "1012", "place": "Amsterdam", "latitude": 52.3731, "longitude": 4.8926}],
        source="test",
    )
    found = client.get("/geo/postal-codes/nl/1012 AB")
    assert found.status_code == 200
    assert found.json() == {
        "country": "NL",
        "postal_code": "1012",
        "display": "1012",
        "place": "Amsterdam",
        "latitude": 52.3731,
        "longitude": 4.8926,
        "source_rows": 1,
        "exact": False,
    }
    missing = client.get("/geo/postal-codes/NL/9999")
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM)
    assert missing.json()["detail"].startswith("no centroid is known for postal code '9999' in 'NL'")
