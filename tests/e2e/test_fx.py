"""``/fx/rates`` over HTTP (both databases) and ``keel fx`` on the command line: import, list, hostile input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from starlette.testclient import TestClient

from keel.access import Role
from keel.bootstrap import Keel
from tests.support import snapshot

Run = Callable[..., Result]
CSV = {"content-type": "text/csv"}
PROBLEM = "application/problem+json"
HIST = "Date,USD,JPY,GBP,SEK,\n2026-03-03,1.0850,162.10,0.8400,11.2000,\n2026-03-02,1.0800,161.00,0.8350,N/A,\n"


def test_import_then_list_rates(client: TestClient) -> None:
    first = client.post("/fx/rates", content=HIST, headers=CSV)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "rows": 2,
        "rates": 7,
        "inserted": 7,
        "updated": 0,
        "unchanged": 0,
        "currencies": ["GBP", "JPY", "SEK", "USD"],
        "first_date": "2026-03-02",
        "last_date": "2026-03-03",
    }
    again = client.post("/fx/rates", content=HIST.encode(), headers={"content-type": "text/csv; charset=utf-8"})
    assert (again.json()["inserted"], again.json()["unchanged"]) == (0, 7)
    page = client.get("/fx/rates", params={"currency": "JPY"}).json()
    assert page == {
        "items": [
            {"date": "2026-03-03", "currency": "JPY", "rate": "162.1"},
            {"date": "2026-03-02", "currency": "JPY", "rate": "161"},
        ],
        "total": 2,
        "limit": 100,
        "offset": 0,
    }
    one_day = client.get("/fx/rates", params={"since": "2026-03-03", "limit": 2, "offset": 1}).json()
    assert (one_day["total"], [i["currency"] for i in one_day["items"]]) == (4, ["JPY", "SEK"])


def test_hostile_imports_are_refused_and_change_nothing(keel: Keel, client: TestClient) -> None:
    before = snapshot(keel)
    cases = [
        (client.post("/fx/rates", json={"csv": HIST}), 415),  # JSON is not the rate file
        (client.post("/fx/rates", content=HIST, headers={"content-type": "text/plain"}), 415),
        (client.post("/fx/rates", content="Date,USD\n2026-01-01,1.1\x00\n", headers=CSV), 422),
        (client.post("/fx/rates", content=b"Date,USD\n2026-01-01,\xff\n", headers=CSV), 422),
        (client.post("/fx/rates", content="", headers=CSV), 422),
        (client.post("/fx/rates", content="Date,USD\n2026-01-01,1.1\n2026-01-02,x\n", headers=CSV), 422),
        (client.post("/fx/rates", content="Date," + ",".join(["USD"] * 5000) + "\n", headers=CSV), 422),
        (client.get("/fx/rates", params={"currency": "usd"}), 422),
        (client.get("/fx/rates", params={"since": "yesterday"}), 422),
    ]
    for response, status in cases:
        assert (response.status_code, response.headers["content-type"]) == (status, PROBLEM), response.text
    bad_row = cases[5][0].json()
    assert bad_row["errors"] == [{"row": 3, "field": "USD", "reason": "'x' is not a positive decimal rate"}]
    assert snapshot(keel) == before


def test_a_rate_file_over_the_body_limit_is_refused_before_it_is_read(
    keel_factory: Callable[..., Keel], make_client: Callable[[Keel], TestClient]
) -> None:
    small = keel_factory(max_body_bytes=1024)
    client = make_client(small)
    huge = "Date,USD\n" + "".join(f"20{y:02d}-01-01,1.1\n" for y in range(100)) * 20
    response = client.post("/fx/rates", content=huge, headers=CSV)
    assert response.status_code == 413
    assert client.get("/fx/rates").json()["total"] == 0


def test_reading_rates_is_for_every_reader_and_importing_for_pricing_and_admins(
    keel: Keel, make_client: Callable[..., TestClient]
) -> None:
    anonymous = make_client(keel, as_admin=False)
    for role, may_import in ((Role.ANALYST, False), (Role.PRICING, True), (Role.INTEGRATION, False)):
        keel.access.add_service(f"svc-{role.value}", role)
        token = keel.access.create_token(f"svc-{role.value}", "t").secret
        auth = {"Authorization": f"Bearer {token}"}
        posted = anonymous.post("/fx/rates", content=HIST, headers={**CSV, **auth})
        assert (posted.status_code == 200) == may_import, (role, posted.status_code)
        listed = anonymous.get("/fx/rates", headers=auth).status_code
        assert listed == (403 if role is Role.INTEGRATION else 200), role


def test_cli_imports_the_ecb_file_and_lists_rates(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(HIST)
    first = run("fx", "import", str(path))
    assert first.exit_code == 0, first.output
    assert first.stdout == "7 rates of 4 currencies, 2026-03-02 to 2026-03-03: 7 new, 0 changed, 0 already known\n"
    assert "0 new, 0 changed, 7 already known" in run("fx", "import", str(path)).stdout
    listed = run("fx", "rates", "--json", "--currency", "usd")
    assert json.loads(listed.stdout) == {
        "items": [
            {"date": "2026-03-03", "currency": "USD", "rate": "1.085"},
            {"date": "2026-03-02", "currency": "USD", "rate": "1.08"},
        ],
        "total": 2,
        "limit": 50,
        "offset": 0,
    }
    table = run("fx", "rates", "--since", "2026-03-03")
    assert "4 rates" in table.stdout and "162.1" in table.stdout


def test_cli_refuses_a_bad_file_with_its_rows(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Date,USD,JPY\n2026-03-02,1.08,161\n2026-03-03,oops,162\n")
    result = run("fx", "import", str(path))
    assert result.exit_code == 2
    assert "row 3  USD: 'oops' is not a positive decimal rate" in result.stderr and result.stdout == ""
    assert json.loads(run("fx", "rates", "--json").stdout)["total"] == 0
    assert run("fx", "rates", "--since", "03/02/2026").exit_code == 2
