"""``keel pricing`` promotions, coupon codes and carts on the command line, on both databases: promotions from
JSON files listed in words and as ``--json`` documents, a cart evaluated and explained, a cart redeemed once
per reference, and one-line refusals that change nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from tests.e2e.conftest import Invoke, Run
from tests.support import WEB_DE, WH_DE, World, place, receive, snapshot

ALL = {"all": True}
TEN = {"name": "Ten off boots", "kind": "percent_off", "percent": "0.10", "scope": {"skus": ["SKU-1"]}}
ORDER5 = {"kind": "amount_off", "target": "order", "amount": "5.00", "currency": "EUR", "scope": ALL,
          "min_subtotal": "30.00"}  # fmt: skip
FREESHIP = {"kind": "percent_off", "target": "shipping", "percent": "1", "coupon": True, "scope": ALL}
CART = {"channel": WEB_DE, "country": "DE", "lines": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}],
        "codes": ["freeship"], "shipping": "4.95"}  # fmt: skip


@pytest.fixture
def run(keel: Keel, world: World, database_url: str, invoke: Invoke) -> Run:
    """``keel ...`` on this test's database (SQLite or PostgreSQL) with SKU-1 at 20.99 and SKU-2 at 5.99."""
    keel.pricing.save_list(
        "base-eur",
        {"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "20.99"}, {"sku": "SKU-2", "amount": "5.99"}]},
    )

    def call(*args: str) -> Result:
        return invoke(database_url, *args)

    return call


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def document(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(result: Result, code: int = 2) -> list[str]:
    """The lines of a refusal on stderr (nothing on stdout, exit ``code``)."""
    assert (result.exit_code, result.stdout) == (code, ""), result.output
    return result.stderr.splitlines()


def test_promotions_codes_and_a_cart_from_the_command_line(run: Run, keel: Keel, tmp_path: Path) -> None:
    # promotions saved from files, each answered in words
    saved = run("pricing", "set-promotion", "ten", write(tmp_path, "ten.json", TEN))
    assert saved.stdout.strip() == "promotion ten saved (live): 10% off items", saved.output
    assert (
        "promotion order5 saved (live): 5.00 EUR off the order, from 30.00 EUR in scope"
        in run("pricing", "set-promotion", "order5", write(tmp_path, "order5.json", ORDER5)).stdout
    )
    assert "free shipping" in run("pricing", "set-promotion", "freeship", write(tmp_path, "f.json", FREESHIP)).stdout
    later = TEN | {"valid_from": (utcnow() + timedelta(days=3)).isoformat(), "scope": ALL}
    assert "(scheduled)" in run("pricing", "set-promotion", "later", write(tmp_path, "later.json", later)).stdout
    # listed as a page of documents, filtered by status, and as a table in words
    listed = document(run("pricing", "promotions", "--json"))
    assert (listed["total"], [p["code"] for p in listed["items"]]) == (4, ["freeship", "later", "order5", "ten"])
    assert [p["status"] for p in listed["items"]] == ["live", "scheduled", "live", "live"]
    scheduled = document(run("pricing", "promotions", "--status", "scheduled", "--json"))
    assert [p["code"] for p in scheduled["items"]] == ["later"]
    table = run("pricing", "promotions", "--limit", "2", "--offset", "2").stdout
    assert "4 promotions (2 from 3)" in table and "SKUs SKU-1" in table and "5.00 EUR off the order" in table
    one = document(run("pricing", "promotion", "ten", "--json"))
    assert (one["status"], one["uses"], one["spent"]) == ("live", 0, None)  # no currency: no spend to add up
    assert (one["document"]["percent"], one["document"]["scope"], one["document"]["name"]) == (
        "0.10", {"skus": ["SKU-1"]}, "Ten off boots")  # fmt: skip
    assert "gives 10% off items to SKUs SKU-1; priority 0, stacks" in run("pricing", "promotion", "ten").stdout
    # coupon codes: your own and generated ones, listed with their uses
    assert run("pricing", "add-codes", "freeship", "--code", "freeship").stdout == "FREESHIP\n"
    made = run("pricing", "add-codes", "freeship", "--count", "3", "--prefix", "xmas-", "--unlimited").stdout.split()
    assert len(made) == 3 and all(c.startswith("XMAS-") and len(c) == 15 for c in made)
    codes = document(run("pricing", "codes", "freeship", "--json", "--limit", "2"))
    assert (codes["total"], codes["items"][0]) == (4, {"code": "FREESHIP", "uses": 0, "max_uses": 1})
    assert codes["items"][1]["max_uses"] is None
    # a cart: 2 x 20.99 + 5.99 + 4.95 shipping; 10 % off SKU-1 (4.20), free shipping and 5.00 off the order,
    # spread by value over what the lines cost after the item discount: 37.78 and 5.99 take 4.32 and 0.68
    cart_file = write(tmp_path, "cart.json", CART)
    evaluated = document(run("pricing", "cart", cart_file, "--json"))
    assert (evaluated["currency"], evaluated["tax_inclusive"]) == ("EUR", True)
    assert [(ln["sku"], ln["unit"], ln["amount"], ln["total"], ln["price_list"]) for ln in evaluated["lines"]] == [
        ("SKU-1", "20.99", "41.98", "33.46", "base-eur"), ("SKU-2", "5.99", "5.99", "5.31", "base-eur")]  # fmt: skip
    assert evaluated["lines"][0]["discounts"] == [{"promotion": "order5", "amount": "4.32"},
                                                  {"promotion": "ten", "amount": "4.20"}]  # fmt: skip
    assert (evaluated["shipping"]["amount"], evaluated["shipping"]["total"]) == ("4.95", "0.00")
    totals = [evaluated["totals"][k] for k in ("subtotal", "discount", "total", "net", "tax", "gross")]
    assert totals[:3] == ["52.92", "14.15", "38.77"] and totals[5] == "38.77"
    outcomes = [(o["promotion"], o["applied"], o["amount"]) for o in evaluated["outcomes"]]
    assert outcomes == [("freeship", True, "4.95"), ("order5", True, "5.00"), ("ten", True, "4.20"),
                        ("later", False, "0.00")]  # fmt: skip
    assert evaluated["outcomes"][3]["reason"] == "not live now"
    assert evaluated["codes"] == [{"code": "FREESHIP", "status": "applied"}]
    shown = run("pricing", "cart", cart_file).stdout
    assert "subtotal 52.92 - discount 14.15 = total 38.77 EUR" in shown and "code FREESHIP: applied" in shown
    # redeemed once per reference: counted, then answered again without counting
    first = document(run("pricing", "redeem", "order-1", cart_file, "--json"))
    assert (first["replayed"], first["cart"]["totals"]["total"]) == (False, "38.77")
    assert {(r["promotion"], r["code"], r["amount"]) for r in first["redemptions"]} == {
        ("freeship", "FREESHIP", "4.95"), ("order5", None, "5.00"), ("ten", None, "4.20")}  # fmt: skip
    again = run("pricing", "redeem", "order-1", cart_file)
    assert "order-1 was redeemed before: it took 14.15 EUR; nothing counted again" in again.stdout, again.output
    assert document(run("pricing", "promotion", "order5", "--json"))["spent"] == "5.00"
    assert document(run("pricing", "codes", "freeship", "--json"))["items"][0]["uses"] == 1
    # the code is used up: the cart says so, and deleting a promotion takes its codes along
    assert document(run("pricing", "cart", cart_file, "--json"))["codes"] == [
        {"code": "FREESHIP", "status": "exhausted"}
    ]
    assert run("pricing", "delete-promotion", "later").stdout.strip() == "promotion later deleted"
    assert [p["code"] for p in document(run("pricing", "promotions", "--json"))["items"]] == [
        "freeship", "order5", "ten"]  # fmt: skip


def test_refusals_are_one_line_per_problem_and_change_nothing(run: Run, keel: Keel, tmp_path: Path) -> None:
    keel.promotions.save("freeship", FREESHIP)
    (code,) = keel.promotions.add_codes("freeship", codes=["ONCE"])
    keel.promotions.redeem("order-0", CART | {"codes": [code]})
    keel.promotions.save("ten", TEN)
    exclusive = {"kind": "percent_off", "percent": "0.5", "scope": ALL, "exclusive": "global"}
    keel.promotions.save("solo", exclusive)
    before = snapshot(keel)
    empty = refused(run("pricing", "set-promotion", "bad", write(tmp_path, "bad.json", TEN | {"scope": {}})))
    assert empty[0] == "invalid promotion" and empty[1].startswith("  scope: name at least one of")
    clash = refused(run("pricing", "set-promotion", "solo2", write(tmp_path, "solo.json", exclusive)))
    assert clash == ["overlapping exclusive promotions",
                     "  exclusive: overlaps the exclusive promotion 'solo' at the same priority"]  # fmt: skip
    unpriced = refused(run("pricing", "cart", write(tmp_path, "c.json", CART | {"lines": [{"sku": "SKU-9"}]})))
    assert unpriced == ["the cart cannot be priced", "  line 1  sku: SKU-9 has no price on web-de in DE"]
    assert refused(run("pricing", "redeem", "order-1", write(tmp_path, "used.json", CART | {"codes": [code]}))) == [
        "code ONCE: exhausted"
    ]
    assert refused(run("pricing", "add-codes", "ten", "--count", "2"))[0] == "not a coupon promotion"
    assert refused(run("pricing", "promotions", "--status", "gone")) == [
        "--status 'gone': one of live, scheduled, ended, off"
    ]
    (tmp_path / "broken.json").write_text("{not json")
    assert len(refused(run("pricing", "cart", str(tmp_path / "broken.json")))) == 1
    assert snapshot(keel) == before
    # something that does not exist: one line, exit 3
    for args in (
        ("promotion", "nope"),
        ("delete-promotion", "nope"),
        ("codes", "nope"),
        ("add-codes", "nope", "--count", "1"),
    ):
        assert len(refused(run("pricing", *args), 3)) == 1, args


def test_an_order_priced_as_a_cart_and_a_promotion_previewed(run: Run, keel: Keel, tmp_path: Path) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    order, _ = place(keel, {"channel": WEB_DE, "external_id": "W-1", "customer": {"name": "Ann"},
                            "lines": [{"sku": "SKU-1", "quantity": 3, "unit_price": "20.99"}],
                            "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10115"}})  # fmt: skip
    priced = document(run("pricing", "cart", "--order", str(order.id), "--json"))
    assert (priced["lines"][0]["quantity"], priced["totals"]["total"]) == (3, "62.97")
    assert refused(run("pricing", "cart"))[0].startswith("give a cart FILE")
    before = snapshot(keel)
    shown = run("pricing", "preview-promotion", "ten", write(tmp_path, "ten.json", TEN))
    assert shown.exit_code == 0 and "1 order(s)" in shown.stdout and "it would apply to 1" in shown.stdout
    preview = document(run("pricing", "preview-promotion", "ten", write(tmp_path, "ten.json", TEN), "--json"))
    assert preview["currencies"][0]["discount_after"] == "6.30"  # 10 % of 3 x 20.99
    assert snapshot(keel) == before


def test_a_policy_previewed_on_the_command_line(run: Run, keel: Keel, tmp_path: Path) -> None:
    keel.pricing.set_skus([{"sku": "SKU-1", "cost": "15.00", "currency": "EUR"}])
    before = snapshot(keel)
    rules = write(tmp_path, "rules.json", {"rules": [{"rule": "cost_plus", "margin_floor": "0.40"}]})
    shown = run("pricing", "preview-policy", "*", rules)
    assert shown.exit_code == 0 and "4 of 8 prices would change" in shown.stdout, shown.output
    preview = document(run("pricing", "preview-policy", "*", rules, "--json", "--days", "7"))
    assert (preview["changed"], preview["currencies"][0]["up"]) == (4, 4)
    assert snapshot(keel) == before
