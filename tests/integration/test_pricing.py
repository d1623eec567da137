"""The pricing engine on both databases: price lists, costs, tax rates and policies kept as data; every
(channel, country, SKU) price computed with its explanation; a change recomputes only what it affects and
announces each changed price once on the event log; bad documents change nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.platform.clock import clock_at, utcnow
from keel.platform.errors import NotFound, ValidationFailed
from keel.pricing import PRICE_CHANGED
from tests.support import MARKET, POS_FR, WEB_DE, World, events_after, last_seq, snapshot


def base_list(*prices: tuple[str, str], **scope: Any) -> dict[str, Any]:
    return {"name": "Base EUR", "currency": "EUR", **scope, "prices": [{"sku": s, "amount": a} for s, a in prices]}


def announced(keel: Keel, after: int) -> list[tuple[str, str, str, str | None]]:
    return sorted(
        (e.subject, c["country"], c["sku"], c["amount"])
        for e in events_after(keel, after, {PRICE_CHANGED})
        for c in e.data["changes"]
    )


def test_a_price_list_prices_every_channel_and_country_with_its_explanation(keel: Keel, world: World) -> None:
    seq = last_seq(keel)
    view, done = keel.pricing.save_list("base-eur", base_list(("SKU-1", "20.49"), ("SKU-2", "5.00")))
    assert (view.prices, view.price_list.currency) == (2, "EUR")
    # web-de (DE), market-eu (DE, FR), pos-fr (FR): 4 markets x 2 SKUs, each moved to its .99 ending
    assert (done.prices, done.changed, done.removed) == (8, 8, 0)
    assert announced(keel, seq) == sorted(
        (ch, k, s, a)
        for ch, k in ((WEB_DE, "DE"), (MARKET, "DE"), (MARKET, "FR"), (POS_FR, "FR"))
        for s, a in (("SKU-1", "19.99"), ("SKU-2", "4.99"))
    )
    price = keel.pricing.price(WEB_DE, "DE", "SKU-1")
    assert (price.amount_text, price.price_list, price.tax_inclusive) == ("19.99", "base-eur", True)
    assert [s.rule for s in price.steps] == ["price_list", "ending"]
    # the same list again changes nothing and announces nothing
    seq = last_seq(keel)
    assert keel.pricing.save_list("base-eur", base_list(("SKU-1", "20.49"), ("SKU-2", "5.00")))[1].changed == 0
    assert announced(keel, seq) == []


def test_a_more_specific_list_wins_and_a_change_recomputes_only_what_it_affects(keel: Keel, world: World) -> None:
    keel.pricing.save_list("base-eur", base_list(("SKU-1", "20.00"), ("SKU-2", "5.00")))
    seq = last_seq(keel)
    _, done = keel.pricing.save_list("web", base_list(("SKU-1", "18.00"), channel=WEB_DE, name="Web DE"))
    assert (done.prices, done.changed) == (1, 1)  # one channel, one SKU: nothing else recomputed
    assert announced(keel, seq) == [(WEB_DE, "DE", "SKU-1", "17.99")]
    assert keel.pricing.price(MARKET, "DE", "SKU-1").price_list == "base-eur"
    # removing the channel's list falls back to the base list
    seq = last_seq(keel)
    keel.pricing.delete_list("web")
    assert announced(keel, seq) == [(WEB_DE, "DE", "SKU-1", "19.99")]
    # a list no longer pricing a SKU drops its prices, announced with no amount
    seq = last_seq(keel)
    _, done = keel.pricing.save_list("base-eur", base_list(("SKU-1", "20.00")))
    assert done.removed == 4
    assert (WEB_DE, "DE", "SKU-2", None) in announced(keel, seq)
    with pytest.raises(NotFound):
        keel.pricing.price(WEB_DE, "DE", "SKU-2")


def test_policies_floors_and_tax_on_each_market(keel: Keel, world: World) -> None:
    keel.pricing.save_list("base-eur", base_list(("SKU-1", "10.00")))
    keel.pricing.set_skus([{"sku": "SKU-1", "cost": "8.00", "currency": "EUR"}])
    keel.pricing.set_policy("*", {"rules": [{"rule": "cost_plus", "margin_floor": "0.25"}]})
    # net >= 8.00 / 0.75 = 10.67; with German VAT (19 %) at least 12.70, ending up at 12.99
    de = keel.pricing.price(WEB_DE, "DE", "SKU-1")
    assert (de.amount, de.floor) == (1299, 1270)
    assert [s.rule for s in de.steps] == ["price_list", "cost_plus", "ending"]
    # France (20 %) needs 12.80 (its VAT, 2.13, rounded to the minor unit, leaves 10.67), also ending at 12.99
    assert keel.pricing.price(POS_FR, "FR", "SKU-1").floor == 1280
    # a reduced rate lowers the floor; a channel's own policy replaces the default
    keel.pricing.set_tax_rate("DE", "standard", "0.07")
    assert keel.pricing.price(WEB_DE, "DE", "SKU-1").floor == 1142
    keel.pricing.set_policy(WEB_DE, {"rules": []})
    assert keel.pricing.price(WEB_DE, "DE", "SKU-1").amount == 999
    assert keel.pricing.price(MARKET, "DE", "SKU-1").amount == 1199  # 11.42 floor -> 11.99


def test_max_change_per_day_limits_against_the_price_the_day_started_with(keel: Keel, world: World) -> None:
    keel.pricing.set_policy(WEB_DE, {"rules": [{"rule": "max_change_per_day", "limit": "0.10"}]})
    start = utcnow()
    with clock_at(start):
        keel.pricing.save_list("base-eur", base_list(("SKU-1", "100.00")))
    assert keel.pricing.price(WEB_DE, "DE", "SKU-1").amount == 9999
    with clock_at(start + timedelta(hours=2)):
        keel.pricing.save_list("base-eur", base_list(("SKU-1", "50.00")))
    assert keel.pricing.price(WEB_DE, "DE", "SKU-1").amount == 8999  # at most 10 % under 99.99, then .99
    with clock_at(start + timedelta(hours=3)):
        keel.pricing.recompute()
    assert keel.pricing.price(WEB_DE, "DE", "SKU-1").amount == 8999  # the same day: still from 99.99
    with clock_at(start + timedelta(hours=26)):
        keel.pricing.recompute()
    assert keel.pricing.price(WEB_DE, "DE", "SKU-1").amount == 8099  # a new day, from 89.99


@pytest.mark.parametrize(
    ("code", "document", "fields"),
    [
        ("base", {"currency": "EURO", "prices": []}, {"currency"}),
        ("base", {"currency": "JPY", "prices": [{"sku": "SKU-1", "amount": "1.5"}]}, {"amount"}),
        ("base", {"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "-1"}]}, {"amount"}),
        ("base", {"currency": "EUR", "valid_from": "2026-12-01", "prices": []}, {"valid_from"}),
        ("base", {"currency": "EUR", "country": "de", "surprise": 1}, {"country", "surprise"}),
        ("Bad Code", {"currency": "EUR"}, {"code"}),
        ("base", [], {""}),
    ],
)
def test_a_bad_price_list_is_refused_with_its_fields_and_changes_nothing(
    keel: Keel, world: World, code: str, document: Any, fields: set[str]
) -> None:
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as refused:
        keel.pricing.save_list(code, document)
    assert {e.field for e in refused.value.errors} == fields
    assert snapshot(keel) == before


def test_bad_policies_costs_and_rates_are_refused_and_change_nothing(keel: Keel, world: World) -> None:
    before = snapshot(keel)
    for call in (
        lambda: keel.pricing.set_policy("nope", {"rules": []}),
        lambda: keel.pricing.set_policy("*", {"rules": [{"rule": "cost_plus", "margin_floor": "2"}]}),
        lambda: keel.pricing.set_skus([{"sku": "SKU-1", "cost": "1.00", "currency": "XXX"}]),
        lambda: keel.pricing.set_skus([{"sku": "SKU-1", "cost": "1.00"}]),
        lambda: keel.pricing.set_tax_rate("DE", "standard", "1.5"),
        lambda: keel.pricing.set_tax_rate("Germany", "standard", "0.19"),
    ):
        with pytest.raises(ValidationFailed):
            call()
    assert snapshot(keel) == before
    assert keel.pricing.tax_rates() == {}


def test_a_floor_that_moves_under_an_unchanged_price_is_kept_but_not_announced(keel: Keel, world: World) -> None:
    keel.pricing.save_list("base-eur", base_list(("SKU-1", "20.00")))
    keel.pricing.set_skus([{"sku": "SKU-1", "cost": "8.00", "currency": "EUR"}])
    seq = last_seq(keel)
    # the margin floor (12.70 with 19 % VAT) is below the list's 19.99: the price stays, its floor is new
    done = keel.pricing.set_policy("*", {"rules": [{"rule": "cost_plus", "margin_floor": "0.25"}]})[1]
    assert (done.prices, done.changed) == (4, 0)
    assert (keel.pricing.price(WEB_DE, "DE", "SKU-1").amount, keel.pricing.price(WEB_DE, "DE", "SKU-1").floor) == (
        1999,
        1270,
    )
    keel.pricing.set_tax_rate("DE", "standard", "0.07")
    assert keel.pricing.price(WEB_DE, "DE", "SKU-1").floor == 1142
    assert announced(keel, seq) == []


def test_a_list_takes_over_when_its_window_opens_and_hands_back_when_it_closes(keel: Keel, world: World) -> None:
    start = utcnow()
    keel.pricing.save_list("base-eur", base_list(("SKU-1", "20.00")))
    opens, closes = start + timedelta(hours=1), start + timedelta(hours=3)
    sale = base_list(("SKU-1", "15.00"), valid_from=opens.isoformat(), valid_to=closes.isoformat(), name="Sale")
    assert keel.pricing.save_list("sale", sale)[1].changed == 0  # not open yet: nothing changes
    job = next(j for j in keel.consumers.jobs if j.name == "pricing-windows")
    with clock_at(start + timedelta(hours=2)):
        seq = last_seq(keel)
        assert keel.pricing.cross_windows(start, utcnow()).changed == 4  # SKU-1 on 4 markets
        assert (WEB_DE, "DE", "SKU-1", "14.99") in announced(keel, seq)
    with clock_at(start + timedelta(hours=4)):
        assert job.run() == 4  # the job looks back from its start: the close is in its window
        assert keel.pricing.price(WEB_DE, "DE", "SKU-1").amount_text == "19.99"
        assert job.run() == 0  # nothing crossed since


def test_prices_alike_but_for_one_fact_each_follow_their_own(keel: Keel, world: World) -> None:
    # a computation reuses the result of prices with the same inputs (base, cost, rate, MAP, reference,
    # rules): prices one fact apart must not share it
    keel.pricing.save_list("base-eur", base_list(("SKU-1", "20.00"), ("SKU-2", "20.00")))
    keel.pricing.save_list("web", base_list(("SKU-1", "30.00"), channel=WEB_DE, name="Web DE"))
    # a MAP list for a customer group no computation prices: it only holds the minimums
    keel.pricing.save_list("map-eu", base_list(("SKU-2", "30.00"), customer_group="map", name="MAP EU"))
    keel.pricing.set_tax_rate("FR", "standard", "0.19")  # France at Germany's rate: the markets differ in nothing else
    keel.pricing.set_policy("*", {"rules": [{"rule": "map", "list": "map-eu"}]})
    keel.pricing.set_policy(MARKET, {"rules": [{"rule": "parity", "channel": WEB_DE, "within": "0.05"}]})
    # SKU-2 alone has a minimum: 30.00, the ending goes up past it
    assert keel.pricing.price(POS_FR, "FR", "SKU-1").amount == 1999
    assert keel.pricing.price(POS_FR, "FR", "SKU-2").amount == 3099
    # the marketplace in Germany follows web-de's 29.99 (at least 28.50, then down to .99); in France web-de
    # has no price to follow
    market_de = keel.pricing.price(MARKET, "DE", "SKU-1")
    assert (market_de.amount, [s.rule for s in market_de.steps]) == (2799, ["price_list", "parity", "ending"])
    assert keel.pricing.price(MARKET, "FR", "SKU-1").amount == 1999
    # the same inputs in two channels (and two countries at one rate) give the same price and explanation
    web_de, pos_fr = keel.pricing.price(WEB_DE, "DE", "SKU-2"), keel.pricing.price(POS_FR, "FR", "SKU-2")
    assert (web_de.amount, web_de.floor, web_de.steps) == (pos_fr.amount, pos_fr.floor, pos_fr.steps)
