"""The pricing rules that read market signals, on both databases: competitor prices kept by pricing (a batch
recomputes only its SKUs in its countries, never an older observation over a newer one), days of cover from
inventory's ledger, and the stock repricer that recomputes only SKUs whose cover crossed a threshold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from keel.platform.errors import ValidationFailed
from keel.pricing import PRICE_CHANGED, StockRepricer
from tests.support import MARKET, POS_FR, WEB_DE, WH_DE, World, events_after, last_seq, mv, receive, snapshot


def base_list(*skus: str, amount: str = "20.00", compare_at: str | None = None) -> dict[str, Any]:
    return {"currency": "EUR", "prices": [{"sku": s, "amount": amount, "compare_at": compare_at} for s in skus]}


def seen(
    competitor: str, country: str, sku: str, amount: str, days_ago: float, currency: str = "EUR"
) -> dict[str, Any]:
    at = (utcnow() - timedelta(days=days_ago)).isoformat()
    return {"competitor": competitor, "country": country, "sku": sku, "currency": currency, "amount": amount,
            "observed_at": at}  # fmt: skip


def announced(keel: Keel, after: int) -> list[tuple[str, str, str, str | None, str | None]]:
    return sorted(
        (e.subject, c["country"], c["sku"], c["amount"], c["compare_at"])
        for e in events_after(keel, after, {PRICE_CHANGED})
        for c in e.data["changes"]
    )


def sell(keel: Keel, sku: str, quantity: int, mid: str) -> None:
    keel.stock.apply_batch([mv(mid, "sold", sku, WH_DE, quantity)])


def test_competitor_prices_reprice_only_their_skus_and_countries(keel: Keel, world: World) -> None:
    keel.pricing.save_list("base-eur", base_list("SKU-1", "SKU-2"))
    keel.pricing.set_policy("*", {"rules": [{"rule": "competitor", "within": "0.05"}]})
    seq = last_seq(keel)
    # when acme shows 18.00 for SKU-1 in Germany (bolt's 17.00 is 10 days old: stale after 7)
    batch = [seen("acme", "DE", "SKU-1", "18.00", 1), seen("bolt", "DE", "SKU-1", "17.00", 10)]
    saved = keel.pricing.competitors.save(batch)
    # then SKU-1 in DE only is recomputed (web-de and market-eu): at most 5 % over 18.00, ending at 17.99
    assert (saved.saved, saved.recomputed.prices, saved.recomputed.changed) == (2, 2, 2)
    assert announced(keel, seq) == [(MARKET, "DE", "SKU-1", "17.99", None), (WEB_DE, "DE", "SKU-1", "17.99", None)]
    explained = keel.pricing.price(WEB_DE, "DE", "SKU-1")
    assert [(s.rule, s.before, s.after) for s in explained.steps] == [
        ("price_list", 2000, 2000), ("competitor", 2000, 1890), ("ending", 1890, 1799)
    ]  # fmt: skip
    assert "the lowest competitor price 18.00 EUR (acme, observed" in explained.steps[1].note
    assert "1 fresh of 2" in explained.steps[1].note
    assert keel.pricing.price(POS_FR, "FR", "SKU-1").amount == 1999  # no observation in France: no step
    # the same batch again changes nothing at all
    before = snapshot(keel)
    assert keel.pricing.competitors.save(batch).recomputed.changed == 0
    assert snapshot(keel) == before
    # an older observation does not replace a newer one; a newer one does
    keel.pricing.competitors.save([seen("acme", "DE", "SKU-1", "15.00", 3)])
    rows, total = keel.pricing.competitors.page(competitor="acme")
    assert (total, rows[0].amount) == (1, 1800)
    keel.pricing.competitors.save([seen("acme", "DE", "SKU-1", "19.00", 0)])
    assert keel.pricing.price(WEB_DE, "DE", "SKU-1").amount == 1899  # 19.95 at most, ending at 18.99


def test_a_competitor_price_in_another_currency_is_converted_or_left_out(keel: Keel, world: World) -> None:
    keel.fx.import_ecb(f"Date,USD,\n{(utcnow() - timedelta(days=1)).date()},1.2500,\n")
    keel.pricing.save_list("base-eur", base_list("SKU-1", "SKU-2", amount="30.00"))
    keel.pricing.set_policy("*", {"rules": [{"rule": "competitor", "within": "0"}]})
    # 25.00 USD at 1.25 is 20.00 EUR; there is no GBP rate, so that observation is not used
    keel.pricing.competitors.save([seen("acme", "DE", "SKU-1", "25.00", 1, "USD"),
                                   seen("acme", "DE", "SKU-2", "10.00", 1, "GBP")])  # fmt: skip
    assert keel.pricing.price(WEB_DE, "DE", "SKU-1").amount == 1999
    assert [s.rule for s in keel.pricing.price(WEB_DE, "DE", "SKU-2").steps] == ["price_list", "ending"]


def test_without_a_competitor_rule_a_batch_is_kept_and_recomputes_nothing(keel: Keel, world: World) -> None:
    keel.pricing.save_list("base-eur", base_list("SKU-1"))
    seq = last_seq(keel)
    saved = keel.pricing.competitors.save([seen("acme", "DE", "SKU-1", "1.00", 0)])
    assert (saved.saved, saved.recomputed.prices) == (1, 0)
    assert announced(keel, seq) == []
    assert keel.pricing.competitors.page(country="DE")[1] == 1


@pytest.mark.parametrize(
    ("batch", "fields"),
    [
        ([seen("acme", "DE", "SKU-1", "18.00", 1, "EURO")], {(1, "currency")}),
        ([seen("acme", "DE", "SKU-1", "-1.00", 1)], {(1, "amount")}),
        ([{**seen("acme", "DE", "SKU-1", "18.00", 1), "seller": "x"}], {(1, "seller")}),
        ([seen("acme", "DE", "SKU-1", "18.00", -1)], {(1, "observed_at")}),
        ([seen("acme", "DE", "SKU-1", "18.00", 1), seen("acme", "DE", "SKU-1", "18.00", 2)], {(2, "sku")}),
        ([seen("acme", "DE", f"S-{i}", "1.00", 1) for i in range(10_001)], {(None, "")}),
    ],
)
def test_a_bad_batch_is_refused_with_its_fields_and_changes_nothing(
    keel: Keel, world: World, batch: list[dict[str, Any]], fields: set[tuple[int | None, str]]
) -> None:
    keel.pricing.save_list("base-eur", base_list("SKU-1"))
    keel.pricing.set_policy("*", {"rules": [{"rule": "competitor", "within": "0.05"}]})
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as refused:
        keel.pricing.competitors.save([seen("acme", "FR", "SKU-1", "9.00", 1), *batch])
    assert {(e.row - 1 if e.row else None, e.field) for e in refused.value.errors} == fields
    assert snapshot(keel) == before


def test_the_run_rate_counts_units_sold_and_committed_over_28_days_across_locations(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 100)
    receive(keel, "SKU-1", "WH-FR-1", 20)
    old = (utcnow() - timedelta(days=40)).isoformat()
    keel.stock.apply_batch([
        mv("s1", "sold", "SKU-1", WH_DE, 5),
        mv("c1", "committed", "SKU-1", "WH-FR-1", 3),
        mv("u1", "uncommitted", "SKU-1", "WH-FR-1", 1),
        mv("s0", "sold", "SKU-1", WH_DE, 10, occurred_at=old),
        mv("a1", "adjusted_out", "SKU-1", WH_DE, 2, reason="broken"),
    ])  # fmt: skip
    found = keel.queries.demand({"SKU-1", "SKU-9"})
    # sellable: 120 received, less 5 + 3 - 1 + 10 + 2; sold: 5 + 3 - 1 (the 40-day-old sale is out of window)
    assert list(found) == ["SKU-1"]
    assert (found["SKU-1"].sellable, found["SKU-1"].sold, found["SKU-1"].days) == (101, 7, 28)
    assert keel.queries.demand(None)["SKU-1"] == found["SKU-1"]


def test_a_markdown_follows_days_of_cover_and_the_margin_floor_still_wins(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 300)
    sell(keel, "SKU-1", 56, "s1")  # 244 sellable at 2 a day: 122 days of cover
    receive(keel, "SKU-3", WH_DE, 300)
    sell(keel, "SKU-3", 56, "s3")
    keel.pricing.save_list("base-eur", base_list("SKU-1", "SKU-2", "SKU-3"))
    keel.pricing.set_skus([{"sku": "SKU-3", "cost": "14.00", "currency": "EUR"}])
    markdown = {"rule": "markdown", "cover_days_above": 90, "percent": "0.20"}
    keel.pricing.set_policy("*", {"rules": [{"rule": "cost_plus", "margin_floor": "0.20"}, markdown]})
    one = keel.pricing.price(WEB_DE, "DE", "SKU-1")
    assert one.amount == 1599 and [s.rule for s in one.steps] == ["price_list", "markdown", "ending"]
    assert one.steps[1].note == (
        "markdown 20%: 122.0 days of cover (244 sellable, 56 sold in 28 days: 2.00 a day), above 90"
    )
    # a SKU inventory does not hold gets no markdown
    assert keel.pricing.price(WEB_DE, "DE", "SKU-2").amount == 1999
    # cost 14.00 at a 20 % margin needs net 17.50, 20.82 with 19 % VAT: the markdown of those to 16.66 is
    # raised back to the floor, then up to the next ending
    three = keel.pricing.price(WEB_DE, "DE", "SKU-3")
    assert (three.floor, three.amount) == (2082, 2099)
    assert [(s.rule, s.after) for s in three.steps] == [
        ("price_list", 2000), ("cost_plus", 2082), ("markdown", 1666), ("floor", 2082), ("ending", 2099)
    ]  # fmt: skip


def test_the_stock_repricer_recomputes_only_skus_whose_cover_crossed_a_threshold(keel: Keel, world: World) -> None:
    repricer = keel.consumers.get("pricing-stock")
    assert isinstance(repricer, StockRepricer)
    receive(keel, "SKU-1", WH_DE, 300)
    sell(keel, "SKU-1", 56, "s1")  # 122 days of cover
    receive(keel, "SKU-2", WH_DE, 100)
    sell(keel, "SKU-2", 56, "s2")  # 44 sellable at 2 a day: 22 days
    keel.pricing.save_list("base-eur", base_list("SKU-1", "SKU-2", compare_at="25.00"))
    keel.pricing.set_policy("*", {"rules": [{"rule": "markdown", "cover_days_above": 90, "percent": "0.20"},
                                            {"rule": "no_discount_when_short", "cover_days_below": 7}]})  # fmt: skip
    assert repricer.step() > 0  # the first pass has seen no SKU yet: it recomputes both, to no change
    seq = last_seq(keel)
    # when SKU-2 sells down to 4 units at 96 in 28 days (1.2 days of cover: short)
    sell(keel, "SKU-2", 40, "s2b")
    assert repricer.step() == 1
    # then its price loses its compare-at price wherever it sells (the cover counts every location), and
    # SKU-1 is not touched
    assert announced(keel, seq) == [
        (ch, k, "SKU-2", "19.99", None) for ch, k in ((MARKET, "DE"), (MARKET, "FR"), (POS_FR, "FR"), (WEB_DE, "DE"))
    ]
    assert keel.pricing.price(WEB_DE, "DE", "SKU-2").steps[-1].rule == "no_discount_when_short"
    # when SKU-1 sells one more (119 days: still above 90), no price is recomputed at all
    seq = last_seq(keel)
    sell(keel, "SKU-1", 1, "s1b")
    assert repricer.reprice(last_seq_of_ledger(keel)) == set()
    assert repricer.step() == 1
    assert announced(keel, seq) == []
    assert "122.0 days of cover" in keel.pricing.price(WEB_DE, "DE", "SKU-1").steps[1].note  # as last computed


def last_seq_of_ledger(keel: Keel) -> int:
    return keel.queries.ledger(sku="SKU-1", limit=1000)[-1].seq
