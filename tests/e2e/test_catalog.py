"""The catalog over HTTP (both databases) and ``keel catalog`` on the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from starlette.testclient import TestClient
from typer.testing import CliRunner

from keel.access import Role
from keel.bootstrap import Keel
from keel.cli import app
from tests.support import open_keel, snapshot
from tests.support_catalog import FAMILY, channels, seed, tee

Run = Callable[..., Result]
PROBLEM = "application/problem+json"
CSV_TYPE = {"content-type": "text/csv"}
NDJSON_TYPE = {"content-type": "application/x-ndjson"}


def test_families_categories_products_and_their_history_over_http(client: TestClient) -> None:
    family = client.put("/catalog/families/apparel", json={k: v for k, v in FAMILY.items() if k != "code"})
    assert family.status_code == 200, family.text
    assert family.json()["required"] == {"*": ["title"], "google": ["price", "link"]}
    assert client.put("/catalog/categories/tops", json={"label": "Tops"}).json() == {
        "code": "tops",
        "label": "Tops",
        "parent": None,
    }
    created = client.put("/catalog/products/TEE", json=tee())
    assert (created.status_code, created.json()["revision"], created.json()["changed"]) == (200, 1, True)
    edited = client.put("/catalog/products/TEE", json=tee(title="Shirt")).json()
    assert edited["changes"] == [{"path": "values.title@de", "before": "T-Shirt", "after": "Shirt"}]
    assert client.put("/catalog/products/TEE", json=tee(title="Shirt")).json()["changed"] is False
    history = client.get("/catalog/products/TEE/revisions").json()
    assert [(r["number"], r["source"], r["via"]) for r in history["items"]] == [(2, "api", "api"), (1, "api", "api")]
    first_at = history["items"][1]["at"]
    diff = client.get("/catalog/products/TEE/diff", params={"from": 1, "to": 2}).json()
    assert diff["changes"] == edited["changes"]
    assert client.get("/catalog/products/TEE", params={"as_of": first_at}).json()["revision"] == 1
    one = client.get("/catalog/products/TEE/revisions/1").json()
    assert one["document"]["values"][1]["value"] == "T-Shirt"
    reverted = client.post("/catalog/products/TEE/revert", json={"revision": 1}).json()
    assert (reverted["revision"], reverted["changes"][0]["after"]) == (3, "T-Shirt")
    listed = client.get("/catalog/products", params={"family": "apparel"}).json()
    assert (listed["total"], listed["items"][0]["revision"]) == (1, 3)
    assert client.get("/catalog/gtins/4006381333931").json() == {
        "gtin": "4006381333931",
        "valid": True,
        "reason": None,
        "flags": [],
        "tradable": True,
    }
    assert client.get("/catalog/gtins/2012345000001").json()["flags"] == ["restricted_circulation"]


def test_product_files_over_http(keel: Keel, client: TestClient) -> None:
    seed(keel)
    lines = json.dumps(tee()) + "\n" + json.dumps(tee("POLO")) + "\n"
    first = client.post("/catalog/imports", content=lines, headers=NDJSON_TYPE)
    assert first.json() == {"rows": 2, "products": 2, "created": 2, "updated": 0, "unchanged": 0}
    assert client.post("/catalog/imports", content=lines, headers=NDJSON_TYPE).json()["unchanged"] == 2
    csv = "product,family,sku,title@de,size\nTEE,apparel,TEE-S,T-Shirt,S\n"
    assert client.post("/catalog/imports", content=csv, headers=CSV_TYPE).json()["updated"] == 1


def test_hostile_requests_are_refused_and_change_nothing(keel: Keel, client: TestClient) -> None:
    seed(keel)
    client.put("/catalog/products/TEE", json=tee())
    before = snapshot(keel)
    bad_csv = 'product,family,sku,title@de,size\nTEE,apparel,TEE-S,"T-Shirt,S\n'
    cases = [
        (client.put("/catalog/products/TEE", json=tee(family="shoes")), 422),
        (client.put("/catalog/products/TEE", json=tee(code="OTHER")), 422),
        (client.put("/catalog/products/POLO", json=tee("POLO", variants=[{"sku": "TEE-S"}])), 422),
        (client.put("/catalog/products/TEE", json=tee(variants=[{"sku": "X", "gtin": "4006381333932"}])), 422),
        (client.put("/catalog/products/TEE", json=tee(title="T" * 1_000_000)), 422),
        (client.post("/catalog/imports", content=bad_csv, headers=CSV_TYPE), 422),
        (client.post("/catalog/imports", content="{}", headers={"content-type": "text/plain"}), 415),
        (client.post("/catalog/imports", content=b"\xff", headers=NDJSON_TYPE), 422),
        (client.post("/catalog/products/TEE/revert", json={"revision": 9}), 404),
        (client.get("/catalog/products/TEE", params={"as_of": "2026-01-01T00:00:00"}), 422),
        (client.get("/catalog/products/NOPE"), 404),
        (client.get("/catalog/products/TEE/diff", params={"from": 1}), 422),
        (client.put("/catalog/families/x", json={"attributes": [{"code": "a", "type": "colour"}]}), 422),
        (client.put("/catalog/categories/tops", json={"label": "Tops", "parent": "tops"}), 422),
    ]
    for response, status in cases:
        assert (response.status_code, response.headers["content-type"]) == (status, PROBLEM), response.text
    assert cases[3][0].json()["errors"] == [
        {"row": None, "field": "variants[0].gtin", "reason": "not a valid GTIN: check digit 2 is wrong; expected 1"}
    ]
    assert cases[5][0].json()["errors"][0]["row"] == 2
    assert snapshot(keel) == before


def test_reading_is_for_readers_and_writing_for_merchandisers(
    keel: Keel, make_client: Callable[..., TestClient]
) -> None:
    seed(keel)
    anonymous = make_client(keel, as_admin=False)
    for role, may_write, may_read in (
        (Role.MERCHANDISER, True, True),
        (Role.ANALYST, False, True),
        (Role.INTEGRATION, False, True),
        (Role.PRICING, False, True),
    ):
        keel.access.add_service(f"svc-{role.value}", role)
        auth = {"Authorization": f"Bearer {keel.access.create_token(f'svc-{role.value}', 't').secret}"}
        put = anonymous.put(f"/catalog/products/P-{role.value}", json=tee(f"P-{role.value}"), headers=auth)
        assert (put.status_code == 200) == may_write, (role, put.status_code)
        assert (anonymous.get("/catalog/products", headers=auth).status_code == 200) == may_read, role


def test_cli_puts_imports_shows_history_diffs_and_reverts(run: Run, tmp_path: Path) -> None:
    family = tmp_path / "family.json"
    family.write_text(json.dumps(FAMILY))
    assert run("catalog", "put-family", str(family)).exit_code == 0
    assert run("catalog", "put-category", "tops", "--label", "Tops").exit_code == 0
    path = tmp_path / "products.ndjson"
    path.write_text(json.dumps(tee()) + "\n")
    imported = run("catalog", "import", str(path), "--json")
    assert json.loads(imported.stdout) == {"rows": 1, "products": 1, "created": 1, "updated": 0, "unchanged": 0}
    doc = tmp_path / "tee.json"
    doc.write_text(json.dumps(tee(title="Shirt")))
    saved = json.loads(run("catalog", "put", str(doc), "--json").stdout)
    assert (saved["revision"], saved["changes"][0]["path"]) == (2, "values.title@de")
    history = json.loads(run("catalog", "history", "TEE", "--json").stdout)
    assert [(r["number"], r["source"], r["via"]) for r in history["items"]] == [(2, "cli", "cli"), (1, "import", "cli")]
    diff = json.loads(run("catalog", "diff", "TEE", "1", "2", "--json").stdout)
    assert diff["changes"] == [{"path": "values.title@de", "before": "T-Shirt", "after": "Shirt"}]
    as_of = json.loads(run("catalog", "show", "TEE", "--as-of", history["items"][1]["at"], "--json").stdout)
    assert as_of["revision"] == 1
    assert json.loads(run("catalog", "revert", "TEE", "1", "--json").stdout)["revision"] == 3
    out = tmp_path / "out.csv"
    written = json.loads(run("catalog", "export", "--format", "csv", "-o", str(out), "--json").stdout)
    assert written["products"] == 1 and out.read_text().startswith("product,family,sku,")
    assert json.loads(run("catalog", "import", str(out), "--json").stdout)["unchanged"] == 1


def test_cli_checks_a_gtin_without_a_database() -> None:
    runner = CliRunner()
    assert json.loads(runner.invoke(app, ["catalog", "gtin", "4006381333931", "--json"]).stdout)["valid"] is True
    refused = runner.invoke(app, ["catalog", "gtin", "4006381333932"])
    assert refused.exit_code == 1 and "check digit 2 is wrong; expected 1" in refused.stdout


def test_cli_refuses_a_bad_file_with_its_rows(run: Run, db_url: str, tmp_path: Path) -> None:
    family = tmp_path / "family.json"
    family.write_text(json.dumps(FAMILY))
    assert run("catalog", "put-family", str(family)).exit_code == 0
    keel = open_keel(db_url)
    before = snapshot(keel)
    path = tmp_path / "bad.csv"
    path.write_text("product,family,sku,title@de,size\nTEE,apparel,TEE-S,T-Shirt,XL\nTEE,apparel,TEE-S,T-Shirt,S\n")
    result = run("catalog", "import", str(path))
    assert result.exit_code == 2 and result.stdout == ""
    assert "row 2  variants[0].values[0].value: size (enum): one of S, M, L" in result.stderr
    assert snapshot(keel) == before
    keel.close()
    assert run("catalog", "show", "NOPE").exit_code == 3


def test_profiles_and_compliance_over_http(keel: Keel, client: TestClient) -> None:
    seed(keel)
    client.put("/catalog/products/TEE", json=tee())
    profiles = client.get("/catalog/profiles").json()
    assert [(p["code"], p["shipped"]) for p in profiles] == [
        ("eu-product-law", True),
        ("google-merchant", True),
        ("marketplace-listings", True),
        ("web-store", True),
    ]
    title = next(r for r in profiles[1]["rules"] if r["id"] == "title-length")
    assert title["parameters"] == {"min": 1, "max": 150}
    report = client.get(
        "/catalog/products/TEE/compliance", params={"profile": "web-store", "channel": "google", "locale": "de"}
    ).json()
    failing = sorted({(r["rule"], r["field"]) for r in report["results"] if not r["passed"]})
    assert failing == [
        ("description-required", "description"),
        ("family:required:link", "link"),
        ("image-required", "image"),
    ]
    assert report["passed"] is False and 0 < report["score"] < 100
    mine = {"label": "Ours", "rules": [{"id": "t", "field": "title", "check": "required", "message": "Add one."}]}
    assert client.put("/catalog/profiles/ours", json=mine).json()["shipped"] is False
    ours = client.get("/catalog/products/TEE/compliance", params={"profile": "ours", "locale": "de"}).json()
    assert (ours["passed"], ours["score"]) == (True, 100.0)
    before = snapshot(keel)
    assert client.put("/catalog/profiles/web-store", json=mine).status_code == 422  # a shipped profile's code
    assert client.put("/catalog/profiles/x", json={"rules": [{"id": "t", "check": "nope"}]}).status_code == 422
    assert client.get("/catalog/products/TEE/compliance", params={"profile": "nope"}).status_code == 404
    assert snapshot(keel) == before


def test_cli_checks_a_product_against_a_profile(run: Run, tmp_path: Path) -> None:
    family = tmp_path / "family.json"
    family.write_text(json.dumps(FAMILY))
    run("catalog", "put-family", str(family))
    run("catalog", "put-category", "tops", "--label", "Tops")
    doc = tmp_path / "tee.json"
    doc.write_text(json.dumps(tee()))
    run("catalog", "put", str(doc))
    checked = run("catalog", "check", "TEE", "--profile", "web-store", "--locale", "de", "--json")
    assert checked.exit_code == 1  # rules fail: the exit status says so, the document says which
    assert {r["rule"] for r in json.loads(checked.stdout)["results"] if not r["passed"]} == {
        "description-required",
        "image-required",
    }
    table = run("catalog", "check", "TEE", "--profile", "web-store", "--locale", "de")
    assert "Add at least one image." in table.stdout
    profiles = json.loads(run("catalog", "profiles", "--json").stdout)
    assert len(profiles) == 4
    assert json.loads(run("catalog", "profile", "google-merchant", "--json").stdout)["rules"][0]["id"] == "id-required"


def test_targets_listings_and_readiness_over_http_and_cli(keel: Keel, client: TestClient) -> None:
    seed(keel)
    channels(keel, "shop", "g")
    client.put("/catalog/products/TEE", json=tee())
    target = client.put("/catalog/targets/shop", json={"profile": "web-store", "locale": "de"})
    assert target.json() == {"channel": "shop", "profile": "web-store", "locale": "de", "mapping": {}}
    before = snapshot(keel)
    refused = client.put(
        "/catalog/targets/g",
        json={"profile": "google-merchant", "mapping": {"title": {"source": "title", "truncate": 9}}},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["reason"] == "profile google-merchant does not let title be truncated"
    unknown = client.put("/catalog/targets/nowhere", json={"profile": "web-store", "locale": "de"})
    assert unknown.status_code == 422 and unknown.headers["content-type"] == PROBLEM
    assert unknown.json()["errors"] == [{"row": None, "field": "channel", "reason": "no channel 'nowhere'"}]
    assert client.get("/catalog/listings", params={"state": "stale"}).status_code == 422
    assert snapshot(keel) == before
    blocked = client.get("/catalog/listings", params={"channel": "shop", "state": "blocked"}).json()
    assert blocked["total"] == 2
    assert {r["rule"] for r in blocked["items"][0]["reasons"]} == {"description-required", "image-required"}
    board = client.get("/catalog/readiness").json()
    assert [(r["channel"], r["ready"], r["blocked"]) for r in board] == [("shop", 0, 2)]
    assert board[0]["top_reasons"][0]["listings"] == 2


def test_cli_sets_a_target_and_lists_readiness(run: Run, tmp_path: Path) -> None:
    family = tmp_path / "family.json"
    family.write_text(json.dumps(FAMILY))
    run("catalog", "put-family", str(family))
    run("catalog", "put-category", "tops", "--label", "Tops")
    doc = tmp_path / "tee.json"
    doc.write_text(json.dumps(tee(media=[{"url": "https://cdn.example/t.jpg"}])))
    run("catalog", "put", str(doc))
    target = tmp_path / "target.json"
    target.write_text(json.dumps({"profile": "web-store", "locale": "de"}))
    unknown = run("catalog", "put-target", "shop", str(target))
    assert unknown.exit_code != 0 and "no channel 'shop'" in unknown.output, unknown.output
    channel = tmp_path / "channel.json"
    channel.write_text(json.dumps({"code": "shop", "name": "Shop", "kind": "web_store", "countries": ["DE"],
                                   "currency": "EUR"}))  # fmt: skip
    assert run("channels", "create", str(channel)).exit_code == 0
    assert run("catalog", "put-target", "shop", str(target)).exit_code == 0
    assert json.loads(run("catalog", "targets", "--json").stdout)[0]["profile"] == "web-store"
    listed = json.loads(run("catalog", "listings", "--channel", "shop", "--json").stdout)
    assert [(v["sku"], v["state"]) for v in listed["items"]] == [("TEE-M", "blocked"), ("TEE-S", "blocked")]
    board = json.loads(run("catalog", "readiness", "--json").stdout)
    assert board == [
        {
            "channel": "shop",
            "ready": 0,
            "blocked": 2,
            "top_reasons": [{"reason": "description-required: Add a description in this locale.", "listings": 2}],
        }
    ]


def test_a_caller_restricted_to_some_channels_sees_and_sets_only_their_listings(
    keel: Keel, client: TestClient, make_client: Callable[..., TestClient]
) -> None:
    seed(keel)
    channels(keel, "shop", "google")
    client.put("/catalog/products/TEE", json=tee())
    for channel in ("shop", "google"):
        client.put(f"/catalog/targets/{channel}", json={"profile": "web-store", "locale": "de"})
    keel.access.add_service("svc-shop", Role.MERCHANDISER)
    keel.access.set_scope("svc-shop", ["shop"], None, {"shop", "google"})
    auth = {"Authorization": f"Bearer {keel.access.create_token('svc-shop', 't').secret}"}
    restricted = make_client(keel, as_admin=False)
    listed = restricted.get("/catalog/listings", headers=auth).json()
    assert {v["channel"] for v in listed["items"]} == {"shop"} and listed["total"] == 2
    assert [r["channel"] for r in restricted.get("/catalog/readiness", headers=auth).json()] == ["shop"]
    assert [t["channel"] for t in restricted.get("/catalog/targets", headers=auth).json()] == ["shop"]
    before = snapshot(keel)
    refused = restricted.put("/catalog/targets/google", json={"profile": "google-merchant"}, headers=auth)
    assert refused.status_code == 403
    assert snapshot(keel) == before
