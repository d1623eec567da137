"""Promotions and cart evaluation, pure: the peers' failures as regression cases, the stacking order, and
properties that must hold whatever promotions stack (never negative, sums to the minor unit, allocations
that add up, no line below its hard floor)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.platform.errors import ValidationFailed
from keel.pricing.model.cart import Cart, CartLine, Evaluated, Limits, evaluate
from keel.pricing.model.promotions import Promotion, document_of, parse_promotion

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
ALL = {"all": True}


def promo(code: str, **doc: Any) -> Promotion:
    return parse_promotion(code, {"scope": ALL, **doc})


def cart(*lines: CartLine, currency: str = "EUR", inclusive: bool = True, **kw: Any) -> Cart:
    return Cart("web-de", "DE", currency, inclusive, tuple(lines), NOW, **kw)


def line(sku: str, qty: int, unit: int, **kw: Any) -> CartLine:
    return CartLine(sku, qty, unit, **kw)


def off(result: Evaluated, code: str) -> int:
    return next(o.amount for o in result.outcomes if o.promotion == code)


def test_a_percentage_voucher_on_a_catalogue_promotion_applies_to_the_discounted_amount() -> None:
    # the peer's free order: 40 % off the items, then a 70 % voucher computed on the undiscounted total
    items = promo("autumn", kind="percent_off", target="items", percent="0.40")
    voucher = promo("vip70", kind="percent_off", target="order", percent="0.70", coupon=True)
    result = evaluate(
        cart(line("A", 1, 10000), codes=frozenset({"VIP70"})), [items, voucher], Limits(unlocked={"VIP70": "vip70"})
    )
    assert off(result, "autumn") == 4000
    assert off(result, "vip70") == 4200  # 70 % of 60.00, not of 100.00
    assert result.total == 1800
    assert result.codes == {"VIP70": "applied"}


def test_buy_x_get_y_repeats_up_to_its_maximum_and_frees_the_cheapest_units() -> None:
    b2g1 = promo("b2g1", kind="buy_x_get_y", buy=2, get=1, max_applications=2)
    result = evaluate(cart(line("A", 6, 1000), line("B", 3, 500)), [b2g1], Limits())
    # 9 units make 3 applications, capped at 2: the two cheapest units (B at 5.00) are free
    assert off(result, "b2g1") == 1000
    assert [ln.total for ln in result.lines] == [6000, 500]
    uncapped = evaluate(
        cart(line("A", 6, 1000), line("B", 3, 500)), [promo("b", kind="buy_x_get_y", buy=2, get=1)], Limits()
    )
    assert off(uncapped, "b") == 1500 + 0  # three free units: B, B, B


def test_rounding_per_currency_and_tax_rate() -> None:
    # JPY has no minor unit: 15 % off 333 yen is 49.95 -> 50 (half-even on whole yen), tax 10 % inclusive
    yen = evaluate(
        cart(line("A", 1, 333, rate=Decimal("0.10")), currency="JPY"),
        [promo("j", kind="percent_off", target="items", percent="0.15")],
        Limits(),
    )
    assert yen.lines[0].total == 283 and yen.lines[0].tax == 26 and yen.lines[0].net == 257
    # an order discount prorated over lines at 7 % and 19 %: each line's tax on what it costs after its share
    mixed = evaluate(
        cart(line("BOOK", 1, 1070, rate=Decimal("0.07")), line("TOY", 1, 1190, rate=Decimal("0.19"))),
        [promo("ten", kind="amount_off", target="order", amount="2.26", currency="EUR")],
        Limits(),
    )
    assert [ln.total for ln in mixed.lines] == [963, 1071]  # 226 split 107 / 119 by value
    assert [ln.tax for ln in mixed.lines] == [63, 171]
    assert mixed.tax == 234 and mixed.net + mixed.tax == mixed.gross == mixed.total


def test_exclusive_stop_further_and_best_deal_in_a_group() -> None:
    a = promo("a", kind="percent_off", percent="0.10", priority=10)
    b = promo("b", kind="percent_off", percent="0.20", priority=5, exclusive="global")
    only_b = evaluate(cart(line("A", 1, 10000)), [b, promo("c", kind="percent_off", percent="0.05")], Limits())
    assert off(only_b, "b") == 2000 and not next(o for o in only_b.outcomes if o.promotion == "c").applied
    both = evaluate(cart(line("A", 1, 10000)), [a, b], Limits())
    assert off(both, "a") == 1000 and "exclusive" in next(o.reason for o in both.outcomes if o.promotion == "b")
    stop = promo("stop", kind="percent_off", percent="0.10", priority=9, stop_further=True)
    stopped = evaluate(
        cart(line("A", 1, 10000)),
        [stop, promo("later", kind="amount_off", target="order", amount="1.00", currency="EUR")],
        Limits(),
    )
    assert [o.applied for o in stopped.outcomes] == [True, False]
    g1 = promo("g1", kind="percent_off", percent="0.10", group="winter", priority=50)
    g2 = promo("g2", kind="amount_off", amount="15.00", currency="EUR", group="winter")
    best = evaluate(cart(line("A", 1, 10000)), [g1, g2], Limits())
    assert off(best, "g2") == 1500 and "better deal in group winter" in best.outcomes[1].reason


def test_promotions_never_take_a_line_below_its_hard_floor() -> None:
    deep = [
        promo("p", kind="percent_off", percent="0.90"),
        promo("o", kind="amount_off", target="order", amount="500.00", currency="EUR"),
    ]
    result = evaluate(cart(line("A", 2, 5000, floor=4000), line("B", 1, 3000)), deep, Limits())
    assert result.lines[0].total == 8000  # 2 x the 40.00 floor
    assert result.lines[1].total == 0
    assert result.total == 8000


def test_bundles_tiers_shipping_and_limits() -> None:
    bundle = promo(
        "kit", kind="bundle", items=[{"sku": "TENT"}, {"sku": "MAT", "quantity": 2}], amount="100.00", currency="EUR"
    )
    r = evaluate(cart(line("TENT", 1, 9000), line("MAT", 2, 2500)), [bundle], Limits())
    assert off(r, "kit") == 4000 and r.total == 10000
    tiers = promo(
        "spend",
        kind="tiered_spend",
        currency="EUR",
        tiers=[{"spend": "50.00", "amount": "5.00"}, {"spend": "100.00", "percent": "0.10"}],
    )
    assert off(evaluate(cart(line("A", 1, 12000)), [tiers], Limits()), "spend") == 1200
    assert "no tier" in evaluate(cart(line("A", 1, 4000)), [tiers], Limits()).outcomes[0].reason
    ship = promo("ship", kind="percent_off", target="shipping", percent="1", min_subtotal="50.00", currency="EUR")
    shipped = evaluate(cart(line("A", 1, 6000), shipping=495, shipping_rate=Decimal("0.19")), [ship], Limits())
    assert shipped.shipping is not None and shipped.shipping.total == 0 and shipped.total == 6000
    budget = evaluate(
        cart(line("A", 1, 10000)), [promo("b", kind="percent_off", percent="0.5")], Limits(budget_left={"b": 700})
    )
    assert off(budget, "b") == 700
    spent = evaluate(
        cart(line("A", 1, 10000)),
        [promo("b", kind="percent_off", percent="0.5", coupon=True)],
        Limits(refused={"OLD": "exhausted"}),
    )
    assert spent.total == 10000 and spent.codes == {"OLD": "exhausted"}


def test_scope_filters_lines_and_markets() -> None:
    brand = parse_promotion(
        "nordic", {"kind": "percent_off", "percent": "0.10", "scope": {"brands": ["Nordic Trail"], "countries": ["DE"]}}
    )
    r = evaluate(cart(line("A", 1, 1000, brand="Nordic Trail"), line("B", 1, 1000, brand="Other")), [brand], Limits())
    assert [ln.total for ln in r.lines] == [900, 1000]
    elsewhere = evaluate(
        Cart("web-fr", "FR", "EUR", True, (line("A", 1, 1000, brand="Nordic Trail"),), NOW), [brand], Limits()
    )
    assert elsewhere.outcomes == () and elsewhere.total == 1000
    expired = promo("old", kind="percent_off", percent="0.1", valid_to=(NOW - timedelta(days=1)).isoformat())
    assert evaluate(cart(line("A", 1, 1000)), [expired], Limits()).outcomes[0].reason == "not live now"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"kind": "percent_off", "percent": "0.1"}, "scope"),
        ({"kind": "percent_off", "percent": "0.1", "scope": {}}, "scope"),
        ({"kind": "percent_off", "percent": "1.5", "scope": ALL}, "percent"),
        ({"kind": "amount_off", "amount": "-1", "currency": "EUR", "scope": ALL}, "amount"),
        ({"kind": "amount_off", "amount": "1", "currency": "XYZ", "scope": ALL}, "currency"),
        ({"kind": "amount_off", "amount": "1", "scope": ALL}, "currency"),
        ({"kind": "bundle", "items": [{"sku": "A"}], "amount": "1", "currency": "EUR", "scope": ALL}, "items"),
        ({"kind": "percent_off", "percent": "0.1", "scope": ALL, "bogus": 1}, "bogus"),
        ({"kind": "buy_x_get_y", "buy": 0, "get": 1, "scope": ALL}, "buy"),
        ({"kind": "percent_off", "percent": "0.1", "scope": {"countries": ["de"]}}, "scope.countries"),
    ],
)
def test_bad_promotions_are_refused_by_field(document: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_promotion("bad", document)
    assert field in {e.field for e in caught.value.errors}


def test_a_promotion_round_trips_through_its_document() -> None:
    p = promo(
        "kit",
        kind="bundle",
        items=[{"sku": "A"}, {"sku": "B", "quantity": 2}],
        amount="9.90",
        currency="EUR",
        budget="100.00",
        priority=3,
        group="g",
    )
    assert parse_promotion("kit", document_of(p)) == p


PROMOS = st.lists(
    st.one_of(
        st.builds(
            lambda p, t: {"kind": "percent_off", "target": t, "percent": p},
            st.sampled_from(["0.05", "0.1", "0.4", "0.7", "1"]),
            st.sampled_from(["items", "order"]),
        ),
        st.builds(
            lambda a, t: {"kind": "amount_off", "target": t, "amount": a, "currency": "EUR"},
            st.sampled_from(["0.01", "1.00", "25.00", "999.99"]),
            st.sampled_from(["items", "order"]),
        ),
        st.builds(lambda b, g: {"kind": "buy_x_get_y", "buy": b, "get": g}, st.integers(1, 3), st.integers(1, 2)),
        st.just({"kind": "tiered_spend", "currency": "EUR", "tiers": [{"spend": "10.00", "percent": "0.5"}]}),
        st.just({"kind": "bundle", "currency": "EUR", "amount": "0.50", "items": [{"sku": "S0"}, {"sku": "S1"}]}),
    ).flatmap(
        lambda d: st.fixed_dictionaries(
            {},
            optional={
                "priority": st.integers(-3, 3),
                "exclusive": st.sampled_from(["none", "class", "global"]),
                "stop_further": st.booleans(),
                "group": st.sampled_from(["g1", "g2"]),
            },
        ).map(lambda extra: {**d, **extra})
    ),
    max_size=8,
)
LINES = st.lists(
    st.builds(
        lambda i, q, u, f, r: line(f"S{i}", q, u, floor=min(f, u), rate=Decimal(r)),
        st.integers(0, 4),
        st.integers(1, 5),
        st.integers(0, 100_000),
        st.integers(0, 50_000),
        st.sampled_from(["0", "0.07", "0.19", "0.255"]),
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(LINES, PROMOS, st.booleans(), st.integers(0, 2000))
def test_whatever_stacks_nothing_is_negative_every_total_adds_up_and_no_floor_is_broken(
    lines: list[CartLine], documents: list[dict[str, Any]], inclusive: bool, shipping: int
) -> None:
    promotions = [parse_promotion(f"p{i}", {"scope": ALL, **d}) for i, d in enumerate(documents)]
    result = evaluate(cart(*lines, inclusive=inclusive, shipping=shipping), promotions, Limits())
    every = [*result.lines, *([result.shipping] if result.shipping else [])]
    for ln, given_line in zip(result.lines, lines, strict=True):
        assert ln.total >= given_line.floor * given_line.quantity >= 0  # never below its floor, never negative
        assert ln.amount - sum(d.amount for d in ln.discounts) == ln.total
        assert ln.net + ln.tax == ln.gross and min(ln.net, ln.tax) >= 0
    assert result.total == sum(ln.total for ln in every) >= 0
    assert (result.net, result.tax, result.gross) == (
        sum(ln.net for ln in every),
        sum(ln.tax for ln in every),
        sum(ln.gross for ln in every),
    )
    assert result.subtotal - result.discount == result.total
    for outcome in result.outcomes:  # each promotion's amount is what its allocations add up to
        assert outcome.amount == sum(d.amount for ln in every for d in ln.discounts if d.promotion == outcome.promotion)
    assert result.discount == sum(o.amount for o in result.outcomes)


def test_units_are_counted_in_groups_not_one_by_one() -> None:
    # 200 lines of 100,000 units: buy 1 get 1 capped at 5 applications frees the 5 cheapest units
    lines = [line(f"S{i}", 100_000, 1000 + i) for i in range(200)]
    result = evaluate(cart(*lines), [promo("b1g1", kind="buy_x_get_y", buy=1, get=1, max_applications=5)], Limits())
    assert off(result, "b1g1") == 5 * 1000
    assert result.lines[0].total == 100_000 * 1000 - 5000
