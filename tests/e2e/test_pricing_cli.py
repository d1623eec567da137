"""``keel pricing ...`` on the command line: lists, costs, tax rates and policies from JSON files, the computed
prices as tables and ``--json`` documents (the HTTP API's shapes), one-line refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from keel.bootstrap import Keel
from tests.e2e.conftest import Run
from tests.support import MARKET, WEB_DE, build_world, open_keel, snapshot

BASE = {
    "name": "Base EUR",
    "currency": "EUR",
    "prices": [{"sku": "SKU-1", "amount": "20.49", "compare_at": "29.00"}, {"sku": "SKU-2", "amount": "5.00"}],
}


@pytest.fixture
def keel(db_url: str) -> Iterator[Keel]:
    keel = open_keel(db_url)
    build_world(keel)
    yield keel
    keel.close()


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def document(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_lists_costs_policies_and_prices_from_the_command_line(run: Run, keel: Keel, tmp_path: Path) -> None:
    # a list from a file: saved and recomputed
    saved = run("pricing", "set-list", "base-eur", write(tmp_path, "base.json", BASE))
    assert saved.exit_code == 0, saved.output
    assert "price list base-eur saved with 2 prices; 8 prices computed, 8 changed, 0 removed" in saved.stdout
    lists = document(run("pricing", "lists", "--json"))
    assert [(pl["code"], pl["currency"], pl["prices"]) for pl in lists] == [("base-eur", "EUR", 2)]
    assert "base-eur" in run("pricing", "lists").stdout
    shown = document(run("pricing", "list", "base-eur", "--json", "--limit", "1", "--offset", "1"))
    assert shown["price_list"]["name"] == "Base EUR"
    assert shown["prices"] == {
        "items": [{"sku": "SKU-2", "amount": "5.00", "compare_at": None, "min_quantity": 1}],
        "total": 2,
        "limit": 1,
        "offset": 1,
    }
    # costs, a default policy and a tax rate, each answering what it recomputed
    costs = run("pricing", "skus", write(tmp_path, "skus.json", [{"sku": "SKU-1", "cost": "8.00", "currency": "EUR"}]))
    assert "1 SKUs saved; 4 prices computed, 0 changed" in costs.stdout, costs.output
    policy = {"rules": [{"rule": "cost_plus", "margin_floor": "0.25"}]}
    set_policy = run("pricing", "set-policy", "*", write(tmp_path, "policy.json", policy))
    assert "pricing policy * saved with 1 rules; 8 prices computed, 0 changed" in set_policy.stdout, set_policy.output
    assert [(p["scope"], p["rules"]) for p in document(run("pricing", "policies", "--json"))] == [
        ("*", policy["rules"])
    ]
    taxed = run("pricing", "set-tax", "DE", "standard", "0.07")
    assert "DE standard taxed at 0.07; 4 prices computed, 0 changed" in taxed.stdout, taxed.output
    rates = {
        (r["country"], r["tax_class"]): (r["rate"], r["source"]) for r in document(run("pricing", "tax", "--json"))
    }
    assert (rates[("DE", "standard")], rates[("FR", "standard")]) == (("0.07", "stored"), ("0.2", "default"))
    # prices, paged and filtered, and one explained as a table and as JSON
    page = document(run("pricing", "prices", "--channel", MARKET, "--sku", "SKU-1", "--json"))
    assert [(p["country"], p["amount"]) for p in page["items"]] == [("DE", "19.99"), ("FR", "19.99")]
    assert document(run("pricing", "prices", "--json", "--limit", "3"))["total"] == 8
    table = run("pricing", "price", WEB_DE, "DE", "SKU-1")
    assert table.exit_code == 0, table.output
    assert "price_list" in table.stdout and "ending" in table.stdout
    assert "tax class standard at 0.07: net 18.68 + tax 1.31 = gross 19.99" in table.stdout
    explained = document(run("pricing", "price", WEB_DE, "DE", "SKU-1", "--json"))
    assert ([s["rule"] for s in explained["steps"]], explained["floor"]) == (["price_list", "ending"], "11.42")
    dropped = run("pricing", "delete-policy", "*")
    assert "pricing policy * deleted; 8 prices computed, 0 changed" in dropped.stdout, dropped.output
    assert run("pricing", "delete-policy", "*").exit_code == 3
    # a full recompute, then the list deleted
    again = run("pricing", "recompute")
    assert "8 prices computed, 0 changed, 0 removed" in again.stdout, again.output
    deleted = run("pricing", "delete-list", "base-eur")
    assert "price list base-eur deleted; 0 prices computed, 0 changed, 8 removed" in deleted.stdout, deleted.output


def test_refusals_are_one_line_and_change_nothing(run: Run, keel: Keel, tmp_path: Path) -> None:
    before = snapshot(keel)
    bad = {"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "-1"}, {"sku": "SKU-2", "amount": "1.999"}]}
    refused = run("pricing", "set-list", "base-eur", write(tmp_path, "bad.json", bad))
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.splitlines()[0] == "invalid price list"
    assert [line.split(":")[0].strip() for line in refused.stderr.splitlines()[1:]] == [
        "row 1  amount",
        "row 2  amount",
    ]
    (tmp_path / "broken.json").write_text("{not json")
    broken = run("pricing", "set-policy", "*", str(tmp_path / "broken.json"))
    assert (broken.exit_code, len(broken.stderr.splitlines())) == (2, 1)
    nul = run("pricing", "skus", write(tmp_path, "nul.json", [{"sku": "SKU\x00"}]))
    assert (nul.exit_code, len(nul.stderr.splitlines())) == (2, 1)
    assert run("pricing", "set-tax", "DE", "standard", "1.5").exit_code == 2
    assert run("pricing", "set-policy", "nowhere", write(tmp_path, "p.json", {"rules": []})).exit_code == 2
    assert snapshot(keel) == before
    # something that does not exist: one line, exit 3
    for args in (("list", "nope"), ("delete-list", "nope"), ("price", WEB_DE, "DE", "SKU-9")):
        missing = run("pricing", *args)
        assert (missing.exit_code, missing.stdout, len(missing.stderr.splitlines())) == (3, "", 1), missing.output


def test_competitor_prices_from_a_file_and_listed(run: Run, keel: Keel, tmp_path: Path) -> None:
    assert run("pricing", "set-list", "base-eur", write(tmp_path, "base.json", BASE)).exit_code == 0
    policy = {"rules": [{"rule": "competitor", "within": "0.05", "max_age_days": 365}]}
    assert run("pricing", "set-policy", "*", write(tmp_path, "policy.json", policy)).exit_code == 0
    seen = [{"competitor": "acme", "country": "DE", "sku": "SKU-1", "currency": "EUR", "amount": "18.00",
             "observed_at": "2026-01-01T00:00:00Z"}]  # fmt: skip
    saved = run("pricing", "competitors", "set", write(tmp_path, "seen.json", seen))
    assert saved.exit_code == 0, saved.output
    # SKU-1 in DE: web-de and market-eu, both now at most 18.90 (17.99 with the ending)
    assert "1 competitor prices recorded; 2 prices computed, 2 changed, 0 removed" in saved.stdout
    assert document(run("pricing", "competitors", "list", "--json")) == {
        "items": [{**seen[0], "observed_at": "2026-01-01T00:00:00Z"}], "total": 1, "limit": 100, "offset": 0
    }  # fmt: skip
    table = run("pricing", "competitors", "list", "--country", "DE")
    assert table.exit_code == 0 and "acme" in table.stdout and "18.00" in table.stdout
    assert document(run("pricing", "competitors", "list", "--json", "--country", "FR"))["total"] == 0
    # a refused batch names each row and changes nothing
    before = snapshot(keel)
    bad = [{**seen[0], "currency": "EURO"}, {**seen[0], "amount": "-1", "seller": "x"}]
    refused = run("pricing", "competitors", "set", write(tmp_path, "bad.json", bad))
    assert (refused.exit_code, refused.stdout) == (2, "")
    assert refused.stderr.splitlines()[0] == "invalid competitor prices"
    assert sorted(line.split(":")[0].strip() for line in refused.stderr.splitlines()[1:]) == [
        "row 1  currency", "row 2  amount", "row 2  seller"
    ]  # fmt: skip
    assert snapshot(keel) == before
